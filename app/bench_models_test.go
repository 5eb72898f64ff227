package app

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/tickstream/tickstream/config"
	"github.com/tickstream/tickstream/models"
	"github.com/tickstream/tickstream/models/lstm"
	"github.com/tickstream/tickstream/models/xgboost"
)

// testBenchModels are the bench's defaults, seen from this package's
// directory.
func testBenchModels() benchModels {
	return benchModels{lstm: filepath.Join("..", benchLSTMFixture), cadence: time.Second}
}

// The models `tickstream bench --models both` serves load as `tickstream
// run` loads them and have the design notes' shapes: XGBoost 500 complete
// trees of depth 6 over the 13 serving features, LSTM 60 × 5 → 128 → 1,
// windowed. Shapes are read back from the files, the trees' depth by a
// walk of the JSON independent of the xgboost package.
func TestBenchModelsLoad(t *testing.T) {
	dir := t.TempDir()
	files, err := testBenchModels().files(benchModelsBoth, dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Models.Files = files
	reg, topics, err := loadModels(cfg, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	if reg == nil || reg.Len() != 2 || len(topics) != 1 {
		t.Fatalf("registry %v with topics %v, want two models served", reg, topics)
	}
	var kinds []string
	for i := range reg.Len() {
		m, spec := reg.Model(i), reg.Spec(i)
		kinds = append(kinds, spec.Kind)
		switch spec.Kind {
		case models.KindXGBoost:
			checkBenchXGBoost(t, spec.Path)
		case models.KindLSTM:
			if spec.Mode != models.ModeWindowed || m.Input == nil || m.Input.Steps != 60 || m.Input.Width() != 5 {
				t.Errorf("lstm served %s over %+v, want windowed over 60 steps of 5 features", spec.Mode, m.Input)
			}
			seq, err := lstm.Load(spec.Path)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(seq.Units(), []int{128}) || seq.InputSize() != 5 || seq.OutputSize() != 1 || seq.Input().Steps != 60 {
				t.Errorf("lstm %d steps × %d → %v → %d, want 60 × 5 → [128] → 1",
					seq.Input().Steps, seq.InputSize(), seq.Units(), seq.OutputSize())
			}
		}
	}
	if !slices.Equal(kinds, []string{models.KindXGBoost, models.KindLSTM}) {
		t.Errorf("kinds %v, want xgboost and lstm", kinds)
	}
}

func checkBenchXGBoost(t *testing.T, path string) {
	t.Helper()
	m, err := xgboost.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if m.NumTrees() != benchTrees || m.NumFeature() != models.NumFeatures || !slices.Equal(m.FeatureNames(), models.FeatureNames[:]) {
		t.Errorf("xgboost %d trees over %v, want %d over %v", m.NumTrees(), m.FeatureNames(), benchTrees, models.FeatureNames)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Learner struct {
			GradientBooster struct {
				Model struct {
					Trees []struct {
						Left  []int `json:"left_children"`
						Right []int `json:"right_children"`
					} `json:"trees"`
				} `json:"model"`
			} `json:"gradient_booster"`
		} `json:"learner"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	trees := doc.Learner.GradientBooster.Model.Trees
	if len(trees) != benchTrees {
		t.Fatalf("%d trees in the JSON, want %d", len(trees), benchTrees)
	}
	for i, tr := range trees {
		// Every leaf at depth benchDepth: a complete tree.
		var leafDepths []int
		var walk func(n, d int)
		walk = func(n, d int) {
			if tr.Left[n] < 0 {
				leafDepths = append(leafDepths, d)
				return
			}
			walk(tr.Left[n], d+1)
			walk(tr.Right[n], d+1)
		}
		walk(0, 0)
		if len(leafDepths) != 1<<benchDepth || slices.Min(leafDepths) != benchDepth || slices.Max(leafDepths) != benchDepth {
			t.Fatalf("tree %d: %d leaves at depths %d..%d, want %d all at depth %d", i, len(leafDepths),
				slices.Min(leafDepths), slices.Max(leafDepths), 1<<benchDepth, benchDepth)
		}
	}
	// Splits fall inside the features' values, so rows go both ways: on
	// simulator rows of another seed than the generator's, the trees' root
	// splits send a fair share of rows each way.
	var roots struct {
		Learner struct {
			GradientBooster struct {
				Model struct {
					Trees []struct {
						Feature []int     `json:"split_indices"`
						Cond    []float32 `json:"split_conditions"`
					} `json:"trees"`
				} `json:"model"`
			} `json:"gradient_booster"`
		} `json:"learner"`
	}
	if err := json.Unmarshal(data, &roots); err != nil {
		t.Fatal(err)
	}
	var left, right int
	spec := models.SimSpec{Symbols: 4, TicksPerSymbol: 200, Seed: 99, Start: time.Date(2026, 11, 25, 15, 0, 0, 0, time.UTC), Rate: 1, Steps: 60}
	_, err = models.Simulate(spec, func(s *models.SimTick) {
		if s.Seq+1 < models.Warmup {
			return
		}
		x := s.F.Vector()
		for _, tr := range roots.Learner.GradientBooster.Model.Trees {
			switch v := x[tr.Feature[0]]; {
			case v < tr.Cond[0]:
				left++
			case v >= tr.Cond[0]:
				right++
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := left + right; left < n/10 || right < n/10 {
		t.Errorf("root splits send %d rows left and %d right, want each at least a tenth", left, right)
	}
}

func TestBenchModelSets(t *testing.T) {
	f := func(set string, want []string, wantErr string) {
		t.Helper()
		files, err := testBenchModels().files(set, t.TempDir())
		if wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), wantErr) {
				t.Errorf("--models %s: error %v, want %q", set, err, wantErr)
			}
			return
		}
		if err != nil {
			t.Fatalf("--models %s: %v", set, err)
		}
		var kinds []string
		for _, f := range files {
			kinds = append(kinds, f.Kind)
		}
		if !slices.Equal(kinds, want) {
			t.Errorf("--models %s: kinds %v, want %v", set, kinds, want)
		}
	}
	f("none", nil, "")
	f("xgboost", []string{"xgboost"}, "")
	f("lstm", []string{"lstm"}, "")
	f("both", []string{"xgboost", "lstm"}, "")
	f("all", nil, `--models "all"`)

	bm := testBenchModels()
	bm.lstm = filepath.Join(t.TempDir(), "missing.safetensors")
	if _, err := bm.files(benchModelsLSTM, t.TempDir()); err == nil || !strings.Contains(err.Error(), "--lstm FILE") {
		t.Errorf("missing LSTM file: error %v, want it to suggest --lstm FILE", err)
	}
}

// A run whose models predicted nothing, too little for the cadence, or
// failed, is an error; one that predicted every due tick is not.
func TestCheckPredictions(t *testing.T) {
	const symbols, warm = 1000, 200 // warm ticks per symbol
	accepted := int64(symbols * (models.Warmup - 1 + warm))
	f := func(nModels int, rate float64, cadence time.Duration, predictions, failed int64, ok bool) {
		t.Helper()
		err := checkPredictions(nModels, symbols, rate, cadence, accepted, predictions, failed)
		if (err == nil) != ok {
			t.Errorf("%d models, %v Hz, cadence %v, %d predictions, %d failed: error %v, want ok=%v",
				nModels, rate, cadence, predictions, failed, err, ok)
		}
	}
	all := int64(2 * symbols * warm) // 1 Hz, cadence 1 s: every warm tick, by both models
	f(2, 1, time.Second, all, 0, true)
	f(2, 1, 0, all, 0, true)
	f(2, 1, time.Second, all-symbols, 0, true) // the last round still in flight
	f(2, 1, time.Second, 0, 0, false)
	f(2, 1, time.Second, all/2, 0, false) // one model silent
	f(2, 1, time.Second, all, 1, false)
	f(2, 4, time.Second, all/4, 0, true) // 4 Hz, once a second
	f(2, 4, time.Second, all/8, 0, false)
}

// A short run at a high rate (the models warm up in 61 ticks) serves both
// models through the engine and counts their predictions, so the bench
// cannot measure with the models silently off.
func TestRunLatencyServesModels(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the engine for several seconds")
	}
	cfg := *config.Default()
	cfg.Symbols, cfg.SyntheticSymbols = cfg.Symbols[:10], 0
	cfg.Simulator.Rate = 50
	cfg.Models.Cadence = time.Second
	files, err := testBenchModels().files(benchModelsBoth, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r, err := runLatency(context.Background(), cfg, 6*time.Second, files, 0)
	if err != nil {
		t.Fatal(err)
	}
	if r.predictions <= 0 {
		t.Errorf("%d predictions", r.predictions)
	}
}
