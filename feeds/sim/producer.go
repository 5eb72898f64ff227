package sim

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tickstream/tickstream/feeds/feedstats"
	"github.com/tickstream/tickstream/feeds/produce"
	"github.com/tickstream/tickstream/tick"
)

// DefaultFlushTimeout bounds the flush at the end of Run when the Producer
// does not set one.
const DefaultFlushTimeout = 10 * time.Second

// Producer writes a Sim's ticks to Kafka: one JSON record per tick in the
// input contract (tick.AppendJSON), keyed by symbol, with the tick's event
// time as the record timestamp.
type Producer struct {
	Client *kgo.Client
	Topic  string
	// FlushTimeout bounds the final flush (DefaultFlushTimeout if 0). The
	// flush outlives ctx on purpose: records already handed to the client
	// are delivered when Run stops, so stopping loses nothing it produced.
	FlushTimeout time.Duration
	// Symbols, when set, changes what is simulated while Run runs: each
	// list received replaces the symbols from the next round on
	// (Sim.SetSymbols), and a paced run keeps its rate per symbol. A list
	// SetSymbols refuses (empty, or a name twice) is ignored. It is looked
	// at once per round.
	Symbols <-chan []string
	// Stats, when set, counts the ticks handed to the client (Ticks), for
	// /metrics; the other feed counters do not apply to a simulator.
	Stats *feedstats.Stats
}

// Run produces ticks from s until it has produced limit of them (limit > 0)
// or ctx ends, then flushes and returns how many were acknowledged. Ending
// through ctx is a normal stop, not an error; the first produce error stops
// the run and is returned.
//
// With rate 0 ticks go out as fast as the client takes them and carry the
// Sim's virtual event time. With rate > 0 (updates per second per symbol)
// each round of all symbols takes 1/rate s of wall clock, its ticks spread
// evenly over it; a fresh Sim is first re-clocked to start now with that
// step, so every tick is sent at its own event time. A Sim that has already
// made ticks keeps its clock. A producer that falls behind catches up as fast
// as it can, with event times in the past.
//
// The record timestamp is the event time, not the send time: at rate 0 event
// time runs far ahead of the wall clock, and the engine rejects ticks too far
// ahead of their record's timestamp.
func (p *Producer) Run(ctx context.Context, s *Sim, rate float64, limit int64) (produced int64, err error) {
	if p.Client == nil || p.Topic == "" {
		return 0, errors.New("sim: producer needs a client and a topic")
	}
	if err := checkRate(rate); err != nil {
		return 0, err
	}
	names := s.Symbols()
	keys := make(map[string][]byte, len(names))
	for _, n := range names {
		keys[n] = []byte(n)
	}
	var pace *pacer
	if rate > 0 {
		now := time.Now()
		if s.Generated() == 0 {
			if err := s.SetClock(now, rate); err != nil {
				return 0, err
			}
		}
		pace = newPacer(now, rate, len(names))
		defer pace.stop()
	}

	var out outcome
	promise := out.promise
	// Records keep a context that ctx's end does not cancel, or the client
	// would drop everything buffered when the run is stopped; ctx still
	// bounds the wait for buffer space in Produce.
	recCtx := context.WithoutCancel(ctx)
	var a produce.Arena
	var t tick.Tick
	for n := int64(0); limit <= 0 || n < limit; n++ {
		// ctx.Err takes a lock: look only now and then (and while pacing,
		// whenever there is time to sleep).
		if out.failed.Load() || (n%1024 == 0 && ctx.Err() != nil) {
			break
		}
		if p.Symbols != nil && s.pos == 0 {
			select {
			case names := <-p.Symbols:
				if s.SetSymbols(names) == nil {
					for _, name := range names {
						if keys[name] == nil {
							keys[name] = []byte(name)
						}
					}
					if pace != nil {
						pace.rebase(n, len(names))
					}
				}
			default:
			}
		}
		if pace != nil && !pace.wait(ctx, n) {
			break
		}
		s.Next(&t)
		r := a.Record()
		r.Topic = p.Topic
		r.Key = keys[t.Symbol]
		r.Value = a.Encode(&t)
		r.Timestamp = time.UnixMilli(t.TS)
		r.Context = recCtx
		p.Client.Produce(ctx, r, promise)
		if p.Stats != nil {
			p.Stats.Ticks.Add(1)
		}
	}

	timeout := p.FlushTimeout
	if timeout <= 0 {
		timeout = DefaultFlushTimeout
	}
	fctx, cancel := context.WithTimeout(recCtx, timeout)
	defer cancel()
	ferr := p.Client.Flush(fctx)
	if err := out.first(); err != nil {
		return out.ok.Load(), fmt.Errorf("sim: produce to %s: %w", p.Topic, err)
	}
	if ferr != nil {
		return out.ok.Load(), fmt.Errorf("sim: flush to %s: %w", p.Topic, ferr)
	}
	return out.ok.Load(), nil
}

// outcome collects the promises' results; the client calls them from its
// own goroutine.
type outcome struct {
	ok     atomic.Int64
	failed atomic.Bool

	mu  sync.Mutex
	err error
}

func (o *outcome) promise(_ *kgo.Record, err error) {
	if err == nil {
		o.ok.Add(1)
		return
	}
	// A record whose wait for buffer space ended with ctx is the run being
	// stopped, not a failure.
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return
	}
	o.mu.Lock()
	if o.err == nil {
		o.err = err
	}
	o.mu.Unlock()
	o.failed.Store(true)
}

func (o *outcome) first() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.err
}

// pacer spaces ticks evenly on the wall clock: n symbols at rate rounds per
// second is one tick every 1/(rate·n) s.
type pacer struct {
	start time.Time // when tick base is due
	base  int64
	rate  float64
	every float64 // ns between ticks
	timer *time.Timer
}

// minSleep: closer than this to a tick's time, send instead of sleeping, so
// a busy feed sleeps about once a millisecond rather than once a tick.
const minSleep = time.Millisecond

func newPacer(start time.Time, rate float64, symbols int) *pacer {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &pacer{start: start, rate: rate, every: float64(time.Second) / (rate * float64(symbols)), timer: t}
}

// due is when tick i of the run is to be sent.
func (p *pacer) due(i int64) time.Time {
	return p.start.Add(time.Duration(float64(i-p.base) * p.every))
}

// rebase keeps tick i where it is due and spaces the ticks after it for a
// new number of symbols.
func (p *pacer) rebase(i int64, symbols int) {
	p.start = p.start.Add(time.Duration(float64(i-p.base) * p.every))
	p.base = i
	p.every = float64(time.Second) / (p.rate * float64(symbols))
}

// wait blocks until tick i of the run is due; false means ctx ended.
func (p *pacer) wait(ctx context.Context, i int64) bool {
	d := time.Until(p.due(i))
	if d < minSleep {
		return true
	}
	p.timer.Reset(d)
	select {
	case <-ctx.Done():
		return false
	case <-p.timer.C:
		return true
	}
}

func (p *pacer) stop() { p.timer.Stop() }
