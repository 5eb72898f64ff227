package models_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/tickstream/tickstream/models"
	"github.com/tickstream/tickstream/models/lstm"
	"github.com/tickstream/tickstream/models/xgboost"
	"github.com/tickstream/tickstream/operators"
	"github.com/tickstream/tickstream/tick"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var sim4 = models.SimSpec{Symbols: 4, TicksPerSymbol: 200, Seed: 11, Start: time.Date(2024, 1, 3, 15, 0, 0, 0, time.UTC), Rate: 1, Steps: 60}

func threeModels(t testing.TB) *models.Registry {
	t.Helper()
	dir := t.TempDir()
	r, err := models.NewRegistry([]models.Spec{
		{Name: "xgb", Kind: models.KindXGBoost, Path: copyFixture(t, dir, "xgboost/reg.json", "x.json")},
		{Name: "win", Kind: models.KindLSTM, Path: copyFixture(t, dir, "lstm/keras_20x5_16x8_hard.safetensors", "w.st")},
		{Name: "sf", Kind: models.KindLSTM, Path: copyFixture(t, dir, "lstm/keras_20x5_16x8_hard.safetensors", "s.st"), Mode: models.ModeStateful},
	}, 60, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Each served value equals the model run directly on that tick's inputs:
// xgboost on the feature vector, windowed LSTM on the window, stateful
// LSTM stepped through every tick of the symbol since its first.
func TestPredictorServesTheModels(t *testing.T) {
	r := threeModels(t)
	p := models.NewPredictor(r, models.PredictorOptions{})
	xgb, _ := xgboost.Load(r.Spec(0).Path)
	seq, _ := lstm.Load(r.Spec(1).Path)
	spec := r.Model(1).Input
	ws := seq.NewWorkspace(1)

	type direct struct {
		state []*lstm.State
		last  float32
	}
	syms := map[int]*models.Symbol{}
	mine := map[int]*direct{}
	var rows []models.PredictionRow
	x := make([]float32, spec.Width())
	win := make([]float32, spec.Steps*spec.Width())
	out := make([]float32, 1)
	checked := 0
	offset := int64(1000) // the record offset each tick is observed with
	_, err := models.Simulate(sim4, func(s *models.SimTick) {
		offset++
		sym, me := syms[s.Symbol], mine[s.Symbol]
		if sym == nil {
			sym = p.NewSymbol(string(rune('A' + s.Symbol)))
			me = &direct{state: []*lstm.State{seq.NewState()}}
			syms[s.Symbol], mine[s.Symbol] = sym, me
		}
		p.Observe(sym, s.Tick, s.Result, offset)
		spec.Normalise(sym.F.Vector(), x)
		if err := seq.Step(ws, me.state, x, out); err != nil {
			t.Fatal(err)
		}
		me.last = out[0]
		var err error
		if rows, err = p.Flush(rows[:0]); err != nil {
			t.Fatal(err)
		}
		if sym.F.Count() < models.Warmup {
			if len(rows) != 0 {
				t.Fatalf("tick %d of %s predicted before warm-up", sym.F.Count(), sym.Name)
			}
			return
		}
		if len(rows) != 3 {
			t.Fatalf("%d rows for one warm tick, want 3", len(rows))
		}
		_ = xgb.Predict(sym.F.Vector(), out)
		wantX := out[0]
		spec.Window(sym.F, win)
		_ = seq.Predict(ws, win, spec.Steps, out)
		want := map[string]float32{"xgb": wantX, "win": out[0], "sf": me.last}
		for _, row := range rows {
			if row.Symbol != sym.Name || row.TS != s.Tick.TS || row.Horizon != "10s" || row.KafkaOffset != offset {
				t.Fatalf("row %+v for %s at %d", row, sym.Name, s.Tick.TS)
			}
			if math.Float32bits(float32(row.Value)) != math.Float32bits(want[row.Model]) {
				t.Fatalf("%s: served %v, direct %v", row.Model, row.Value, want[row.Model])
			}
		}
		checked++
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked != 4*(200-models.Warmup+1) {
		t.Fatalf("checked %d ticks", checked)
	}
}

// With a cadence, a symbol is predicted at its first warm tick of each
// bucket of event time, and every due tick of a batch is predicted.
func TestPredictorCadence(t *testing.T) {
	r := threeModels(t)
	for _, every := range []time.Duration{0, 7 * time.Second, time.Minute} {
		p := models.NewPredictor(r, models.PredictorOptions{Every: every, Batch: 3})
		syms := map[int]*models.Symbol{}
		buckets := map[[2]int64]bool{}
		want := 0
		var rows []models.PredictionRow
		got := map[string]int{}
		_, err := models.Simulate(sim4, func(s *models.SimTick) {
			sym := syms[s.Symbol]
			if sym == nil {
				sym = p.NewSymbol(string(rune('A' + s.Symbol)))
				syms[s.Symbol] = sym
			}
			p.Observe(sym, s.Tick, s.Result, 0)
			if s.Seq+1 >= models.Warmup {
				if every == 0 {
					want++
				} else if k := [2]int64{int64(s.Symbol), s.Tick.TS / every.Milliseconds()}; !buckets[k] {
					buckets[k] = true
					want++
				}
			}
			if s.Tick.TS%10 == 0 || s.Seq == int64(sim4.TicksPerSymbol-1) { // batches of uneven size
				var err error
				if rows, err = p.Flush(rows[:0]); err != nil {
					t.Fatal(err)
				}
				for _, row := range rows {
					got[row.Model]++
				}
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		rows, _ = p.Flush(rows[:0])
		for _, row := range rows {
			got[row.Model]++
		}
		for _, name := range []string{"xgb", "win", "sf"} {
			if got[name] != want {
				t.Errorf("every %v: %s made %d predictions, want %d", every, name, got[name], want)
			}
		}
	}
}

func TestObserveAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	r := threeModels(t)
	p := models.NewPredictor(r, models.PredictorOptions{})
	sym := p.NewSymbol("X")
	tk := tick.Tick{Symbol: "X", Price: 100, Volume: 10, Bid: 99.99, Ask: 100.01}
	res := operators.Result{MA: 100, MAVolume: 10}
	rows := make([]models.PredictionRow, 0, 16)
	step := func() {
		tk.TS += 1000
		tk.Price += 0.01
		p.Observe(sym, &tk, &res, 0)
		rows, _ = p.Flush(rows[:0])
	}
	for range 100 {
		step()
	}
	if a := testing.AllocsPerRun(200, step); a != 0 {
		t.Errorf("%v allocations per tick", a)
	}
}

func TestPredictionRowJSON(t *testing.T) {
	row := models.PredictionRow{Symbol: "BRK.B", TS: time.Date(2026, 11, 25, 14, 31, 7, 250e6, time.UTC).UnixMilli(),
		Model: `x"y`, ModelVersion: "abc\n", Horizon: "10s", Value: -0.125}
	var got map[string]any
	if err := json.Unmarshal(models.AppendJSON(nil, &row), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"symbol": "BRK.B", "ts": "2026-11-25T14:31:07.250Z", "model": `x"y`,
		"model_version": "abc\n", "horizon": "10s", "value": -0.125}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %v, want %v", k, got[k], v)
		}
	}
	row.Value = math.NaN()
	if b := models.AppendJSON(nil, &row); !bytes.Contains(b, []byte(`"value":null`)) {
		t.Errorf("NaN encoded as %s", b)
	}
	buf := make([]byte, 0, 256)
	if a := testing.AllocsPerRun(100, func() { buf = models.AppendJSON(buf[:0], &row) }); a != 0 {
		t.Errorf("%v allocations per row", a)
	}
}

// The predictions table's schema, as parquet-go derives it from the tags.
func TestPredictionRowSchema(t *testing.T) {
	got := parquet.SchemaOf(models.PredictionRow{}).String() + "\n"
	path := filepath.Join(testdata, "predictions.schema.golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err, "(run with -update to create it)")
	}
	if got != string(want) {
		t.Errorf("schema changed:\n%s\nwant:\n%s", got, want)
	}
}

func BenchmarkPredictor(b *testing.B) {
	// One partition's share of 1000 symbols, one tick each, then a flush:
	// xgboost + windowed LSTM(16, 8) + stateful LSTM(16, 8).
	r := threeModels(b)
	p := models.NewPredictor(r, models.PredictorOptions{})
	const n = 166
	syms := make([]*models.Symbol, n)
	tk := make([]tick.Tick, n)
	res := operators.Result{MA: 100, MAVolume: 10}
	for i := range syms {
		syms[i] = p.NewSymbol("S")
		tk[i] = tick.Tick{Price: 100 + float64(i), Volume: 10, Bid: 99, Ask: 101}
	}
	var rows []models.PredictionRow
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		for k := range syms {
			tk[k].TS += 1000
			tk[k].Price += float64(i%5-2) * 0.01
			p.Observe(syms[k], &tk[k], &res, 0)
		}
		rows, _ = p.Flush(rows[:0])
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/symbol")
}
