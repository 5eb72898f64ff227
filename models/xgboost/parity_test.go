package xgboost_test

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/tickstream/tickstream/models/internal/testfixture"
	"github.com/tickstream/tickstream/models/npy"
	"github.com/tickstream/tickstream/models/xgboost"
)

// fixtures is the part of models/testdata/fixtures.json these tests read;
// scripts/models/gen_fixtures.py writes it with the models, inputs and the
// outputs of xgboost's own predict.
type fixtures struct {
	Versions map[string]string `json:"versions"`
	Inputs   string            `json:"xgboost_inputs"`
	Models   []struct {
		Name      string `json:"name"`
		File      string `json:"file"`
		Objective string `json:"objective"`
		Trees     int    `json:"trees"`
		Expected  string `json:"expected"`
		Margin    string `json:"margin"`
		Xgboost   string `json:"xgboost"`
	} `json:"xgboost"`
}

const testdata = "../testdata"

func loadFixtures(t testing.TB) *fixtures {
	t.Helper()
	var f fixtures
	testfixture.JSON(t, filepath.Join(testdata, "fixtures.json"), &f)
	if len(f.Models) == 0 {
		t.Fatal("fixtures.json lists no xgboost models")
	}
	return &f
}

func readNPY(t testing.TB, name string) *npy.Array {
	t.Helper()
	return testfixture.NPY(t, filepath.Join(testdata, name))
}

// relTol is the bar: xgboost's predict to 1e-6 relative. Values
// near zero are compared with the same bound in absolute terms, since a
// relative error of a value that is 0 in float32 means nothing.
const relTol = 1e-6

type errStats struct{ maxAbs, maxRel float64 }

func (e *errStats) add(got, want float32) bool {
	d := math.Abs(float64(got) - float64(want))
	e.maxAbs = max(e.maxAbs, d)
	if want != 0 {
		e.maxRel = max(e.maxRel, d/math.Abs(float64(want)))
	}
	return d <= relTol*max(math.Abs(float64(want)), 1e-3) || (math.IsNaN(float64(got)) && math.IsNaN(float64(want)))
}

func TestParityWithXGBoost(t *testing.T) {
	fx := loadFixtures(t)
	in := readNPY(t, fx.Inputs)
	rows, nf := in.Shape[0], in.Shape[1]
	for _, fm := range fx.Models {
		t.Run(filepath.Base(fm.File), func(t *testing.T) {
			m, err := xgboost.Load(filepath.Join(testdata, fm.File))
			if err != nil {
				t.Fatal(err)
			}
			if m.NumFeature() != nf || m.NumTrees() != fm.Trees || m.Objective() != fm.Objective {
				t.Fatalf("loaded %d features, %d trees, %s; fixture says %d, %d, %s",
					m.NumFeature(), m.NumTrees(), m.Objective(), nf, fm.Trees, fm.Objective)
			}
			want := readNPY(t, fm.Expected)
			wantMargin := readNPY(t, fm.Margin)
			k := m.NumOutput()
			if want.Len() != rows*k {
				t.Fatalf("expected file holds %d values, want %d rows × %d outputs", want.Len(), rows, k)
			}
			var pred, marg errStats
			out := make([]float32, k)
			margin := make([]float32, wantMargin.Len()/rows)
			for r := range rows {
				row := in.F32[r*nf : (r+1)*nf]
				if err := m.Predict(row, out); err != nil {
					t.Fatal(err)
				}
				for j := range k {
					if !pred.add(out[j], want.F32[r*k+j]) {
						t.Errorf("row %d output %d: got %v, xgboost %v", r, j, out[j], want.F32[r*k+j])
					}
				}
				if err := m.PredictMargin(row, margin); err != nil {
					t.Fatal(err)
				}
				// Margins are sums of the file's float32 leaves in xgboost's
				// order: they must be its bits, not merely close.
				for j, g := range margin {
					if w := wantMargin.F32[r*len(margin)+j]; !marg.add(g, w) || math.Float32bits(g) != math.Float32bits(w) {
						t.Errorf("row %d margin %d: got %v, xgboost %v", r, j, g, w)
					}
				}
			}
			// The batch path must give the same bits as row by row.
			batch := make([]float32, rows*k)
			if err := m.PredictBatch(in.F32, rows, batch); err != nil {
				t.Fatal(err)
			}
			for i := range batch {
				r, j := i/k, i%k
				if err := m.Predict(in.F32[r*nf:(r+1)*nf], out); err != nil {
					t.Fatal(err)
				}
				if math.Float32bits(batch[i]) != math.Float32bits(out[j]) {
					t.Fatalf("batch row %d output %d: %v, row by row %v", r, j, batch[i], out[j])
				}
			}
			t.Logf("xgboost %s %s, %d trees, %d rows: prediction max abs %.3g rel %.3g; margin max abs %.3g rel %.3g",
				fm.Xgboost, fm.Objective, m.NumTrees(), rows, pred.maxAbs, pred.maxRel, marg.maxAbs, marg.maxRel)
		})
	}
}

// The fixture inputs must exercise what the parity claim is about:
// missing values and values exactly on a split condition.
func TestFixtureInputsCoverEdges(t *testing.T) {
	fx := loadFixtures(t)
	in := readNPY(t, fx.Inputs)
	nan := 0
	for _, x := range in.F32 {
		if x != x {
			nan++
		}
	}
	if nan < 100 {
		t.Errorf("only %d missing values in the fixture inputs", nan)
	}
	var deep *xgboost.Model
	for _, fm := range fx.Models {
		if fm.Name == "deep" {
			m, err := xgboost.Load(filepath.Join(testdata, fm.File))
			if err != nil {
				t.Fatal(err)
			}
			deep = m
		}
	}
	if deep == nil {
		t.Fatal("no deep model in the fixtures")
	}
	if d := xgboost.MaxDepth(deep); d <= 6 {
		t.Errorf("deep model has depth %d, want > 6", d)
	}
}
