package alert

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/tickstream/tickstream/operators"
)

// ID names one alert: the tick at (partition, offset) of the ticks topic and
// the kind it raised. It is the same every time that tick raises that alert
// (retries, a replay after a rebalance or a restart), so receivers can use it
// as an idempotency key, e.g. "p3-o81234-volume_spike".
func ID(a *operators.Alert, partition int32, offset int64) string {
	b := make([]byte, 0, 40)
	b = append(b, 'p')
	b = strconv.AppendInt(b, int64(partition), 10)
	b = append(b, "-o"...)
	b = strconv.AppendInt(b, offset, 10)
	b = append(b, '-')
	b = append(b, a.Kind.String()...)
	return string(b)
}

// Stats counts what a queued publisher did with the alerts it was handed.
// Every alert handed to Publish ends in exactly one of Delivered, Failed,
// Dropped or Duplicates (or is still queued).
type Stats struct {
	Delivered  atomic.Int64 // accepted by the receiver
	Failed     atomic.Int64 // given up: attempts exhausted, a permanent error, or shutdown
	Dropped    atomic.Int64 // the queue was full (or closed): never attempted
	Duplicates atomic.Int64 // already delivered by this process: skipped
	Retries    atomic.Int64 // attempts after the first
}

// job is one alert waiting for delivery, built on the publishing goroutine
// so nothing refers to the reused operators.Alert afterwards.
type job struct {
	id, symbol, kind string
	body             []byte
}

// attemptErr is a failed attempt; retry says whether another may succeed,
// after (when > 0) how long the receiver asked us to wait.
type attemptErr struct {
	err   error
	retry bool
	after time.Duration
}

func (e *attemptErr) Error() string { return e.err.Error() }
func (e *attemptErr) Unwrap() error { return e.err }

// queue delivers jobs on one goroutine of its own: Publish never blocks the
// partition task, a full queue drops (and counts) instead of growing, and a
// delivered id is remembered so a replayed alert is not sent again.
type queue struct {
	name        string
	jobs        chan job
	attempt     func(ctx context.Context, j job) error
	maxAttempts int
	backoff     time.Duration // before the 2nd attempt; doubled each time
	maxBackoff  time.Duration
	onError     func(error)

	stats   Stats
	seen    recent // owned by the worker goroutine
	closed  atomic.Bool
	lastLog atomic.Int64 // unix ns of the last drop report, to throttle it
	stop    chan struct{}
	done    chan struct{}
	ctx     context.Context
	cancel  context.CancelFunc
}

// recentIDs is how many delivered ids a queue remembers; a replay after a
// rebalance re-raises at most the alerts of one flush interval.
const recentIDs = 8192

func newQueue(name string, size, maxAttempts int, backoff, maxBackoff time.Duration,
	attempt func(context.Context, job) error, onError func(error)) *queue {
	ctx, cancel := context.WithCancel(context.Background())
	q := &queue{
		name: name, jobs: make(chan job, size), attempt: attempt, maxAttempts: max(maxAttempts, 1),
		backoff: backoff, maxBackoff: maxBackoff, onError: onError,
		seen: newRecent(recentIDs), stop: make(chan struct{}), done: make(chan struct{}),
		ctx: ctx, cancel: cancel,
	}
	go q.run()
	return q
}

// enqueue hands j to the worker without blocking.
func (q *queue) enqueue(j job) {
	if q.closed.Load() {
		q.stats.Dropped.Add(1)
		return
	}
	select {
	case q.jobs <- j:
	default:
		q.stats.Dropped.Add(1)
		// One report per second at most: a dead endpoint must not flood the log.
		now := time.Now().UnixNano()
		if last := q.lastLog.Load(); now-last >= int64(time.Second) && q.lastLog.CompareAndSwap(last, now) {
			q.report(fmt.Errorf("alert %s: queue full (%d), alert %s dropped; %d dropped so far",
				q.name, cap(q.jobs), j.id, q.stats.Dropped.Load()))
		}
	}
}

func (q *queue) run() {
	defer close(q.done)
	for {
		select {
		case j := <-q.jobs:
			q.deliver(j)
		case <-q.stop:
			for { // drain what was queued before Close
				select {
				case j := <-q.jobs:
					q.deliver(j)
				default:
					return
				}
			}
		}
	}
}

// deliver tries j up to maxAttempts times. Every attempt sends the same body
// and id, so a receiver that saw an attempt whose response was lost can drop
// the retry by its idempotency key.
func (q *queue) deliver(j job) {
	if q.seen.has(j.id) {
		q.stats.Duplicates.Add(1)
		return
	}
	for n := 1; ; n++ {
		err := q.attempt(q.ctx, j)
		if err == nil {
			q.seen.add(j.id)
			q.stats.Delivered.Add(1)
			return
		}
		var ae *attemptErr
		retry := errors.As(err, &ae) && ae.retry
		if !retry || n >= q.maxAttempts || q.ctx.Err() != nil {
			q.stats.Failed.Add(1)
			q.report(fmt.Errorf("alert %s: %s not delivered after %d attempt(s): %w", q.name, j.id, n, err))
			return
		}
		wait := q.backoffFor(n)
		if ae.after > 0 {
			wait = min(ae.after, time.Minute) // the receiver's Retry-After, within reason
		}
		q.stats.Retries.Add(1)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-q.ctx.Done():
			t.Stop()
		}
	}
}

// backoffFor is the wait after failed attempt n: exponential, capped, with
// jitter in [d/2, d] so a fleet of instances does not retry in step.
func (q *queue) backoffFor(n int) time.Duration {
	d := q.backoff << min(n-1, 30)
	if d > q.maxBackoff || d <= 0 {
		d = q.maxBackoff
	}
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2+1)
}

// close stops taking alerts and delivers those queued until ctx ends; what
// is left then is counted as failed.
func (q *queue) close(ctx context.Context) error {
	if q.closed.Swap(true) {
		<-q.done
		return nil
	}
	close(q.stop)
	select {
	case <-q.done:
		q.cancel()
		return nil
	case <-ctx.Done():
		left := len(q.jobs)
		q.cancel() // the attempt in flight and the rest fail fast
		<-q.done
		return fmt.Errorf("alert %s: shutdown with %d alert(s) undelivered: %w", q.name, left, ctx.Err())
	}
}

func (q *queue) report(err error) {
	if q.onError != nil {
		q.onError(err)
	}
}

// recent is a fixed-size set of the last n ids added (a ring plus a map).
type recent struct {
	ring []string
	next int
	set  map[string]struct{}
}

func newRecent(n int) recent {
	return recent{ring: make([]string, n), set: make(map[string]struct{}, n)}
}

func (r *recent) has(id string) bool { _, ok := r.set[id]; return ok }

func (r *recent) add(id string) {
	if old := r.ring[r.next]; old != "" {
		delete(r.set, old)
	}
	r.ring[r.next] = id
	r.set[id] = struct{}{}
	r.next = (r.next + 1) % len(r.ring)
}
