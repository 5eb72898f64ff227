package operators

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tickstream/tickstream/config"
	"github.com/tickstream/tickstream/tick"
)

// model is the pipeline's specification written the slow, obvious way: it
// keeps every accepted tick of a symbol and recomputes every answer from
// scratch, with exact big.Float sums. The real pipeline must agree with it.
type model struct {
	cfg  *config.Config
	syms map[string]*modelSym
}

type modelSym struct {
	acc                       []tick.Tick // accepted, in arrival order
	spikeOn, dropOn           bool        // condition on the previous accepted tick
	spikeAlerted, dropAlerted bool
	spikeLast, dropLast       int64
}

type modelResult struct {
	reject       tick.Reason
	ma, mav, mat float64
	count        int
	spike, drop  bool
	alerts       []Alert
}

func newModel(cfg *config.Config) *model { return &model{cfg: cfg, syms: map[string]*modelSym{}} }

// thresholds merges a symbol's override field by field.
func (m *model) thresholds(sym string) config.Thresholds {
	th := m.cfg.Anomaly.Thresholds
	o, ok := m.cfg.Anomaly.Overrides[sym]
	if !ok {
		return th
	}
	if o.WarmupTicks != nil {
		th.WarmupTicks = *o.WarmupTicks
	}
	if o.Cooldown != nil {
		th.Cooldown = *o.Cooldown
	}
	if o.SpikeFactor != nil {
		th.SpikeFactor = *o.SpikeFactor
	}
	if o.SpikeMinVolume != nil {
		th.SpikeMinVolume = *o.SpikeMinVolume
	}
	if o.DropFromMaxPct != nil {
		th.DropFromMaxPct = *o.DropFromMaxPct
	}
	if o.DropReturnPct != nil {
		th.DropReturnPct = *o.DropReturnPct
	}
	if o.DropReturnWindow != nil {
		th.DropReturnWindow = *o.DropReturnWindow
	}
	return th
}

func ms(d time.Duration) int64 { return int64(d / time.Millisecond) }

func (m *model) process(t tick.Tick, recordTS int64) modelResult {
	bad := func(x float64) bool { return math.IsNaN(x) || math.IsInf(x, 0) || x < 0 }
	switch {
	case bad(t.Price) || t.Price == 0:
		return modelResult{reject: tick.BadPrice}
	case bad(t.Volume):
		return modelResult{reject: tick.BadVolume}
	case bad(t.Bid) || bad(t.Ask):
		return modelResult{reject: tick.BadQuote}
	case t.TS-recordTS > ms(m.cfg.Clean.MaxFuture):
		return modelResult{reject: tick.FutureTS}
	}
	s := m.syms[t.Symbol]
	if s == nil {
		s = &modelSym{}
		m.syms[t.Symbol] = s
	}
	if len(s.acc) > 0 {
		newest := s.acc[0].TS
		for _, a := range s.acc {
			newest = max(newest, a.TS)
		}
		if t.TS < newest-ms(m.cfg.Clean.AllowedLateness) {
			return modelResult{reject: tick.Late}
		}
		for _, a := range s.acc {
			if a.TS == t.TS {
				return modelResult{reject: tick.Duplicate}
			}
		}
	}
	n := m.cfg.Average.Ticks
	before := s.acc[max(len(s.acc)-n, 0):]
	s.acc = append(s.acc, t)
	win := s.acc[max(len(s.acc)-n, 0):]

	price := func(a tick.Tick) float64 { return a.Price }
	volume := func(a tick.Tick) float64 { return a.Volume }
	r := modelResult{
		ma:    exactMean(win, price),
		mav:   exactMean(win, volume),
		count: len(win),
		mat:   math.NaN(),
	}
	if w := ms(m.cfg.Average.Window); w > 0 {
		var in []tick.Tick
		for _, a := range s.acc {
			if a.TS > t.TS-w && a.TS <= t.TS {
				in = append(in, a)
			}
		}
		r.mat = exactMean(in, price)
	}

	th := m.thresholds(t.Symbol)
	warm := len(before) >= max(th.WarmupTicks, 1)
	var spikeAt, meanBefore float64
	if warm && th.SpikeFactor > 0 {
		meanBefore = exactMean(before, volume)
		spikeAt = max(th.SpikeFactor*meanBefore, th.SpikeMinVolume)
		r.spike = t.Volume >= spikeAt
	}
	rule, dropAt, ref := "", 0.0, 0.0
	if warm && th.DropFromMaxPct > 0 {
		hi := 0.0
		for _, a := range win {
			hi = max(hi, a.Price)
		}
		ref, dropAt, rule = hi, (1-th.DropFromMaxPct/100)*hi, RuleFromMax
		r.drop = t.Price <= dropAt
	}
	if rw := ms(th.DropReturnWindow); warm && !r.drop && th.DropReturnPct > 0 && rw > 0 {
		found, past := false, tick.Tick{}
		for _, a := range win {
			if a.TS <= t.TS-rw && (!found || a.TS > past.TS) {
				found, past = true, a
			}
		}
		if found {
			ref, dropAt, rule = past.Price, (1-th.DropReturnPct/100)*past.Price, RuleReturn
			r.drop = t.Price <= dropAt
		}
	}
	cool := ms(th.Cooldown)
	if r.spike && !s.spikeOn && (!s.spikeAlerted || t.TS-s.spikeLast >= cool) {
		s.spikeAlerted, s.spikeLast = true, t.TS
		r.alerts = append(r.alerts, Alert{Symbol: t.Symbol, Kind: VolumeSpike, TS: t.TS, Rule: RuleFactor,
			Observed: t.Volume, Threshold: spikeAt, Reference: meanBefore})
	}
	if r.drop && !s.dropOn && (!s.dropAlerted || t.TS-s.dropLast >= cool) {
		s.dropAlerted, s.dropLast = true, t.TS
		r.alerts = append(r.alerts, Alert{Symbol: t.Symbol, Kind: PriceDrop, TS: t.TS, Rule: rule,
			Observed: t.Price, Threshold: dropAt, Reference: ref})
	}
	s.spikeOn, s.dropOn = r.spike, r.drop
	return r
}

// exactMean is the mean of f over ts, summed exactly and rounded once.
func exactMean(ts []tick.Tick, f func(tick.Tick) float64) float64 {
	xs := make([]float64, len(ts))
	for i, t := range ts {
		xs[i] = f(t)
	}
	return exactSum(xs) / float64(len(xs))
}

// exactSum adds xs in 600-bit arithmetic and rounds once. The test values
// span far fewer than 600-53 binary orders of magnitude, so every partial sum
// is exact; it panics if one ever is not.
func exactSum(xs []float64) float64 {
	sum := new(big.Float).SetPrec(600)
	var x big.Float
	for _, v := range xs {
		sum.Add(sum, x.SetFloat64(v))
		if sum.Acc() != big.Exact {
			panic("BUG: exactSum lost precision; raise the precision")
		}
	}
	f, _ := sum.Float64()
	return f
}

// closeTo reports |got − want| ≤ rel·|want|, and NaN only matches NaN.
func closeTo(got, want, rel float64) bool {
	if math.IsNaN(want) || math.IsNaN(got) {
		return math.IsNaN(want) && math.IsNaN(got)
	}
	return math.Abs(got-want) <= rel*math.Abs(want)
}

// compare checks one pipeline Result against the model's.
func compare(t *testing.T, where string, in tick.Tick, got *Result, want modelResult) {
	t.Helper()
	if got.Reject != want.reject {
		t.Fatalf("%s: %+v: reject %q, model says %q", where, in, got.Reject, want.reject)
	}
	if want.reject != tick.OK {
		return
	}
	const rel = 1e-12
	if int(got.Count) != want.count || !closeTo(got.MA, want.ma, rel) || !closeTo(got.MAVolume, want.mav, rel) || !closeTo(got.MATime, want.mat, rel) {
		t.Fatalf("%s: %+v: count=%d ma=%v mav=%v mat=%v; model count=%d ma=%v mav=%v mat=%v",
			where, in, got.Count, got.MA, got.MAVolume, got.MATime, want.count, want.ma, want.mav, want.mat)
	}
	if got.VolumeSpike != want.spike || got.PriceDrop != want.drop {
		t.Fatalf("%s: %+v: spike=%v drop=%v; model %v %v", where, in, got.VolumeSpike, got.PriceDrop, want.spike, want.drop)
	}
	if len(got.Alerts) != len(want.alerts) {
		t.Fatalf("%s: %+v: alerts %+v; model %+v", where, in, got.Alerts, want.alerts)
	}
	for i, a := range got.Alerts {
		w := want.alerts[i]
		if a.Symbol != w.Symbol || a.Kind != w.Kind || a.TS != w.TS || a.Rule != w.Rule || a.Observed != w.Observed ||
			!closeTo(a.Threshold, w.Threshold, rel) || !closeTo(a.Reference, w.Reference, rel) {
			t.Fatalf("%s: %+v: alert %+v; model %+v", where, in, a, w)
		}
	}
}

// input is one tick as the engine would hand it over.
type input struct {
	t   tick.Tick
	rec int64 // Kafka record timestamp, ms
}

// streamOpts shapes a random stream.
type streamOpts struct {
	n        int
	symbols  []string
	lateness int64 // ms; out-of-order ticks reach up to twice this far back
	future   int64 // ms; max_future, to plant ticks just inside and outside
	mixed    bool  // prices and volumes across many orders of magnitude
}

// genStream makes a market-like stream with every kind of trouble mixed in:
// out-of-order, late and duplicate ticks, bad values, future timestamps,
// planted crashes, slides and spikes.
func genStream(rng *rand.Rand, o streamOpts) []input {
	type sym struct {
		ts         int64
		price, vol float64
		recent     []int64
		slide      int // ticks left of a steady decline
	}
	st := map[string]*sym{}
	for _, s := range o.symbols {
		st[s] = &sym{ts: 1_764_000_000_000, price: 100 + rng.Float64()*50, vol: 500}
	}
	out := make([]input, 0, o.n)
	for len(out) < o.n {
		name := o.symbols[rng.IntN(len(o.symbols))]
		s := st[name]
		s.ts += 1 + rng.Int64N(1500)
		ts := s.ts
		switch r := rng.Float64(); {
		case r < 0.06:
			ts -= rng.Int64N(2*o.lateness + 1)
		case r < 0.09 && len(s.recent) > 0:
			ts = s.recent[rng.IntN(len(s.recent))]
		}
		s.recent = append(s.recent, ts)
		if len(s.recent) > 8 {
			s.recent = s.recent[1:]
		}
		switch r := rng.Float64(); {
		case s.slide > 0:
			s.slide--
			s.price *= 0.99
		case r < 0.005:
			s.slide = 5 + rng.IntN(10)
		case r < 0.01:
			s.price *= 0.85
		case r < 0.02:
			s.price *= 1.15
		default:
			s.price *= 1 + 0.003*rng.NormFloat64()
		}
		vol := s.vol * (0.5 + rng.Float64())
		if rng.Float64() < 0.02 {
			vol *= 5 + 20*rng.Float64()
		}
		if rng.Float64() < 0.01 {
			vol = 0
		}
		t := tick.Tick{Symbol: name, TS: ts, Price: s.price, Volume: vol}
		if rng.Float64() < 0.5 {
			t.Bid, t.Ask = s.price*0.999, s.price*1.001
		}
		if o.mixed {
			switch r := rng.Float64(); {
			case r < 0.02:
				t.Price *= 1e9
				t.Volume *= 1e10
			case r < 0.04:
				t.Price *= 1e-7
				t.Volume *= 1e-9
			}
		}
		rec := ts + rng.Int64N(200)
		switch r := rng.Float64(); {
		case r < 0.005:
			rec = ts - o.future - 1 - rng.Int64N(3)
		case r < 0.01:
			rec = ts - o.future + rng.Int64N(2)
		}
		if rng.Float64() < 0.02 {
			spoil(rng, &t)
		}
		out = append(out, input{t: t, rec: rec})
	}
	return out
}

// spoil makes one value of t impossible.
func spoil(rng *rand.Rand, t *tick.Tick) {
	bad := []float64{math.NaN(), math.Inf(1), math.Inf(-1), -1, -1e-300}
	x := bad[rng.IntN(len(bad))]
	switch rng.IntN(5) {
	case 0:
		t.Price = x
	case 1:
		t.Price = 0
	case 2:
		t.Volume = x
	case 3:
		t.Bid = x
	default:
		t.Ask = x
	}
}

func ms2d(ms int64) time.Duration { return time.Duration(ms) * time.Millisecond }
