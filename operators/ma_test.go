package operators

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tickstream/tickstream/config"
	"github.com/tickstream/tickstream/tick"
)

// TestMovingAverage checks the windows after a short sequence of accepted
// ticks against means computed exactly from the sequence itself.
func TestMovingAverage(t *testing.T) {
	const t0 = 1_764_000_000_000
	type tk = struct {
		ts            int64 // offset from t0, ms
		price, volume float64
	}
	f := func(desc string, n int, window time.Duration, in []tk) {
		t.Helper()
		p := mustNew(t, testConfig(func(c *config.Config) {
			c.Average = config.Average{Ticks: n, Window: window}
			c.Anomaly.WarmupTicks = 1
		}))
		st := p.NewState("AAA")
		var res Result
		var ticks []tick.Tick
		for _, x := range in {
			ticks = append(ticks, tick.Tick{Symbol: "AAA", TS: t0 + x.ts, Price: x.price, Volume: x.volume})
			p.Process(st, &ticks[len(ticks)-1], t0, &res)
			if res.Reject != tick.OK {
				t.Fatalf("%s: tick %+v rejected: %q", desc, x, res.Reject)
			}
		}
		last := ticks[len(ticks)-1]
		win := ticks[max(len(ticks)-n, 0):]
		wantMAT := math.NaN()
		if window > 0 {
			var in []tick.Tick
			for _, x := range ticks {
				if x.TS > last.TS-window.Milliseconds() && x.TS <= last.TS {
					in = append(in, x)
				}
			}
			wantMAT = exactMean(in, func(t tick.Tick) float64 { return t.Price })
		}
		wantMA := exactMean(win, func(t tick.Tick) float64 { return t.Price })
		wantMAV := exactMean(win, func(t tick.Tick) float64 { return t.Volume })
		if int(res.Count) != len(win) || !closeTo(res.MA, wantMA, 1e-15) || !closeTo(res.MAVolume, wantMAV, 1e-15) || !closeTo(res.MATime, wantMAT, 1e-15) {
			t.Errorf("%s: count=%d ma=%v mav=%v mat=%v, want %d %v %v %v",
				desc, res.Count, res.MA, res.MAVolume, res.MATime, len(win), wantMA, wantMAV, wantMAT)
		}
	}
	f("first tick", 3, 0, []tk{{0, 100, 10}})
	f("window not yet full", 3, 0, []tk{{0, 100, 10}, {1000, 103, 30}})
	f("window just full", 3, 0, []tk{{0, 100, 10}, {1000, 103, 30}, {2000, 98, 0}})
	f("window wrapped", 3, 0, []tk{{0, 100, 10}, {1000, 103, 30}, {2000, 98, 0}, {3000, 97, 5}, {4000, 120, 7}})
	f("two-tick window", 2, 0, []tk{{0, 100, 10}, {1000, 103, 30}, {2000, 98, 0}})
	f("out of order, in the window", 3, 0, []tk{{0, 100, 10}, {2000, 103, 30}, {1000, 98, 1}})
	f("out of order, oldest by time, newest by arrival", 2, 0, []tk{{0, 100, 10}, {2000, 103, 30}, {3000, 50, 1}, {1000, 98, 1}})
	f("out-of-order tick then evicted", 2, 0, []tk{{0, 100, 10}, {2000, 103, 30}, {1000, 98, 1}, {3000, 5, 3}, {4000, 6, 4}})
	f("huge value left the window", 2, 0, []tk{{0, 1e300, 1e300}, {1, 1e-300, 0}, {2, 3e-300, 1}})
	f("time window, one tick", 3, 10*time.Second, []tk{{0, 100, 10}})
	f("time window, ticks leave", 100, 10*time.Second, []tk{{0, 100, 10}, {5000, 103, 30}, {10_000, 98, 0}, {15_000, 97, 5}})
	f("time window, bound exclusive", 100, 10*time.Second, []tk{{0, 100, 10}, {10_000, 98, 0}})
	f("time window, gap empties it", 100, 10*time.Second, []tk{{0, 100, 10}, {1000, 98, 0}, {60_000, 97, 5}})
	f("time window, out of order", 100, 10*time.Second, []tk{{0, 100, 10}, {9000, 103, 30}, {12_000, 98, 0}, {9500, 97, 5}})
	f("time window, out of order reaches past the window", 100, 10*time.Second, []tk{{0, 100, 10}, {1500, 70, 1}, {12_000, 98, 0}, {10_000, 97, 5}})
	f("time window shorter than lateness", 100, time.Second, []tk{{0, 100, 10}, {1000, 99, 1}, {2000, 98, 0}, {500, 97, 5}})
}

// TestRejectedTicksLeaveNoTrace runs a stream with and without its rejected
// ticks; every accepted tick must get bit-identical results.
func TestRejectedTicksLeaveNoTrace(t *testing.T) {
	cfg := testConfig(nil)
	rng := rand.New(rand.NewPCG(3, 3))
	in := genStream(rng, streamOpts{n: 5000, symbols: cfg.Symbols, lateness: 3000, future: 60000})
	all, kept := newRunner(mustNew(t, cfg)), newRunner(mustNew(t, cfg))
	rejected := 0
	for i := range in {
		a := *all.process(&in[i].t, in[i].rec)
		if a.Reject != tick.OK {
			rejected++
			continue
		}
		b := kept.process(&in[i].t, in[i].rec)
		if !sameResult(&a, b) {
			t.Fatalf("tick %d %+v: with rejects %+v, without %+v", i, in[i].t, a, *b)
		}
	}
	if rejected == 0 {
		t.Fatal("the stream has no rejects")
	}
}

// sameResult reports whether two Results are bit-identical.
func sameResult(a, b *Result) bool {
	bits := math.Float64bits
	if a.Reject != b.Reject || a.Count != b.Count || bits(a.MA) != bits(b.MA) || bits(a.MAVolume) != bits(b.MAVolume) ||
		bits(a.MATime) != bits(b.MATime) || a.VolumeSpike != b.VolumeSpike || a.PriceDrop != b.PriceDrop || len(a.Alerts) != len(b.Alerts) {
		return false
	}
	for i := range a.Alerts {
		x, y := a.Alerts[i], b.Alerts[i]
		if x.Symbol != y.Symbol || x.Kind != y.Kind || x.TS != y.TS || x.Rule != y.Rule || bits(x.Observed) != bits(y.Observed) ||
			bits(x.Threshold) != bits(y.Threshold) || bits(x.Reference) != bits(y.Reference) {
			return false
		}
	}
	return true
}

// TestMovingAverageDrift streams 10^8 ticks (10^7 with -short) through the
// windows, with regimes of ordinary prices, wildly mixed magnitudes and tiny
// values, and compares the means with exact sums of the last N ticks at
// scattered points, including just after huge values have left the window.
func TestMovingAverageDrift(t *testing.T) {
	total := 100_000_000
	if testing.Short() {
		total = 10_000_000
	}
	const (
		n       = 300
		span    = 150 // ticks in the time window: one tick per second, 149.5 s
		regime  = 1_000_003
		checkEv = 100_003
	)
	p := mustNew(t, testConfig(func(c *config.Config) {
		c.Average = config.Average{Ticks: n, Window: 149*time.Second + 500*time.Millisecond}
		c.Anomaly.Overrides = nil
	}))
	st := p.NewState("AAA")
	clean, ma := &p.clean, &p.average
	rng := rand.New(rand.NewPCG(11, 13))
	var prices, volumes [n]float64 // the last n, by i mod n
	var res Result
	tk := tick.Tick{Symbol: "AAA", TS: 1_000_000_000}
	checks := 0
	for i := 0; i < total; i++ {
		tk.TS += 1000
		switch r, mode := rng.Float64(), (i/regime)%3; {
		case mode == 1 && r < 0.01:
			tk.Price, tk.Volume = 1e12*(1+rng.Float64()), 1e15*rng.Float64()
		case mode == 1 && r < 0.02:
			tk.Price, tk.Volume = 1e-6*(1+rng.Float64()), 1e-6*rng.Float64()
		case mode == 2:
			tk.Price, tk.Volume = 1e-4+1e-6*rng.Float64(), 1e-3*rng.Float64()
		default:
			tk.Price, tk.Volume = 100+rng.NormFloat64(), 1000*rng.Float64()
		}
		prices[i%n], volumes[i%n] = tk.Price, tk.Volume
		res.Reject = tick.OK
		clean.Process(st, &tk, tk.TS, &res)
		ma.Process(st, &tk, tk.TS, &res)
		if res.Reject != tick.OK {
			t.Fatalf("tick %d rejected: %q", i, res.Reject)
		}
		if i%checkEv != 0 && i%regime != n+1 && i != total-1 && i > 2*n {
			continue
		}
		checks++
		k := min(i+1, n)
		last := func(xs *[n]float64, m int) []float64 {
			out := make([]float64, 0, m)
			for j := i - m + 1; j <= i; j++ {
				out = append(out, xs[j%n])
			}
			return out
		}
		wantMA := exactSum(last(&prices, k)) / float64(k)
		wantMAV := exactSum(last(&volumes, k)) / float64(k)
		kt := min(i+1, span)
		wantMAT := exactSum(last(&prices, kt)) / float64(kt)
		if !closeTo(res.MA, wantMA, 1e-12) || !closeTo(res.MAVolume, wantMAV, 1e-12) || !closeTo(res.MATime, wantMAT, 1e-12) {
			t.Fatalf("tick %d: ma=%v mav=%v mat=%v, exact %v %v %v (rel err %.2g %.2g %.2g)", i,
				res.MA, res.MAVolume, res.MATime, wantMA, wantMAV, wantMAT,
				math.Abs(res.MA-wantMA)/wantMA, math.Abs(res.MAVolume-wantMAV)/wantMAV, math.Abs(res.MATime-wantMAT)/wantMAT)
		}
	}
	t.Logf("%d ticks, %d checks", total, checks)
	if checks < total/checkEv {
		t.Fatalf("only %d checks", checks)
	}
}
