package app

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tickstream/tickstream/config"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestCostGolden(t *testing.T) {
	var got bytes.Buffer
	if err := EstimateCost(config.Default(), config.Default().Simulator.Rate, 30).Print(&got); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "cost.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("cost output changed (run with -update if intended):\n%s", got.Bytes())
	}
}

// TestCostCounts recounts requests by walking an hour flush by flush, and
// bytes by summing tick by tick over a small day, instead of multiplying.
func TestCostCounts(t *testing.T) {
	f := func(partitions int, flush time.Duration, symbols int, rate float64) {
		t.Helper()
		cfg := config.Default()
		cfg.Kafka.Partitions, cfg.Lake.FlushInterval = partitions, flush
		cfg.Symbols, cfg.SyntheticSymbols = nil, symbols
		e := EstimateCost(cfg, rate, 7)

		puts, deletes := 0, 0
		for p := 0; p < partitions; p++ {
			for at := flush; at <= time.Hour; at += flush {
				puts += 4 // raw, processed, marker, checkpoint
				deletes += 2
			}
		}
		if e.PutsPerHour != float64(puts) || e.DeletesPerHour != float64(deletes) {
			t.Errorf("%d partitions, flush %s: puts %.0f deletes %.0f per hour, want %d %d", partitions, flush, e.PutsPerHour, e.DeletesPerHour, puts, deletes)
		}
		rows := 0.0
		for range symbols {
			for s := 0; s < 86400; s++ {
				rows += rate
			}
		}
		if e.RowsPerDay != rows || e.RawPerDay != rows*13 || e.ProcessedPerDay != rows*27 {
			t.Errorf("rows %.0f raw %.0f processed %.0f, want %.0f rows", e.RowsPerDay, e.RawPerDay, e.ProcessedPerDay, rows)
		}
	}
	f(6, time.Minute, 1000, 1)
	f(1, time.Hour, 20, 1)
	f(12, 10*time.Minute, 5, 4)
	f(3, 45*time.Second, 1, 0.5)
}
