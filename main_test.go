package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// buildBinary compiles tickstream into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "tickstream")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestBinaryRunStopsCleanly runs the real binary on the embedded default,
// waits for the lake to fill, sends SIGINT and expects a flush, a commit and
// exit status 0 within the shutdown bound.
func TestBinaryRunStopsCleanly(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped in -short mode")
	}
	bin := buildBinary(t)
	lakeDir := t.TempDir()
	cfg := writeConfig(t, fmt.Sprintf(`
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
`, lakeDir))
	var stderr syncBuffer
	cmd := exec.Command(bin, "run", "--config", cfg)
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill() //nolint:errcheck // already exited in the normal case

	deadline := time.Now().Add(60 * time.Second)
	for countFiles(lakeDir, "processed") == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no processed files after 60s; stderr:\n%s", stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit after SIGINT: %v; stderr:\n%s", err, stderr.String())
		}
	case <-time.After(25 * time.Second):
		t.Fatalf("still running 25s after SIGINT; stderr:\n%s", stderr.String())
	}
	log := stderr.String()
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
	bin := buildBinary(t)
	cfg := writeConfig(t, "symbols: [AAPL]\nlake:\n  flush_intervall: 5s\n")
	out, err := exec.Command(bin, "run", "--config", cfg).CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("want exit status 1, got %v; output:\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], ":3: lake.flush_intervall: unknown key") {
		t.Fatalf("want one line naming lake.flush_intervall at line 3, got:\n%s", out)
	}
}

func countFiles(dir, table string) int {
	n := 0
	_ = filepath.WalkDir(filepath.Join(dir, table), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".parquet") {
			n++
		}
		return nil
	})
	return n
}

// TestBinaryDefaultsWithoutConfigFile: with no ./config.yaml and no
// --config the built-in defaults apply; a --config naming a missing file is
// an error that names it.
func TestBinaryDefaultsWithoutConfigFile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped in -short mode")
	}
	bin := buildBinary(t)
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

// TestBinarySecondSignalExitsAtOnce: a second SIGINT during the graceful
// stop ends the process at once with status 130.
func TestBinarySecondSignalExitsAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped in -short mode")
	}
	bin := buildBinary(t)
	lakeDir := t.TempDir()
	cfg := writeConfig(t, fmt.Sprintf("symbols: [AAPL]\nsynthetic_symbols: 50\nlake:\n  url: %s\nlog:\n  format: json\n", lakeDir))
	var stderr syncBuffer
	cmd := exec.Command(bin, "run", "--config", cfg)
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill() //nolint:errcheck // already exited in the normal case
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(stderr.String(), `"msg":"partitions assigned"`) {
		if time.Now().After(deadline) {
			t.Fatalf("not consuming after 60s:\n%s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Make the graceful stop hang: the lake directory becomes a file, so
	// the final upload retries until engine.shutdown_timeout.
	if err := os.RemoveAll(lakeDir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(lakeDir, []byte("not a directory"), 0o644); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Process.Signal(syscall.SIGINT)
	for !strings.Contains(stderr.String(), `"msg":"stopping: flushing and committing every partition"`) {
		if time.Now().After(deadline) {
			t.Fatalf("no graceful stop began:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = cmd.Process.Signal(syscall.SIGINT)
	start := time.Now()
	err := cmd.Wait()
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the second signal took %v to end the process", took)
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 || !strings.Contains(stderr.String(), "second signal, exiting now") {
		t.Fatalf("after two SIGINTs: %v (want exit status 130); stderr:\n%s", err, stderr.String())
	}
}

// syncBuffer is a bytes.Buffer the child's output goroutine and the test
// can share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
