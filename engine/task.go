package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"

	"github.com/tickstream/tickstream/models"
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
	done chan struct{} // closed when both goroutines have exited
	// ready is closed once the partition's state is recovered from the lake
	// and its fetch offset set; nothing is processed before.
	ready chan struct{}

	// The committer goroutine puts sealed batches into the lake and then
	// commits their offsets, so uploads never stall tick processing. Its
	// queue is short on purpose: when the lake is slow or down, sealing
	// blocks, the task stops reading, and the poll loop stops fetching.
	batches      chan sealed
	commitCtx    context.Context
	cancelCommit context.CancelFunc

	// set are the settings in force (reload.go) and pipe is set.pipe;
	// both change only in applySettings, between batches.
	set    *settings
	pipe   *operators.Pipeline
	dec    *tick.Decoder
	states map[string]*symState
	w      *lake.PartitionWriter
	// pred makes the partition's predictions (nil: off); prows is its
	// reused output.
	pred  *models.Predictor
	prows []models.PredictionRow

	// next is the offset after the last record processed; sealedAt is next
	// as of the last seal. Rows for [sealedAt, next) are in the writer only.
	// batchStart is the first offset of the batch being built (-1: none).
	next, sealedAt, batchStart int64
	epoch                      int32
	// prevCkpt is the checkpoint in force, deleted once the next one is
	// written; touched by the committer only (and recovery before it runs).
	prevCkpt string

	// Reused per record so the hot path does not allocate.
	t        tick.Tick
	res      operators.Result
	raw      lake.RawRow
	proc     lake.ProcessedRow
	alrow    lake.AlertRow
	counts   batchCounts
	warn     throttle
	predWarn throttle

	// liveB collects the batch's latest quote per symbol for the live
	// view (liveview.go); status shows progress to Engine.Partitions.
	liveB  liveBatch
	status *partStatus
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
	set := e.current.Load()
	var pred *models.Predictor
	if e.reg != nil {
		pred = e.newPredictor(set.pred)
	}
	cctx, cancel := context.WithCancel(context.Background())
	return &task{
		e:            e,
		topic:        topic,
		partition:    partition,
		log:          e.log.With(zap.Int32("partition", partition)),
		in:           make(chan []*kgo.Record, 4),
		quit:         make(chan struct{}),
		lost:         make(chan struct{}),
		done:         make(chan struct{}),
		ready:        make(chan struct{}),
		batches:      make(chan sealed, 1),
		commitCtx:    cctx,
		cancelCommit: cancel,
		set:          set,
		pipe:         set.pipe,
		dec:          tick.NewDecoder(set.symbols, set.cfg.Clean.MaxRecordBytes),
		states:       make(map[string]*symState),
		w:            w,
		pred:         pred,
		next:         -1,
		sealedAt:     -1,
		batchStart:   -1,
		warn:         throttle{every: 5 * time.Second},
		predWarn:     throttle{every: 30 * time.Second},
		status:       newPartStatus(),
	}, nil
}

// sealed is a batch of lake files covering offsets [start, next), the
// symbols' state as of next, and the epoch to commit next with.
type sealed struct {
	b           *lake.Batch
	start, next int64
	epoch       int32
	states      map[string]encodedState
}

// restore installs what recovery found in the lake. It runs before the
// task's goroutines start (ready is closed after it).
func (t *task) restore(rec recovery) {
	t.prevCkpt = rec.prev
	if !rec.found {
		return
	}
	t.states = rec.states
	t.next, t.sealedAt = rec.next, rec.next
	t.log.Info("partition recovered from the lake's checkpoint",
		zap.Int64("resume_offset", rec.next), zap.Int("symbols", len(rec.states)),
		zap.Int("uncommitted_files_removed", len(rec.removed)))
	if len(rec.refused) > 0 {
		t.log.Warn("checkpointed state does not fit the current config (moving_average or lateness changed); these symbols start afresh",
			zap.Strings("symbols", rec.refused))
	}
	if len(rec.refusedModels) > 0 {
		t.log.Warn("checkpointed model input state does not fit (models.window changed, or another feature set); these symbols' predictions resume after the warm-up",
			zap.Strings("symbols", rec.refusedModels))
	}
	if rec.noModelState > 0 && t.pred != nil {
		t.log.Info("the checkpoint holds no model input state for some symbols (written with predictions off, or by an older version); their predictions resume after the warm-up",
			zap.Int("symbols", rec.noModelState))
	}
}

func (t *task) run() {
	select {
	case <-t.ready:
	case <-t.quit:
		t.w.Close()
		close(t.done)
		return
	case <-t.lost:
		t.w.Close()
		close(t.done)
		return
	}
	committed := make(chan struct{})
	go func() { defer close(committed); t.commitLoop() }()
	defer func() {
		close(t.batches)
		<-committed
		t.cancelCommit()
		close(t.done)
	}()
	flushEvery := time.NewTicker(t.set.cfg.Lake.FlushInterval)
	defer flushEvery.Stop()
	for {
		select {
		case recs := <-t.in:
			// A batch taken after a Reload returned runs under the new
			// settings, whichever case select would have picked first.
			select {
			case <-t.set.changed:
				t.applySettings(flushEvery)
			default:
			}
			t.process(recs)
			if t.w.Full() {
				t.seal()
			}
		case <-flushEvery.C:
			t.seal()
		case <-t.set.changed:
			t.applySettings(flushEvery)
		case <-t.lost:
			// Another member owns the partition now and will re-read from
			// the last commit; writing our uncommitted rows would duplicate.
			t.cancelCommit()
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
			t.seal()
			// The committer finishes what is queued, bounded by the
			// shutdown timeout; what it cannot finish stays uncommitted.
			// (A timer that fires after a clean finish cancels nothing live.)
			time.AfterFunc(t.e.cfg.Engine.ShutdownTimeout, t.cancelCommit)
			t.w.Close()
			return
		}
	}
}

func (t *task) process(recs []*kgo.Record) {
	for _, r := range recs {
		t.handle(r)
	}
	t.predict()
	if n := len(recs); n > 0 {
		if t.batchStart < 0 {
			t.batchStart = recs[0].Offset
		}
		last := recs[n-1]
		t.next = last.Offset + 1
		t.epoch = last.LeaderEpoch
	}
	if t.e.live != nil {
		t.publishLive()
	}
	t.status.next.Store(t.next)
	t.e.Stats.add(&t.counts)
}

// handle runs one record through decode → clean → moving average → anomaly
// → the predictor's features and hands the rows to the lake writer. It must
// not allocate for a valid tick of a configured symbol.
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

	if reason := t.pipe.Admit(t.t.Symbol); reason != tick.OK {
		t.reject(r, reason, "symbol "+strconv.Quote(t.t.Symbol)+" is not in config.yaml symbols", false)
		return
	}
	st := t.states[t.t.Symbol]
	if st == nil {
		st = t.newSymState(t.t.Symbol)
		t.states[t.t.Symbol] = st
	}
	t.pipe.Process(st.op, &t.t, recordTS, &t.res)
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
	if t.e.live != nil {
		t.touch(st)
	}
	if st.pred != nil {
		t.pred.Observe(st.pred, &t.t, &t.res, r.Offset)
	}

	for i := range t.res.Alerts {
		a := &t.res.Alerts[i]
		t.counts.alerts++
		if int(a.Kind) < len(t.counts.alertsByKind) {
			t.counts.alertsByKind[a.Kind]++
		}
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

// seal closes the partition's open files and queues them, with the offset
// they cover, for the committer. It blocks while the committer is behind.
func (t *task) seal() {
	if t.next <= t.sealedAt && t.w.Rows() == 0 {
		return
	}
	b, err := t.w.Seal()
	if err != nil {
		// Encoding or spool-disk failure: the writer is unusable and the
		// rows since the last commit are lost from it. Stop the engine so
		// the process restarts and re-reads them from Kafka.
		t.e.fail(fmt.Errorf("partition %d: seal lake files: %w", t.partition, err))
		return
	}
	// The state as of next goes with the batch; encoding it here (not in
	// the committer) pins it to exactly the records the batch holds.
	states := make(map[string]encodedState, len(t.states))
	for sym, st := range t.states {
		enc, err := st.encode()
		if err != nil {
			t.e.fail(fmt.Errorf("BUG: partition %d: encode state of %s: %w", t.partition, sym, err))
			return
		}
		states[sym] = enc
	}
	select {
	case t.batches <- sealed{b: b, start: t.batchStart, next: t.next, epoch: t.epoch, states: states}:
		t.sealedAt, t.batchStart = t.next, -1
	case <-t.commitCtx.Done():
		_ = b.Discard()
	}
}

// commitLoop commits each sealed batch into the lake in the order that makes
// it exactly-once (see checkpoint.go): marker, files, checkpoint, cleanup.
// Each step is retried with backoff for as long as it takes; only then are
// the DLQ and alert records awaited and the Kafka offset committed.
func (t *task) commitLoop() {
	warn := throttle{every: 30 * time.Second}
	for s := range t.batches {
		if t.commitCtx.Err() != nil {
			_ = s.b.Discard()
			continue
		}
		start := time.Now()
		keys := s.b.Keys()
		marker := checkpointKey(t.topic, t.partition, s.start, "pending")
		ckptKey := checkpointKey(t.topic, t.partition, s.start, "ckpt")
		var files []lake.File
		ok := t.retry(&warn, "write the batch marker", func(ctx context.Context) error {
			b, _ := json.Marshal(pending{Start: s.start, Next: s.next, Keys: keys})
			return putBytes(ctx, t.e.store, marker, b)
		}) && t.retry(&warn, "upload lake files", func(ctx context.Context) (err error) {
			files, err = s.b.Put(ctx)
			return err
		}) && t.retry(&warn, "write the checkpoint", func(ctx context.Context) error {
			b, err := encodeCheckpoint(checkpoint{Topic: t.topic, Partition: t.partition, Start: s.start, Next: s.next, Keys: keys}, s.states)
			if err != nil {
				return err
			}
			return putBytes(ctx, t.e.store, ckptKey, b)
		}) && t.retry(&warn, "clean up the previous checkpoint", func(ctx context.Context) error {
			if err := t.e.store.Delete(ctx, marker); err != nil {
				return err
			}
			if t.prevCkpt != "" && t.prevCkpt != ckptKey {
				if err := t.e.store.Delete(ctx, t.prevCkpt); err != nil {
					return err
				}
			}
			t.prevCkpt = ckptKey
			return nil
		})
		if !ok {
			_ = s.b.Discard()
			continue
		}
		var bytes int64
		for _, f := range files {
			bytes += f.Bytes
		}
		t.e.Stats.FlushSeconds.Observe(time.Since(start).Seconds())
		t.e.Stats.Flushes.Add(1)
		t.e.Stats.FilesWritten.Add(int64(len(files)))
		t.e.Stats.BytesWritten.Add(bytes)
		t.e.Stats.LastFlushMs.Store(time.Now().UnixMilli())
		if err := t.e.prod.Flush(t.commitCtx); err != nil {
			t.log.Error("waiting for DLQ/alert records failed; offsets not committed", zap.Error(err))
			continue
		}
		t.commit(t.commitCtx, s.next, s.epoch)
		t.log.Debug("flushed", zap.Int("files", len(files)), zap.Int64("bytes", bytes),
			zap.Int64("offset", s.next), zap.Duration("took", time.Since(start)))
	}
}

// retry runs step until it succeeds (true) or the committer is cancelled
// (false), backing off with jitter from 100 ms to 10 s between attempts.
func (t *task) retry(warn *throttle, what string, step func(context.Context) error) bool {
	backoff := 100 * time.Millisecond
	failing := false
	for {
		err := step(t.commitCtx)
		if err == nil {
			return true
		}
		t.e.Stats.FlushErrors.Add(1)
		if !failing { // Engine.LakeWritable counts this partition until the step ends
			failing = true
			t.e.health.lakeFailing.Add(1)
			defer t.e.health.lakeFailing.Add(-1)
		}
		if t.commitCtx.Err() != nil {
			return false
		}
		if warn.allow(time.Now()) {
			t.log.Error("lake: "+what+" failed; retrying, offsets not committed", zap.Error(err),
				zap.Duration("retry_in", backoff), zap.Int64("failures_since_last_log", warn.suppressed()))
		}
		select {
		case <-time.After(jitter(backoff)):
		case <-t.commitCtx.Done():
			return false
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}

// jitter spreads retries of many partitions over [d/2, d).
func jitter(d time.Duration) time.Duration {
	return d/2 + rand.N(d/2)
}

func (t *task) commit(ctx context.Context, next int64, epoch int32) {
	if next < 0 {
		return
	}
	offsets := map[string]map[int32]kgo.EpochOffset{
		t.topic: {t.partition: {Epoch: epoch, Offset: next}},
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
		t.log.Error("offset commit failed; the next flush retries", zap.Int64("offset", next), zap.Error(cerr))
		return
	}
	t.e.Stats.Commits.Add(1)
}
