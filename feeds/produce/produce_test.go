package produce_test

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/tickstream/tickstream/feeds/internal/feedtest"
	"github.com/tickstream/tickstream/feeds/produce"
	"github.com/tickstream/tickstream/tick"
)

// TestWriteRoundTrip: what goes in comes out of the topic unchanged, keyed
// by symbol, with the event time as record timestamp and the stale header
// exactly on the ticks flagged stale; per symbol in the order written.
func TestWriteRoundTrip(t *testing.T) {
	c, p := feedtest.Producer(t)
	w := p.NewWriter(context.Background())
	syms := []string{"AAPL", "BRK.B", "^GSPC", "EURUSD=X"}
	var want []tick.Tick
	var stale []bool
	base := time.Date(2025, 11, 25, 14, 30, 0, 0, time.UTC).UnixMilli()
	for i := range 2000 {
		tk := tick.Tick{Symbol: syms[i%len(syms)], TS: base + int64(i), Price: 100 + float64(i)/7, Volume: float64(i % 13)}
		if i%3 == 0 {
			tk.Bid, tk.Ask = tk.Price-0.01, tk.Price+0.01
		}
		if err := w.Write(&tk, i%5 == 0); err != nil {
			t.Fatal(err)
		}
		want, stale = append(want, tk), append(stale, i%5 == 0)
	}
	if err := p.Flush(0); err != nil {
		t.Fatal(err)
	}
	if p.Acked() != int64(len(want)) || p.Handed() != int64(len(want)) {
		t.Fatalf("acked %d, handed %d, want %d", p.Acked(), p.Handed(), len(want))
	}
	got := feedtest.BySymbol(t, feedtest.Consume(t, c))
	next := map[string]int{}
	for i, w := range want {
		rs := got[w.Symbol]
		j := next[w.Symbol]
		next[w.Symbol]++
		if j >= len(rs) {
			t.Fatalf("tick %d (%s) missing", i, w.Symbol)
		}
		r := rs[j]
		if r.Tick != w || r.Stale != stale[i] || r.RecordTS != w.TS {
			t.Fatalf("tick %d: got %+v stale %v ts %d, want %+v stale %v", i, r.Tick, r.Stale, r.RecordTS, w, stale[i])
		}
	}
	for s, rs := range got {
		if next[s] != len(rs) {
			t.Fatalf("%s: %d records, %d written", s, len(rs), next[s])
		}
	}
}

// TestCheck: Check refuses exactly what the engine would reject, and what it
// lets through the engine's own decoder reads back unchanged.
func TestCheck(t *testing.T) {
	dec := tick.NewDecoder(nil, 4096)
	ok := tick.Tick{Symbol: "AAPL", TS: 1_764_081_000_000, Price: 189.42, Volume: 1200, Bid: 189.41, Ask: 189.43}
	f := func(change func(t *tick.Tick), want tick.Reason) {
		t.Helper()
		tk := ok
		change(&tk)
		got := tick.ReasonOf(produce.Check(&tk))
		if got != want {
			t.Errorf("Check(%+v) = %q, want %q", tk, got, want)
		}
		if got != tick.OK {
			return
		}
		var back tick.Tick
		if err := dec.Decode([]byte(tk.Symbol), tick.AppendJSON(nil, &tk), &back); err != nil || back != tk {
			t.Errorf("Check passed %+v but the engine decodes %+v, %v", tk, back, err)
		}
	}
	f(func(t *tick.Tick) {}, tick.OK)
	f(func(t *tick.Tick) { t.Bid, t.Ask = 0, 0 }, tick.OK)
	f(func(t *tick.Tick) { t.Volume = 0 }, tick.OK)
	f(func(t *tick.Tick) { t.Symbol = strings.Repeat("A", 32) }, tick.OK)
	f(func(t *tick.Tick) { t.Symbol = "" }, tick.BadSymbol)
	f(func(t *tick.Tick) { t.Symbol = strings.Repeat("A", 33) }, tick.BadSymbol)
	f(func(t *tick.Tick) { t.Symbol = "A B" }, tick.BadSymbol)
	f(func(t *tick.Tick) { t.TS = 0 }, tick.BadTimestamp)
	f(func(t *tick.Tick) { t.TS = 1_764_081_000 }, tick.BadTimestamp) // seconds
	f(func(t *tick.Tick) { t.TS = 946_684_800_000 }, tick.OK)
	f(func(t *tick.Tick) { t.TS = 946_684_799_999 }, tick.BadTimestamp)
	f(func(t *tick.Tick) { t.TS = 7_258_118_399_999 }, tick.OK)
	f(func(t *tick.Tick) { t.TS = 7_258_118_400_000 }, tick.BadTimestamp)
	f(func(t *tick.Tick) { t.Price = 0 }, tick.BadPrice)
	f(func(t *tick.Tick) { t.Price = -1 }, tick.BadPrice)
	f(func(t *tick.Tick) { t.Price = math.NaN() }, tick.BadPrice)
	f(func(t *tick.Tick) { t.Price = math.Inf(1) }, tick.BadPrice)
	f(func(t *tick.Tick) { t.Volume = -1 }, tick.BadVolume)
	f(func(t *tick.Tick) { t.Volume = math.NaN() }, tick.BadVolume)
	f(func(t *tick.Tick) { t.Bid = -0.5 }, tick.BadQuote)
	f(func(t *tick.Tick) { t.Ask = math.Inf(1) }, tick.BadQuote)
}

// TestWriteRefuses: an invalid tick is refused and never reaches the topic.
func TestWriteRefuses(t *testing.T) {
	c, p := feedtest.Producer(t)
	w := p.NewWriter(context.Background())
	good := tick.Tick{Symbol: "AAPL", TS: 1_764_081_000_000, Price: 1, Volume: 1}
	bad := good
	bad.Price = math.NaN()
	if err := w.Write(&bad, false); tick.ReasonOf(err) != tick.BadPrice {
		t.Fatalf("Write(NaN price) = %v", err)
	}
	if err := w.Write(&good, false); err != nil {
		t.Fatal(err)
	}
	if err := p.Flush(0); err != nil {
		t.Fatal(err)
	}
	if rs := feedtest.Consume(t, c); len(rs) != 1 || rs[0].Tick != good {
		t.Fatalf("topic holds %+v, want only %+v", rs, good)
	}
}

// TestWriteAllocs: producing a tick allocates nothing of its own in the
// steady state (the arena costs two allocations per 512 ticks).
func TestWriteAllocs(t *testing.T) {
	_, p := feedtest.Producer(t)
	w := p.NewWriter(context.Background())
	tk := tick.Tick{Symbol: "AAPL", TS: 1_764_081_000_000, Price: 1, Volume: 1}
	allocs := testing.AllocsPerRun(5000, func() {
		tk.TS++
		if err := w.Write(&tk, false); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 0.05 {
		t.Fatalf("%.3f allocations per Write", allocs)
	}
	if err := p.Flush(0); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkWrite(b *testing.B) {
	_, p := feedtest.Producer(b)
	w := p.NewWriter(context.Background())
	tk := tick.Tick{Symbol: "AAPL", TS: 1_764_081_000_000, Price: 189.42, Volume: 1200, Bid: 189.41, Ask: 189.43}
	b.ReportAllocs()
	for b.Loop() {
		tk.TS++
		if err := w.Write(&tk, false); err != nil {
			b.Fatal(err)
		}
	}
	if err := p.Flush(time.Minute); err != nil {
		b.Fatal(err)
	}
}

// TestStopLosesNothing: ticks written just before the feed's context ends
// are still delivered by Flush.
func TestStopLosesNothing(t *testing.T) {
	c, p := feedtest.Producer(t)
	ctx, cancel := context.WithCancel(context.Background())
	w := p.NewWriter(ctx)
	const n = 3000
	for i := range n {
		tk := tick.Tick{Symbol: "AAPL", TS: 1_764_081_000_000 + int64(i), Price: 1, Volume: 1}
		if err := w.Write(&tk, false); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	if err := p.Flush(0); err != nil || p.Acked() != n {
		t.Fatalf("Flush = %v, acked %d of %d", err, p.Acked(), n)
	}
	if got := len(feedtest.Consume(t, c)); got != n {
		t.Fatalf("%d records in the topic, want %d", got, n)
	}
}
