package models_test

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tickstream/tickstream/models"
	"github.com/tickstream/tickstream/models/lightgbm"
)

// A lightgbm file is refused, naming the file, when it does not fit the
// serving features or its spec.
func TestLightGBMRegistryValidates(t *testing.T) {
	dir := t.TempDir()
	f := func(spec models.Spec, want ...string) {
		t.Helper()
		_, err := models.NewRegistry([]models.Spec{spec}, 60, nil)
		for _, w := range want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%+v: error %v, want it to contain %q", spec, err, w)
			}
		}
	}
	reg, err := os.ReadFile(filepath.Join(testdata, "lightgbm/reg.txt"))
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, data string) string {
		path := filepath.Join(dir, name)
		replaceFile(t, path, []byte(data))
		return path
	}
	names := strings.Join(models.FeatureNames[:], " ")
	if !strings.Contains(string(reg), "\nfeature_names="+names+"\n") {
		t.Fatal("the fixture was not trained on models.FeatureNames")
	}
	renamed := write("renamed.txt", strings.Replace(string(reg), "feature_names=ret_1 ", "feature_names=r1 ", 1))
	wider := write("wider.txt", strings.NewReplacer("max_feature_idx=12\n", "max_feature_idx=13\n",
		"feature_names="+names+"\n", "feature_names="+names+" extra\n").Replace(string(reg)))
	path := write("reg.txt", string(reg))

	f(models.Spec{Name: "g", Kind: models.KindLightGBM, Path: path}, "needs a horizon")
	f(models.Spec{Name: "g", Kind: models.KindLightGBM, Path: path, Horizon: "10s", Mode: "stateful"}, "lstm models only")
	f(models.Spec{Name: "g", Kind: models.KindLightGBM, Path: renamed, Horizon: "10s"}, renamed, "trained on features [r1 ret_5")
	f(models.Spec{Name: "g", Kind: models.KindLightGBM, Path: wider, Horizon: "10s"}, wider, "14 features, the feature vector has 13")
	f(models.Spec{Name: "g", Kind: models.KindLightGBM, Path: copyFixture(t, dir, "lightgbm/multiclass.txt", "mc.txt"), Horizon: "10s"}, "mc.txt", "multiclass")
	f(models.Spec{Name: "g", Kind: models.KindLightGBM, Path: copyFixture(t, dir, "xgboost/reg.json", "x.json"), Horizon: "10s"}, "x.json", "not a LightGBM text model")

	r, err := models.NewRegistry([]models.Spec{{Name: "g", Kind: models.KindLightGBM, Path: path, Horizon: "10s"}}, 60, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m := r.Model(0); m.Horizon != "10s" || m.Version == "" {
		t.Errorf("horizon %q, version %q", m.Horizon, m.Version)
	}
}

// Each served lightgbm value equals the model run directly on that tick's
// feature vector.
func TestPredictorServesLightGBM(t *testing.T) {
	dir := t.TempDir()
	r, err := models.NewRegistry([]models.Spec{
		{Name: "reg", Kind: models.KindLightGBM, Path: copyFixture(t, dir, "lightgbm/reg.txt", "r.txt"), Horizon: "10s"},
		{Name: "up", Kind: models.KindLightGBM, Path: copyFixture(t, dir, "lightgbm/binary.txt", "b.txt"), Horizon: "10000ms"},
	}, 60, nil)
	if err != nil {
		t.Fatal(err)
	}
	direct := map[string]*lightgbm.Model{}
	for i := range r.Len() {
		if direct[r.Spec(i).Name], err = lightgbm.Load(r.Spec(i).Path); err != nil {
			t.Fatal(err)
		}
	}
	p := models.NewPredictor(r, models.PredictorOptions{})
	syms := map[int]*models.Symbol{}
	var rows []models.PredictionRow
	out := []float32{0}
	checked := 0
	_, err = models.Simulate(sim4, func(s *models.SimTick) {
		sym := syms[s.Symbol]
		if sym == nil {
			sym = p.NewSymbol(string(rune('A' + s.Symbol)))
			syms[s.Symbol] = sym
		}
		p.Observe(sym, s.Tick, s.Result, 0)
		var err error
		if rows, err = p.Flush(rows[:0]); err != nil {
			t.Fatal(err)
		}
		for _, row := range rows {
			if err := direct[row.Model].Predict(sym.F.Vector(), out); err != nil {
				t.Fatal(err)
			}
			if math.Float32bits(float32(row.Value)) != math.Float32bits(out[0]) {
				t.Fatalf("%s: served %v, direct %v", row.Model, row.Value, out[0])
			}
			checked++
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked != 2*4*(200-models.Warmup+1) {
		t.Fatalf("checked %d predictions", checked)
	}
}
