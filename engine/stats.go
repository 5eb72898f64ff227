package engine

import (
	"sync/atomic"

	"github.com/tickstream/tickstream/tick"
)

// Stats are the engine's counters. Tasks count locally per tick and add here
// once per batch, so the per-tick path touches no shared memory.
type Stats struct {
	Records      atomic.Int64 // records consumed
	Accepted     atomic.Int64 // ticks that passed cleaning (rows in processed)
	Rejected     [32]atomic.Int64
	DeadLettered atomic.Int64
	DLQErrors    atomic.Int64 // DLQ produce failures (the lake's raw table still has the record)
	Alerts       atomic.Int64
	AlertErrors  atomic.Int64
	// Predictions are rows made (each in the lake's predictions table and
	// produced to models.topic); PredictionErrors count model failures and
	// failed produces.
	Predictions      atomic.Int64
	PredictionErrors atomic.Int64

	Flushes      atomic.Int64
	FlushErrors  atomic.Int64
	FilesWritten atomic.Int64
	BytesWritten atomic.Int64
	Commits      atomic.Int64
	CommitErrors atomic.Int64
	LastFlushMs  atomic.Int64 // wall clock of the last successful flush
}

// RejectedBy returns the count of records rejected for r.
func (s *Stats) RejectedBy(r tick.Reason) int64 { return s.Rejected[r].Load() }

// batchCounts is a task's local tally for one batch of records.
type batchCounts struct {
	records, accepted, dead, alerts int64
	predictions, predErrors         int64
	rejected                        [32]int64
}

func (s *Stats) add(c *batchCounts) {
	s.Records.Add(c.records)
	s.Accepted.Add(c.accepted)
	s.DeadLettered.Add(c.dead)
	s.Alerts.Add(c.alerts)
	s.Predictions.Add(c.predictions)
	s.PredictionErrors.Add(c.predErrors)
	for r, n := range c.rejected {
		if n != 0 {
			s.Rejected[r].Add(n)
		}
	}
	*c = batchCounts{}
}
