package engine_test

import (
	"cmp"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tickstream/tickstream/config"
	"github.com/tickstream/tickstream/engine"
	"github.com/tickstream/tickstream/feeds/sim"
	"github.com/tickstream/tickstream/internal/testkit"
	"github.com/tickstream/tickstream/models"
	"github.com/tickstream/tickstream/models/lstm"
	"github.com/tickstream/tickstream/models/xgboost"
	"github.com/tickstream/tickstream/operators"
	"github.com/tickstream/tickstream/sinks/lake"
	"github.com/tickstream/tickstream/tick"
)

// What the prediction tests share: a small market on the in-process broker,
// engines run over it, and the expected predictions worked out without the
// engine or the Predictor: the simulator's own sequence through the
// operators and models.Features, each model then run directly.

const fixtures = "../models/testdata/"

var predictStart = time.Date(2026, 11, 24, 14, 0, 0, 0, time.UTC)

// predictConfig: five symbols, so each gets well past the 61-tick warm-up
// in a short run, on two partitions.
func predictConfig() *config.Config {
	cfg := config.Default()
	cfg.Symbols, cfg.SyntheticSymbols = []string{"AAPL", "MSFT", "NVDA", "KO", "XOM"}, 0
	cfg.Kafka.Partitions = 2
	cfg.Lake.FlushInterval = time.Second
	return cfg
}

// copyModel copies a fixture into dir, where a test may replace it.
func copyModel(t *testing.T, dir, fixture, name string) string {
	t.Helper()
	b, err := os.ReadFile(fixtures + fixture)
	if err != nil {
		t.Fatal(err)
	}
	return writeModel(t, filepath.Join(dir, name), b)
}

// writeModel replaces path atomically, as models.Watcher asks, with a
// later modification time so a poll sees the change at any mtime
// granularity.
func writeModel(t *testing.T, path string, b []byte) string {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
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
	return path
}

// market is the in-process broker with the simulator feeding its ticks.
type market struct {
	t    *testing.T
	cfg  *config.Config
	prod *kgo.Client
	sim  *sim.Sim
}

func newMarket(t *testing.T, cfg *config.Config) *market {
	t.Helper()
	emb, err := engine.StartEmbedded(&cfg.Kafka, cfg.Models.Topic)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emb.Close)
	prod, err := engine.NewProducer(&cfg.Kafka)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(prod.Close)
	s, err := sim.New(cfg.AllSymbols(), cfg.Simulator, predictStart)
	if err != nil {
		t.Fatal(err)
	}
	return &market{t: t, cfg: cfg, prod: prod, sim: s}
}

// produce sends the simulator's next n ticks.
func (m *market) produce(n int64) {
	m.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := (&sim.Producer{Client: m.prod, Topic: m.cfg.Kafka.Topic}).Run(ctx, m.sim, 0, n); err != nil {
		m.t.Fatal(err)
	}
}

// running is an engine consuming the market as a member of group.
type running struct {
	t    *testing.T
	eng  *engine.Engine
	stop context.CancelFunc
	done chan error
}

func (m *market) start(group string, store lake.BlobStore, reg *models.Registry) *running {
	m.t.Helper()
	cfg := *m.cfg
	cfg.Kafka.Group = group
	eng, err := engine.New(&cfg, engine.Deps{Store: store, Producer: m.prod, SpoolDir: m.t.TempDir(), Models: reg})
	if err != nil {
		m.t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	r := &running{t: m.t, eng: eng, stop: stop, done: make(chan error, 1)}
	go func() { r.done <- eng.Run(ctx) }()
	m.t.Cleanup(func() {
		stop()
		<-r.done
	})
	return r
}

// waitFor returns once the engine has processed n records. A batch is
// counted after its predictions are made and handed to the lake writer.
func (r *running) waitFor(n int64) {
	r.t.Helper()
	deadline := time.After(time.Minute)
	for r.eng.Stats.Records.Load() < n {
		select {
		case err := <-r.done:
			r.done <- err
			r.t.Fatalf("engine stopped early: %v", err)
		case <-deadline:
			r.t.Fatalf("timed out: %d of %d records processed", r.eng.Stats.Records.Load(), n)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// close stops the engine, which seals, checkpoints and commits.
func (r *running) close() {
	r.t.Helper()
	r.stop()
	err := <-r.done
	r.done <- err // for the cleanup
	if err != nil {
		r.t.Fatal(err)
	}
}

// direct runs one model without the Predictor: xgboost on the newest
// feature vector; an LSTM on the normalised window (windowed) or stepped
// from a zero state through every accepted tick of the symbol (stateful).
type direct struct {
	name     string
	xgb      *xgboost.Model
	seq      *lstm.Model
	in       *models.InputSpec
	stateful bool
	ws       *lstm.Workspace
	states   map[string][]*lstm.State
	last     map[string]float32
	x, win   []float32
	out      [1]float32
}

func loadDirect(t *testing.T, spec models.Spec) *direct {
	t.Helper()
	d := &direct{name: spec.Name}
	var err error
	if spec.Kind == models.KindXGBoost {
		if d.xgb, err = xgboost.Load(spec.Path); err != nil {
			t.Fatal(err)
		}
		return d
	}
	if d.seq, err = lstm.Load(spec.Path); err != nil {
		t.Fatal(err)
	}
	in := d.seq.Input()
	if d.in, err = models.NewInputSpec(in.Features, in.Mean, in.Std, in.Steps); err != nil {
		t.Fatal(err)
	}
	d.stateful = spec.Mode == models.ModeStateful
	d.ws = d.seq.NewWorkspace(1)
	d.states, d.last = map[string][]*lstm.State{}, map[string]float32{}
	d.x, d.win = make([]float32, d.in.Width()), make([]float32, d.in.Steps*d.in.Width())
	return d
}

// step takes every accepted tick of sym, f updated with it.
func (d *direct) step(t *testing.T, sym string, f *models.Features) {
	if !d.stateful {
		return
	}
	st := d.states[sym]
	if st == nil {
		st = []*lstm.State{d.seq.NewState()}
		d.states[sym] = st
	}
	d.in.Normalise(f.Vector(), d.x)
	if err := d.seq.Step(d.ws, st, d.x, d.out[:]); err != nil {
		t.Fatal(err)
	}
	d.last[sym] = d.out[0]
}

// value is the model's prediction at sym's newest tick.
func (d *direct) value(t *testing.T, sym string, f *models.Features) float32 {
	var err error
	switch {
	case d.xgb != nil:
		err = d.xgb.Predict(f.Vector(), d.out[:])
	case d.stateful:
		return d.last[sym]
	default:
		if !d.in.Window(f, d.win) {
			t.Fatalf("%s: window not full at a due tick", d.name)
		}
		err = d.seq.Predict(d.ws, d.win, d.in.Steps, d.out[:])
	}
	if err != nil {
		t.Fatal(err)
	}
	return d.out[0]
}

// dueTick is a tick a prediction is due at, by the cadence rule written
// out here: warm (models.Warmup ticks), and with a cadence the symbol's
// first such tick in each cadence-long bucket of event time.
type dueTick struct {
	index int64 // in the simulator's stream
	sym   string
	ts    int64
}

// replay runs the simulator's first n ticks through the operators and a
// models.Features per symbol, calling each for every accepted tick (after
// the features took it) and reporting whether it is due.
func replay(t *testing.T, cfg *config.Config, n int64, each func(d dueTick, f *models.Features, due bool)) {
	t.Helper()
	pipe, err := operators.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s, err := sim.New(cfg.AllSymbols(), cfg.Simulator, predictStart)
	if err != nil {
		t.Fatal(err)
	}
	ops := map[string]*operators.State{}
	feats := map[string]*models.Features{}
	bucket := map[string]int64{}
	every := cfg.Models.Cadence.Milliseconds()
	var tk tick.Tick
	var res operators.Result
	for i := range n {
		s.Next(&tk)
		st := ops[tk.Symbol]
		if st == nil {
			st = pipe.NewState(tk.Symbol)
			ops[tk.Symbol] = st
			feats[tk.Symbol] = models.NewFeatures(cfg.Models.Window)
			bucket[tk.Symbol] = -1
		}
		// The producer stamps each record with the tick's event time.
		pipe.Process(st, &tk, tk.TS, &res)
		if res.Reject != tick.OK {
			continue
		}
		f := feats[tk.Symbol]
		f.Update(&tk, &res)
		due := f.Count() >= models.Warmup
		if due && every > 0 {
			b := tk.TS / every // event times here are after 1970
			due = b != bucket[tk.Symbol]
			if due {
				bucket[tk.Symbol] = b
			}
		}
		each(dueTick{index: i, sym: tk.Symbol, ts: tk.TS}, f, due)
	}
}

// predKey names one prediction.
type predKey struct {
	sym   string
	ts    int64
	model string
}

// want is an expected prediction.
type want struct {
	value   float32
	version string
}

// expect replays n ticks and runs models on every due tick; modelAt picks
// the model (and its version) serving a tick of the stream.
func expect(t *testing.T, cfg *config.Config, n int64, modelAt func(index int64) ([]*direct, []string)) map[predKey]want {
	t.Helper()
	out := map[predKey]want{}
	replay(t, cfg, n, func(d dueTick, f *models.Features, due bool) {
		ms, versions := modelAt(d.index)
		for _, m := range ms {
			m.step(t, d.sym, f)
		}
		if !due {
			return
		}
		for k, m := range ms {
			out[predKey{d.sym, d.ts, m.name}] = want{value: m.value(t, d.sym, f), version: versions[k]}
		}
	})
	return out
}

// jsonPrediction is a message of the predictions topic.
type jsonPrediction struct {
	Symbol       string   `json:"symbol"`
	TS           string   `json:"ts"`
	Model        string   `json:"model"`
	ModelVersion string   `json:"model_version"`
	Horizon      string   `json:"horizon"`
	Value        *float64 `json:"value"`
}

// readPredictionsTopic reads the whole topic as rows, checking each key.
func readPredictionsTopic(t *testing.T, cfg *config.Config) []models.PredictionRow {
	t.Helper()
	opts, err := engine.ClientOpts(&cfg.Kafka)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var rows []models.PredictionRow
	testkit.ReadTopic(t, ctx, opts, cfg.Models.Topic, func(r *kgo.Record) {
		var m jsonPrediction
		if err := json.Unmarshal(r.Value, &m); err != nil {
			t.Fatalf("predictions topic: %v: %s", err, r.Value)
		}
		ts, err := time.Parse(time.RFC3339Nano, m.TS)
		if err != nil || m.Value == nil || string(r.Key) != m.Symbol {
			t.Fatalf("predictions topic: bad message %s (key %q): %v", r.Value, r.Key, err)
		}
		rows = append(rows, models.PredictionRow{Symbol: m.Symbol, TS: ts.UnixMilli(), Model: m.Model,
			ModelVersion: m.ModelVersion, Horizon: m.Horizon, Value: *m.Value})
	})
	return rows
}

// sortRows orders rows by symbol, time and model; offsets are zeroed so
// rows compare with the topic's, which carry none.
func sortRows(rows []models.PredictionRow, dropOffsets bool) []models.PredictionRow {
	rows = slices.Clone(rows)
	for i := range rows {
		if dropOffsets {
			rows[i].KafkaPartition, rows[i].KafkaOffset = 0, 0
		}
	}
	slices.SortFunc(rows, func(a, b models.PredictionRow) int {
		return cmp.Or(cmp.Compare(a.Symbol, b.Symbol), cmp.Compare(a.TS, b.TS), cmp.Compare(a.Model, b.Model))
	})
	return rows
}
