package models_test

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/tickstream/tickstream/models"
	"github.com/tickstream/tickstream/models/linear"
)

// copyFixture copies a fixture model into dir under name.
func copyFixture(t testing.TB, dir, fixture, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testdata, fixture))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	replaceFile(t, path, data)
	return path
}

// replaceFile writes data over path atomically, as the Watcher's doc asks,
// and moves its mtime forward so a poll sees the change even on
// filesystems with coarse timestamps.
func replaceFile(t testing.TB, path string, data []byte) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err == nil {
		later := fi.ModTime().Add(time.Second)
		if err := os.Chtimes(tmp, later, later); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// linearFixture trains the baseline on the replayed dump and writes it.
func linearFixture(t *testing.T, dir string) string {
	t.Helper()
	d := replay(t)
	nf := models.NumFeatures
	n := min(len(d.label), 3000)
	y := make([]float32, n)
	for i := range y {
		y[i] = d.label[i] * 1e4
	}
	m, err := linear.Train(d.feats[:n*nf], models.FeatureNames[:], y)
	if err != nil {
		t.Fatal(err)
	}
	m.Horizon, m.Target = "10s", "log_return_bps"
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "linear.json")
	replaceFile(t, path, b)
	return path
}

func TestRegistryValidates(t *testing.T) {
	dir := t.TempDir()
	f := func(spec models.Spec, want string) {
		t.Helper()
		_, err := models.NewRegistry([]models.Spec{spec}, 60, nil)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%+v: error %v, want it to contain %q", spec, err, want)
		}
	}
	reg := copyFixture(t, dir, "xgboost/reg.json", "reg.json")
	f(models.Spec{Name: "x", Kind: "onnx", Path: reg}, `kind "onnx"`)
	f(models.Spec{Name: "x", Kind: models.KindXGBoost, Path: reg, Mode: "stateful"}, "lstm models only")
	f(models.Spec{Name: "x", Kind: models.KindLSTM, Path: reg, Mode: "sometimes"}, `mode "sometimes"`)
	f(models.Spec{Kind: models.KindXGBoost, Path: reg}, "without a name")
	f(models.Spec{Name: "x", Kind: models.KindXGBoost, Path: filepath.Join(dir, "nope.json")}, "no such file")
	f(models.Spec{Name: "x", Kind: models.KindXGBoost, Path: copyFixture(t, dir, "xgboost/softprob.json", "sp.json")}, "3 outputs per row")
	f(models.Spec{Name: "x", Kind: models.KindLSTM, Path: copyFixture(t, dir, "lstm/torch_30x5_32x2_out2.safetensors", "o2.st")}, "2 outputs")
	f(models.Spec{Name: "x", Kind: models.KindLSTM, Path: reg}, "safetensors")
	f(models.Spec{Name: "x", Kind: models.KindXGBoost, Path: copyFixture(t, dir, "lstm/torch_60x5_64.safetensors", "w.st")}, "not an xgboost model")
	if _, err := models.NewRegistry([]models.Spec{{Name: "x", Kind: models.KindLSTM, Path: copyFixture(t, dir, "lstm/keras_60x5_128.safetensors", "k.st")}}, 30, nil); err == nil ||
		!strings.Contains(err.Error(), "feature state keeps 30") {
		t.Errorf("a 60-step model was accepted with a 30-step feature window: %v", err)
	}
	if _, err := models.NewRegistry([]models.Spec{{Name: "a", Kind: models.KindXGBoost, Path: reg}, {Name: "a", Kind: models.KindXGBoost, Path: reg}}, 60, nil); err == nil {
		t.Error("two models of one name were accepted")
	}
}

func TestModelMetadata(t *testing.T) {
	dir := t.TempDir()
	r, err := models.NewRegistry([]models.Spec{
		{Name: "xgb", Kind: models.KindXGBoost, Path: copyFixture(t, dir, "xgboost/reg.ubj", "reg.ubj")},
		{Name: "lstm", Kind: models.KindLSTM, Path: copyFixture(t, dir, "lstm/keras_60x5_128.safetensors", "k.st")},
		{Name: "lin", Kind: models.KindLinear, Path: linearFixture(t, dir)},
	}, 60, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range r.Len() {
		m := r.Model(i)
		if m.Horizon != "10s" || m.Target == "" || len(m.Version) < 12 {
			t.Errorf("%s: horizon %q, target %q, version %q", m.Spec.Name, m.Horizon, m.Target, m.Version)
		}
	}
	if in := r.Model(1).Input; in == nil || in.Steps != 60 || in.Width() != 5 || r.Model(1).Spec.Mode != models.ModeWindowed {
		t.Errorf("lstm input %+v", in)
	}
}

// A bad file is refused with a log line and the old model keeps serving; a
// good one is swapped in; a touched but unchanged file changes nothing.
func TestWatcherReloads(t *testing.T) {
	dir := t.TempDir()
	path := copyFixture(t, dir, "xgboost/reg.json", "model.json")
	core, logs := observer.New(zap.InfoLevel)
	r, err := models.NewRegistry([]models.Spec{{Name: "xgb", Kind: models.KindXGBoost, Path: path}}, 60, zap.New(core))
	if err != nil {
		t.Fatal(err)
	}
	w := models.NewWatcher(r, time.Second)
	first := r.Model(0)
	if n := w.Poll(); n != 0 || r.Model(0) != first {
		t.Fatal("an unchanged file was reloaded")
	}

	good, _ := os.ReadFile(path)
	for _, bad := range [][]byte{good[:len(good)/2], []byte("{}"), nil} {
		replaceFile(t, path, bad)
		if n := w.Poll(); n != 0 || r.Model(0) != first {
			t.Fatal("a bad file replaced the model")
		}
	}
	refused := logs.FilterMessage("model file refused; the previous model keeps serving").All()
	if len(refused) != 3 {
		t.Fatalf("%d refusals logged, want 3", len(refused))
	}
	if e := refused[0].ContextMap()["error"]; !strings.Contains(e.(string), "model.json): json line 1") {
		t.Errorf("the refusal says %q, not why", e)
	}
	if w.Poll() != 0 || len(logs.FilterMessage("model file refused; the previous model keeps serving").All()) != 3 {
		t.Error("an unchanged bad file was logged again")
	}

	replaceFile(t, path, good) // the same model back: no swap
	if n := w.Poll(); n != 0 || r.Model(0) != first {
		t.Fatal("the same content was swapped in as a new model")
	}
	other, _ := os.ReadFile(filepath.Join(testdata, "xgboost/deep.ubj"))
	replaceFile(t, path, other)
	if n := w.Poll(); n != 1 || r.Model(0) == first || r.Model(0).Version == first.Version {
		t.Fatal("a new good file was not swapped in")
	}
	if len(logs.FilterMessage("model reloaded").All()) != 1 {
		t.Error("the reload was not logged")
	}
}

// Reloads while a partition predicts: every due tick gets one prediction
// from every model, each from a whole model of one version or the other.
func TestReloadDropsNoTick(t *testing.T) {
	dir := t.TempDir()
	xpath := copyFixture(t, dir, "xgboost/reg.json", "x.json")
	lpath := copyFixture(t, dir, "lstm/torch_60x5_64.safetensors", "l.st")
	r, err := models.NewRegistry([]models.Spec{
		{Name: "xgb", Kind: models.KindXGBoost, Path: xpath},
		{Name: "lstm", Kind: models.KindLSTM, Path: lpath, Mode: models.ModeStateful},
	}, 60, nil)
	if err != nil {
		t.Fatal(err)
	}
	files := [][2]string{{"xgboost/deep.ubj", "lstm/keras_60x5_128.safetensors"}, {"xgboost/reg.json", "lstm/torch_60x5_64.safetensors"}}
	stop := make(chan struct{})
	// polled says a reload finished; the market waits for one every 50
	// batches so reloads interleave with batches however fast inference is.
	polled := make(chan struct{}, 1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		w := models.NewWatcher(r, time.Second)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			for k, name := range []string{"x.json", "l.st"} {
				data, err := os.ReadFile(filepath.Join(testdata, files[i%2][k]))
				if err == nil {
					err = os.WriteFile(filepath.Join(dir, name+".tmp"), data, 0o644)
				}
				if err == nil {
					err = os.Rename(filepath.Join(dir, name+".tmp"), filepath.Join(dir, name))
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
			w.Poll()
			select {
			case polled <- struct{}{}:
			default:
			}
		}
	}()
	p := models.NewPredictor(r, models.PredictorOptions{})
	syms := map[int]*models.Symbol{}
	var rows []models.PredictionRow
	due, batches := 0, 0
	versions := map[string]bool{}
	_, err = models.Simulate(models.SimSpec{Symbols: 8, TicksPerSymbol: 400, Seed: 5, Start: time.Date(2024, 1, 2, 15, 0, 0, 0, time.UTC), Rate: 1, Steps: 60},
		func(s *models.SimTick) {
			sym := syms[s.Symbol]
			if sym == nil {
				sym = p.NewSymbol(string(rune('A' + s.Symbol)))
				syms[s.Symbol] = sym
			}
			p.Observe(sym, s.Tick, s.Result, 0)
			if s.Symbol == 7 { // a batch per round of the market
				pending := p.Pending()
				due += pending
				var err error
				if rows, err = p.Flush(rows[:0]); err != nil {
					t.Fatal(err)
				}
				batches++
				if batches%50 == 0 {
					select {
					case <-polled:
					case <-time.After(10 * time.Second):
						t.Fatal("no model reload finished in 10 s")
					}
				}
				var x, l int
				for _, row := range rows {
					versions[row.Model+row.ModelVersion] = true
					if row.Model == "xgb" {
						x++
					} else {
						l++
					}
				}
				if x != pending || l != pending {
					t.Fatalf("batch %d: %d due ticks, %d xgb and %d lstm rows", batches, pending, x, l)
				}
			}
		})
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if due != 8*(400-models.Warmup+1) {
		t.Fatalf("%d predictions due, want one per warm tick (%d)", due, 8*(400-models.Warmup+1))
	}
	if len(versions) < 3 {
		t.Errorf("only %d model versions served: the reloads did not interleave", len(versions))
	}
	t.Logf("%d batches, %d due ticks, %d model versions served", batches, due, len(versions))
}
