package lightgbm_test

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tickstream/tickstream/models/internal/testfixture"
	"github.com/tickstream/tickstream/models/lightgbm"
	"github.com/tickstream/tickstream/models/npy"
)

// fixtures is models/testdata/lightgbm/fixtures.json, written by
// scripts/models/gen_lightgbm.py with the models, the inputs and the
// outputs of lightgbm's own predict.
type fixtures struct {
	Versions   map[string]string `json:"versions"`
	Inputs     string            `json:"inputs"`
	InputParts map[string]int    `json:"input_parts"`
	Models     []struct {
		Name      string `json:"name"`
		Objective string `json:"objective"`
		Trees     int    `json:"trees"`
		File      string `json:"file"`
		Raw       string `json:"raw"`
		Expected  string `json:"expected"`
	} `json:"models"`
	Refused []struct {
		File string `json:"file"`
		Why  string `json:"why"`
	} `json:"refused"`
}

const testdata = "../testdata"

func loadFixtures(t testing.TB) *fixtures {
	t.Helper()
	var f fixtures
	testfixture.JSON(t, filepath.Join(testdata, "lightgbm", "fixtures.json"), &f)
	if len(f.Models) == 0 {
		t.Fatal("lightgbm/fixtures.json lists no models")
	}
	return &f
}

func readNPY(t testing.TB, name string) *npy.Array {
	t.Helper()
	return testfixture.NPY(t, filepath.Join(testdata, name))
}

func loadModel(t testing.TB, file string) *lightgbm.Model {
	t.Helper()
	m, err := lightgbm.Load(filepath.Join(testdata, file))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// relTol is the bar: lightgbm's predict to 1e-6 relative. The
// outputs are float32, whose rounding alone is 6e-8 relative.
const relTol = 1e-6

type errStats struct{ maxAbs, maxRel float64 }

func (e *errStats) add(got float32, want float64) bool {
	d := math.Abs(float64(got) - want)
	e.maxAbs = max(e.maxAbs, d)
	if want != 0 {
		e.maxRel = max(e.maxRel, d/math.Abs(want))
	}
	return d <= relTol*math.Abs(want) || float32(want) == got
}

func TestParityWithLightGBM(t *testing.T) {
	fx := loadFixtures(t)
	in := readNPY(t, fx.Inputs)
	rows, nf := in.Shape[0], in.Shape[1]
	var all errStats
	for _, fm := range fx.Models {
		t.Run(fm.Name, func(t *testing.T) {
			m := loadModel(t, fm.File)
			if m.NumFeature() != nf || m.NumTrees() != fm.Trees || strings.Fields(m.Objective())[0] != fm.Objective {
				t.Fatalf("loaded %d features, %d trees, %q; fixture says %d, %d, %s",
					m.NumFeature(), m.NumTrees(), m.Objective(), nf, fm.Trees, fm.Objective)
			}
			want, wantRaw := readNPY(t, fm.Expected).F64, readNPY(t, fm.Raw).F64
			if len(want) != rows || len(wantRaw) != rows {
				t.Fatalf("expected files hold %d and %d values, want %d", len(want), len(wantRaw), rows)
			}
			var pred, raw errStats
			out := []float32{0}
			for r := range rows {
				row := in.F32[r*nf : (r+1)*nf]
				if err := m.Predict(row, out); err != nil {
					t.Fatal(err)
				}
				if !pred.add(out[0], want[r]) {
					t.Errorf("row %d %v: got %v, lightgbm %v", r, row, out[0], want[r])
				}
				if err := m.PredictRaw(row, out); err != nil {
					t.Fatal(err)
				}
				if !raw.add(out[0], wantRaw[r]) {
					t.Errorf("row %d %v: raw %v, lightgbm %v", r, row, out[0], wantRaw[r])
				}
			}
			// The batch paths give the same bits as row by row.
			for _, p := range []struct {
				batch, one func([]float32, int, []float32) error
			}{
				{m.PredictBatch, func(r []float32, _ int, o []float32) error { return m.Predict(r, o) }},
				{m.PredictRawBatch, func(r []float32, _ int, o []float32) error { return m.PredictRaw(r, o) }},
			} {
				batch := make([]float32, rows)
				if err := p.batch(in.F32, rows, batch); err != nil {
					t.Fatal(err)
				}
				for r := range rows {
					if err := p.one(in.F32[r*nf:(r+1)*nf], 1, out); err != nil {
						t.Fatal(err)
					}
					if math.Float32bits(batch[r]) != math.Float32bits(out[0]) {
						t.Fatalf("batch row %d: %v, row by row %v", r, batch[r], out[0])
					}
				}
			}
			for _, e := range []errStats{pred, raw} {
				all.maxAbs, all.maxRel = max(all.maxAbs, e.maxAbs), max(all.maxRel, e.maxRel)
			}
			t.Logf("lightgbm %s %q, %d trees, %d rows: predict max abs %.3g rel %.3g; raw max abs %.3g rel %.3g",
				fx.Versions["lightgbm"], m.Objective(), m.NumTrees(), rows, pred.maxAbs, pred.maxRel, raw.maxAbs, raw.maxRel)
		})
	}
	t.Logf("all models: max abs %.3g, max rel %.3g", all.maxAbs, all.maxRel)
}

// The fixtures must exercise what the parity claim is about: every
// missing-value rule in some split, and inputs with NaN, zeros, values
// LightGBM's predictor takes for zero, and values on a threshold.
func TestFixturesCoverMissingTypes(t *testing.T) {
	fx := loadFixtures(t)
	seen := map[string]int{}
	for _, fm := range fx.Models {
		for k, n := range lightgbm.SplitKinds(loadModel(t, fm.File)) {
			seen[k] += n
		}
	}
	for _, k := range []string{"none", "zero/left", "zero/right", "nan/left", "nan/right"} {
		if seen[k] == 0 {
			t.Errorf("no split of missing type %s in the fixture models (%v)", k, seen)
		}
	}
	in := readNPY(t, fx.Inputs).F32
	var nan, zero, tiny int
	for _, x := range in {
		switch {
		case x != x:
			nan++
		case x == 0:
			zero++
		case math.Abs(float64(x)) <= 2e-35:
			tiny++
		}
	}
	if nan < 100 || zero < 100 || tiny < 20 {
		t.Errorf("fixture inputs hold %d NaN, %d zeros, %d tiny values; want ≥ 100, 100, 20", nan, zero, tiny)
	}
	// LightGBM writes each tree's shrinkage but has already multiplied its
	// leaves by it: parity of models trained at a learning rate below 1 is
	// what shows the loader must not apply it again.
	if !strings.Contains(string(readFixture(t, "lightgbm/reg.txt")), "\nshrinkage=0.1\n") {
		t.Error("the reg fixture has no tree of shrinkage 0.1")
	}
	if fx.InputParts["edges"] < 100 {
		t.Errorf("%d rows on thresholds, want ≥ 100", fx.InputParts["edges"])
	}
}
