package sim

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/tickstream/tickstream/tick"
)

// Volatility regimes. A symbol spends on average regimeStay in a regime, then
// moves to a neighbour; normal goes to calm or stressed with equal odds. That
// gives roughly 24 % calm, 70 % normal and 6 % stressed.
const (
	calm = iota
	normal
	stressed
	numRegimes
)

var (
	regimeStay   = [numRegimes]time.Duration{40 * time.Minute, 60 * time.Minute, 10 * time.Minute}
	regimeVol    = [numRegimes]float64{0.5, 1, 3}
	regimeSpread = [numRegimes]float64{0.8, 1, 2.5}
)

const (
	// Volatility is quoted per trading year; event time runs through nights
	// and weekends at the reduced off-session level of the profile.
	tradingSecondsPerYear = 252 * 6.5 * 3600
	// revertHalfLife pulls the log price back to its start so that long runs
	// and repeated drops keep prices in a sane range.
	revertHalfLife = 72 * time.Hour
	// maxLogStep bounds one tick's move. Only very low rates come near it; it
	// is what lets the damping below stop a fall before the hard floor.
	maxLogStep = 0.01
	minCents   = 100 // prices stay at or above $1 outside planted drops
)

// symbol is one stock's state. Only Next's goroutine touches it.
type symbol struct {
	name string
	rng  *rand.Rand

	x, x0      float64 // log of the unrounded price, and where it reverts to
	mu, sigma  float64 // annual drift and volatility
	cents      int64   // last published price
	regime     uint8
	halfSpread float64 // half the quoted spread, in bps, in the normal regime

	g     guard
	drop  dropPlan
	spike int64 // round of the next planted spike
	fall  int64 // round of the next planted drop

	vol volumeState
}

func (y *symbol) init(name string, rng *rand.Rand, ring []uint32) {
	y.name, y.rng = name, rng
	y.x0 = math.Log(10 + 490*math.Pow(rng.Float64(), 2)) // $10–$500, most cheaper
	y.x = y.x0
	y.cents = int64(math.Round(math.Exp(y.x) * 100))
	y.mu = -0.05 + 0.2*rng.Float64()
	y.sigma = 0.15 + 0.3*rng.Float64()
	y.halfSpread = 1 + 3*rng.Float64()
	y.regime = normal
	y.vol.init(rng, ring)
}

// begin readies the parts that depend on the step: the guard and the first
// planted events.
func (y *symbol) begin(p *params) {
	y.g.reset(y.cents, p.win60)
	y.spike = firstEvent(y.rng, p, p.spikeMean)
	y.fall = firstEvent(y.rng, p, p.dropMean)
}

// advance makes the tick of y at ts.
func (s *Sim) advance(y *symbol, ts int64, t *tick.Tick) {
	y.switchRegime(&s.p)
	s.stats.regimeTicks[y.regime]++

	var c int64
	switch {
	case y.drop.active():
		c = y.drop.take()
		if !y.drop.active() {
			y.bottomOut(c, s.p.win60)
		}
	case s.round == y.fall:
		c = s.startDrop(y, ts)
	default:
		c = s.walk(y)
	}
	y.g.add(c)
	y.cents = c

	v := s.volume(y, ts)

	bid, ask := s.quote(y, c)
	*t = tick.Tick{
		Symbol: y.name,
		TS:     ts,
		Price:  float64(c) / 100,
		Volume: float64(v),
		Bid:    float64(bid) / 100,
		Ask:    float64(ask) / 100,
	}
}

func (y *symbol) switchRegime(p *params) {
	if y.rng.Float64() >= p.switchP[y.regime] {
		return
	}
	switch y.regime {
	case calm, stressed:
		y.regime = normal
	default:
		if y.rng.Float64() < 0.5 {
			y.regime = calm
		} else {
			y.regime = stressed
		}
	}
}

// walk moves the price one GBM step, kept off the drop thresholds by the
// guard, and returns it in cents.
func (s *Sim) walk(y *symbol) int64 {
	sd := y.sigma * regimeVol[y.regime] * s.prof.volatility * s.p.sqrtDT
	z := clamp(y.rng.NormFloat64(), -4, 4)
	r := y.mu*s.p.dtYears - sd*sd/2 + s.p.revert*(y.x0-y.x) + sd*z
	if r < 0 {
		if d := y.g.damping(y.cents); d < 1 {
			r *= d
			s.stats.damped++
		}
	}
	y.x += clamp(r, -maxLogStep, maxLogStep)
	c := int64(math.Round(math.Exp(y.x) * 100))
	if c < minCents {
		c = minCents
		y.x = math.Log(minCents / 100)
	}
	if lo := y.g.floor(); c < lo {
		c = lo
		y.x = math.Log(float64(c) / 100)
		s.stats.priceClamps++
	}
	return c
}

// quote returns bid and ask in cents around c: a few bps, wider when stressed
// and outside the session, with a little noise, at least a cent from c.
func (s *Sim) quote(y *symbol, c int64) (bid, ask int64) {
	half := float64(c) * y.halfSpread / 1e4 * regimeSpread[y.regime] * s.prof.spread * (1 + 0.5*y.rng.Float64())
	bid = min(int64(math.Floor(float64(c)-half)), c-1)
	ask = max(int64(math.Ceil(float64(c)+half)), c+1)
	return max(bid, 1), ask
}

func clamp(x, lo, hi float64) float64 { return min(max(x, lo), hi) }
