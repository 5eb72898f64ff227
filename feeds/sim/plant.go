package sim

import (
	"math"
	"math/rand/v2"
)

// never is the round of an event that is not planted.
const never = math.MaxInt64

// Planted drops: the first tick falls 6 %, the whole drop 8–12 % over 2–4
// ticks.
const (
	dropFirst           = 0.94
	dropMin, dropSpan   = 0.08, 0.04
	dropTicks, dropMore = 2, 3 // 2 + IntN(3) ticks
)

// firstEvent draws the round of a symbol's first event of a kind: after the
// warm-up (a full 300-tick window and a minute of history), then at an
// exponential delay with the kind's mean, so symbols do not fire together.
func firstEvent(rng *rand.Rand, p *params, mean float64) int64 {
	if mean == 0 {
		return never
	}
	return p.warm + int64(rng.ExpFloat64()*mean)
}

// nextEvent draws the round of the next event of a kind after one that
// started in round from and whose Until falls before round until. It comes
// at least p.sep rounds after until (a full window and the cooldown), and on
// average mean rounds after from when mean leaves room for that.
func nextEvent(rng *rand.Rand, p *params, mean float64, from, until int64) int64 {
	earliest := until + p.sep
	gap := max(mean-float64(earliest-from), mean/10)
	return earliest + int64(rng.ExpFloat64()*gap)
}

func (s *Sim) record(y *symbol, kind string, ts, until int64) {
	s.planted = append(s.planted, Event{Symbol: y.name, Kind: kind, TS: ts, Until: until})
}

// plantSpike returns the volume of a planted spike on y's tick at ts.
func (s *Sim) plantSpike(y *symbol, ts int64) int64 {
	f := spikeMin + spikeSpan*y.rng.Float64()
	q := max(int64(math.Ceil(f*max(y.vol.mean(), s.typical(y)))), spikeFloor)
	s.record(y, KindVolumeSpike, ts, ts)
	y.spike = nextEvent(y.rng, &s.p, s.p.spikeMean, s.round, s.round)
	return q
}

// startDrop plans a drop starting with y's tick at ts and returns that tick's
// price. The first tick is 6 % under both the last price and the lowest
// price of the guard's minute, so it breaks the drop-from-max rule and the
// 60-s return rule at once, whichever tick the detector takes as the price a
// minute ago.
func (s *Sim) startDrop(y *symbol, ts int64) int64 {
	n := dropTicks + y.rng.IntN(dropMore)
	first := int64(math.Floor(dropFirst * float64(min(y.cents, y.g.w60.lo()))))
	total := dropMin + dropSpan*y.rng.Float64()
	bottom := min(int64(math.Floor(float64(y.cents)*(1-total))), first-int64(n-1))
	y.drop.plan(first, bottom, n)

	b := s.round + int64(n-1) // the bottom's round
	until := max(s.tsOf(b+priceWindow-1, s.pos), s.tsOf(b-1, s.pos)+returnWindow+s.p.stepCeil)
	s.record(y, KindPriceDrop, ts, until)
	y.fall = nextEvent(y.rng, &s.p, s.p.dropMean, s.round, b+s.p.dropTail)
	return y.drop.take()
}

// bottomOut ends a drop at c: the guard forgets the prices before the bottom
// (the detector's windows will have too by the event's Until), the walk goes
// on from c, and the market is stressed.
func (y *symbol) bottomOut(c int64, win60 int32) {
	y.g.reset(c, win60)
	y.x = math.Log(float64(c) / 100)
	y.regime = stressed
}

// dropPlan is the price path of a drop in progress.
type dropPlan struct {
	path [dropTicks + dropMore - 1]int64
	n, i int
}

func (d *dropPlan) active() bool { return d.i < d.n }

func (d *dropPlan) take() int64 {
	c := d.path[d.i]
	d.i++
	return c
}

// plan lays n strictly falling prices from first to bottom, geometrically.
func (d *dropPlan) plan(first, bottom int64, n int) {
	d.n, d.i = n, 0
	for k := range n {
		c := int64(math.Floor(float64(first) * math.Pow(float64(bottom)/float64(first), float64(k)/float64(n-1))))
		if k > 0 {
			c = min(c, d.path[k-1]-1)
		}
		d.path[k] = max(c, 1)
	}
}
