package engine

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// pollStall is how long the poll loop may stay away from PollRecords before
// Consuming says the engine is not consuming: it is away only while handing
// fetched records to partition tasks, which block when their lake is slow
// or down (that backpressure is on purpose, and worth a failed check).
const pollStall = 30 * time.Second

// health is what the readiness checks and Partitions read from other
// goroutines. The poll loop, the rebalance callbacks and the committers
// write it; nothing on the per-tick path does.
type health struct {
	client  atomic.Pointer[kgo.Client] // the group consumer, once Run has made it
	stopped atomic.Bool                // Run has returned
	inPoll  atomic.Bool                // the poll loop is waiting in PollRecords
	pollAt  atomic.Int64               // Unix ms it last entered PollRecords
	// lakeFailing counts partitions whose committer is retrying a lake step
	// that failed (marker, upload, checkpoint, cleanup).
	lakeFailing atomic.Int32

	mu    sync.Mutex
	tasks map[int32]*task // assigned partitions, for Partitions
}

// polling marks the poll loop entering (true) or leaving PollRecords.
func (h *health) polling(in bool) {
	if in {
		h.pollAt.Store(time.Now().UnixMilli())
	}
	h.inPoll.Store(in)
}

func (h *health) track(t *task) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.tasks == nil {
		h.tasks = make(map[int32]*task)
	}
	h.tasks[t.partition] = t
}

func (h *health) untrack(p int32) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.tasks, p)
}

// partStatus is what a task shows of its progress outside its goroutine.
type partStatus struct {
	next atomic.Int64 // offset after the last record processed; -1: none yet
	hw   atomic.Int64 // high watermark as of the last fetch with records; -1: none yet
}

func newPartStatus() *partStatus {
	s := &partStatus{}
	s.next.Store(-1)
	s.hw.Store(-1)
	return s
}

// PartitionStatus is one partition assigned to this engine.
type PartitionStatus struct {
	Partition int32
	// NextOffset is the offset after the last record processed (-1: none
	// processed since the partition was assigned or recovered).
	NextOffset int64
	// HighWatermark is the partition's end as of the last fetch that
	// returned records (-1: none yet).
	HighWatermark int64
}

// Lag is how many records of the partition were not processed as of the
// last fetch, or -1 when unknown.
func (p PartitionStatus) Lag() int64 {
	if p.NextOffset < 0 || p.HighWatermark < 0 {
		return -1
	}
	return max(0, p.HighWatermark-p.NextOffset)
}

// Partitions returns the partitions assigned to this engine, by number.
// Safe to call from any goroutine.
func (e *Engine) Partitions() []PartitionStatus {
	e.health.mu.Lock()
	ps := make([]PartitionStatus, 0, len(e.health.tasks))
	for p, t := range e.health.tasks {
		ps = append(ps, PartitionStatus{Partition: p, NextOffset: t.status.next.Load(), HighWatermark: t.status.hw.Load()})
	}
	e.health.mu.Unlock()
	slices.SortFunc(ps, func(a, b PartitionStatus) int { return int(a.Partition - b.Partition) })
	return ps
}

// Consuming returns nil when the engine is a member of its consumer group
// and its poll loop is either waiting for records or came back to poll
// within the last 30 s; otherwise an error saying which is not the case.
// A member with no partition assigned (more members than partitions) is
// consuming. Safe to call from any goroutine.
func (e *Engine) Consuming() error {
	h := &e.health
	cl := h.client.Load()
	switch {
	case h.stopped.Load():
		return errors.New("the engine has stopped")
	case cl == nil:
		return errors.New("the engine has not started")
	}
	if _, gen := cl.GroupMetadata(); gen < 0 {
		return fmt.Errorf("not a member of consumer group %q yet", e.cfg.Kafka.Group)
	}
	if !h.inPoll.Load() {
		if away := time.Since(time.UnixMilli(h.pollAt.Load())); away > pollStall {
			return fmt.Errorf("not polling for %s: partition tasks are not taking records (is the lake slow or down?)", away.Round(time.Second))
		}
	}
	return nil
}

// LakeWritable returns nil unless a partition's committer is retrying a
// failed lake write right now (the start-up probe has checked the store
// before the engine ran). The error says how many partitions are stuck but
// not why: it may be shown to unauthenticated callers; the log has the
// cause. Safe to call from any goroutine.
func (e *Engine) LakeWritable() error {
	if n := e.health.lakeFailing.Load(); n > 0 {
		return fmt.Errorf("%d partition(s) cannot write the lake; retrying (the log says why)", n)
	}
	return nil
}
