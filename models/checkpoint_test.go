package models_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/tickstream/tickstream/models"
)

// registryOf loads xgboost, windowed and stateful LSTM from the fixtures
// in dir (copied there once by the caller).
func registryOf(t *testing.T, x, w, s string, window int) *models.Registry {
	t.Helper()
	r, err := models.NewRegistry([]models.Spec{
		{Name: "xgb", Kind: models.KindXGBoost, Path: x},
		{Name: "win", Kind: models.KindLSTM, Path: w},
		{Name: "sf", Kind: models.KindLSTM, Path: s, Mode: models.ModeStateful},
	}, window, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Symbols saved mid-stream and restored into a new predictor, over a
// registry loaded afresh from the same files, predict exactly what the
// uninterrupted predictor does: same rows, same values to the bit. With a
// cadence, the bucket state comes back too (no prediction repeated or
// skipped at the cut).
func TestSymbolRestoreBitIdentical(t *testing.T) {
	dir := t.TempDir()
	x := copyFixture(t, dir, "xgboost/reg.json", "x.json")
	w := copyFixture(t, dir, "lstm/keras_20x5_16x8_hard.safetensors", "w.st")
	s := copyFixture(t, dir, "lstm/keras_20x5_16x8_hard.safetensors", "s.st")
	// The cut falls before some symbols are warm (61 ticks) and after the
	// stateful LSTM has carried its state past its 20-step window.
	const cut = 4 * 90
	for _, every := range []time.Duration{0, 7 * time.Second} {
		whole := models.NewPredictor(registryOf(t, x, w, s, 60), models.PredictorOptions{Every: every})
		var restored *models.Predictor
		wholeSyms := map[int]*models.Symbol{}
		restSyms := map[int]*models.Symbol{}
		var a, b []models.PredictionRow
		n, compared := 0, 0
		_, err := models.Simulate(sim4, func(st *models.SimTick) {
			n++
			sym := wholeSyms[st.Symbol]
			if sym == nil {
				sym = whole.NewSymbol(string(rune('A' + st.Symbol)))
				wholeSyms[st.Symbol] = sym
			}
			whole.Observe(sym, st.Tick, st.Result, int64(n))
			var err error
			if a, err = whole.Flush(a[:0]); err != nil {
				t.Fatal(err)
			}
			if n < cut {
				return
			}
			if n == cut {
				restored = models.NewPredictor(registryOf(t, x, w, s, 60), models.PredictorOptions{Every: every})
				for i, ws := range wholeSyms {
					enc, err := ws.MarshalBinary()
					if err != nil {
						t.Fatal(err)
					}
					rs := restored.NewSymbol(ws.Name)
					if err := rs.UnmarshalBinary(enc); err != nil {
						t.Fatalf("restore %s: %v", ws.Name, err)
					}
					restSyms[i] = rs
				}
				return
			}
			rs := restSyms[st.Symbol]
			if rs == nil {
				rs = restored.NewSymbol(sym.Name)
				restSyms[st.Symbol] = rs
			}
			restored.Observe(rs, st.Tick, st.Result, int64(n))
			if b, err = restored.Flush(b[:0]); err != nil {
				t.Fatal(err)
			}
			if len(a) != len(b) {
				t.Fatalf("every %v, tick %d: %d rows after restore, %d uninterrupted", every, n, len(b), len(a))
			}
			for k := range a {
				if a[k] != b[k] || math.Float64bits(a[k].Value) != math.Float64bits(b[k].Value) {
					t.Fatalf("every %v, tick %d: after restore %+v\nuninterrupted %+v", every, n, b[k], a[k])
				}
				compared++
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		if compared < 100 {
			t.Fatalf("every %v: only %d rows compared after the cut", every, compared)
		}
	}
}

// A state that does not fit is refused with a reason and changes nothing:
// cut short, trailing bytes, or a feature window of another length.
func TestSymbolRestoreRefuses(t *testing.T) {
	dir := t.TempDir()
	x := copyFixture(t, dir, "xgboost/reg.json", "x.json")
	w := copyFixture(t, dir, "lstm/keras_20x5_16x8_hard.safetensors", "w.st")
	p := models.NewPredictor(registryOf(t, x, w, w, 60), models.PredictorOptions{})
	var src *models.Symbol
	var rows []models.PredictionRow
	_, err := models.Simulate(models.SimSpec{Symbols: 1, TicksPerSymbol: 80, Seed: 3, Start: sim4.Start, Rate: 1, Steps: 60}, func(st *models.SimTick) {
		if src == nil {
			src = p.NewSymbol("A")
		}
		p.Observe(src, st.Tick, st.Result, 0)
		rows, _ = p.Flush(rows[:0])
	})
	if err != nil {
		t.Fatal(err)
	}
	enc, err := src.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	f := func(data []byte, into *models.Symbol, want string) {
		t.Helper()
		before, _ := into.MarshalBinary()
		err := into.UnmarshalBinary(data)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want it to say %q", err, want)
		}
		if after, _ := into.MarshalBinary(); string(after) != string(before) {
			t.Error("a refused state changed the symbol")
		}
	}
	for _, n := range []int{0, 1, 10, len(enc) / 2, len(enc) - 1} {
		f(enc[:n], p.NewSymbol("A"), "truncated")
	}
	f(append(enc[:len(enc):len(enc)], 7), p.NewSymbol("A"), "trailing bytes")
	short := models.NewPredictor(registryOf(t, x, w, w, 30), models.PredictorOptions{})
	f(enc, short.NewSymbol("A"), "models.window is 30")

	var fresh models.Features
	if err := fresh.UnmarshalBinary([]byte{9}); err == nil || !strings.Contains(err.Error(), "version 9") {
		t.Errorf("an unknown encoding version: %v", err)
	}
}
