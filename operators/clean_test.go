package operators

import (
	"math"
	"testing"

	"github.com/tickstream/tickstream/config"
	"github.com/tickstream/tickstream/tick"
)

// TestClean feeds a symbol some prior ticks, then one more, and checks the
// reason the last gets. Lateness 3 s, max future 60 s (testConfig).
func TestClean(t *testing.T) {
	const t0 = 1_764_000_000_000
	ok := func(ts int64) tick.Tick { return tick.Tick{Symbol: "AAA", TS: ts, Price: 100, Volume: 10} }
	with := func(tk tick.Tick, mod func(*tick.Tick)) tick.Tick { mod(&tk); return tk }
	f := func(desc string, prior []tick.Tick, last tick.Tick, recordTS int64, want tick.Reason) {
		t.Helper()
		p := mustNew(t, testConfig(nil))
		st := p.NewState("AAA")
		var res Result
		for _, tk := range prior {
			p.Process(st, &tk, tk.TS, &res)
		}
		p.Process(st, &last, recordTS, &res)
		if res.Reject != want {
			t.Errorf("%s: reject %q, want %q", desc, res.Reject, want)
		}
	}
	nan, inf := math.NaN(), math.Inf(1)
	f("first tick", nil, ok(t0), t0, tick.OK)
	f("in order", []tick.Tick{ok(t0)}, ok(t0+1), t0, tick.OK)
	f("zero volume", nil, with(ok(t0), func(k *tick.Tick) { k.Volume = 0 }), t0, tick.OK)
	f("no quote", nil, with(ok(t0), func(k *tick.Tick) { k.Bid, k.Ask = 0, 0 }), t0, tick.OK)
	f("quote", nil, with(ok(t0), func(k *tick.Tick) { k.Bid, k.Ask = 99.9, 100.1 }), t0, tick.OK)

	for _, x := range []float64{nan, inf, -inf, 0, -1, math.Copysign(0, -1), -math.SmallestNonzeroFloat64} {
		f("bad price", nil, with(ok(t0), func(k *tick.Tick) { k.Price = x }), t0, tick.BadPrice)
	}
	f("tiny price", nil, with(ok(t0), func(k *tick.Tick) { k.Price = math.SmallestNonzeroFloat64 }), t0, tick.OK)
	f("huge price", nil, with(ok(t0), func(k *tick.Tick) { k.Price = math.MaxFloat64 }), t0, tick.OK)
	for _, x := range []float64{nan, inf, -inf, -1} {
		f("bad volume", nil, with(ok(t0), func(k *tick.Tick) { k.Volume = x }), t0, tick.BadVolume)
		f("bad bid", nil, with(ok(t0), func(k *tick.Tick) { k.Bid = x }), t0, tick.BadQuote)
		f("bad ask", nil, with(ok(t0), func(k *tick.Tick) { k.Ask = x }), t0, tick.BadQuote)
	}
	f("price checked first", nil, with(ok(t0), func(k *tick.Tick) { k.Price, k.Volume = nan, nan }), t0, tick.BadPrice)

	f("future by max_future", nil, ok(t0+60_000), t0, tick.OK)
	f("future by more", nil, ok(t0+60_001), t0, tick.FutureTS)
	f("record far ahead", nil, ok(t0), t0+1e9, tick.OK)
	f("future, extreme", nil, ok(math.MaxInt64), math.MinInt64, tick.FutureTS)

	f("duplicate of newest", []tick.Tick{ok(t0)}, ok(t0), t0, tick.Duplicate)
	f("duplicate, different values", []tick.Tick{ok(t0)}, with(ok(t0), func(k *tick.Tick) { k.Price = 7 }), t0, tick.Duplicate)
	f("duplicate of an older tick", []tick.Tick{ok(t0), ok(t0 + 1000), ok(t0 + 2000)}, ok(t0+1000), t0, tick.Duplicate)
	f("duplicate of an out-of-order tick", []tick.Tick{ok(t0), ok(t0 + 2000), ok(t0 + 1000)}, ok(t0+1000), t0, tick.Duplicate)
	f("out of order", []tick.Tick{ok(t0), ok(t0 + 2000)}, ok(t0+1000), t0, tick.OK)
	f("out of order before the first", []tick.Tick{ok(t0)}, ok(t0-2000), t0, tick.OK)
	f("at the lateness bound", []tick.Tick{ok(t0)}, ok(t0-3000), t0, tick.OK)
	f("late", []tick.Tick{ok(t0)}, ok(t0-3001), t0, tick.Late)
	f("late, extreme", []tick.Tick{ok(math.MaxInt64)}, ok(math.MinInt64), math.MaxInt64, tick.Late)
	f("late and duplicate", []tick.Tick{ok(t0), ok(t0 + 10_000)}, ok(t0), t0, tick.Late)

	// Rejected ticks leave no trace: a rejected tick far ahead does not
	// make later ticks late, and a rejected TS is not a duplicate.
	f("after a rejected future tick", []tick.Tick{with(ok(t0+1e6), func(k *tick.Tick) { k.Price = -1 })}, ok(t0), t0, tick.OK)
	f("same TS as a rejected tick", []tick.Tick{ok(t0), with(ok(t0+1), func(k *tick.Tick) { k.Volume = nan })}, ok(t0+1), t0, tick.OK)
	f("same TS as a rejected older tick", []tick.Tick{ok(t0), with(ok(t0-1), func(k *tick.Tick) { k.Bid = -1 })}, ok(t0-1), t0, tick.OK)
}

// TestCleanDuplicateMemory checks the bound on the duplicate memory: it
// holds the accepted TS of one lateness span, however many ticks arrive.
func TestCleanDuplicateMemory(t *testing.T) {
	f := func(lateness int64, step int64, want int) {
		t.Helper()
		p := mustNew(t, testConfig(func(c *config.Config) { c.Clean.AllowedLateness = ms2d(lateness) }))
		st := p.NewState("AAA")
		var res Result
		for i := int64(0); i < 10_000; i++ {
			tk := tick.Tick{Symbol: "AAA", TS: 1_000_000 + i*step, Price: 1, Volume: 1}
			p.Process(st, &tk, tk.TS, &res)
		}
		// The span [newest − lateness, newest] holds lateness/step + 1 ticks.
		if st.dedup.n != want {
			t.Errorf("lateness %d ms, a tick every %d ms: %d TS remembered, want %d", lateness, step, st.dedup.n, want)
		}
	}
	f(3000, 1000, 3000/1000+1)
	f(3000, 1, 3000/1+1)
	f(3000, 7, 3000/7+1)
	f(0, 1, 1)
}
