package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tickstream/tickstream/internal/testkit"
	"github.com/tickstream/tickstream/sinks/lake"
)

// TestBinaryRunStopsCleanly runs the real binary on the embedded default,
// waits for the lake to fill, sends SIGINT and expects a flush, a commit and
// exit status 0 within the shutdown bound.
func TestBinaryRunStopsCleanly(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped in -short mode")
	}
	lakeDir := t.TempDir()
	cfg := testkit.WriteFile(t, "config.yaml", fmt.Sprintf(`
symbols: [AAPL, MSFT]
synthetic_symbols: 50
lake:
  url: %s
  flush_interval: 1s
simulator:
  rate: 20
log:
  format: json
engine:
  shutdown_timeout: 10s
dashboard:
  listen: 127.0.0.1:0
`, lakeDir))
	p := testkit.Start(t, "run", testkit.Binary(t), "run", "--config", cfg)
	testkit.Eventually(t, 60*time.Second, "processed files in the lake", func() bool {
		return len(testkit.ReadTable[lake.ProcessedRow](t, lakeDir, "processed")) > 0
	})
	if err := p.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(25 * time.Second); err != nil {
		t.Fatalf("exit after SIGINT: %v", err)
	}
	log := p.Output()
	for _, want := range []string{`"msg":"stopping: flushing and committing every partition"`, `"msg":"stopped cleanly"`} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %s:\n%s", want, log)
		}
	}
	if strings.Contains(log, `"records":0,`) {
		t.Errorf("stopped without having consumed anything:\n%s", log)
	}
}

// TestBinaryBadConfig: a bad config exits non-zero with one line per problem
// naming the key and its line.
func TestBinaryBadConfig(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped in -short mode")
	}
	cfg := testkit.WriteFile(t, "config.yaml", "symbols: [AAPL]\nlake:\n  flush_intervall: 5s\n")
	out, err := exec.Command(testkit.Binary(t), "run", "--config", cfg).CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("want exit status 1, got %v; output:\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], ":3: lake.flush_intervall: unknown key") {
		t.Fatalf("want one line naming lake.flush_intervall at line 3, got:\n%s", out)
	}
}

// TestBinaryDefaultsWithoutConfigFile: with no ./config.yaml and no
// --config the built-in defaults apply; a --config naming a missing file is
// an error that names it.
func TestBinaryDefaultsWithoutConfigFile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped in -short mode")
	}
	bin := testkit.Binary(t)
	cmd := exec.Command(bin, "check")
	cmd.Dir = t.TempDir()
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "config OK") {
		t.Fatalf("check without a config file: %v\n%s", err, out)
	}
	cmd = exec.Command(bin, "check", "--config", "missing.yaml")
	cmd.Dir = t.TempDir()
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "missing.yaml") {
		t.Fatalf("check --config missing.yaml: want an error naming the file, got %v\n%s", err, out)
	}
}

// TestBinarySecondSignalExitsAtOnce: a second SIGINT during a graceful stop
// that hangs ends the process at once with status 130.
func TestBinarySecondSignalExitsAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped in -short mode")
	}
	lakeDir := t.TempDir()
	cfg := testkit.WriteFile(t, "config.yaml", fmt.Sprintf("symbols: [AAPL]\nsynthetic_symbols: 50\nlake:\n  url: %s\nlog:\n  format: json\ndashboard:\n  listen: 127.0.0.1:0\n", lakeDir))
	p := testkit.Start(t, "run", testkit.Binary(t), "run", "--config", cfg)
	testkit.Eventually(t, 60*time.Second, "partitions assigned", func() bool {
		return strings.Contains(p.Output(), `"msg":"partitions assigned"`)
	})
	// Make the graceful stop hang: the lake directory becomes a file, so
	// the final upload retries until engine.shutdown_timeout.
	if err := os.RemoveAll(lakeDir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(lakeDir, []byte("not a directory"), 0o644); err != nil {
		t.Fatal(err)
	}
	_ = p.Signal(syscall.SIGINT)
	testkit.Eventually(t, 30*time.Second, "the graceful stop to begin", func() bool {
		return strings.Contains(p.Output(), `"msg":"stopping: flushing and committing every partition"`)
	})
	_ = p.Signal(syscall.SIGINT)
	err := p.Wait(5 * time.Second)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 || !strings.Contains(p.Output(), "second signal, exiting now") {
		t.Fatalf("after two SIGINTs: %v (want exit status 130 within 5s)", err)
	}
}
