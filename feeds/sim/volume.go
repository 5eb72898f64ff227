package sim

import (
	"math"
	"math/rand/v2"
	"time"
)

// The US session in UTC minutes (fixed: no daylight saving, no holidays).
const (
	sessionOpen  = 14*60 + 30
	sessionClose = 21 * 60
	sessionRamp  = 45  // minutes to climb from the off level before the open, and back after the close
	offSession   = 0.2 // volume outside the session, as a share of the midday level
)

const (
	// volumeNoise is the sd of the per-tick log noise, cut at ±2.5 sd: one
	// tick is at most e^0.55 ≈ 1.7× its typical volume.
	volumeNoise = 0.22
	// The activity factor is a slow AR(1) in log volume: busy and quiet
	// stretches of a few minutes, at most e^±0.4.
	activityLag = 10 * time.Minute
	activitySd  = 0.15
	activityMax = 0.4
	// regimeVolumeLag smooths the regime's volume factor so a switch to
	// stressed builds up over minutes instead of jumping.
	regimeVolumeLag = 2 * time.Minute
	// Planted spikes: 15–25× the typical volume, and at least twice the
	// default spike_min_volume.
	spikeMin, spikeSpan = 15, 10
	spikeFloor          = 2000
)

// regimeVolume is the log of each regime's volume factor.
var regimeVolume = [numRegimes]float64{math.Log(0.8), 0, math.Log(1.6)}

// profile holds the intraday factors of one round's event time.
type profile struct {
	volume     float64 // U-shaped, 1 at midday
	volatility float64 // sqrt of volume: busy markets move more
	spread     float64 // wider when thin
}

func profileAt(ts int64) profile {
	u := volumeProfile(ts)
	return profile{volume: u, volatility: math.Sqrt(u), spread: clamp(1/math.Sqrt(u), 0.8, 2.2)}
}

// volumeProfile is the intraday volume level at ts: a U over the session,
// higher at the open than at the close, with log-linear ramps to and from the
// off-session level so that no 300-tick window sees a cliff.
func volumeProfile(ts int64) float64 {
	const day = 24 * 60 * 60 * 1000
	days := floorDiv(ts, day)
	if wd := (days + 4) % 7; wd == 0 || wd == 6 { // 1970-01-01 was a Thursday
		return offSession
	}
	m := float64(ts-days*day) / 60000
	switch {
	case m < sessionOpen-sessionRamp || m >= sessionClose+sessionRamp:
		return offSession
	case m < sessionOpen:
		return offSession * math.Pow(inSession(0)/offSession, (m-(sessionOpen-sessionRamp))/sessionRamp)
	case m < sessionClose:
		return inSession((m - sessionOpen) / (sessionClose - sessionOpen))
	default:
		return inSession(1) * math.Pow(offSession/inSession(1), (m-sessionClose)/sessionRamp)
	}
}

// inSession is the U over the session, x from 0 (open) to 1 (close): 2.5 at
// the open, 1 at midday, 2.2 at the close.
func inSession(x float64) float64 {
	return 1 + 1.5*math.Exp(-x/0.08) + 1.2*math.Exp(-(1-x)/0.06)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// volumeState is a symbol's volume process and the exact sum of its last
// volWindow volumes, which caps the noise.
type volumeState struct {
	base   float64 // typical volume per tick at midday, normal regime
	regLog float64 // smoothed log regime factor
	actLog float64 // log activity factor

	ring []uint32 // the last volWindow volumes
	head int      // next slot to write
	n    int64    // volumes in ring
	sum  int64
}

func (v *volumeState) init(rng *rand.Rand, ring []uint32) {
	v.base = 50 * math.Pow(40, rng.Float64()) // 50–2000 shares, log-uniform
	v.ring = ring
}

// typical is the volume a tick of y is expected to have now.
func (s *Sim) typical(y *symbol) float64 {
	return y.vol.base * s.prof.volume * math.Exp(y.vol.regLog+y.vol.actLog)
}

// volume makes the volume of y's tick at ts: typical times bounded noise,
// capped below the spike rule, unless a spike is planted on this tick.
func (s *Sim) volume(y *symbol, ts int64) int64 {
	v := &y.vol
	v.regLog += s.p.regAlpha * (regimeVolume[y.regime] - v.regLog)
	v.actLog = clamp(s.p.actPhi*v.actLog+s.p.actSd*y.rng.NormFloat64(), -activityMax, activityMax)
	z := clamp(y.rng.NormFloat64(), -2.5, 2.5)
	q := max(int64(math.Round(v.base*s.prof.volume*math.Exp(v.regLog+v.actLog+volumeNoise*z))), 1)
	if s.round == y.spike {
		q = s.plantSpike(y, ts)
	} else if v.n > 0 {
		// Integer arithmetic: the cap is exact, so "< 5× the mean" is a
		// fact whatever the window holds.
		if limit := volumeCap * v.sum / v.n; q > limit {
			q = limit
			s.stats.volumeClamps++
		}
	}
	v.push(q)
	return q
}

func (v *volumeState) mean() float64 {
	if v.n == 0 {
		return 0
	}
	return float64(v.sum) / float64(v.n)
}

func (v *volumeState) push(q int64) {
	q = min(q, math.MaxUint32)
	if v.n == int64(len(v.ring)) {
		v.sum -= int64(v.ring[v.head])
	} else {
		v.n++
	}
	v.ring[v.head] = uint32(q)
	v.sum += q
	if v.head++; v.head == len(v.ring) {
		v.head = 0
	}
}
