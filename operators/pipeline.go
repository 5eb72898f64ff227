package operators

import (
	"fmt"
	"math"

	"github.com/tickstream/tickstream/config"
	"github.com/tickstream/tickstream/tick"
)

// Pipeline runs clean → moving average → anomaly on each tick of a symbol.
// It is immutable after New, so all partition tasks share one; the mutable
// part is the State each task keeps per symbol.
type Pipeline struct {
	// The steps run in this order and are called directly, not through an
	// []Operator: an interface call makes the compiler assume t escapes,
	// which would cost the caller an allocation per tick.
	clean   clean
	average movingAverage
	anomaly anomaly

	known map[string]struct{}
	pass  bool // unknown_symbols: "pass"

	global    rules
	overrides map[string]rules

	shape shape
}

var _ Operator = (*Pipeline)(nil)

// New builds the pipeline from the clean, moving_average and anomaly
// sections and the symbol list of cfg, after cfg.Validate: the operators rely
// on its limits (window sizes, non-negative durations, warmup within the
// window) and report config errors in its words.
func New(cfg *config.Config) (*Pipeline, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid config: %w", err)
	}
	syms := cfg.AllSymbols()
	p := &Pipeline{
		known:     make(map[string]struct{}, len(syms)),
		pass:      cfg.Clean.UnknownSymbols == "pass",
		global:    resolve(cfg.Anomaly.Thresholds),
		overrides: make(map[string]rules, len(cfg.Anomaly.Overrides)),
		shape: shape{
			ticks:    cfg.Average.Ticks,
			window:   cfg.Average.Window.Milliseconds(),
			lateness: cfg.Clean.AllowedLateness.Milliseconds(),
		},
	}
	for _, s := range syms {
		p.known[s] = struct{}{}
	}
	for s := range cfg.Anomaly.Overrides {
		p.overrides[s] = resolve(cfg.Anomaly.For(s))
	}
	p.clean = clean{lateness: p.shape.lateness, maxFuture: cfg.Clean.MaxFuture.Milliseconds()}
	p.average = movingAverage{ticks: p.shape.ticks, window: p.shape.window, lateness: p.shape.lateness}
	return p, nil
}

// Admit says whether ticks of symbol may enter the pipeline: OK for a
// configured symbol or when unknown_symbols is "pass", UnknownSymbol
// otherwise. Call it before making a State, so dropped symbols cost no memory.
func (p *Pipeline) Admit(symbol string) tick.Reason {
	if p.pass {
		return tick.OK
	}
	if _, ok := p.known[symbol]; ok {
		return tick.OK
	}
	return tick.UnknownSymbol
}

// NewState returns the empty state of symbol, with its thresholds resolved
// and its count window allocated; the time window and duplicate memory grow
// on demand and then stay.
func (p *Pipeline) NewState(symbol string) *State {
	r, ok := p.overrides[symbol]
	if !ok {
		r = p.global
	}
	return newState(symbol, r, p.shape)
}

// Process runs the steps on t, stopping at the first reject. recordTS is the
// Kafka record timestamp in Unix ms. It resets out first.
func (p *Pipeline) Process(st *State, t *tick.Tick, recordTS int64, out *Result) {
	*out = Result{MATime: math.NaN()}
	out.Alerts = out.alertBuf[:0]
	if p.clean.Process(st, t, recordTS, out); out.Reject != tick.OK {
		return
	}
	p.average.Process(st, t, recordTS, out)
	p.anomaly.Process(st, t, recordTS, out)
}
