package testkit

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tickstream/tickstream/config"
	"github.com/tickstream/tickstream/engine"
	"github.com/tickstream/tickstream/feeds/sim"
	"github.com/tickstream/tickstream/sinks/alert"
	"github.com/tickstream/tickstream/sinks/lake"
	"github.com/tickstream/tickstream/tick"
)

// badRecord is a record the engine must reject, and why.
type badRecord struct {
	key, value string
	reason     tick.Reason
}

func badRecords(now time.Time) []badRecord {
	future := now.Add(time.Hour).UnixMilli()
	return []badRecord{
		{"AAPL", `{"symbol":"AAPL","ts":1764081492000,"price":1`, tick.Malformed},
		{"AAPL", `not json`, tick.Malformed},
		{"AAPL", `{"symbol":"AAPL","ts":1764081492000,"volume":10}`, tick.MissingField},
		{"AAPL", `{"symbol":"AAPL","ts":1764081492000,"price":"abc","volume":10}`, tick.BadType},
		{"AAPL", `{"symbol":"AAPL","ts":"yesterday","price":1,"volume":10}`, tick.BadTimestamp},
		{"MSFT", `{"symbol":"AAPL","ts":1764081492000,"price":1,"volume":10}`, tick.KeyMismatch},
		{"ZZZZ", `{"symbol":"ZZZZ","ts":1764081492000,"price":1,"volume":10}`, tick.UnknownSymbol},
		{"AAPL", `{"symbol":"AAPL","ts":1764081492000,"price":-3,"volume":10}`, tick.BadPrice},
		{"AAPL", `{"symbol":"AAPL","ts":1764081492000,"price":3,"volume":-10}`, tick.BadVolume},
		{"AAPL", fmt.Sprintf(`{"symbol":"AAPL","ts":%d,"price":3,"volume":10}`, future), tick.FutureTS},
		{"AAPL", `{"symbol":"AAPL","ts":1764081492000,"price":3,"volume":10,"pad":"` + strings.Repeat("x", 5000) + `"}`, tick.TooLarge},
	}
}

// EndToEndConfig is the configuration EndToEnd expects, before brokers and
// topics are set: 20 symbols, 3 partitions, frequent planted anomalies.
func EndToEndConfig() *config.Config {
	cfg := config.Default()
	cfg.Symbols = []string{"AAPL", "MSFT", "NVDA", "TSLA", "JPM", "KO", "XOM", "V"}
	cfg.SyntheticSymbols = 12
	cfg.Kafka.Partitions = 3
	cfg.Lake.FlushInterval = 2 * time.Second
	cfg.Simulator.SpikeEvery = 20 * time.Minute
	cfg.Simulator.DropEvery = 40 * time.Minute
	return cfg
}

// EndToEnd produces a known sequence (simulated ticks with planted
// anomalies, plus one malformed record per reason) into cfg's cluster, runs
// the engine over it and checks the lake, the alerts topic, the DLQ and the
// committed offsets against independent computations over the same ticks.
// The ticks topic must be empty and the group new.
func EndToEnd(t *testing.T, cfg *config.Config) {
	syms := cfg.AllSymbols()
	seconds := 2 * 3600
	if testing.Short() {
		seconds = 3600 // still past the simulator's warm-up, so anomalies are planted
	}
	n := int64(len(syms) * seconds)

	prod, err := engine.NewProducer(&cfg.Kafka)
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	// Malformed records first, so the symbols' streams stay intact.
	bad := badRecords(time.Now())
	for _, b := range bad {
		r := &kgo.Record{Topic: cfg.Kafka.Topic, Key: []byte(b.key), Value: []byte(b.value)}
		if err := prod.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Date(2026, 11, 24, 14, 0, 0, 0, time.UTC)
	s, err := sim.New(syms, cfg.Simulator, start)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (&sim.Producer{Client: prod, Topic: cfg.Kafka.Topic}).Run(ctx, s, 0, n); err != nil {
		t.Fatal(err)
	}
	planted := s.Planted()
	if len(planted) < 5 {
		t.Fatalf("simulator planted only %d anomalies; the test needs more", len(planted))
	}

	dir := t.TempDir()
	store, err := lake.NewLocalStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	pub := alert.Kafka{Client: prod, Topic: cfg.Kafka.AlertsTopic, OnError: func(err error) { t.Errorf("alert produce: %v", err) }}
	eng, err := engine.New(cfg, engine.Deps{Store: store, Producer: prod, Alerts: pub, SpoolDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	total := n + int64(len(bad))
	rctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- eng.Run(rctx) }()
	for eng.Stats.Records.Load() < total {
		select {
		case err := <-done:
			t.Fatalf("engine stopped early: %v", err)
		case <-ctx.Done():
			t.Fatalf("timed out: %d of %d records consumed", eng.Stats.Records.Load(), total)
		case <-time.After(10 * time.Millisecond):
		}
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	// Offsets: committed only after the lake has the data, and all of it.
	adm := kadm.NewClient(prod)
	committed, err := adm.FetchOffsets(ctx, cfg.Kafka.Group)
	if err != nil {
		t.Fatal(err)
	}
	ends, err := adm.ListEndOffsets(ctx, cfg.Kafka.Topic)
	if err != nil {
		t.Fatal(err)
	}
	ends.Each(func(o kadm.ListedOffset) {
		c, ok := committed.Lookup(o.Topic, o.Partition)
		if !ok || c.At != o.Offset {
			t.Errorf("partition %d: committed %v, end offset %d", o.Partition, c.At, o.Offset)
		}
	})

	// raw: every record exactly once.
	raw := ReadTable[lake.RawRow](t, dir, "raw")
	if int64(len(raw)) != total {
		t.Fatalf("raw rows = %d, want %d records produced", len(raw), total)
	}
	seen := map[[2]int64]bool{}
	for _, r := range raw {
		k := [2]int64{int64(r.KafkaPartition), r.KafkaOffset}
		if seen[k] {
			t.Fatalf("raw holds partition %d offset %d twice", r.KafkaPartition, r.KafkaOffset)
		}
		seen[k] = true
	}

	// processed: exactly the ticks that pass cleaning, with the moving average
	// recomputed here naively from the simulator's own sequence.
	proc := ReadTable[lake.ProcessedRow](t, dir, "processed")
	if int64(len(proc)) != n {
		t.Fatalf("processed rows = %d, want %d (all simulated ticks, no malformed ones)", len(proc), n)
	}
	if got := eng.Stats.Accepted.Load(); got != n {
		t.Errorf("Stats.Accepted = %d, want %d", got, n)
	}
	want := naiveMA(t, syms, cfg, start, n)
	for _, p := range proc {
		w, ok := want[key{p.Symbol, p.TS}]
		if !ok {
			t.Fatalf("processed row %s@%d was never produced", p.Symbol, p.TS)
		}
		if !near(p.MA, w.ma) || !near(p.MAVolume, w.maVol) || int(p.MACount) != w.count || p.Price != w.price {
			t.Fatalf("%s@%d: ma %v ma_volume %v count %d price %v; want %v %v %d %v",
				p.Symbol, p.TS, p.MA, p.MAVolume, p.MACount, p.Price, w.ma, w.maVol, w.count, w.price)
		}
	}

	// alerts: each planted anomaly exactly once, nothing else.
	alerts := ReadTable[lake.AlertRow](t, dir, "alerts")
	matched := make([]int, len(planted))
	for _, a := range alerts {
		i := slicesIndex(planted, func(e sim.Event) bool {
			return e.Symbol == a.Symbol && e.Kind == a.Kind && a.TS >= e.TS && a.TS <= max(e.Until, e.TS+10_000)
		})
		if i < 0 {
			t.Errorf("alert %s %s at %v matches no planted anomaly", a.Symbol, a.Kind, time.UnixMilli(a.TS).UTC())
			continue
		}
		matched[i]++
	}
	for i, e := range planted {
		if matched[i] != 1 {
			t.Errorf("planted %s %s at %v raised %d alerts, want 1", e.Symbol, e.Kind, time.UnixMilli(e.TS).UTC(), matched[i])
		}
	}
	t.Logf("%d records (%d malformed), %d processed rows, %d planted anomalies, %d alerts, %d files",
		total, len(bad), len(proc), len(planted), len(alerts), eng.Stats.FilesWritten.Load())
	if got := ReadTopic(t, ctx, clientOpts(t, cfg), cfg.Kafka.AlertsTopic, nil); got != len(alerts) {
		t.Errorf("alerts topic holds %d records, lake %d", got, len(alerts))
	}

	// DLQ: every malformed record, with its reason in a header.
	reasons := map[string]int{}
	ReadTopic(t, ctx, clientOpts(t, cfg), cfg.Kafka.DLQTopic, func(r *kgo.Record) {
		for _, h := range r.Headers {
			if h.Key == "reason" {
				reasons[string(h.Value)]++
			}
		}
	})
	wantReasons := map[string]int{}
	for _, b := range bad {
		wantReasons[b.reason.String()]++
	}
	if fmt.Sprint(reasons) != fmt.Sprint(wantReasons) {
		t.Errorf("DLQ reasons = %v, want %v", reasons, wantReasons)
	}
	for _, b := range bad {
		if got := eng.Stats.RejectedBy(b.reason); got == 0 {
			t.Errorf("Stats.Rejected[%s] = 0", b.reason)
		}
	}
}

type key struct {
	sym string
	ts  int64
}

type maWant struct {
	ma, maVol, price float64
	count            int
}

// naiveMA replays the simulator and averages each symbol's last N ticks
// with a plain loop: an independent computation of the moving average.
func naiveMA(t *testing.T, syms []string, cfg *config.Config, start time.Time, n int64) map[key]maWant {
	s, err := sim.New(syms, cfg.Simulator, start)
	if err != nil {
		t.Fatal(err)
	}
	hist := map[string][][2]float64{}
	out := make(map[key]maWant, n)
	var tk tick.Tick
	for range n {
		s.Next(&tk)
		h := append(hist[tk.Symbol], [2]float64{tk.Price, tk.Volume})
		hist[tk.Symbol] = h
		w := h[max(0, len(h)-cfg.Average.Ticks):]
		var sp, sv float64
		for _, x := range w {
			sp += x[0]
			sv += x[1]
		}
		out[key{tk.Symbol, tk.TS}] = maWant{ma: sp / float64(len(w)), maVol: sv / float64(len(w)), price: tk.Price, count: len(w)}
	}
	return out
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func slicesIndex[T any](s []T, f func(T) bool) int {
	for i, v := range s {
		if f(v) {
			return i
		}
	}
	return -1
}

func clientOpts(t *testing.T, cfg *config.Config) []kgo.Opt {
	t.Helper()
	opts, err := engine.ClientOpts(&cfg.Kafka)
	if err != nil {
		t.Fatal(err)
	}
	return opts
}
