package engine

import (
	"sync/atomic"
	"time"

	"github.com/tickstream/tickstream/models"
	"github.com/tickstream/tickstream/operators"
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
	AlertsByKind [alertKinds]atomic.Int64 // by operators.AlertKind
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

	// FlushSeconds is the time each batch took to commit to the lake:
	// marker, files, checkpoint and cleanup, retries included.
	FlushSeconds Histogram
	// ModelSeconds are by models.Registry slot: each model's batched
	// inference per partition batch (models.Timer). New sizes it to the
	// registry (nil without models) before any task runs; it is not resized.
	ModelSeconds []Histogram
}

// alertKinds is the room for operators.AlertKind values in the per-kind
// counters; a kind beyond it would be counted in Alerts only.
const alertKinds = 8

// AlertsOf returns the count of alerts of kind k.
func (s *Stats) AlertsOf(k operators.AlertKind) int64 {
	if int(k) >= len(s.AlertsByKind) {
		return 0
	}
	return s.AlertsByKind[k].Load()
}

// ObserveModel implements models.Timer.
func (s *Stats) ObserveModel(slot int, d time.Duration) {
	if slot < len(s.ModelSeconds) {
		s.ModelSeconds[slot].Observe(d.Seconds())
	}
}

var _ models.Timer = (*Stats)(nil)

// RejectedBy returns the count of records rejected for r.
func (s *Stats) RejectedBy(r tick.Reason) int64 { return s.Rejected[r].Load() }

// batchCounts is a task's local tally for one batch of records.
type batchCounts struct {
	records, accepted, dead, alerts int64
	predictions, predErrors         int64
	rejected                        [32]int64
	alertsByKind                    [alertKinds]int64
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
	for k, n := range c.alertsByKind {
		if n != 0 {
			s.AlertsByKind[k].Add(n)
		}
	}
	*c = batchCounts{}
}
