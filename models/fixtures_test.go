package models_test

import (
	"math"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/tickstream/tickstream/models"
	"github.com/tickstream/tickstream/models/internal/testfixture"
	"github.com/tickstream/tickstream/models/linear"
	"github.com/tickstream/tickstream/models/lstm"
	"github.com/tickstream/tickstream/models/npy"
	"github.com/tickstream/tickstream/models/xgboost"
)

const testdata = "testdata"

// manifest is models/testdata/fixtures.json, written by
// scripts/models/gen_fixtures.py.
type manifest struct {
	Versions map[string]string `json:"versions"`
	Seconds  float64           `json:"seconds"`
	Dump     struct {
		Sim          models.SimSpec `json:"sim"`
		HorizonMS    int64          `json:"horizon_ms"`
		Horizon      string         `json:"horizon"`
		Rows         int            `json:"rows"`
		FeatureNames []string       `json:"feature_names"`
		TrainBelow   int            `json:"train_symbols_below"`
		ClipBPS      float64        `json:"clip_bps"`
	} `json:"dump"`
	XGBInputs string `json:"xgboost_inputs"`
	XGBRows   string `json:"xgboost_rows"`
	LSTM      []struct {
		Name, File, Format, Inputs, Expected, Rows string
		Steps                                      int
	} `json:"lstm"`
	Metrics map[string]float64 `json:"metrics"`
}

func readManifest(t testing.TB) *manifest {
	t.Helper()
	var m manifest
	testfixture.JSON(t, filepath.Join(testdata, "fixtures.json"), &m)
	return &m
}

func readNPY(t testing.TB, name string) *npy.Array {
	t.Helper()
	return testfixture.NPY(t, filepath.Join(testdata, name))
}

// dataset is the replayed training dump: every accepted tick's features.
type dataset struct {
	names  []string
	feats  []float32 // rows × NumFeatures
	symbol []int32
	seq    []int64
	ts     []int64
	price  []float64
	label  []float32 // log return over the horizon
	// windows[k] = the raw feature window (Steps × NumFeatures) at the
	// (symbol, seq) pairs asked for.
	windows map[[2]int64][]float32
}

var (
	replayOnce sync.Once
	replayed   *dataset
	replayErr  error
)

// replay runs the dump's simulation again with the serving code, keeping
// the windows at the rows the LSTM fixtures were cut from.
func replay(t testing.TB) *dataset {
	t.Helper()
	mf := readManifest(t)
	want := map[[2]int64]bool{}
	for _, l := range mf.LSTM {
		r := readNPY(t, l.Rows)
		for i := 0; i < r.Len(); i += 2 {
			want[[2]int64{r.I64[i], r.I64[i+1]}] = true
		}
	}
	replayOnce.Do(func() {
		d := &dataset{windows: map[[2]int64][]float32{}}
		d.names, replayErr = models.Simulate(mf.Dump.Sim, func(s *models.SimTick) {
			d.feats = append(d.feats, s.F.Vector()...)
			d.symbol = append(d.symbol, int32(s.Symbol))
			d.seq = append(d.seq, s.Seq)
			d.ts = append(d.ts, s.Tick.TS)
			d.price = append(d.price, s.Tick.Price)
			if key := [2]int64{int64(s.Symbol), s.Seq}; want[key] {
				var w []float32
				for back := mf.Dump.Sim.Steps - 1; back >= 0; back-- {
					w = append(w, s.F.Row(back)...)
				}
				d.windows[key] = w
			}
		})
		d.label = models.FutureReturns(d.symbol, d.ts, d.price, mf.Dump.HorizonMS)
		replayed = d
	})
	if replayErr != nil {
		t.Fatal(replayErr)
	}
	return replayed
}

// The features Go computes today are, bit for bit, the ones the fixture
// models were trained and tested on: the xgboost inputs' real rows are
// dump rows, found again by (symbol, seq).
func TestFeaturesEqualTrainingDump(t *testing.T) {
	mf := readManifest(t)
	d := replay(t)
	if len(d.symbol) != mf.Dump.Rows || !slices.Equal(mf.Dump.FeatureNames, models.FeatureNames[:]) {
		t.Fatalf("replay gave %d rows of %v; the dump had %d of %v — regenerate the fixtures (scripts/models/regen.sh)",
			len(d.symbol), models.FeatureNames, mf.Dump.Rows, mf.Dump.FeatureNames)
	}
	in := readNPY(t, mf.XGBInputs)
	rows := readNPY(t, mf.XGBRows)
	index := map[[2]int64]int{}
	for i := range d.symbol {
		index[[2]int64{int64(d.symbol[i]), d.seq[i]}] = i
	}
	nf := models.NumFeatures
	for k := 0; k < rows.Shape[0]; k++ {
		i, ok := index[[2]int64{rows.I64[2*k], rows.I64[2*k+1]}]
		if !ok {
			t.Fatalf("fixture row %d (symbol %d, seq %d) not in the replay", k, rows.I64[2*k], rows.I64[2*k+1])
		}
		for j := range nf {
			if g, w := d.feats[i*nf+j], in.F32[k*nf+j]; math.Float32bits(g) != math.Float32bits(w) {
				t.Fatalf("row %d %s: Go computes %v, the model was trained on %v — features changed; regenerate the fixtures",
					k, models.FeatureNames[j], g, w)
			}
		}
	}
}

// Serving's window path — the feature ring, the model's InputSpec from its
// metadata — builds exactly the inputs Python fed the framework, so the
// served prediction is the framework's.
func TestLSTMServingInputsEqualTraining(t *testing.T) {
	mf := readManifest(t)
	d := replay(t)
	for _, l := range mf.LSTM {
		m, err := lstm.Load(filepath.Join(testdata, l.File))
		if err != nil {
			t.Fatal(err)
		}
		in := m.Input()
		spec, err := models.NewInputSpec(in.Features, in.Mean, in.Std, in.Steps)
		if err != nil {
			t.Fatal(err)
		}
		inputs := readNPY(t, l.Inputs)
		want := readNPY(t, l.Expected)
		rows := readNPY(t, l.Rows)
		per := spec.Steps * spec.Width()
		got := make([]float32, per)
		ws := m.NewWorkspace(1)
		out := make([]float32, m.OutputSize())
		for k := 0; k < rows.Shape[0]; k++ {
			raw := d.windows[[2]int64{rows.I64[2*k], rows.I64[2*k+1]}]
			if raw == nil {
				t.Fatalf("%s: window %d not replayed", l.Name, k)
			}
			// The replayed ring holds the dump's 60 steps; the model reads
			// its last Steps.
			raw = raw[(mf.Dump.Sim.Steps-spec.Steps)*models.NumFeatures:]
			for s := range spec.Steps {
				spec.Normalise(raw[s*models.NumFeatures:(s+1)*models.NumFeatures], got[s*spec.Width():])
			}
			for i := range got {
				if g, w := got[i], inputs.F32[k*per+i]; math.Float32bits(g) != math.Float32bits(w) {
					t.Fatalf("%s window %d value %d: Go %v, Python %v", l.Name, k, i, g, w)
				}
			}
			if err := m.Predict(ws, got, spec.Steps, out); err != nil {
				t.Fatal(err)
			}
			if w := want.F32[k*m.OutputSize()]; math.Abs(float64(out[0]-w)) > 1e-5*max(1, math.Abs(float64(w))) {
				t.Fatalf("%s window %d: served %v, %s %v", l.Name, k, out[0], l.Format, w)
			}
		}
	}
}

// The linear baseline on the fixture data, against the xgboost regression
// model and the zero predictor, out of sample (the test symbols). The
// xgboost error computed here must equal the one Python computed on the
// dump, which shows both sides scored the same data.
func TestBaselineAgainstXGBoost(t *testing.T) {
	mf := readManifest(t)
	d := replay(t)
	nf := models.NumFeatures
	var trainX, testX []float32
	var trainY, testY []float32
	for i := range d.symbol {
		y := d.label[i] * 1e4
		if math.IsNaN(float64(y)) {
			continue
		}
		row := d.feats[i*nf : (i+1)*nf]
		if int(d.symbol[i]) < mf.Dump.TrainBelow {
			trainX = append(trainX, row...)
			trainY = append(trainY, float32(math.Max(-mf.Dump.ClipBPS, math.Min(mf.Dump.ClipBPS, float64(y)))))
		} else {
			testX = append(testX, row...)
			testY = append(testY, y)
		}
	}
	lin, err := linear.Train(trainX, models.FeatureNames[:], trainY)
	if err != nil {
		t.Fatal(err)
	}
	xgb, err := xgboost.Load(filepath.Join(testdata, "xgboost/reg.json"))
	if err != nil {
		t.Fatal(err)
	}
	n := len(testY)
	pl, px := make([]float32, n), make([]float32, n)
	if err := lin.PredictBatch(testX, n, pl); err != nil {
		t.Fatal(err)
	}
	if err := xgb.PredictBatch(testX, n, px); err != nil {
		t.Fatal(err)
	}
	rmse := func(p []float32) float64 {
		var s float64
		for i, y := range testY {
			e := float64(y)
			if p != nil {
				e -= float64(p[i])
			}
			s += e * e
		}
		return math.Sqrt(s / float64(n))
	}
	lr, xr, zr := rmse(pl), rmse(px), rmse(nil)
	if n != int(mf.Metrics["test_rows"]) {
		t.Fatalf("%d test rows, Python scored %v", n, mf.Metrics["test_rows"])
	}
	if py := mf.Metrics["xgboost_reg_rmse_bps"]; math.Abs(xr-py) > 1e-6*py {
		t.Fatalf("xgboost RMSE %v here, %v in Python", xr, py)
	}
	if math.IsNaN(lr) || lr > 2*zr {
		t.Fatalf("linear baseline RMSE %v against %v for always 0", lr, zr)
	}
	t.Logf("out of sample, %d ticks of %d held-out symbols, 10 s log return in bps: linear (sajari, %d rows, R² %.4f) RMSE %.4f, xgboost %.4f, zero %.4f",
		n, len(d.names)-mf.Dump.TrainBelow, lin.Rows, lin.R2, lr, xr, zr)
}
