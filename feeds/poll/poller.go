package poll

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"golang.org/x/time/rate"

	"github.com/tickstream/tickstream/feeds/feedstats"
	"github.com/tickstream/tickstream/feeds/produce"
)

// Config configures a Poller.
type Config struct {
	Provider string   // label for logs and metrics: yahoo, alphavantage
	Symbols  []string // polled in this order within each period
	Limits
	// Concurrency bounds the requests in flight (at least 1).
	Concurrency int
	// Timeout bounds one request, body included (0: 10 s).
	Timeout time.Duration
	// StaleAfter flags ticks older than this when produced (0: never).
	StaleAfter time.Duration
	// Backoff is the first provider-wide pause after a refusal; each refusal
	// in a row doubles it, up to MaxBackoff. Defaults 1 s and 5 min.
	Backoff, MaxBackoff time.Duration
	// LogEvery is how often the summary is logged, and the least time
	// between two logged failures of one symbol (0: 1 min).
	LogEvery time.Duration
	// Now is the clock (nil: time.Now); it dates fetches and decides
	// staleness. Sleeps are on the real clock, so a replacement should
	// advance with it.
	Now func() time.Time
}

// Poller polls a Provider for every symbol on its Plan and produces the
// ticks through a produce.Producer.
type Poller struct {
	cfg   Config
	prov  Provider
	out   *produce.Producer
	log   *zap.Logger
	plan  Plan
	lim   *rate.Limiter // nil: no rate cap
	Stats *feedstats.Stats

	syms []*symbol

	mu         sync.Mutex // guards the provider-wide back-off below
	pauseUntil time.Time
	refusals   int // refusals in a row

	now func() time.Time // the clock, replaceable in tests
}

// symbol is one symbol's scheduling state. busy hands it to one worker at a
// time, which then owns track, fails and the log throttle; the atomics are
// read by the dispatcher and the summary.
type symbol struct {
	track   *Track
	busy    atomic.Bool
	retryAt atomic.Int64 // Unix ns before which the symbol is not polled

	lastOK atomic.Int64 // Unix ns of the last successful fetch

	fails      int // failures in a row
	lastLogged time.Time
	held       int // failures not logged since lastLogged
}

// New checks cfg and returns a Poller; Plan says how often each symbol will
// be polled.
func New(cfg Config, prov Provider, out *produce.Producer, log *zap.Logger) (*Poller, error) {
	switch {
	case prov == nil || out == nil || log == nil:
		return nil, errors.New("poll: need a provider, a producer and a logger")
	case len(cfg.Symbols) == 0:
		return nil, fmt.Errorf("poll %s: no symbols", cfg.Provider)
	case cfg.Interval <= 0:
		return nil, fmt.Errorf("poll %s: interval must be positive, got %s", cfg.Provider, cfg.Interval)
	case cfg.RPS < 0 || cfg.PerMinute < 0 || cfg.PerDay < 0:
		return nil, fmt.Errorf("poll %s: negative rate limit", cfg.Provider)
	}
	cfg.Concurrency = max(cfg.Concurrency, 1)
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = time.Second
	}
	if cfg.MaxBackoff < cfg.Backoff {
		cfg.MaxBackoff = max(5*time.Minute, cfg.Backoff)
	}
	if cfg.LogEvery <= 0 {
		cfg.LogEvery = time.Minute
	}
	p := &Poller{
		cfg: cfg, prov: prov, out: out, log: log.With(zap.String("provider", cfg.Provider)),
		plan:  NewPlan(len(cfg.Symbols), cfg.Limits),
		Stats: &feedstats.Stats{Provider: cfg.Provider},
		now:   cfg.Now,
	}
	if p.now == nil {
		p.now = time.Now
	}
	// One token at a time at the plan's rate: the limiter is the guard that
	// the schedule never exceeds a limit, even when it catches up.
	if p.plan.Bound != "interval" {
		p.lim = rate.NewLimiter(rate.Limit(p.plan.Rate), 1)
	}
	seen := map[string]bool{}
	for _, s := range cfg.Symbols {
		if seen[s] {
			return nil, fmt.Errorf("poll %s: symbol %q listed twice", cfg.Provider, s)
		}
		seen[s] = true
		p.syms = append(p.syms, &symbol{track: NewTrack(s)})
	}
	return p, nil
}

// Plan is the schedule the Poller keeps.
func (p *Poller) Plan() Plan { return p.plan }

// Run polls until ctx ends, then waits for requests in flight and returns
// nil; it returns early with an error only when producing fails. It does
// not flush the producer: the caller does, once every feed sharing it ended.
func (p *Poller) Run(ctx context.Context) error {
	p.logPlan()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var failOnce sync.Once
	var failure error // the first produce error, which stops the poller
	// idle holds a token per idle worker: the dispatcher takes one before it
	// asks the rate limiter, so a request is sent when its token is granted,
	// not whenever a busy worker frees up.
	idle := make(chan struct{}, p.cfg.Concurrency)
	work := make(chan *symbol, p.cfg.Concurrency)
	var wg sync.WaitGroup
	for range p.cfg.Concurrency {
		idle <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := worker{p: p, out: p.out.NewWriter(ctx)}
			for s := range work {
				if err := w.poll(ctx, s); err != nil {
					failOnce.Do(func() { failure = err })
					cancel()
				}
				s.busy.Store(false)
				idle <- struct{}{}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		summary := time.NewTicker(p.cfg.LogEvery)
		defer summary.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-summary.C:
				p.logSummary()
			}
		}
	}()

	p.dispatch(ctx, idle, work)
	close(work)
	wg.Wait()
	p.logSummary()
	if failure != nil {
		return fmt.Errorf("poll %s: %w", p.cfg.Provider, failure)
	}
	return nil
}

// dispatch hands symbols to the workers on schedule: slot k is due at
// start + k·P/N, symbol k mod N. A dispatcher that fell behind (every worker
// busy, a pause) goes on from where it is instead of bursting to catch up.
// A slot whose symbol is still in flight or backing off is skipped.
func (p *Poller) dispatch(ctx context.Context, idle <-chan struct{}, work chan<- *symbol) {
	n := len(p.syms)
	step := p.plan.Period / time.Duration(n)
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	due := p.now()
	for k := 0; ; k++ {
		if !p.sleepUntil(ctx, timer, due) || !p.sleepUntil(ctx, timer, p.pausedUntil()) {
			return
		}
		s := p.syms[k%n]
		if s.busy.Load() || p.now().UnixNano() < s.retryAt.Load() {
			p.Stats.SkippedSlots.Add(1)
		} else {
			select {
			case <-idle:
			case <-ctx.Done():
				return
			}
			if p.lim != nil {
				r := p.lim.Reserve()
				if d := r.Delay(); d > 0 {
					p.Stats.Waited(d)
					if !p.sleepUntil(ctx, timer, p.now().Add(d)) {
						r.Cancel()
						return
					}
				}
			}
			// A refusal may have come in while this slot waited.
			if !p.sleepUntil(ctx, timer, p.pausedUntil()) {
				return
			}
			s.busy.Store(true)
			work <- s // a worker is idle: never blocks
		}
		due = due.Add(step)
		if now := p.now(); now.Sub(due) > p.plan.Period {
			due = now
		}
	}
}

// sleepUntil waits for t; false when ctx ended first.
func (p *Poller) sleepUntil(ctx context.Context, timer *time.Timer, t time.Time) bool {
	d := t.Sub(p.now())
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer.Reset(d)
	select {
	case <-ctx.Done():
		timer.Stop()
		return false
	case <-timer.C:
		return true
	}
}

func (p *Poller) pausedUntil() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pauseUntil
}

// refused pauses the provider after a refusal: Backoff·2^(refusals in a row
// − 1), at most MaxBackoff, or the provider's Retry-After if longer. It
// reports whether this started a pause (the first refusal seen while not
// paused), so only that one is logged.
func (p *Poller) refused(e *Error) (time.Duration, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if now.Before(p.pauseUntil) {
		return p.pauseUntil.Sub(now), false // a request sent before the pause
	}
	p.refusals++
	d := p.cfg.Backoff << min(p.refusals-1, 30)
	if d > p.cfg.MaxBackoff || d <= 0 {
		d = p.cfg.MaxBackoff
	}
	d = max(d, e.RetryAfter)
	p.pauseUntil = now.Add(d)
	p.Stats.Pauses.Add(1)
	return d, true
}

func (p *Poller) accepted() {
	p.mu.Lock()
	p.refusals = 0
	p.mu.Unlock()
}

// worker polls the symbols handed to it; it owns its Writer and buffers.
type worker struct {
	p    *Poller
	out  *produce.Writer
	snap Snapshot
	outs []Out
}

// poll makes one request for s and produces what it added. Only a produce
// failure is returned: provider failures are counted, logged and backed off.
func (w *worker) poll(ctx context.Context, s *symbol) error {
	p := w.p
	rctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	w.snap.Reset()
	p.Stats.Requests.Add(1)
	err := p.prov.Fetch(rctx, s.track.Symbol, &w.snap)
	cancel()
	now := p.now()
	if err != nil {
		if ctx.Err() != nil {
			return nil // stopping: a cut-off request is no failure
		}
		p.failed(s, classify(err), now)
		return nil
	}
	p.accepted()
	s.fails = 0
	s.retryAt.Store(0)
	s.lastOK.Store(now.UnixNano())
	p.Stats.Nulls.Add(int64(w.snap.Nulls))

	var sk Skips
	w.outs, sk = s.track.Apply(w.outs[:0], &w.snap, now, p.cfg.StaleAfter)
	p.Stats.Duplicates.Add(int64(sk.Duplicates))
	p.Stats.Old.Add(int64(sk.Old))
	for i := range w.outs {
		o := &w.outs[i]
		if err := w.out.Write(&o.Tick, o.Stale); err != nil {
			if errors.Is(err, produce.ErrStopped) {
				return p.out.Err()
			}
			// A value the contract refuses that the provider let through:
			// counted and logged as malformed input, never produced.
			p.failed(s, &Error{Kind: feedstats.Malformed, Msg: "provider value breaks the input contract", Err: err}, now)
			continue
		}
		p.Stats.Ticks.Add(1)
		if o.Stale {
			p.Stats.Stale.Add(1)
		}
	}
	return nil
}

// classify makes any error an *Error: the provider's own, or a timeout or
// network failure from the transport.
func classify(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		return &Error{Kind: feedstats.Timeout, Err: err}
	}
	return &Error{Kind: feedstats.Network, Err: err}
}

// failed counts a failure, backs off (the provider for a refusal, else the
// symbol) and logs it, throttled per symbol.
func (p *Poller) failed(s *symbol, e *Error, now time.Time) {
	p.Stats.Fail(e.Kind)
	if e.Kind.ProviderWide() {
		if d, started := p.refused(e); started {
			p.log.Warn("provider refused; pausing all requests", zap.String("symbol", s.track.Symbol),
				zap.Duration("pause", d), zap.String("error", e.Error()))
		}
		return
	}
	// The symbol alone backs off: its next 2^(fails-1)-1 slots, capped.
	s.fails++
	extra := p.plan.Period * time.Duration(1<<min(s.fails-1, 20)-1)
	if extra > p.cfg.MaxBackoff || extra < 0 {
		extra = p.cfg.MaxBackoff
	}
	s.retryAt.Store(now.Add(extra).UnixNano())
	if now.Sub(s.lastLogged) < p.cfg.LogEvery {
		s.held++
		return
	}
	p.log.Warn("request failed; skipping", zap.String("symbol", s.track.Symbol),
		zap.String("kind", e.Kind.String()), zap.String("error", e.Error()),
		zap.Int("failures_in_a_row", s.fails), zap.Int("not_logged_since_last", s.held))
	s.lastLogged, s.held = now, 0
}

func (p *Poller) logPlan() {
	pl := p.plan
	p.log.Info("feed plan: "+pl.String(),
		zap.Int("symbols", pl.Symbols), zap.Duration("period", pl.Period),
		zap.Duration("freshness", pl.Period), zap.Int("concurrency", p.cfg.Concurrency))
	if !pl.MeetsOneHz() {
		p.log.Warn(fmt.Sprintf("the plan cannot meet 1 update/s per symbol: each symbol's data will be up to %s old "+
			"(plus the provider's own delay); %s limits it", pl.Period, pl.Bound),
			zap.Int("symbols", pl.Symbols), zap.Float64("updates_per_s_per_symbol", 1/pl.Period.Seconds()))
	}
}

// Freshness is how long ago the symbols were last fetched successfully:
// the median and the maximum over the symbols, and how many never were.
type Freshness struct {
	Median, Max time.Duration
	Never       int
}

// Freshness measures it now.
func (p *Poller) Freshness() Freshness {
	now := p.now().UnixNano()
	ages := make([]time.Duration, 0, len(p.syms))
	var f Freshness
	for _, s := range p.syms {
		ok := s.lastOK.Load()
		if ok == 0 {
			f.Never++
			continue
		}
		ages = append(ages, time.Duration(now-ok))
	}
	if len(ages) > 0 {
		slices.Sort(ages)
		f.Median, f.Max = ages[len(ages)/2], ages[len(ages)-1]
	}
	return f
}

func (p *Poller) logSummary() {
	f := p.Freshness()
	p.log.Info("feed summary", append(p.Stats.Fields(),
		zap.Duration("freshness_median", f.Median), zap.Duration("freshness_max", f.Max),
		zap.Int("never_fetched", f.Never))...)
}
