package engine_test

import (
	"cmp"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/tickstream/tickstream/internal/testkit"
	"github.com/tickstream/tickstream/models"
	"github.com/tickstream/tickstream/sinks/lake"
)

// threeModels serves xgboost, an LSTM windowed and the same LSTM stateful,
// from copies of the fixtures in dir.
func threeModels(t *testing.T, dir string, window int) []models.Spec {
	t.Helper()
	return []models.Spec{
		{Name: "xgb", Kind: models.KindXGBoost, Path: copyModel(t, dir, "xgboost/reg.json", "xgb.json")},
		{Name: "win", Kind: models.KindLSTM, Path: copyModel(t, dir, "lstm/keras_20x5_16x8_hard.safetensors", "win.safetensors")},
		{Name: "sf", Kind: models.KindLSTM, Path: copyModel(t, dir, "lstm/keras_20x5_16x8_hard.safetensors", "sf.safetensors"), Mode: models.ModeStateful},
	}
}

func newRegistry(t *testing.T, specs []models.Spec, window int, log *zap.Logger) *models.Registry {
	t.Helper()
	reg, err := models.NewRegistry(specs, window, log)
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

// checkPredictions compares the lake's predictions with the expected ones:
// exactly one row per due tick per model, each value the model's own to
// the bit, from the version expected, at the Kafka position of the tick's
// processed row.
func checkPredictions(t *testing.T, dir string, want map[predKey]want) []models.PredictionRow {
	t.Helper()
	type pos struct {
		partition int32
		offset    int64
	}
	at := map[[2]any]pos{}
	for _, p := range testkit.ReadTable[lake.ProcessedRow](t, dir, lake.TableProcessed) {
		at[[2]any{p.Symbol, p.TS}] = pos{p.KafkaPartition, p.KafkaOffset}
	}
	rows := testkit.ReadTable[models.PredictionRow](t, dir, lake.TablePredictions)
	seen := map[predKey]bool{}
	for _, r := range rows {
		k := predKey{r.Symbol, r.TS, r.Model}
		w, ok := want[k]
		switch {
		case !ok:
			t.Fatalf("prediction %+v at a tick where none was due", r)
		case seen[k]:
			t.Fatalf("prediction %+v twice", r)
		case math.Float64bits(r.Value) != math.Float64bits(float64(w.value)):
			t.Fatalf("%s %s@%d: served %v, the model run directly gives %v", r.Model, r.Symbol, r.TS, r.Value, w.value)
		case r.ModelVersion != w.version || r.Horizon != "10s":
			t.Fatalf("%s %s@%d: version %q horizon %q, want %q 10s", r.Model, r.Symbol, r.TS, r.ModelVersion, r.Horizon, w.version)
		case at[[2]any{r.Symbol, r.TS}] != pos{r.KafkaPartition, r.KafkaOffset}:
			t.Fatalf("%+v: not at the Kafka position of its tick %+v", r, at[[2]any{r.Symbol, r.TS}])
		}
		seen[k] = true
	}
	if len(rows) != len(want) {
		t.Fatalf("%d predictions in the lake, want %d (one per due tick per model)", len(rows), len(want))
	}
	return rows
}

// TestPredictionsEndToEnd: with three models served at every tick, the
// predictions table holds exactly one row per warm tick per model, each
// equal to the model run directly on features recomputed from the
// simulator's sequence, and the predictions topic holds the same rows.
func TestPredictionsEndToEnd(t *testing.T) {
	cfg := predictConfig()
	const n = 5 * 300
	specs := threeModels(t, t.TempDir(), cfg.Models.Window)
	reg := newRegistry(t, specs, cfg.Models.Window, nil)
	m := newMarket(t, cfg)
	m.produce(n)
	dir := t.TempDir()
	store, err := lake.NewLocalStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	run := m.start("e2e", store, reg)
	run.waitFor(n)
	run.close()

	ms := []*direct{loadDirect(t, specs[0]), loadDirect(t, specs[1]), loadDirect(t, specs[2])}
	versions := []string{reg.Model(0).Version, reg.Model(1).Version, reg.Model(2).Version}
	want := expect(t, cfg, n, func(int64) ([]*direct, []string) { return ms, versions })
	if len(want) != 3*5*(300-models.Warmup+1) {
		t.Fatalf("the replay expects %d predictions; the test's market is not what it assumes", len(want))
	}
	rows := checkPredictions(t, dir, want)
	if got := run.eng.Stats.Predictions.Load(); got != int64(len(rows)) || run.eng.Stats.PredictionErrors.Load() != 0 {
		t.Errorf("Stats: %d predictions, %d errors; the lake has %d rows", got, run.eng.Stats.PredictionErrors.Load(), len(rows))
	}

	topic, lakeRows := sortRows(readPredictionsTopic(t, cfg), true), sortRows(rows, true)
	if len(topic) != len(lakeRows) {
		t.Fatalf("predictions topic holds %d messages, the lake %d rows", len(topic), len(lakeRows))
	}
	for i := range topic {
		if topic[i] != lakeRows[i] {
			t.Fatalf("topic message %+v, lake row %+v", topic[i], lakeRows[i])
		}
	}
}

// TestPredictionsHotReload swaps a model file under a running engine: a bad
// file is refused with a log line naming it and the old version keeps
// serving; a good new file serves every tick after the swap. No tick loses
// its prediction either way.
func TestPredictionsHotReload(t *testing.T) {
	cfg := predictConfig()
	cfg.Models.Cadence = 3 * time.Second
	const phase = 5 * 150 // ticks between swaps
	dir := t.TempDir()
	specs := threeModels(t, dir, cfg.Models.Window)[:2] // xgb, win
	core, logs := observer.New(zap.InfoLevel)
	reg := newRegistry(t, specs, cfg.Models.Window, zap.New(core))
	watcher := models.NewWatcher(reg, time.Hour) // polled by hand, between phases
	v1 := []string{reg.Model(0).Version, reg.Model(1).Version}
	old := []*direct{loadDirect(t, specs[0]), loadDirect(t, specs[1])}

	m := newMarket(t, cfg)
	lakeDir := t.TempDir()
	store, err := lake.NewLocalStore(lakeDir)
	if err != nil {
		t.Fatal(err)
	}
	run := m.start("reload", store, reg)
	m.produce(phase)
	run.waitFor(phase)

	good, err := os.ReadFile(specs[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	writeModel(t, specs[0].Path, good[:len(good)/2])
	if n := watcher.Poll(); n != 0 || reg.Model(0).Version != v1[0] {
		t.Fatalf("a truncated file was swapped in (%d swaps)", n)
	}
	refused := logs.FilterMessage("model file refused; the previous model keeps serving").All()
	if len(refused) != 1 || !strings.Contains(refused[0].ContextMap()["error"].(string), specs[0].Path) {
		t.Fatalf("the refusal was not logged with the file: %v", refused)
	}
	m.produce(phase)
	run.waitFor(2 * phase)

	newer := copyModel(t, t.TempDir(), "xgboost/deep.ubj", "deep.ubj")
	b, err := os.ReadFile(newer)
	if err != nil {
		t.Fatal(err)
	}
	writeModel(t, specs[0].Path, b)
	if n := watcher.Poll(); n != 1 || reg.Model(0).Version == v1[0] {
		t.Fatalf("a good new file was not swapped in (%d swaps)", n)
	}
	v2 := []string{reg.Model(0).Version, v1[1]}
	m.produce(phase)
	run.waitFor(3 * phase)
	run.close()

	deep := []*direct{loadDirect(t, models.Spec{Name: "xgb", Kind: models.KindXGBoost, Path: newer}), old[1]}
	want := expect(t, cfg, 3*phase, func(i int64) ([]*direct, []string) {
		if i < 2*phase {
			return old, v1
		}
		return deep, v2
	})
	rows := checkPredictions(t, lakeDir, want)
	served := map[string]int{}
	for _, r := range rows {
		served[r.Model+" "+r.ModelVersion]++
	}
	if len(served) != 3 {
		t.Errorf("versions served %v, want xgb before and after the swap and the LSTM", served)
	}
	t.Logf("%d predictions: %v", len(rows), served)
}

// TestPredictionsAfterRestore: an engine stopped mid-stream and a new one
// resuming from the lake's checkpoint write the same processed rows and
// the same predictions, to the bit, as one that ran through: the
// checkpoint carries every symbol's features, cadence and stateful LSTM
// state.
func TestPredictionsAfterRestore(t *testing.T) {
	cfg := predictConfig()
	cfg.Models.Cadence = 5 * time.Second
	// At the cut each symbol is warm, carries LSTM state, and is two ticks
	// into a cadence bucket it has already been predicted in.
	const half = 5 * 182
	specs := threeModels(t, t.TempDir(), cfg.Models.Window)
	m := newMarket(t, cfg)

	// Two engines, one after the other, over one lake.
	m.produce(half)
	cut := t.TempDir()
	store, err := lake.NewLocalStore(cut)
	if err != nil {
		t.Fatal(err)
	}
	first := m.start("restored", store, newRegistry(t, specs, cfg.Models.Window, nil))
	first.waitFor(half)
	first.close()
	m.produce(half)
	second := m.start("restored", store, newRegistry(t, specs, cfg.Models.Window, nil))
	second.waitFor(half)
	second.close()
	if second.eng.Stats.Records.Load() != half {
		t.Fatalf("the second engine read %d records, want the %d after the checkpoint", second.eng.Stats.Records.Load(), half)
	}

	// One engine through the whole stream.
	whole := t.TempDir()
	wstore, err := lake.NewLocalStore(whole)
	if err != nil {
		t.Fatal(err)
	}
	ref := m.start("uninterrupted", wstore, newRegistry(t, specs, cfg.Models.Window, nil))
	ref.waitFor(2 * half)
	ref.close()

	gotP, wantP := sortProcessed(testkit.ReadTable[lake.ProcessedRow](t, cut, lake.TableProcessed)),
		sortProcessed(testkit.ReadTable[lake.ProcessedRow](t, whole, lake.TableProcessed))
	if len(gotP) != 2*half || len(wantP) != 2*half {
		t.Fatalf("processed rows: %d after a restore, %d uninterrupted, want %d", len(gotP), len(wantP), 2*half)
	}
	for i := range wantP {
		if gotP[i] != wantP[i] {
			t.Fatalf("processed row after a restore %+v\nuninterrupted %+v", gotP[i], wantP[i])
		}
	}
	got := sortRows(testkit.ReadTable[models.PredictionRow](t, cut, lake.TablePredictions), false)
	wantR := sortRows(testkit.ReadTable[models.PredictionRow](t, whole, lake.TablePredictions), false)
	if len(got) != len(wantR) || len(wantR) == 0 {
		t.Fatalf("%d predictions after a restore, %d uninterrupted", len(got), len(wantR))
	}
	for i := range wantR {
		if got[i] != wantR[i] || math.Float64bits(got[i].Value) != math.Float64bits(wantR[i].Value) {
			t.Fatalf("prediction after a restore %+v\nuninterrupted %+v", got[i], wantR[i])
		}
	}
}

func sortProcessed(rows []lake.ProcessedRow) []lake.ProcessedRow {
	slices.SortFunc(rows, func(a, b lake.ProcessedRow) int {
		if a.KafkaPartition != b.KafkaPartition {
			return int(a.KafkaPartition - b.KafkaPartition)
		}
		return cmp.Compare(a.KafkaOffset, b.KafkaOffset)
	})
	return rows
}
