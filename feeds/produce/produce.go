// Package produce writes ticks to the Kafka input topic in the engine's input
// contract: one JSON record per tick (tick.AppendJSON), keyed by symbol, with
// the tick's event time as the record timestamp, through an idempotent
// franz-go client. Every real feed (pollers and replay) shares it; the
// simulator keeps its own copy of the same approach in feeds/sim.
//
// It is the last gate before Kafka: a tick that breaks the contract (no
// price, no timestamp, a bad symbol) is refused here whatever produced it, so
// no provider bug can put one on the topic. It must not fetch, schedule or
// de-duplicate: it writes what it is given.
package produce

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tickstream/tickstream/tick"
)

// DefaultFlushTimeout bounds Flush when no timeout is given.
const DefaultFlushTimeout = 10 * time.Second

// StaleHeader is the record header set on ticks a feed flags as stale: the
// quote was older than the feed's stale_after when it was produced. The
// value is "true". The engine ignores headers; consumers that care can read it.
const StaleHeader = "stale"

var staleHeaders = []kgo.RecordHeader{{Key: StaleHeader, Value: []byte("true")}}

// Producer is the shared end of one feed: a client, a topic and the outcome
// of everything produced. Give each producing goroutine its own Writer.
type Producer struct {
	client *kgo.Client
	topic  string
	// done is p.promise, bound once: a method value made per Produce call
	// would allocate per tick.
	done func(*kgo.Record, error)

	handed atomic.Int64
	ok     atomic.Int64
	failed atomic.Bool
	mu     sync.Mutex
	err    error
}

// New returns a Producer writing to topic. The client should be idempotent
// (franz-go's default, as engine.ProducerOpts builds it) so a retried batch
// cannot duplicate or reorder a symbol's ticks.
func New(cl *kgo.Client, topic string) (*Producer, error) {
	if cl == nil || topic == "" {
		return nil, errors.New("produce: need a client and a topic")
	}
	p := &Producer{client: cl, topic: topic}
	p.done = p.promise
	return p, nil
}

// Handed is how many ticks were handed to the client; Acked how many of
// them the broker acknowledged.
func (p *Producer) Handed() int64 { return p.handed.Load() }
func (p *Producer) Acked() int64  { return p.ok.Load() }

// Err returns the first produce error, if any. After one, Writers refuse
// further ticks: a feed stops rather than leave a gap in a symbol's sequence.
func (p *Producer) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// Flush waits up to timeout (DefaultFlushTimeout if 0) for every record
// handed over to be acknowledged, even after the feed's context has ended:
// stopping a feed loses nothing it produced. It returns the first produce
// error, or the flush's own.
func (p *Producer) Flush(timeout time.Duration) error {
	if timeout <= 0 {
		timeout = DefaultFlushTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	ferr := p.client.Flush(ctx)
	if err := p.Err(); err != nil {
		return fmt.Errorf("produce to %s: %w", p.topic, err)
	}
	if ferr != nil {
		return fmt.Errorf("flush to %s: %w", p.topic, ferr)
	}
	return nil
}

func (p *Producer) promise(_ *kgo.Record, err error) {
	if err == nil {
		p.ok.Add(1)
		return
	}
	// A record canceled by its context was still undelivered
	// DefaultFlushTimeout after the feed stopped: Flush reports that.
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return
	}
	p.mu.Lock()
	if p.err == nil {
		p.err = err
	}
	p.mu.Unlock()
	p.failed.Store(true)
}

// ErrStopped is returned by Write once the producer has failed.
var ErrStopped = errors.New("produce: an earlier record failed; not producing more")

// Writer produces ticks for one goroutine: it owns the buffers the records
// are built in, so writing takes no lock and, in the steady state, no
// allocation. It is not safe for concurrent use.
type Writer struct {
	p    *Producer
	rctx context.Context // what the client cancels records by: see NewWriter
	keys map[string][]byte
	a    Arena
}

// NewWriter returns a Writer for a feed that runs until ctx ends.
//
// franz-go fails a buffered batch when the context given to Produce (or the
// record's) is canceled, so producing with ctx itself would drop every tick
// still buffered the moment the feed is stopped. Records get a context that
// ends only DefaultFlushTimeout after ctx does instead: time for Flush to
// deliver them, while a dead broker still cannot hold a stopping feed
// forever.
func (p *Producer) NewWriter(ctx context.Context) *Writer {
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	context.AfterFunc(ctx, func() { time.AfterFunc(DefaultFlushTimeout, cancel) })
	return &Writer{p: p, rctx: rctx, keys: map[string][]byte{}}
}

// Write produces t, with the stale header when stale is set. It returns a
// *tick.DecodeError naming the field when t breaks the input contract (the
// tick is not produced), and ErrStopped after a produce failure.
func (w *Writer) Write(t *tick.Tick, stale bool) error {
	if w.p.failed.Load() {
		return ErrStopped
	}
	if err := Check(t); err != nil {
		return err
	}
	key, ok := w.keys[t.Symbol]
	if !ok {
		// Cloned: the caller's string may point into a buffer it reuses.
		key = []byte(t.Symbol)
		w.keys[strings.Clone(t.Symbol)] = key
	}
	r := w.a.Record()
	r.Topic = w.p.topic
	r.Key = key
	r.Value = w.a.Encode(t)
	r.Timestamp = time.UnixMilli(t.TS)
	r.Context = w.rctx
	if stale {
		r.Headers = staleHeaders // shared, read-only
	}
	w.p.handed.Add(1)
	w.p.client.Produce(w.rctx, r, w.p.done)
	return nil
}

// Arena hands out records and value bytes from slabs, for any producer of
// ticks (the simulator's too). The client holds a
// record and its value until the broker acknowledges it, so nothing is ever
// reused: a full slab is left to the records pointing into it, and the
// garbage collector takes it once they are all acknowledged. That costs two
// allocations per few hundred ticks instead of two per tick.
type Arena struct {
	buf  []byte
	recs []kgo.Record
}

const (
	slabBytes   = 64 << 10
	slabRecords = 512
	tickRoom    = 160 // enough for any tick's JSON but the symbol
)

// Record returns a fresh record from the current slab.
func (a *Arena) Record() *kgo.Record {
	if len(a.recs) == cap(a.recs) {
		a.recs = make([]kgo.Record, 0, slabRecords)
	}
	a.recs = a.recs[:len(a.recs)+1]
	return &a.recs[len(a.recs)-1]
}

// Encode appends t's JSON to the slab and returns it, capped so that nothing
// appended later can reach into it.
func (a *Arena) Encode(t *tick.Tick) []byte {
	if cap(a.buf)-len(a.buf) < tickRoom+len(t.Symbol) {
		a.buf = make([]byte, 0, slabBytes)
	}
	start := len(a.buf)
	a.buf = tick.AppendJSON(a.buf, t)
	return a.buf[start:len(a.buf):len(a.buf)]
}
