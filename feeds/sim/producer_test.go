package sim_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tickstream/tickstream/config"
	"github.com/tickstream/tickstream/feeds/feedstats"
	"github.com/tickstream/tickstream/feeds/sim"
	"github.com/tickstream/tickstream/tick"
)

const topic = "ticks"

func newCluster(t testing.TB) (*kfake.Cluster, *kgo.Client) {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(6, topic))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return c, cl
}

// jsonTick is the input contract as encoding/json reads it.
type jsonTick struct {
	Symbol string  `json:"symbol"`
	TS     int64   `json:"ts"`
	Price  float64 `json:"price"`
	Volume float64 `json:"volume"`
	Bid    float64 `json:"bid"`
	Ask    float64 `json:"ask"`
}

// consume reads n records of the topic from the start.
func consume(t *testing.T, c *kfake.Cluster, n int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consumed %d of %d records: %v", len(out), n, err)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", topic, p, err) })
		out = append(out, fs.Records()...)
	}
	if len(out) != n {
		t.Fatalf("consumed %d records, want %d", len(out), n)
	}
	return out
}

// TestProducerRoundTrip produces ticks and reads them back: the count, the
// keys, the record timestamps and every decoded tick must match what a second
// Sim with the same seed generates, in order per symbol.
func TestProducerRoundTrip(t *testing.T) {
	c, cl := newCluster(t)
	names := symbolNames(50)
	cfg := config.Simulator{Seed: 3, SpikeEvery: 5 * time.Minute, DropEvery: 5 * time.Minute}
	start := time.Date(2024, 1, 2, 15, 0, 0, 0, time.UTC)
	const n = 30000
	s, err := sim.New(names, cfg, start)
	if err != nil {
		t.Fatal(err)
	}
	st := &feedstats.Stats{Provider: "sim"}
	p := &sim.Producer{Client: cl, Topic: topic, Stats: st}
	got, err := p.Run(context.Background(), s, 0, n)
	if err != nil || got != n {
		t.Fatalf("Run = %d, %v; want %d, nil", got, err, n)
	}
	if st.Ticks.Load() != got {
		t.Fatalf("Stats.Ticks = %d, want the %d ticks Run produced", st.Ticks.Load(), got)
	}
	if s.Generated() != n {
		t.Fatalf("Sim generated %d ticks, want %d", s.Generated(), n)
	}

	twin, err := sim.New(names, cfg, start)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]tick.Tick{}
	var tk tick.Tick
	for range n {
		twin.Next(&tk)
		want[tk.Symbol] = append(want[tk.Symbol], tk)
	}
	next := map[string]int{}
	for _, r := range consume(t, c, n) {
		var jt jsonTick
		if err := json.Unmarshal(r.Value, &jt); err != nil {
			t.Fatalf("record %s: %v", r.Value, err)
		}
		if string(r.Key) != jt.Symbol {
			t.Fatalf("key %q, symbol %q", r.Key, jt.Symbol)
		}
		if r.Timestamp.UnixMilli() != jt.TS {
			t.Fatalf("record timestamp %v, tick ts %d", r.Timestamp, jt.TS)
		}
		i := next[jt.Symbol]
		next[jt.Symbol]++
		if i >= len(want[jt.Symbol]) {
			t.Fatalf("more ticks of %s than generated", jt.Symbol)
		}
		w := want[jt.Symbol][i]
		if (jsonTick{w.Symbol, w.TS, w.Price, w.Volume, w.Bid, w.Ask}) != jt {
			t.Fatalf("%s tick %d: got %+v, want %+v", jt.Symbol, i, jt, w)
		}
	}
	if len(next) != len(names) {
		t.Fatalf("records for %d symbols, want %d", len(next), len(names))
	}
	if len(s.Planted()) == 0 || len(s.Planted()) != len(twin.Planted()) {
		t.Fatalf("planted %d events, twin %d", len(s.Planted()), len(twin.Planted()))
	}
}

// TestProducerPaced: at a rate, a run takes the wall time its ticks span, and
// a fresh Sim's event times start now, one step per round.
func TestProducerPaced(t *testing.T) {
	c, cl := newCluster(t)
	names := symbolNames(20)
	s, err := sim.New(names, config.Simulator{Seed: 1}, time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	const rate, rounds = 25.0, 10 // 500 ticks, 1000 a second: 0.4 s
	before := time.Now()
	got, err := (&sim.Producer{Client: cl, Topic: topic}).Run(context.Background(), s, rate, rounds*int64(len(names)))
	elapsed := time.Since(before)
	if err != nil || got != rounds*int64(len(names)) {
		t.Fatalf("Run = %d, %v", got, err)
	}
	// The last round starts (rounds-1)/rate s in and is spread over 1/rate s.
	if lo := time.Duration(float64(rounds-1)/rate*float64(time.Second)) + 30*time.Millisecond; elapsed < lo || elapsed > 5*time.Second {
		t.Fatalf("run took %v, want at least %v", elapsed, lo)
	}
	step := int64(1000 / rate)
	seen := map[string][]int64{}
	for _, r := range consume(t, c, int(got)) {
		var jt jsonTick
		if err := json.Unmarshal(r.Value, &jt); err != nil {
			t.Fatal(err)
		}
		if jt.TS < before.UnixMilli() || jt.TS > before.UnixMilli()+rounds*step {
			t.Fatalf("ts %d outside the run [%d, %d]", jt.TS, before.UnixMilli(), before.UnixMilli()+rounds*step)
		}
		seen[jt.Symbol] = append(seen[jt.Symbol], jt.TS)
	}
	for sym, ts := range seen {
		for i := 1; i < len(ts); i++ {
			if ts[i]-ts[i-1] != step {
				t.Fatalf("%s: ticks %d ms apart, want %d", sym, ts[i]-ts[i-1], step)
			}
		}
	}
}

// TestProducerStops: ending ctx is a normal stop, and every tick counted as
// produced is in the topic.
func TestProducerStops(t *testing.T) {
	c, cl := newCluster(t)
	s, err := sim.New(symbolNames(10), config.Simulator{Seed: 1}, time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	got, err := (&sim.Producer{Client: cl, Topic: topic}).Run(ctx, s, 100, 0)
	if err != nil || got == 0 {
		t.Fatalf("Run = %d, %v; want some ticks and no error", got, err)
	}
	if got > 10*100 { // 0.3 s of 10 symbols at 100/s is 300 ticks
		t.Fatalf("produced %d ticks in 0.3 s at 1000/s", got)
	}
	consume(t, c, int(got))
}

func TestProducerErrors(t *testing.T) {
	c, cl := newCluster(t)
	s, err := sim.New(symbolNames(3), config.Simulator{}, time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	f := func(p *sim.Producer, rate float64) {
		t.Helper()
		if n, err := p.Run(context.Background(), s, rate, 10); err == nil || n != 0 {
			t.Errorf("Run(%+v, rate %v) = %d, %v; want an error", p, rate, n, err)
		}
	}
	f(&sim.Producer{Topic: topic}, 0)
	f(&sim.Producer{Client: cl}, 0)
	f(&sim.Producer{Client: cl, Topic: topic}, -1)
	f(&sim.Producer{Client: cl, Topic: topic}, sim.MaxRate+1)

	// A topic the broker does not have: the client gives up on it at once
	// and Run returns that error.
	fast, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.UnknownTopicRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	defer fast.Close()
	n, err := (&sim.Producer{Client: fast, Topic: "missing"}).Run(context.Background(), s, 0, 10)
	if !errors.Is(err, kerr.UnknownTopicOrPartition) || n != 0 {
		t.Fatalf("Run to a missing topic = %d, %v; want %v", n, err, kerr.UnknownTopicOrPartition)
	}
}

// BenchmarkProducer: ticks/s from a Sim through franz-go into kfake at rate
// 0, JSON included.
func BenchmarkProducer(b *testing.B) {
	_, cl := newCluster(b)
	s, err := sim.New(symbolNames(1000), config.Simulator{Seed: 1, SpikeEvery: time.Hour, DropEvery: time.Hour}, time.Unix(0, 0))
	if err != nil {
		b.Fatal(err)
	}
	p := &sim.Producer{Client: cl, Topic: topic}
	b.ReportAllocs()
	b.ResetTimer()
	n, err := p.Run(context.Background(), s, 0, int64(b.N))
	if err != nil || n != int64(b.N) {
		b.Fatalf("Run = %d, %v", n, err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ticks/s")
}
