package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/tickstream/tickstream/config"
	"github.com/tickstream/tickstream/operators"
	"github.com/tickstream/tickstream/sinks/lake"
	"github.com/tickstream/tickstream/tick"
)

func testPipeline(t *testing.T) *operators.Pipeline {
	t.Helper()
	cfg := config.Default()
	cfg.Symbols, cfg.SyntheticSymbols = []string{"AAPL", "MSFT"}, 0
	p, err := operators.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// feed runs n ticks per symbol through states, starting at ts0.
func feed(p *operators.Pipeline, states map[string]*operators.State, ts0 int64, n int) []operators.Result {
	var out []operators.Result
	for i := range n {
		for _, sym := range []string{"AAPL", "MSFT"} {
			st := states[sym]
			if st == nil {
				st = p.NewState(sym)
				states[sym] = st
			}
			tk := tick.Tick{Symbol: sym, TS: ts0 + int64(i)*1000, Price: 100 + float64(i%17)*0.37, Volume: float64(1000 + i%13*50)}
			var r operators.Result
			p.Process(st, &tk, tk.TS, &r)
			r.Alerts = nil
			out = append(out, r)
		}
	}
	return out
}

func encodeStates(t *testing.T, states map[string]*operators.State) map[string][]byte {
	t.Helper()
	enc := map[string][]byte{}
	for s, st := range states {
		b, err := st.AppendBinary(nil)
		if err != nil {
			t.Fatal(err)
		}
		enc[s] = b
	}
	return enc
}

// TestCheckpointResumesBitIdentical: state saved mid-stream and restored
// gives exactly the results of the uninterrupted stream.
func TestCheckpointResumesBitIdentical(t *testing.T) {
	p := testPipeline(t)
	whole := map[string]*operators.State{}
	feed(p, whole, 0, 500)
	want := feed(p, whole, 500_000, 400)

	first := map[string]*operators.State{}
	feed(p, first, 0, 500)
	b, err := encodeCheckpoint(checkpoint{Topic: "ticks", Partition: 3, Start: 10, Next: 1010, Keys: []string{"k"}}, encodeStates(t, first))
	if err != nil {
		t.Fatal(err)
	}
	h, restored, refused, err := decodeCheckpoint(b, p.NewState)
	if err != nil || len(refused) != 0 {
		t.Fatalf("decode: %v, refused %v", err, refused)
	}
	if h.Next != 1010 || h.Start != 10 || h.Partition != 3 || h.Symbols != 2 || !slices.Equal(h.Keys, []string{"k"}) {
		t.Fatalf("header = %+v", h)
	}
	got := feed(p, restored, 500_000, 400)
	for i := range want {
		w, g := want[i], got[i]
		if w.MA != g.MA || w.MAVolume != g.MAVolume || w.Count != g.Count || w.Reject != g.Reject || w.VolumeSpike != g.VolumeSpike || w.PriceDrop != g.PriceDrop {
			t.Fatalf("tick %d after restore: %+v, uninterrupted %+v", i, g, w)
		}
	}
}

func TestCheckpointCorrupt(t *testing.T) {
	p := testPipeline(t)
	states := map[string]*operators.State{}
	feed(p, states, 0, 10)
	b, err := encodeCheckpoint(checkpoint{Next: 20}, encodeStates(t, states))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 3, 10, len(b) / 2, len(b) - 1} {
		if _, _, _, err := decodeCheckpoint(b[:n], p.NewState); err == nil {
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
	p := testPipeline(t)
	states := map[string]*operators.State{}
	feed(p, states, 0, 10)
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
		rec, err := recoverPartition(context.Background(), store, "ticks", 0, p.NewState)
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
	if _, err := recoverPartition(context.Background(), bad, "ticks", 0, p.NewState); err == nil || !strings.Contains(err.Error(), ck(0, "ckpt")) {
		t.Errorf("corrupt checkpoint: error %v should name it", err)
	}

}
