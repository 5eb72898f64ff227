package sim

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/tickstream/tickstream/config"
	"github.com/tickstream/tickstream/tick"
)

// Kinds of planted events, spelled like the engine's alert kinds.
const (
	KindVolumeSpike = "volume_spike"
	KindPriceDrop   = "price_drop"
)

// MaxRate is the highest Rate New accepts: above it two ticks of one symbol
// would share an event-time millisecond and the second would be a duplicate.
const MaxRate = 1000

// Event is one planted anomaly.
type Event struct {
	Symbol string
	Kind   string // KindVolumeSpike or KindPriceDrop
	// TS is the event time (Unix ms) of the event's first anomalous tick.
	TS int64
	// Until is the last event time at which a tick of Symbol may still meet
	// the rule because of this event: TS for a spike; for a drop, until the
	// ticks before the bottom have left both the 300-tick window and the
	// 60-s return window. An alert of Kind for Symbol in [TS, Until] belongs
	// to this event.
	Until int64
}

// Sim generates ticks; see the package documentation for the model. A Sim is
// not safe for concurrent use: one goroutine calls Next, and reads Planted
// when it is done (or between calls).
type Sim struct {
	cfg   config.Simulator
	syms  []symbol
	names []string

	start  int64   // event time of round 0, Unix ms
	stepMS float64 // event time between rounds, ms
	offs   []int64 // ts offset of each position within its round
	p      params  // derived from stepMS at the first tick

	round   int64
	pos     int
	ticks   int64
	roundTS int64
	prof    profile // intraday factors of the current round

	planted []Event
	stats   stats

	// pending is the symbol list SetSymbols asked for, taken at the next
	// round's start; nil: no change.
	pending []string
}

// stats counts what the tests want to see from inside.
type stats struct {
	priceClamps  int64 // unplanted prices raised by the hard floor
	volumeClamps int64 // unplanted volumes cut to the cap
	damped       int64 // down moves the guard shrank
	regimeTicks  [numRegimes]int64
}

// params are the per-step constants, fixed once the clock is.
type params struct {
	stepS    float64 // seconds per round
	dtYears  float64 // step in trading years
	sqrtDT   float64
	revert   float64 // share of the gap to the anchor closed per step
	regAlpha float64 // smoothing of the regime's volume factor per step
	actPhi   float64 // AR(1) coefficient of the activity factor
	actSd    float64 // its innovation
	switchP  [numRegimes]float64

	win60     int32 // ticks covering 62 s plus a step: the return window's guard
	stepCeil  int64 // whole ms of the longest gap between a symbol's ticks
	warm      int64 // first round an event may be planted in
	sep       int64 // rounds between an event's Until and the next one of its kind
	dropTail  int64 // rounds from a drop's bottom to the end of its Until
	spikeMean float64
	dropMean  float64
}

// New returns a simulator for symbols whose round 0 starts at start. Rate in
// cfg sets the event-time step (0 means 1 s); Seed fixes everything else.
func New(symbols []string, cfg config.Simulator, start time.Time) (*Sim, error) {
	if err := checkSymbols(symbols); err != nil {
		return nil, err
	}
	if err := checkRate(cfg.Rate); err != nil {
		return nil, err
	}
	if cfg.SpikeEvery < 0 || cfg.DropEvery < 0 {
		return nil, fmt.Errorf("sim: spike_every %v and drop_every %v must not be negative", cfg.SpikeEvery, cfg.DropEvery)
	}
	s := &Sim{
		cfg:   cfg,
		syms:  make([]symbol, len(symbols)),
		names: append([]string(nil), symbols...),
		start: start.UnixMilli(),
	}
	s.stepMS = stepOf(cfg.Rate)
	vols := make([]uint32, len(symbols)*volWindow)
	for i, name := range symbols {
		s.syms[i].init(name, symbolRand(cfg.Seed, name), vols[i*volWindow:(i+1)*volWindow])
	}
	return s, nil
}

func checkRate(rate float64) error {
	if math.IsNaN(rate) || rate < 0 || rate > MaxRate {
		return fmt.Errorf("sim: rate %v updates/s per symbol is outside [0, %d]", rate, MaxRate)
	}
	return nil
}

func stepOf(rate float64) float64 {
	if rate == 0 {
		return 1000
	}
	return 1000 / rate
}

// SetClock moves round 0 to start and sets the step to 1000/rate ms (1 s for
// rate 0). It is how a paced Producer makes event time follow the wall
// clock, and it only works before the first tick: afterwards the planted
// events' times are already fixed.
func (s *Sim) SetClock(start time.Time, rate float64) error {
	if s.ticks > 0 {
		return errors.New("sim: SetClock after the first tick")
	}
	if err := checkRate(rate); err != nil {
		return err
	}
	s.start, s.stepMS = start.UnixMilli(), stepOf(rate)
	return nil
}

// Symbols returns the symbols in round order.
func (s *Sim) Symbols() []string { return append([]string(nil), s.names...) }

// Generated returns the number of ticks generated so far; until SetSymbols
// changes the symbols, modulo their number it is the position of the next
// tick in its round.
func (s *Sim) Generated() int64 { return s.ticks }

// Planted returns a copy of the events planted in the ticks generated so far,
// in generation order.
func (s *Sim) Planted() []Event { return append([]Event(nil), s.planted...) }

// Next writes the next tick into t. It does not allocate, except that the
// log of planted events grows now and then.
func (s *Sim) Next(t *tick.Tick) {
	if s.pos == 0 {
		if s.pending != nil {
			s.applySymbols()
		}
		if s.ticks == 0 {
			s.begin()
		}
		s.roundTS = s.start + int64(math.Floor(float64(s.round)*s.stepMS))
		s.prof = profileAt(s.roundTS)
	}
	y := &s.syms[s.pos]
	ts := s.roundTS + s.offs[s.pos]
	s.advance(y, ts, t)
	s.ticks++
	if s.pos++; s.pos == len(s.syms) {
		s.pos = 0
		s.round++
	}
}

// begin fixes everything that depends on the clock, which SetClock may have
// changed since New.
func (s *Sim) begin() {
	n := len(s.syms)
	s.offs = make([]int64, n)
	for j := range s.offs {
		s.offs[j] = int64(math.Floor(float64(j) * s.stepMS / float64(n)))
	}
	s.p = newParams(s.stepMS, s.cfg)
	for i := range s.syms {
		s.syms[i].begin(&s.p)
	}
}

func newParams(stepMS float64, cfg config.Simulator) params {
	stepS := stepMS / 1000
	p := params{
		stepS:    stepS,
		dtYears:  stepS / tradingSecondsPerYear,
		revert:   -math.Expm1(-stepS * math.Ln2 / revertHalfLife.Seconds()),
		regAlpha: -math.Expm1(-stepS / regimeVolumeLag.Seconds()),
		actPhi:   math.Exp(-stepS / activityLag.Seconds()),
		stepCeil: int64(math.Ceil(stepMS)),
	}
	p.sqrtDT = math.Sqrt(p.dtYears)
	p.actSd = activitySd * math.Sqrt(1-p.actPhi*p.actPhi)
	for r := range p.switchP {
		p.switchP[r] = -math.Expm1(-stepS / regimeStay[r].Seconds())
	}
	// The guard's return window must hold every tick the detector could take
	// as "the price 60 s ago": those up to 60 s plus one step back. Two more
	// seconds and a tick of slack cost nothing.
	ticks60 := int64(math.Ceil((returnWindow+2000+float64(p.stepCeil))/stepMS)) + 1
	p.win60 = int32(ticks60)
	p.warm = volWindow + ticks60 + 10
	p.sep = volWindow + ticks60 + 10
	// A drop's ticks before the bottom stay in the detector's windows for
	// 300 ticks or 60 s plus a step, whichever is longer.
	p.dropTail = max(int64(priceWindow), ticks60)
	if cfg.SpikeEvery > 0 {
		p.spikeMean = cfg.SpikeEvery.Seconds() / stepS
	}
	if cfg.DropEvery > 0 {
		p.dropMean = cfg.DropEvery.Seconds() / stepS
	}
	return p
}

// tsOf is the event time of the tick at pos in round.
func (s *Sim) tsOf(round int64, pos int) int64 {
	return s.start + int64(math.Floor(float64(round)*s.stepMS)) + s.offs[pos]
}
