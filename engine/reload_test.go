package engine_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tickstream/tickstream/config"
	"github.com/tickstream/tickstream/feeds/sim"
	"github.com/tickstream/tickstream/internal/testkit"
	"github.com/tickstream/tickstream/models"
	"github.com/tickstream/tickstream/sinks/lake"
	"github.com/tickstream/tickstream/tick"
)

// reloadTick is one produced tick and the spike factor in force when the
// engine reads it (0: its symbol is not configured then).
type reloadTick struct {
	tick.Tick
	factor float64
}

// TestReload runs an engine on [AAA, BBB], then reloads [AAA, CCC] with a
// lower spike_factor, then tries a bad config. Volume spikes of 4× are
// planted: below the first factor (5), above the second (3). Expected rows
// and alerts come from a naive re-implementation of the spike rule over the
// produced ticks, each judged under the config in force when it was read.
func TestReload(t *testing.T) {
	cfg := config.Default()
	cfg.Symbols, cfg.SyntheticSymbols = []string{"AAA", "BBB"}, 0
	cfg.Kafka.Partitions = 1
	cfg.Average.Ticks = 50
	cfg.Lake.FlushInterval = time.Second
	cfg.Anomaly.Overrides = nil
	m := newMarket(t, cfg)
	dir := t.TempDir()
	store, err := lake.NewLocalStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	running := m.start(cfg.Kafka.Group, store, nil)
	eng, prod := running.eng, m.prod
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	var sent []reloadTick
	ts := map[string]int64{}
	base := time.Date(2026, 11, 24, 15, 0, 0, 0, time.UTC).UnixMilli()
	// run produces n ticks of sym (a 4× spike at spikeAt, counted from 0)
	// and waits until the engine has read them.
	run := func(sym string, n, spikeAt int, factor float64) {
		t.Helper()
		var buf []byte
		for i := range n {
			ts[sym] += 1000
			tk := tick.Tick{Symbol: sym, TS: base + ts[sym], Price: 100, Volume: 1000, Bid: 99.99, Ask: 100.01}
			if i == spikeAt {
				tk.Volume = 4000
			}
			buf = tick.AppendJSON(buf[:0], &tk)
			r := &kgo.Record{Topic: cfg.Kafka.Topic, Key: []byte(sym), Value: slices.Clone(buf), Timestamp: time.UnixMilli(tk.TS)}
			if err := prod.ProduceSync(ctx, r).FirstErr(); err != nil {
				t.Fatal(err)
			}
			sent = append(sent, reloadTick{tk, factor})
		}
		testkit.Eventually(t, 30*time.Second, "the engine to read every record", func() bool {
			return eng.Stats.Records.Load() == int64(len(sent))
		})
	}

	run("AAA", 45, 40, 5) // a 4× spike under factor 5: no alert
	run("BBB", 45, -1, 5)
	run("CCC", 5, -1, 0) // not configured yet: unknown_symbol

	next := cfg.Clone()
	next.Symbols = []string{"AAA", "CCC"}
	next.Anomaly.SpikeFactor = 3
	if err := eng.Reload(next); err != nil {
		t.Fatal(err)
	}
	run("AAA", 20, 10, 3) // AAA keeps its window; the same spike now alerts
	run("BBB", 10, -1, 0) // removed: unknown_symbol
	run("CCC", 45, 40, 3) // fresh state: warms up, then alerts

	bad := next.Clone()
	bad.Anomaly.SpikeFactor = -1
	if err := eng.Reload(bad); err == nil || !strings.Contains(err.Error(), "anomaly.spike_factor") {
		t.Fatalf("Reload of a negative spike_factor: %v, want an error naming anomaly.spike_factor", err)
	}
	run("CCC", 10, -1, 3) // still running the good config
	running.close()

	wantProc, wantAlerts, unknown := naiveSpikes(cfg, sent)
	var gotProc []string
	for _, p := range testkit.ReadTable[lake.ProcessedRow](t, dir, "processed") {
		gotProc = append(gotProc, tickKey(p.Symbol, p.TS))
	}
	sort.Strings(gotProc)
	if !slices.Equal(gotProc, wantProc) {
		t.Errorf("processed rows: got %d, want %d\n got %v\nwant %v", len(gotProc), len(wantProc), gotProc, wantProc)
	}
	var gotAlerts []string
	for _, a := range testkit.ReadTable[lake.AlertRow](t, dir, "alerts") {
		gotAlerts = append(gotAlerts, a.Kind+" "+tickKey(a.Symbol, a.TS))
	}
	sort.Strings(gotAlerts)
	if !slices.Equal(gotAlerts, wantAlerts) || len(wantAlerts) != 2 {
		t.Errorf("alerts: got %v, want %v (one for AAA, one for CCC)", gotAlerts, wantAlerts)
	}
	var gotUnknown []string
	for _, r := range testkit.ReadTable[lake.RawRow](t, dir, "raw") {
		if r.RejectReason == tick.UnknownSymbol.String() {
			gotUnknown = append(gotUnknown, tickKey(r.Symbol, r.TS))
		}
	}
	sort.Strings(gotUnknown)
	if !slices.Equal(gotUnknown, unknown) || eng.Stats.RejectedBy(tick.UnknownSymbol) != int64(len(unknown)) {
		t.Errorf("unknown_symbol rejects: got %v (%d counted), want %v", gotUnknown, eng.Stats.RejectedBy(tick.UnknownSymbol), unknown)
	}
	if got := checkpointSymbols(t, dir, cfg.Kafka.Topic); !slices.Equal(got, []string{"AAA", "CCC"}) {
		t.Errorf("the last checkpoint holds the state of %v, want [AAA CCC]", got)
	}
}

func tickKey(sym string, ts int64) string {
	return sym + "@" + time.UnixMilli(ts).UTC().Format("15:04:05")
}

// naiveSpikes replays the ticks the way the spike rule is documented
// (operators/anomaly.go): judged once the window before a tick holds
// warmup_ticks, volume ≥ max(factor × mean of that window, spike_min_volume),
// an alert on a rising edge at least cooldown after the previous one. It
// returns the keys of the accepted ticks, the alerts and the unknown ticks.
func naiveSpikes(cfg *config.Config, sent []reloadTick) (proc, alerts, unknown []string) {
	type hist struct {
		vols        []float64
		active      bool
		alerted     bool
		lastAlertTS int64
	}
	h := map[string]*hist{}
	for _, s := range sent {
		k := tickKey(s.Symbol, s.TS)
		if s.factor == 0 {
			unknown = append(unknown, k)
			continue
		}
		proc = append(proc, k)
		st := h[s.Symbol]
		if st == nil {
			st = &hist{}
			h[s.Symbol] = st
		}
		spike := false
		if len(st.vols) >= cfg.Anomaly.WarmupTicks {
			sum := 0.0
			for _, v := range st.vols {
				sum += v
			}
			spike = s.Volume >= max(s.factor*sum/float64(len(st.vols)), cfg.Anomaly.SpikeMinVolume)
		}
		if spike && !st.active && (!st.alerted || s.TS-st.lastAlertTS >= cfg.Anomaly.Cooldown.Milliseconds()) {
			alerts = append(alerts, "volume_spike "+k)
			st.alerted, st.lastAlertTS = true, s.TS
		}
		st.active = spike
		st.vols = append(st.vols, s.Volume)
		if len(st.vols) > cfg.Average.Ticks {
			st.vols = st.vols[1:]
		}
	}
	sort.Strings(proc)
	sort.Strings(alerts)
	sort.Strings(unknown)
	return proc, alerts, unknown
}

// checkpointSymbols reads the symbols of the partition's newest checkpoint
// by the layout documented in checkpoint.go: a 4-byte header length, the
// JSON header, then zstd of (symbol, operator state, model state) chunks,
// each uvarint-length prefixed.
func checkpointSymbols(t *testing.T, dir, topic string) []string {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join(dir, "_checkpoints", topic, "0", "*.ckpt"))
	if len(paths) == 0 {
		t.Fatal("no checkpoint in the lake")
	}
	sort.Strings(paths)
	b, err := os.ReadFile(paths[len(paths)-1])
	if err != nil {
		t.Fatal(err)
	}
	n := binary.BigEndian.Uint32(b)
	var h struct{ Version, Symbols int }
	if err := json.Unmarshal(b[4:4+n], &h); err != nil || h.Version != 2 {
		t.Fatalf("checkpoint header %s: %v", b[4:4+n], err)
	}
	dec, _ := zstd.NewReader(nil)
	defer dec.Close()
	raw, err := dec.DecodeAll(b[4+n:], nil)
	if err != nil {
		t.Fatal(err)
	}
	var syms []string
	for i := 0; len(raw) > 0; i++ {
		l, w := binary.Uvarint(raw)
		if w <= 0 || uint64(len(raw)-w) < l {
			t.Fatal("checkpoint states truncated")
		}
		if i%3 == 0 {
			syms = append(syms, string(raw[w:w+int(l)]))
		}
		raw = raw[w+int(l):]
	}
	if len(syms) != h.Symbols {
		t.Fatalf("checkpoint header says %d symbols, holds %d", h.Symbols, len(syms))
	}
	return syms
}

// TestReloadCadence: predictions at every warm tick, then models.cadence
// 10s by reload: from the next batch on, each symbol is predicted at its
// first tick in each 10 s of event time, with its features carried over
// (no second warm-up). Expected ticks come from a twin simulator.
func TestReloadCadence(t *testing.T) {
	cfg := predictConfig()
	dir := t.TempDir()
	cfg.Models.Files = []config.ModelFile{{Name: "xgb", Kind: models.KindXGBoost, Path: copyModel(t, dir, "xgboost/reg.json", "xgb.json")}}
	reg := newRegistry(t, []models.Spec{{Name: "xgb", Kind: models.KindXGBoost, Path: cfg.Models.Files[0].Path}}, cfg.Models.Window, nil)
	m := newMarket(t, cfg)
	lakeDir := t.TempDir()
	store, err := lake.NewLocalStore(lakeDir)
	if err != nil {
		t.Fatal(err)
	}
	syms := int64(len(cfg.AllSymbols()))
	const before, after = 100, 60 // ticks per symbol
	r := m.start(cfg.Kafka.Group, store, reg)
	m.produce(before * syms)
	r.waitFor(before * syms)
	next := cfg.Clone()
	next.Models.Cadence = 10 * time.Second
	if err := r.eng.Reload(next); err != nil {
		t.Fatal(err)
	}
	m.produce(after * syms)
	r.waitFor((before + after) * syms)
	r.close()

	twin, err := sim.New(cfg.AllSymbols(), cfg.Simulator, predictStart)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	count, bucket := map[string]int{}, map[string]int64{}
	var tk tick.Tick
	for i := range (before + after) * syms {
		twin.Next(&tk)
		count[tk.Symbol]++
		switch {
		case count[tk.Symbol] < models.Warmup:
		case i < before*syms:
			want = append(want, tickKey(tk.Symbol, tk.TS))
		case tk.TS/10_000 > bucket[tk.Symbol]:
			bucket[tk.Symbol] = tk.TS / 10_000
			want = append(want, tickKey(tk.Symbol, tk.TS))
		}
	}
	var got []string
	for _, p := range testkit.ReadTable[models.PredictionRow](t, lakeDir, lake.TablePredictions) {
		got = append(got, tickKey(p.Symbol, p.TS))
	}
	sort.Strings(got)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Fatalf("predicted at %d ticks, want %d\n got %v\nwant %v", len(got), len(want), got, want)
	}
}
