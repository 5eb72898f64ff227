package poll

import (
	"fmt"
	"math"
	"time"
)

// Limits are what a provider allows and what the feed wants of it.
type Limits struct {
	// Interval is the wanted time between two polls of one symbol.
	Interval time.Duration
	// RPS caps requests per second to the provider (0: no cap).
	RPS float64
	// PerMinute and PerDay cap requests per minute and per day (0: no cap).
	PerMinute, PerDay int
}

// Plan says how often each symbol can be polled: the period P between two
// polls of one symbol, the request rate it takes, and which limit set P.
type Plan struct {
	Symbols int
	Period  time.Duration
	// Rate is requests per second at that period: Symbols / Period.
	Rate float64
	// Bound names what set the period: "interval", "rps",
	// "requests_per_minute" or "requests_per_day".
	Bound string
}

// NewPlan is the shortest period that keeps every limit for n symbols: the
// wanted interval, or n requests spread at the slowest allowed rate.
func NewPlan(n int, l Limits) Plan {
	p := Plan{Symbols: n, Period: l.Interval, Bound: "interval"}
	if n <= 0 {
		return p
	}
	need := func(rate float64, bound string) {
		if rate <= 0 {
			return
		}
		// Round up to the millisecond so the schedule never runs above the rate.
		d := time.Duration(math.Ceil(float64(n)/rate*1e3)) * time.Millisecond
		if d > p.Period {
			p.Period, p.Bound = d, bound
		}
	}
	need(l.RPS, "rps")
	need(float64(l.PerMinute)/60, "requests_per_minute")
	need(float64(l.PerDay)/86400, "requests_per_day")
	if p.Period > 0 {
		p.Rate = float64(n) / p.Period.Seconds()
	}
	return p
}

// MeetsOneHz reports whether every symbol gets at least one update a
// second, the rate the engine is built for.
func (p Plan) MeetsOneHz() bool { return p.Period <= time.Second }

// String is the start-up line: "1000 symbols, each polled every 1m40s
// (10.0 requests/s; set by rps)".
func (p Plan) String() string {
	return fmt.Sprintf("%d symbols, each polled every %s (%.3g requests/s; set by %s)",
		p.Symbols, p.Period, p.Rate, p.Bound)
}
