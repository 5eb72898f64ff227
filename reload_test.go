package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tickstream/tickstream/internal/testkit"
	"github.com/tickstream/tickstream/sinks/lake"
)

// TestBinaryReloadsConfig runs the binary on the embedded default and
// edits its config file: a new symbol is simulated and processed, a bad
// edit is refused naming its key and line while the process keeps running,
// SIGHUP reloads, and the run still stops cleanly.
func TestBinaryReloadsConfig(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped in -short mode")
	}
	lakeDir := t.TempDir()
	cfgFmt := `symbols: [%s]
synthetic_symbols: 0
lake:
  url: ` + lakeDir + `
  flush_interval: 1s
simulator:
  rate: 20
log:
  format: json
engine:
  shutdown_timeout: 10s
dashboard:
  listen: 127.0.0.1:0
`
	cfg := testkit.WriteFile(t, "config.yaml", fmt.Sprintf(cfgFmt, "AAPL, MSFT"))
	// Editors replace the file: write a new one and rename it over.
	write := func(body string) {
		t.Helper()
		tmp := filepath.Join(filepath.Dir(cfg), ".config.yaml.swp")
		if err := os.WriteFile(tmp, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, cfg); err != nil {
			t.Fatal(err)
		}
	}
	p := testkit.Start(t, "run", testkit.Binary(t), "run", "--config", cfg)
	logHas := func(what string, n int) func() bool {
		return func() bool { return strings.Count(p.Output(), what) >= n }
	}
	testkit.Eventually(t, 60*time.Second, "partitions assigned", logHas(`"msg":"partitions assigned"`, 1))

	write(fmt.Sprintf(cfgFmt, "AAPL, MSFT, NVDA") + "anomaly:\n  spike_factor: 4\n")
	testkit.Eventually(t, 30*time.Second, "the edit to be applied", logHas(`"msg":"config reload applied"`, 1))
	if log := p.Output(); !strings.Contains(log, `"symbols_added":["NVDA"]`) || !strings.Contains(log, `"keys":["symbols","anomaly.spike_factor"]`) {
		t.Fatalf("the reload line does not say what changed:\n%s", log)
	}
	testkit.Eventually(t, 60*time.Second, "NVDA rows in the lake", func() bool {
		for _, r := range testkit.ReadTable[lake.ProcessedRow](t, lakeDir, "processed") {
			if r.Symbol == "NVDA" {
				return true
			}
		}
		return false
	})

	write(fmt.Sprintf(cfgFmt, "AAPL, NVDA") + "anomaly:\n  spike_facter: 4\n")
	testkit.Eventually(t, 30*time.Second, "the bad edit to be refused", logHas(`"msg":"config reload refused; the running config stays"`, 1))
	// The bad key is on the line after cfgFmt's last one.
	badAt := fmt.Sprintf("config.yaml:%d: anomaly.spike_facter: unknown key", strings.Count(cfgFmt, "\n")+2)
	if log := p.Output(); !strings.Contains(log, badAt) {
		t.Fatalf("the refusal does not name the key and line:\n%s", log)
	}
	if err := p.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 30*time.Second, "SIGHUP to reload (and refuse again)", logHas(`"trigger":"SIGHUP"`, 1))
	if p.Exited() {
		t.Fatal("the process ended after a bad edit")
	}

	write(fmt.Sprintf(cfgFmt, "AAPL, NVDA") + "anomaly:\n  spike_factor: 4\n")
	testkit.Eventually(t, 30*time.Second, "MSFT's removal to be applied", logHas(`"symbols_removed":["MSFT"]`, 1))

	if err := p.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(25 * time.Second); err != nil {
		t.Fatalf("exit after SIGINT: %v", err)
	}
	if !strings.Contains(p.Output(), `"msg":"stopped cleanly"`) {
		t.Errorf("no clean stop:\n%s", p.Output())
	}
}
