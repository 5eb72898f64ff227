package engine

import (
	"context"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"

	"github.com/tickstream/tickstream/operators"
	"github.com/tickstream/tickstream/sinks/lake"
	"github.com/tickstream/tickstream/tick"
)

// task owns one assigned partition: its symbols' operator state, its lake
// writer and its offsets. Everything here is touched only by the task's own
// goroutine; the engine talks to it through in, quit and done.
type task struct {
	e         *Engine
	topic     string
	partition int32
	log       *zap.Logger

	in   chan []*kgo.Record
	quit chan struct{} // closed: drain in, flush, commit, exit
	lost chan struct{} // closed: exit without committing (the partition is someone else's now)
	done chan struct{}

	dec    *tick.Decoder
	states map[string]*operators.State
	w      *lake.PartitionWriter

	// next is the offset after the last record processed; committed is the
	// offset last committed to the group. Rows for [committed, next) are
	// in the writer, not yet durable.
	next, committed int64
	epoch           int32

	// Reused per record so the hot path does not allocate.
	t      tick.Tick
	res    operators.Result
	raw    lake.RawRow
	proc   lake.ProcessedRow
	alrow  lake.AlertRow
	counts batchCounts
	warn   throttle
}

func (e *Engine) newTask(topic string, partition int32) (*task, error) {
	w, err := lake.NewPartitionWriter(e.store, lake.Options{
		Topic:       topic,
		Partition:   partition,
		Compression: e.cfg.Lake.Compression,
		FlushBytes:  e.cfg.Lake.FlushBytes,
		SpoolDir:    e.spoolDir,
	})
	if err != nil {
		return nil, err
	}
	return &task{
		e:         e,
		topic:     topic,
		partition: partition,
		log:       e.log.With(zap.Int32("partition", partition)),
		in:        make(chan []*kgo.Record, 4),
		quit:      make(chan struct{}),
		lost:      make(chan struct{}),
		done:      make(chan struct{}),
		dec:       tick.NewDecoder(e.symbols, e.cfg.Clean.MaxRecordBytes),
		states:    make(map[string]*operators.State),
		w:         w,
		next:      -1,
		committed: -1,
		warn:      throttle{every: 5 * time.Second},
	}, nil
}

func (t *task) run() {
	defer close(t.done)
	flushEvery := time.NewTicker(t.e.cfg.Lake.FlushInterval)
	defer flushEvery.Stop()
	for {
		select {
		case recs := <-t.in:
			t.process(recs)
			if t.w.Size() >= t.e.cfg.Lake.FlushBytes {
				t.flush(context.Background())
			}
		case <-flushEvery.C:
			t.flush(context.Background())
		case <-t.lost:
			// Another member owns the partition now and will re-read from
			// the last commit; writing our uncommitted rows would duplicate.
			t.w.Close()
			return
		case <-t.quit:
			for {
				select {
				case recs := <-t.in:
					t.process(recs)
					continue
				default:
				}
				break
			}
			ctx, cancel := context.WithTimeout(context.Background(), t.e.cfg.Engine.ShutdownTimeout)
			t.flush(ctx)
			cancel()
			t.w.Close()
			return
		}
	}
}

func (t *task) process(recs []*kgo.Record) {
	for _, r := range recs {
		t.handle(r)
	}
	if n := len(recs); n > 0 {
		last := recs[n-1]
		t.next = last.Offset + 1
		t.epoch = last.LeaderEpoch
	}
	t.e.Stats.add(&t.counts)
}

// handle runs one record through decode → clean → moving average → anomaly
// and hands the rows to the lake writer. It must not allocate for a valid
// tick of a configured symbol.
func (t *task) handle(r *kgo.Record) {
	t.counts.records++
	recordTS := r.Timestamp.UnixMilli()
	t.raw = lake.RawRow{
		KafkaPartition: r.Partition,
		KafkaOffset:    r.Offset,
		KafkaTS:        recordTS,
	}
	if err := t.dec.Decode(r.Key, r.Value, &t.t); err != nil {
		t.reject(r, tick.ReasonOf(err), err.Error(), true)
		return
	}
	t.raw.Symbol, t.raw.TS = t.t.Symbol, t.t.TS
	t.raw.Price, t.raw.Volume, t.raw.Bid, t.raw.Ask = t.t.Price, t.t.Volume, t.t.Bid, t.t.Ask

	if reason := t.e.pipe.Admit(t.t.Symbol); reason != tick.OK {
		t.reject(r, reason, "symbol "+strconv.Quote(t.t.Symbol)+" is not in config.yaml symbols", false)
		return
	}
	st := t.states[t.t.Symbol]
	if st == nil {
		st = t.e.pipe.NewState(t.t.Symbol)
		t.states[t.t.Symbol] = st
	}
	t.e.pipe.Process(st, &t.t, recordTS, &t.res)
	if t.res.Reject != tick.OK {
		t.reject(r, t.res.Reject, "", false)
		return
	}
	t.counts.accepted++
	t.w.Raw(&t.raw)

	t.proc = lake.ProcessedRow{
		Symbol: t.t.Symbol, TS: t.t.TS,
		Price: t.t.Price, Volume: t.t.Volume, Bid: t.t.Bid, Ask: t.t.Ask,
		MA: t.res.MA, MAVolume: t.res.MAVolume, MACount: t.res.Count, MATime: t.res.MATime,
		VolumeSpike: t.res.VolumeSpike, PriceDrop: t.res.PriceDrop,
		KafkaPartition: r.Partition, KafkaOffset: r.Offset,
	}
	t.w.Processed(&t.proc)

	for i := range t.res.Alerts {
		a := &t.res.Alerts[i]
		t.counts.alerts++
		t.alrow = lake.AlertRow{
			Symbol: a.Symbol, TS: a.TS, Kind: a.Kind.String(), Rule: a.Rule,
			Observed: a.Observed, Threshold: a.Threshold, Reference: a.Reference,
			KafkaPartition: r.Partition, KafkaOffset: r.Offset,
		}
		t.w.Alert(&t.alrow)
		t.e.alerts.Publish(a, r.Partition, r.Offset)
	}
}

// reject records a rejected record in the raw table, counts it and, for
// records that are broken rather than redundant, sends it to the DLQ.
func (t *task) reject(r *kgo.Record, reason tick.Reason, detail string, undecoded bool) {
	t.counts.rejected[reason]++
	t.raw.RejectReason = reason.String()
	if detail == "" {
		detail = reason.String()
	}
	t.raw.Error = detail
	if undecoded {
		t.raw.Payload = string(r.Value)
	}
	t.w.Raw(&t.raw)
	if !reason.DeadLetter() {
		return
	}
	t.counts.dead++
	t.e.deadLetter(r, reason, detail)
	if t.warn.allow(time.Now()) {
		t.log.Warn("record rejected to the dead-letter topic",
			zap.String("reason", reason.String()),
			zap.String("error", detail),
			zap.Int64("offset", r.Offset),
			zap.Int64("suppressed_since_last", t.warn.suppressed()))
	}
}

// flush makes everything processed so far durable in the lake, waits for the
// DLQ and alert records to be acknowledged, and only then commits the offset.
// On failure nothing is committed and the rows stay for the next attempt.
func (t *task) flush(ctx context.Context) {
	if t.next <= t.committed && t.w.Rows() == 0 {
		return
	}
	start := time.Now()
	files, err := t.w.Flush(ctx)
	if err != nil {
		t.e.Stats.FlushErrors.Add(1)
		t.log.Error("lake flush failed; will retry, offsets not committed", zap.Error(err))
		return
	}
	var bytes int64
	for _, f := range files {
		bytes += f.Bytes
	}
	t.e.Stats.Flushes.Add(1)
	t.e.Stats.FilesWritten.Add(int64(len(files)))
	t.e.Stats.BytesWritten.Add(bytes)
	t.e.Stats.LastFlushMs.Store(time.Now().UnixMilli())
	if err := t.e.prod.Flush(ctx); err != nil {
		t.log.Error("waiting for DLQ/alert records failed; offsets not committed", zap.Error(err))
		return
	}
	if t.next > t.committed {
		t.commit(ctx)
	}
	t.log.Debug("flushed", zap.Int("files", len(files)), zap.Int64("bytes", bytes),
		zap.Int64("offset", t.next), zap.Duration("took", time.Since(start)))
}

func (t *task) commit(ctx context.Context) {
	offsets := map[string]map[int32]kgo.EpochOffset{
		t.topic: {t.partition: {Epoch: t.epoch, Offset: t.next}},
	}
	var cerr error
	t.e.cons.CommitOffsetsSync(ctx, offsets, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
		if err != nil {
			cerr = err
			return
		}
		for _, tp := range resp.Topics {
			for _, p := range tp.Partitions {
				if e := kerr.ErrorForCode(p.ErrorCode); e != nil {
					cerr = e
				}
			}
		}
	})
	if cerr != nil {
		t.e.Stats.CommitErrors.Add(1)
		t.log.Error("offset commit failed; the next flush retries", zap.Int64("offset", t.next), zap.Error(cerr))
		return
	}
	t.committed = t.next
	t.e.Stats.Commits.Add(1)
}
