package engine

import (
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tickstream/tickstream/config"
	"github.com/tickstream/tickstream/models"
	"github.com/tickstream/tickstream/tick"
)

// newHandleTask is a task for AAPL and MSFT writing to a memory lake,
// serving xgboost and an LSTM windowed and stateful when predict is set.
func newHandleTask(tb testing.TB, predict bool) *task {
	tb.Helper()
	cfg := config.Default()
	cfg.Symbols, cfg.SyntheticSymbols = []string{"AAPL", "MSFT"}, 0
	d := Deps{Store: memStore{}, SpoolDir: tb.TempDir()}
	if predict {
		reg, err := models.NewRegistry([]models.Spec{
			{Name: "xgb", Kind: models.KindXGBoost, Path: fixtures + "xgboost/reg.json"},
			{Name: "win", Kind: models.KindLSTM, Path: fixtures + "lstm/keras_20x5_16x8_hard.safetensors"},
			{Name: "sf", Kind: models.KindLSTM, Path: fixtures + "lstm/keras_20x5_16x8_hard.safetensors", Mode: models.ModeStateful},
		}, cfg.Models.Window, nil)
		if err != nil {
			tb.Fatal(err)
		}
		d.Models = reg
	}
	e, err := New(cfg, d)
	if err != nil {
		tb.Fatal(err)
	}
	tk, err := e.newTask("ticks", 0)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = tk.w.Close() })
	return tk
}

// flushPredictions is task.predict without the Kafka records.
func (t *task) flushPredictions(tb testing.TB) {
	var err error
	if t.prows, err = t.pred.Flush(t.prows[:0]); err != nil {
		tb.Fatal(err)
	}
	for i := range t.prows {
		t.w.Prediction(&t.prows[i])
	}
}

// TestHandleAllocatesNothing: a valid tick through decode, the operators,
// the predictor's features and the lake writer allocates nothing, and
// neither does making a batch's predictions (Kafka aside: a produced
// record belongs to the client until acknowledged).
func TestHandleAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	tk := newHandleTask(t, true)

	// Fewer rows per table than the writer encodes at once (2048): its
	// periodic encoding is measured by the lake's own benchmarks.
	recs := make([]*kgo.Record, 16*30)
	ts0 := time.Date(2026, 11, 24, 14, 0, 0, 0, time.UTC).UnixMilli()
	for i := range recs {
		sym := []string{"AAPL", "MSFT"}[i%2]
		ts := ts0 + int64(i/2)*1000
		price := 100 + float64(i%23)*0.05
		recs[i] = &kgo.Record{
			Key:       []byte(sym),
			Value:     fmt.Appendf(nil, `{"symbol":%q,"ts":%d,"price":%g,"volume":%d,"bid":%g,"ask":%g}`, sym, ts, price, 900+i%7*40, price-0.01, price+0.01),
			Offset:    int64(i),
			Timestamp: time.UnixMilli(ts),
		}
	}
	next := 0
	batch := func() {
		for range 16 {
			tk.handle(recs[next])
			next++
		}
		tk.flushPredictions(t)
	}
	for range 9 { // warm: symbol state, features past warm-up, buffers grown
		batch()
	}
	if len(tk.prows) != 3*16 {
		t.Fatalf("%d predictions for a batch of 16 warm ticks, want 48", len(tk.prows))
	}
	if a := testing.AllocsPerRun(20, batch); a != 0 {
		t.Errorf("%v allocations per batch of 16 ticks", a)
	}
	if tk.counts.accepted != int64(next) {
		t.Errorf("%d of %d ticks accepted", tk.counts.accepted, next)
	}
}

// BenchmarkHandle is one tick's cost on a partition task: encoding its
// JSON (part of the loop, to make a fresh tick), decode, the operators,
// the raw and processed rows, and with models the features and a share of
// a 16-tick batch's predictions by xgboost and an LSTM(16, 8) windowed and
// stateful, with their rows; the lake's Parquet encoding included.
func BenchmarkHandle(b *testing.B) {
	for _, predict := range []bool{false, true} {
		name := "operators"
		if predict {
			name = "operators+3models"
		}
		b.Run(name, func(b *testing.B) {
			tk := newHandleTask(b, predict)
			ts0 := time.Date(2026, 11, 24, 14, 0, 0, 0, time.UTC).UnixMilli()
			rec := &kgo.Record{Value: make([]byte, 0, 256)}
			syms, keys := []string{"AAPL", "MSFT"}, [][]byte{[]byte("AAPL"), []byte("MSFT")}
			var tt tick.Tick
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				tt = tick.Tick{Symbol: syms[i%2], TS: ts0 + int64(i/2)*1000, Price: 100 + float64(i%23)*0.05, Volume: float64(900 + i%7*40)}
				tt.Bid, tt.Ask = tt.Price-0.01, tt.Price+0.01
				rec.Key, rec.Value, rec.Offset, rec.Timestamp = keys[i%2], tick.AppendJSON(rec.Value[:0], &tt), int64(i), time.UnixMilli(tt.TS)
				tk.handle(rec)
				if predict && i%16 == 15 {
					tk.flushPredictions(b)
				}
			}
		})
	}
}
