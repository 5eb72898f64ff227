package query

import (
	"context"
	"database/sql/driver"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tickstream/tickstream/config"
	"github.com/tickstream/tickstream/feeds/sim"
	"github.com/tickstream/tickstream/models"
	"github.com/tickstream/tickstream/operators"
	"github.com/tickstream/tickstream/sinks/lake"
	"github.com/tickstream/tickstream/tick"
)

// simLake is a lake written by the real pipeline code (simulator, operators,
// partition writers), with every row it wrote kept for the expectations.
type simLake struct {
	dir    string
	raw    []lake.RawRow
	proc   []lake.ProcessedRow
	alerts []lake.AlertRow
	preds  []models.PredictionRow
	files  []lake.File
}

// simStart and simEnd straddle midnight, so the lake has two dates and
// the daily query two rows per symbol.
var (
	simStart = time.Date(2026, 11, 23, 23, 20, 0, 0, time.UTC)
	simEnd   = time.Date(2026, 11, 24, 0, 50, 0, 0, time.UTC)
)

var (
	simOnce   sync.Once
	simShared *simLake
	simDir    string // removed by TestMain
)

func TestMain(m *testing.M) {
	code := m.Run()
	if simDir != "" {
		_ = os.RemoveAll(simDir)
	}
	os.Exit(code)
}

// sharedSimLake returns the simulated lake, written once per test run.
// Tests must not change it: those that do take copySimLake.
func sharedSimLake(t testing.TB) *simLake {
	t.Helper()
	simOnce.Do(func() {
		var err error
		if simDir, err = os.MkdirTemp("", "query-test-"); err != nil {
			t.Fatal(err)
		}
		simShared = writeSimLake(t, simDir)
	})
	if simShared == nil {
		t.Fatal("simulated lake failed in an earlier test")
	}
	return simShared
}

// copySimLake returns a private copy of the simulated lake.
func copySimLake(t testing.TB) *simLake {
	t.Helper()
	src := sharedSimLake(t)
	l := *src
	l.dir = filepath.Join(t.TempDir(), "lake")
	if err := os.CopyFS(l.dir, os.DirFS(src.dir)); err != nil {
		t.Fatal(err)
	}
	return &l
}

// writeSimLake runs the simulator through the operators as the engine's
// task does, over two Kafka partitions, flushing every 20 000 ticks so
// each hour has several files.
func writeSimLake(t testing.TB, dir string) *simLake {
	t.Helper()
	cfg := config.Default()
	cfg.Symbols = []string{"AAPL", "MSFT", "NVDA", "TSLA"}
	cfg.SyntheticSymbols = 0
	cfg.Simulator.Rate = 10
	cfg.Simulator.Seed = 7
	cfg.Simulator.SpikeEvery = 4 * time.Minute
	cfg.Simulator.DropEvery = 15 * time.Minute
	pipe, err := operators.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s, err := sim.New(cfg.Symbols, cfg.Simulator, simStart)
	if err != nil {
		t.Fatal(err)
	}
	l := &simLake{dir: filepath.Join(dir, "lake")}
	store, err := lake.NewLocalStore(l.dir)
	if err != nil {
		t.Fatal(err)
	}
	ws := make([]*lake.PartitionWriter, 2)
	for p := range ws {
		if ws[p], err = lake.NewPartitionWriter(store, lake.Options{Topic: "ticks", Partition: int32(p), SpoolDir: filepath.Join(dir, "spool")}); err != nil {
			t.Fatal(err)
		}
		defer ws[p].Close()
	}
	flush := func() {
		for _, w := range ws {
			files, err := w.Flush(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			l.files = append(l.files, files...)
		}
	}
	states := map[string]*operators.State{}
	offsets := make([]int64, len(ws))
	var tk tick.Tick
	var res operators.Result
	for n := 1; ; n++ {
		s.Next(&tk)
		if tk.TS >= simEnd.UnixMilli() {
			break
		}
		p := int32(slices.Index(cfg.Symbols, tk.Symbol) % len(ws))
		off := offsets[p]
		offsets[p]++
		st := states[tk.Symbol]
		if st == nil {
			st = pipe.NewState(tk.Symbol)
			states[tk.Symbol] = st
		}
		pipe.Process(st, &tk, tk.TS, &res)
		if res.Reject != tick.OK {
			t.Fatalf("simulated tick rejected: %v", res.Reject)
		}
		raw := lake.RawRow{Symbol: tk.Symbol, TS: tk.TS, Price: tk.Price, Volume: tk.Volume, Bid: tk.Bid, Ask: tk.Ask,
			KafkaPartition: p, KafkaOffset: off, KafkaTS: tk.TS}
		proc := lake.ProcessedRow{Symbol: tk.Symbol, TS: tk.TS, Price: tk.Price, Volume: tk.Volume, Bid: tk.Bid, Ask: tk.Ask,
			MA: res.MA, MAVolume: res.MAVolume, MACount: res.Count, MATime: res.MATime,
			VolumeSpike: res.VolumeSpike, PriceDrop: res.PriceDrop, KafkaPartition: p, KafkaOffset: off}
		ws[p].Raw(&raw)
		ws[p].Processed(&proc)
		l.raw = append(l.raw, raw)
		l.proc = append(l.proc, proc)
		for _, a := range res.Alerts {
			row := lake.AlertRow{Symbol: a.Symbol, TS: a.TS, Kind: a.Kind.String(), Rule: a.Rule,
				Observed: a.Observed, Threshold: a.Threshold, Reference: a.Reference, KafkaPartition: p, KafkaOffset: off}
			ws[p].Alert(&row)
			l.alerts = append(l.alerts, row)
		}
		if n%97 == 0 { // a stand-in model, so the predictions table has rows
			row := models.PredictionRow{Symbol: tk.Symbol, TS: tk.TS, Model: "naive", ModelVersion: "v1",
				Horizon: "10s", Value: res.MA, KafkaPartition: p, KafkaOffset: off}
			ws[p].Prediction(&row)
			l.preds = append(l.preds, row)
		}
		if n%20000 == 0 {
			flush()
		}
	}
	flush()
	return l
}

// collect is a Writer that keeps the result.
type collect struct {
	cols []Column
	rows [][]driver.Value
	more bool
}

func (c *collect) Header(cols []Column) error { c.cols = cols; return nil }
func (c *collect) Row(v []driver.Value) error {
	c.rows = append(c.rows, slices.Clone(v))
	return nil
}
func (c *collect) End(truncated bool) error { c.more = truncated; return nil }

func openLake(t testing.TB, dir string) *DB {
	t.Helper()
	db, err := Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return db
}

func run(t testing.TB, db *DB, sql string) *collect {
	t.Helper()
	var c collect
	if _, err := db.Query(context.Background(), sql, 0, &c); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return &c
}

// utcDate is the lake's date partition of an event time.
func utcDate(ms int64) string { return time.UnixMilli(ms).UTC().Format("2006-01-02") }

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
