package sim

import "math"

// The default anomaly rules the noise must stay clear of (config's defaults),
// and how close to them the guard lets it come.
const (
	priceWindow  = 300  // ticks in the drop-from-max window
	volWindow    = 300  // ticks in the volume mean
	dropFromMax  = 0.05 // price ≥ 5 % below the window's max
	dropReturn   = 0.03 // price ≥ 3 % below its level 60 s ago
	returnWindow = 60000.0
	spikeFactor  = 5.0 // volume ≥ 5× the window's mean

	dampStart = 0.4  // down moves shrink from 40 % of a threshold …
	dampFull  = 0.8  // … to nothing at 80 %
	hardFloor = 0.85 // and no unplanted price goes past 85 %
	volumeCap = 4    // unplanted volume ≤ 4× the mean (80 % of the factor)
)

// guard keeps the facts about a symbol's recent prices that the drop rules
// look at, as bounds that err on the safe side.
type guard struct {
	w300 blocks // max over at least the last 300 prices
	w60  blocks // max and min over at least the last 62 s plus a step
}

func (g *guard) reset(c int64, win60 int32) {
	g.w300.reset(c, priceWindow)
	g.w60.reset(c, win60)
}

func (g *guard) add(c int64) {
	g.w300.add(c)
	g.w60.add(c)
}

// pressure is how far price c has fallen toward the nearer drop threshold:
// 0 at the recent high, 1 at the threshold.
func (g *guard) pressure(c int64) float64 {
	return max(fall(c, g.w300.hi())/dropFromMax, fall(c, g.w60.hi())/dropReturn)
}

func fall(c, hi int64) float64 { return 1 - float64(c)/float64(hi) }

// damping scales a down move at price c: 1 until the pressure reaches
// dampStart, then linearly to 0 at dampFull. Since one step moves at most
// maxLogStep (a third of the span in pressure units), a damped fall stops
// before dampFull in practice, and floor is the proof.
func (g *guard) damping(c int64) float64 {
	return clamp((dampFull-g.pressure(c))/(dampFull-dampStart), 0, 1)
}

// floor is the lowest unplanted price allowed now, in cents.
func (g *guard) floor() int64 {
	lo300 := math.Ceil(float64(g.w300.hi()) * (1 - hardFloor*dropFromMax))
	lo60 := math.Ceil(float64(g.w60.hi()) * (1 - hardFloor*dropReturn))
	return int64(max(lo300, lo60))
}

// blocks bounds the max and min of the last size values in O(1) memory: it
// keeps the extremes of the current block and of the previous full one. Their
// union always covers at least the last size values (more is fine: a higher
// max and a lower min only make the guard stricter).
type blocks struct {
	curHi, curLo, prevHi, prevLo int64
	n, size                      int32
}

func (b *blocks) reset(c int64, size int32) {
	*b = blocks{curHi: c, curLo: c, prevHi: c, prevLo: c, n: 1, size: size}
}

func (b *blocks) add(c int64) {
	if b.n == b.size {
		b.prevHi, b.prevLo = b.curHi, b.curLo
		b.curHi, b.curLo, b.n = c, c, 1
		return
	}
	b.curHi, b.curLo = max(b.curHi, c), min(b.curLo, c)
	b.n++
}

func (b *blocks) hi() int64 { return max(b.curHi, b.prevHi) }
func (b *blocks) lo() int64 { return min(b.curLo, b.prevLo) }
