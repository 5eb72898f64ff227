package models_test

import (
	"cmp"
	"slices"
	"strings"
	"testing"

	"github.com/tickstream/tickstream/models"
)

// A configured horizon must be the file's, at start and on reload, as a
// duration ("10000ms" is "10s"); the error names both.
func TestSpecHorizon(t *testing.T) {
	dir := t.TempDir()
	reg := copyFixture(t, dir, "xgboost/reg.json", "reg.json") // horizon 10s
	f := func(horizon, wantErr string) {
		t.Helper()
		_, err := models.NewRegistry([]models.Spec{{Name: "x", Kind: models.KindXGBoost, Path: reg, Horizon: horizon}}, 60, nil)
		if wantErr == "" && err != nil || wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr)) {
			t.Errorf("horizon %q: error %v, want %q", horizon, err, wantErr)
		}
	}
	f("", "")
	f("10s", "")
	f("10000ms", "")
	f("5s", `the file's horizon is "10s", the configured horizon "5s"`)
	f("soon", `the configured horizon "soon"`)
}

// A model with Symbols predicts exactly those symbols' due ticks, with the
// values it gives when it serves every symbol; the others' models are
// unaffected.
func TestPredictorSymbols(t *testing.T) {
	dir := t.TempDir()
	specs := []models.Spec{
		{Name: "xgb", Kind: models.KindXGBoost, Path: copyFixture(t, dir, "xgboost/reg.json", "x.json")},
		{Name: "win", Kind: models.KindLSTM, Path: copyFixture(t, dir, "lstm/keras_20x5_16x8_hard.safetensors", "w.st")},
		{Name: "sf", Kind: models.KindLSTM, Path: copyFixture(t, dir, "lstm/keras_20x5_16x8_hard.safetensors", "s.st"), Mode: models.ModeStateful},
	}
	run := func(specs []models.Spec) []models.PredictionRow {
		r, err := models.NewRegistry(specs, 60, nil)
		if err != nil {
			t.Fatal(err)
		}
		p := models.NewPredictor(r, models.PredictorOptions{})
		syms := map[int]*models.Symbol{}
		var rows []models.PredictionRow
		_, err = models.Simulate(sim4, func(s *models.SimTick) {
			sym := syms[s.Symbol]
			if sym == nil {
				sym = p.NewSymbol(string(rune('A' + s.Symbol)))
				syms[s.Symbol] = sym
			}
			p.Observe(sym, s.Tick, s.Result, 0)
			if p.Pending() > 50 {
				if rows, err = p.Flush(rows); err != nil {
					t.Fatal(err)
				}
			}
		})
		if err == nil {
			rows, err = p.Flush(rows)
		}
		if err != nil {
			t.Fatal(err)
		}
		return rows
	}
	all := run(specs)
	only := map[string][]string{"xgb": {"A", "C"}, "sf": {"B"}}
	var want []models.PredictionRow
	for _, r := range all {
		if s := only[r.Model]; s == nil || slices.Contains(s, r.Symbol) {
			want = append(want, r)
		}
	}
	specs[0].Symbols, specs[2].Symbols = only["xgb"], only["sf"]
	got := run(specs)
	sortKey := func(rs []models.PredictionRow) []models.PredictionRow {
		slices.SortFunc(rs, func(a, b models.PredictionRow) int {
			return cmp.Or(cmp.Compare(a.Model, b.Model), cmp.Compare(a.Symbol, b.Symbol), cmp.Compare(a.TS, b.TS))
		})
		return rs
	}
	if len(want) == len(all) || len(got) != len(want) || !slices.Equal(sortKey(got), sortKey(want)) {
		t.Fatalf("%d rows with symbols set, want %d of the %d without", len(got), len(want), len(all))
	}
}
