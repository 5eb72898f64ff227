package engine

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tickstream/tickstream/config"
	"github.com/tickstream/tickstream/models"
	"github.com/tickstream/tickstream/operators"
	"github.com/tickstream/tickstream/sinks/lake"
	"github.com/tickstream/tickstream/tick"
)

// fixtures are the models checkpoint tests predict with: xgboost, and one
// LSTM served windowed and stateful (whose carried h and c must survive a
// checkpoint).
const fixtures = "../models/testdata/"

// rig runs ticks of AAPL and MSFT through the operators and, when pred is
// set, the predictor, as a task does.
type rig struct {
	pipe *operators.Pipeline
	pred *models.Predictor
}

// newRig returns a rig; window > 0 turns predictions on with a feature
// window that long.
func newRig(t *testing.T, window int) *rig {
	t.Helper()
	cfg := config.Default()
	cfg.Symbols, cfg.SyntheticSymbols = []string{"AAPL", "MSFT"}, 0
	p, err := operators.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	g := &rig{pipe: p}
	if window > 0 {
		reg, err := models.NewRegistry([]models.Spec{
			{Name: "xgb", Kind: models.KindXGBoost, Path: fixtures + "xgboost/reg.json"},
			{Name: "win", Kind: models.KindLSTM, Path: fixtures + "lstm/keras_20x5_16x8_hard.safetensors"},
			{Name: "sf", Kind: models.KindLSTM, Path: fixtures + "lstm/keras_20x5_16x8_hard.safetensors", Mode: models.ModeStateful},
		}, window, nil)
		if err != nil {
			t.Fatal(err)
		}
		g.pred = models.NewPredictor(reg, models.PredictorOptions{Every: 3 * time.Second})
	}
	return g
}

func (g *rig) fresh(sym string) *symState {
	st := &symState{op: g.pipe.NewState(sym)}
	if g.pred != nil {
		st.pred = g.pred.NewSymbol(sym)
	}
	return st
}

// feed runs n ticks per symbol through states, starting at ts0, and
// returns the operators' results and the predictions.
func (g *rig) feed(t *testing.T, states map[string]*symState, ts0 int64, n int) ([]operators.Result, []models.PredictionRow) {
	t.Helper()
	var out []operators.Result
	var rows []models.PredictionRow
	for i := range n {
		for _, sym := range []string{"AAPL", "MSFT"} {
			st := states[sym]
			if st == nil {
				st = g.fresh(sym)
				states[sym] = st
			}
			tk := tick.Tick{Symbol: sym, TS: ts0 + int64(i)*1000, Price: 100 + float64(i%17)*0.37, Volume: float64(1000 + i%13*50)}
			var r operators.Result
			g.pipe.Process(st.op, &tk, tk.TS, &r)
			if st.pred != nil {
				g.pred.Observe(st.pred, &tk, &r, ts0+int64(i))
			}
			r.Alerts = nil
			out = append(out, r)
		}
		if g.pred != nil && i%7 == 6 { // batches of 14 ticks
			var err error
			if rows, err = g.pred.Flush(rows); err != nil {
				t.Fatal(err)
			}
		}
	}
	if g.pred != nil {
		var err error
		if rows, err = g.pred.Flush(rows); err != nil {
			t.Fatal(err)
		}
	}
	return out, rows
}

func encodeStates(t *testing.T, states map[string]*symState) map[string]encodedState {
	t.Helper()
	enc := map[string]encodedState{}
	for s, st := range states {
		e, err := st.encode()
		if err != nil {
			t.Fatal(err)
		}
		enc[s] = e
	}
	return enc
}

func sameResults(t *testing.T, got, want []operators.Result) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d results after restore, %d uninterrupted", len(got), len(want))
	}
	for i := range want {
		w, g := want[i], got[i]
		if w.MA != g.MA || w.MAVolume != g.MAVolume || w.Count != g.Count || w.Reject != g.Reject || w.VolumeSpike != g.VolumeSpike || w.PriceDrop != g.PriceDrop {
			t.Fatalf("tick %d after restore: %+v, uninterrupted %+v", i, g, w)
		}
	}
}

// TestCheckpointResumesBitIdentical: state saved mid-stream and restored
// gives exactly the results of the uninterrupted stream: the operators',
// and the predictions of every model, windowed and stateful, at the same
// ticks (the cadence state comes back too) with the same bits.
func TestCheckpointResumesBitIdentical(t *testing.T) {
	for _, window := range []int{0, 60} {
		g := newRig(t, window)
		whole := map[string]*symState{}
		g.feed(t, whole, 0, 500)
		want, wantRows := g.feed(t, whole, 500_000, 400)

		first := map[string]*symState{}
		g.feed(t, first, 0, 500)
		b, err := encodeCheckpoint(checkpoint{Topic: "ticks", Partition: 3, Start: 10, Next: 1010, Keys: []string{"k"}}, encodeStates(t, first))
		if err != nil {
			t.Fatal(err)
		}
		again := newRig(t, window) // a new process: registry and predictor loaded afresh
		h, r, err := decodeCheckpoint(b, again.fresh)
		if err != nil || len(r.refused)+len(r.refusedModels)+r.noModelState != 0 {
			t.Fatalf("decode: %v, restored %+v", err, r)
		}
		if h.Version != 2 || h.Next != 1010 || h.Start != 10 || h.Partition != 3 || h.Symbols != 2 || !slices.Equal(h.Keys, []string{"k"}) {
			t.Fatalf("header = %+v", h)
		}
		got, gotRows := again.feed(t, r.states, 500_000, 400)
		sameResults(t, got, want)
		if window > 0 && len(wantRows) < 3*2*100 {
			t.Fatalf("only %d predictions after the cut: the test does not exercise them", len(wantRows))
		}
		if len(gotRows) != len(wantRows) {
			t.Fatalf("window %d: %d predictions after restore, %d uninterrupted", window, len(gotRows), len(wantRows))
		}
		for i := range wantRows {
			if gotRows[i] != wantRows[i] || math.Float64bits(gotRows[i].Value) != math.Float64bits(wantRows[i].Value) {
				t.Fatalf("prediction %d after restore: %+v\nuninterrupted %+v", i, gotRows[i], wantRows[i])
			}
		}
	}
}

// encodeV1 writes a version 1 checkpoint: operator states only.
func encodeV1(t *testing.T, h checkpoint, states map[string]*symState) []byte {
	t.Helper()
	h.Version, h.Symbols = 1, len(states)
	var raw []byte
	for _, sym := range slices.Sorted(maps.Keys(states)) {
		op, err := states[sym].op.AppendBinary(nil)
		if err != nil {
			t.Fatal(err)
		}
		raw = appendChunk(appendChunk(raw, []byte(sym)), op)
	}
	hdr, _ := json.Marshal(h)
	out := append(binary.BigEndian.AppendUint32(nil, uint32(len(hdr))), hdr...)
	return zenc.EncodeAll(raw, out)
}

// A version 1 checkpoint (before predictions) still restores the
// operators; the predictions warm up again. A version it does not know is
// refused, saying so.
func TestCheckpointVersions(t *testing.T) {
	old := newRig(t, 0)
	states := map[string]*symState{}
	old.feed(t, states, 0, 500)
	want, _ := old.feed(t, states, 500_000, 100)

	states = map[string]*symState{}
	old.feed(t, states, 0, 500)
	b := encodeV1(t, checkpoint{Next: 1000}, states)
	g := newRig(t, 60)
	h, r, err := decodeCheckpoint(b, g.fresh)
	if err != nil || h.Version != 1 || len(r.states) != 2 || r.noModelState != 2 {
		t.Fatalf("version 1: %v, header %+v, restored %+v", err, h, r)
	}
	got, rows := g.feed(t, r.states, 500_000, 100)
	sameResults(t, got, want)
	for _, row := range rows {
		if row.KafkaOffset < 500_000+models.Warmup-1 {
			t.Fatalf("a prediction at tick %d after a restore without model state: features cannot be warm", row.KafkaOffset-500_000)
		}
	}
	if len(rows) == 0 {
		t.Fatal("no predictions after the warm-up")
	}

	hdr := []byte(`{"version":3}`)
	future := append(binary.BigEndian.AppendUint32(nil, uint32(len(hdr))), hdr...)
	if _, _, err := decodeCheckpoint(future, g.fresh); err == nil || !strings.Contains(err.Error(), "version 3 not supported") {
		t.Errorf("version 3: %v", err)
	}
}

// Model state taken with another models.window is refused symbol by
// symbol; the operator state still comes back.
func TestCheckpointRefusesModelStateOfOtherWindow(t *testing.T) {
	g := newRig(t, 60)
	states := map[string]*symState{}
	g.feed(t, states, 0, 200)
	b, err := encodeCheckpoint(checkpoint{Next: 400}, encodeStates(t, states))
	if err != nil {
		t.Fatal(err)
	}
	_, r, err := decodeCheckpoint(b, newRig(t, 30).fresh)
	if err != nil || len(r.states) != 2 || !slices.Equal(slices.Sorted(slices.Values(r.refusedModels)), []string{"AAPL", "MSFT"}) {
		t.Fatalf("decode: %v, restored %+v", err, r)
	}
	for sym, st := range r.states {
		enc, _ := st.encode()
		orig, _ := states[sym].encode()
		if !bytes.Equal(enc.op, orig.op) {
			t.Errorf("%s: operator state not restored", sym)
		}
		if st.pred.F.Count() != 0 {
			t.Errorf("%s: refused model state was half applied: %d ticks", sym, st.pred.F.Count())
		}
	}
}

func TestCheckpointCorrupt(t *testing.T) {
	g := newRig(t, 60)
	states := map[string]*symState{}
	g.feed(t, states, 0, 10)
	b, err := encodeCheckpoint(checkpoint{Next: 20}, encodeStates(t, states))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 3, 10, len(b) / 2, len(b) - 1} {
		if _, _, err := decodeCheckpoint(b[:n], g.fresh); err == nil {
			t.Errorf("checkpoint truncated to %d of %d bytes decoded without error", n, len(b))
		}
	}
}

// memStore is a BlobStore in memory, for recovery tests.
type memStore map[string][]byte

func (m memStore) Put(_ context.Context, key string, body io.ReadSeeker, _ int64) error {
	b, err := io.ReadAll(body)
	m[key] = b
	return err
}

func (m memStore) Get(_ context.Context, key string) (io.ReadCloser, error) {
	b, ok := m[key]
	if !ok {
		return nil, lake.ErrNotFound
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

func (m memStore) List(_ context.Context, prefix string) ([]string, error) {
	var keys []string
	for k := range m {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys, nil
}

func (m memStore) Delete(_ context.Context, key string) error {
	delete(m, key)
	return nil
}

// TestRecoverPartition covers each instant a crash can hit a batch's commit.
func TestRecoverPartition(t *testing.T) {
	g := newRig(t, 60)
	states := map[string]*symState{}
	g.feed(t, states, 0, 10)
	ckpt := func(start, next int64) []byte {
		b, err := encodeCheckpoint(checkpoint{Topic: "ticks", Partition: 0, Start: start, Next: next}, encodeStates(t, states))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	marker := func(start, next int64, keys ...string) []byte {
		b, _ := json.Marshal(pending{Start: start, Next: next, Keys: keys})
		return b
	}
	ck := func(start int64, ext string) string { return checkpointKey("ticks", 0, start, ext) }

	f := func(name string, store memStore, wantFound bool, wantNext int64, wantKeys ...string) {
		t.Helper()
		rec, err := recoverPartition(context.Background(), store, "ticks", 0, g.fresh)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if rec.found != wantFound || (wantFound && rec.next != wantNext) {
			t.Errorf("%s: found %v next %d, want %v %d", name, rec.found, rec.next, wantFound, wantNext)
		}
		if wantFound && len(rec.states) != 2 {
			t.Errorf("%s: %d states restored, want 2", name, len(rec.states))
		}
		got, _ := store.List(context.Background(), "")
		if !slices.Equal(got, wantKeys) {
			t.Errorf("%s: lake holds %v\nwant %v", name, got, wantKeys)
		}
	}

	f("empty lake", memStore{}, false, 0)
	f("crash after the marker, before any file", memStore{
		ck(0, "pending"): marker(0, 100, "raw/a.parquet"),
	}, false, 0)
	f("crash after some files of the first batch", memStore{
		ck(0, "pending"): marker(0, 100, "raw/a.parquet", "processed/a.parquet"),
		"raw/a.parquet":  []byte("x"),
	}, false, 0)
	f("crash before the checkpoint of a later batch", memStore{
		ck(0, "ckpt"):         ckpt(0, 100),
		"raw/a.parquet":       []byte("x"),
		ck(100, "pending"):    marker(100, 250, "raw/b.parquet", "processed/b.parquet"),
		"raw/b.parquet":       []byte("x"),
		"processed/b.parquet": []byte("x"),
	}, true, 100, ck(0, "ckpt"), "raw/a.parquet")
	f("crash after the checkpoint, before cleanup", memStore{
		ck(0, "ckpt"):      ckpt(0, 100),
		ck(100, "pending"): marker(100, 250, "raw/b.parquet"),
		"raw/b.parquet":    []byte("x"),
		ck(100, "ckpt"):    ckpt(100, 250),
		"raw/a.parquet":    []byte("x"),
	}, true, 250, ck(100, "ckpt"), "raw/a.parquet", "raw/b.parquet")

	bad := memStore{ck(0, "ckpt"): []byte("garbage")}
	if _, err := recoverPartition(context.Background(), bad, "ticks", 0, g.fresh); err == nil || !strings.Contains(err.Error(), ck(0, "ckpt")) {
		t.Errorf("corrupt checkpoint: error %v should name it", err)
	}

}
