package poll_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/tickstream/tickstream/feeds/feedstats"
	"github.com/tickstream/tickstream/feeds/internal/feedtest"
	"github.com/tickstream/tickstream/feeds/poll"
	"github.com/tickstream/tickstream/tick"
)

// fake is a scripted provider that records what it answered.
type fake struct {
	answer func(ctx context.Context, sym string, call int, snap *poll.Snapshot) error
	delay  time.Duration

	mu       sync.Mutex
	calls    map[string]int
	answered map[string][]poll.Snapshot // successful answers, in order
	starts   []time.Time

	inflight, maxInflight atomic.Int32
}

func newFake(answer func(context.Context, string, int, *poll.Snapshot) error) *fake {
	return &fake{answer: answer, calls: map[string]int{}, answered: map[string][]poll.Snapshot{}}
}

func (f *fake) Fetch(ctx context.Context, sym string, snap *poll.Snapshot) error {
	n := f.inflight.Add(1)
	defer f.inflight.Add(-1)
	for {
		m := f.maxInflight.Load()
		if n <= m || f.maxInflight.CompareAndSwap(m, n) {
			break
		}
	}
	f.mu.Lock()
	f.calls[sym]++
	call := f.calls[sym]
	f.starts = append(f.starts, time.Now())
	f.mu.Unlock()
	if f.delay > 0 {
		select {
		case <-time.After(f.delay):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err := f.answer(ctx, sym, call, snap); err != nil {
		return err
	}
	f.mu.Lock()
	cp := *snap
	cp.Bars = append([]poll.Bar(nil), snap.Bars...)
	f.answered[sym] = append(f.answered[sym], cp)
	f.mu.Unlock()
	return nil
}

func (f *fake) callsOf(sym string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[sym]
}

// run polls until stop says so (checked every 10 ms) or 5 s pass.
func run(t *testing.T, p *poll.Poller, out interface{ Flush(time.Duration) error }, stop func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	for !stop() && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if err := out.Flush(0); err != nil {
		t.Fatal(err)
	}
}

// TestPollerIsolation: a symbol that is unknown, one that never answers and
// a provider-wide refusal neither stall the good symbols nor become ticks;
// the good symbols' ticks are exactly their answers, de-duplicated, with
// volume as the day volume's increase.
func TestPollerIsolation(t *testing.T) {
	c, out := feedtest.Producer(t)
	base := time.Now().Add(-time.Second).UnixMilli()
	f := newFake(func(ctx context.Context, sym string, call int, snap *poll.Snapshot) error {
		switch {
		case sym == "NOPE":
			return &poll.Error{Kind: feedstats.NotFound, Status: 404, Snippet: `{"chart":{"result":null}}`}
		case sym == "SLOW":
			<-ctx.Done() // never answers; the request timeout ends it
			return ctx.Err()
		case sym == "REFUSE" && call == 1:
			return &poll.Error{Kind: feedstats.RateLimited, Status: 429}
		}
		// Every third answer repeats the one before.
		k := call - call%3/2
		snap.HasQuote = true
		snap.Quote = poll.Quote{TS: base + int64(k), Price: 100 + float64(k), DayVolume: float64(10 * k * k)}
		return nil
	})
	core, logs := observer.New(zap.InfoLevel)
	p, err := poll.New(poll.Config{
		Provider: "fake", Symbols: []string{"A", "NOPE", "SLOW", "B", "REFUSE"},
		Limits:      poll.Limits{Interval: 50 * time.Millisecond},
		Concurrency: 2, Timeout: 100 * time.Millisecond, Backoff: 50 * time.Millisecond,
		LogEvery: time.Hour,
	}, f, out, zap.New(core))
	if err != nil {
		t.Fatal(err)
	}
	run(t, p, out, func() bool { return f.callsOf("A") >= 12 && f.callsOf("SLOW") >= 2 && f.callsOf("REFUSE") >= 4 })

	got := feedtest.BySymbol(t, feedtest.Consume(t, c))
	for _, sym := range []string{"NOPE", "SLOW"} {
		if len(got[sym]) != 0 {
			t.Errorf("%s: %d ticks from failures", sym, len(got[sym]))
		}
	}
	dups := 0
	for _, sym := range []string{"A", "B", "REFUSE"} {
		// Independently: each answer whose values differ from the previous
		// answer produced is a tick; the first has volume 0.
		var want []tick.Tick
		var last *poll.Quote
		for _, s := range f.answered[sym] {
			q := s.Quote
			if last != nil && q.Price == last.Price && q.DayVolume == last.DayVolume {
				dups++
				continue
			}
			vol := 0.0
			if last != nil {
				vol = q.DayVolume - last.DayVolume
			}
			want = append(want, tick.Tick{Symbol: sym, TS: q.TS, Price: q.Price, Volume: vol})
			last = &q
		}
		if len(got[sym]) != len(want) || len(want) < 2 {
			for _, r := range got[sym] {
				t.Logf("got %+v", r.Tick)
			}
			for _, w := range want {
				t.Logf("want %+v", w)
			}
			t.Fatalf("%s: %d ticks, want %d (at least 2)", sym, len(got[sym]), len(want))
		}
		for i, w := range want {
			if r := got[sym][i]; r.Tick != w || r.Stale {
				t.Fatalf("%s tick %d: got %+v (stale %v), want %+v", sym, i, r.Tick, r.Stale, w)
			}
		}
	}
	st := p.Stats
	if st.Failures[feedstats.NotFound].Load() == 0 || st.Failures[feedstats.Timeout].Load() == 0 ||
		st.Failures[feedstats.RateLimited].Load() != 1 || st.Pauses.Load() != 1 {
		t.Errorf("failures: %v", st.Fields())
	}
	if st.Duplicates.Load() != int64(dups) || st.Ticks.Load() != out.Acked() {
		t.Errorf("duplicates %d (want %d), ticks %d (acked %d)", st.Duplicates.Load(), dups, st.Ticks.Load(), out.Acked())
	}
	// One log line per failing symbol per LogEvery, one per pause.
	perSymbol := map[string]int{}
	for _, e := range logs.FilterMessage("request failed; skipping").All() {
		perSymbol[e.ContextMap()["symbol"].(string)]++
	}
	if perSymbol["NOPE"] != 1 || perSymbol["SLOW"] != 1 || len(perSymbol) != 2 {
		t.Errorf("failure logs per symbol: %v", perSymbol)
	}
	if n := logs.FilterMessage("provider refused; pausing all requests").Len(); n != 1 {
		t.Errorf("%d pause logs, want 1", n)
	}
}

// TestPollerSchedule: requests are spread over the period at the planned
// rate, and never more than Concurrency are in flight.
func TestPollerSchedule(t *testing.T) {
	_, out := feedtest.Producer(t)
	f := newFake(func(context.Context, string, int, *poll.Snapshot) error { return nil })
	f.delay = 45 * time.Millisecond
	const rps = 50.0
	syms := []string{"S0", "S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8", "S9"}
	p, err := poll.New(poll.Config{
		Provider: "fake", Symbols: syms,
		Limits:      poll.Limits{Interval: 50 * time.Millisecond, RPS: rps},
		Concurrency: 3,
	}, f, out, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	if pl := p.Plan(); pl.Period != time.Duration(float64(len(syms))/rps*float64(time.Second)) || pl.Bound != "rps" || pl.MeetsOneHz() != true {
		t.Fatalf("plan %+v", pl)
	}
	start := time.Now()
	run(t, p, out, func() bool { return f.callsOf("S9") >= 3 })
	elapsed := time.Since(start)

	f.mu.Lock()
	defer f.mu.Unlock()
	if n := len(f.starts); float64(n) > rps*elapsed.Seconds()+2 {
		t.Errorf("%d requests in %v: over %v/s", n, elapsed, rps)
	}
	// Spread: no two requests closer than half the planned spacing.
	for i := 1; i < len(f.starts); i++ {
		if gap := f.starts[i].Sub(f.starts[i-1]); gap < time.Second/rps/2 {
			t.Errorf("requests %d and %d only %v apart", i-1, i, gap)
		}
	}
	if got := p.Stats.Requests.Load(); got != int64(len(f.starts)) {
		t.Errorf("counted %d requests, the provider saw %d", got, len(f.starts))
	}
	if m := f.maxInflight.Load(); m > 3 {
		t.Errorf("%d requests in flight, concurrency 3", m)
	}
	// Symbols are visited in order, round after round.
	for _, s := range syms {
		if n := f.calls[s]; n < 2 || n > f.calls["S0"] {
			t.Errorf("%s polled %d times, S0 %d", s, n, f.calls["S0"])
		}
	}
}

func TestPollerNew(t *testing.T) {
	_, out := feedtest.Producer(t)
	f := newFake(nil)
	bad := func(c poll.Config) {
		t.Helper()
		if _, err := poll.New(c, f, out, zap.NewNop()); err == nil {
			t.Errorf("New(%+v): no error", c)
		}
	}
	ok := poll.Config{Provider: "x", Symbols: []string{"A"}, Limits: poll.Limits{Interval: time.Second}}
	if _, err := poll.New(ok, f, out, zap.NewNop()); err != nil {
		t.Fatal(err)
	}
	c := ok
	c.Symbols = nil
	bad(c)
	c = ok
	c.Interval = 0
	bad(c)
	c = ok
	c.Symbols = []string{"A", "A"}
	bad(c)
	c = ok
	c.RPS = -1
	bad(c)
}

// TestPlanWarning: a plan slower than one update a second is said at
// start-up, with the freshness it gives.
func TestPlanWarning(t *testing.T) {
	_, out := feedtest.Producer(t)
	core, logs := observer.New(zap.InfoLevel)
	syms := []string{"A", "B", "C"}
	p, err := poll.New(poll.Config{Provider: "av", Symbols: syms,
		Limits: poll.Limits{Interval: time.Second, PerMinute: 5, PerDay: 25}}, newFake(func(context.Context, string, int, *poll.Snapshot) error { return nil }), out, zap.New(core))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.Run(ctx); err != nil {
		t.Fatal(err)
	}
	want := time.Duration(len(syms)) * 24 * time.Hour / 25
	plan := logs.FilterMessageSnippet("feed plan").All()
	warn := logs.FilterMessageSnippet("cannot meet 1 update/s").All()
	if len(plan) != 1 || plan[0].ContextMap()["freshness"] != want || len(warn) != 1 || warn[0].Level != zap.WarnLevel {
		t.Fatalf("start-up logs: %+v", logs.All())
	}
}
