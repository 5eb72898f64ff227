package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/zap"

	"github.com/tickstream/tickstream/config"
	"github.com/tickstream/tickstream/models"
	"github.com/tickstream/tickstream/operators"
	"github.com/tickstream/tickstream/sinks/alert"
	"github.com/tickstream/tickstream/sinks/lake"
	"github.com/tickstream/tickstream/tick"
)

// Engine consumes the ticks topic as a member of the consumer group and runs
// one task per assigned partition.
type Engine struct {
	cfg      *config.Config
	log      *zap.Logger
	store    lake.BlobStore
	alerts   alert.Publisher
	prod     *kgo.Client // DLQ, alerts and predictions; shared by all tasks
	cons     *kgo.Client
	spoolDir string

	// current holds the settings a config reload may change (reload.go):
	// the operator pipeline, the symbols and the predictor's options.
	// Tasks take them at start and whenever they are replaced; reloadMu
	// serialises Reload.
	current  atomic.Pointer[settings]
	reloadMu sync.Mutex

	// Predictions: off when reg is nil. Each task owns a Predictor made
	// with its settings' options; its rows go to the lake and to predTopic.
	reg       *models.Registry
	predTopic string
	// predProduced is the one callback of every prediction record, so
	// producing one allocates no closure; predErrAt throttles its log.
	predProduced func(*kgo.Record, error)
	predErrAt    atomic.Int64

	// tasks is touched by the poll loop between PollRecords and
	// AllowRebalance and by the rebalance callbacks, which BlockRebalanceOnPoll
	// keeps from running at the same time.
	tasks map[int32]*task

	// fail stops Run with an error, from any goroutine.
	fail context.CancelCauseFunc

	Stats Stats

	live   LiveView // nil: no live view
	health health   // read by Consuming, LakeWritable and Partitions
}

// Deps are what the engine is wired to; main builds them from config.
type Deps struct {
	Log      *zap.Logger
	Store    lake.BlobStore
	Alerts   alert.Publisher // besides the lake's alerts table
	Producer *kgo.Client     // for DLQ, alert and prediction records
	SpoolDir string          // where Parquet files are built before upload
	// Models are the prediction models to serve (config models.files);
	// nil: no predictions.
	Models *models.Registry
	// LiveView, if set, gets each batch's latest quotes and predictions
	// (the dashboard).
	LiveView LiveView
}

// New validates the operator graph and returns an engine ready to Run.
func New(cfg *config.Config, d Deps) (*Engine, error) {
	pipe, err := operators.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("operators: %w", err)
	}
	if d.Log == nil {
		d.Log = zap.NewNop()
	}
	if d.Alerts == nil {
		d.Alerts = alert.Multi(nil)
	}
	if d.SpoolDir == "" {
		d.SpoolDir = filepath.Join(os.TempDir(), "tickstream-spool")
	}
	e := &Engine{
		cfg:       cfg,
		log:       d.Log,
		store:     d.Store,
		alerts:    d.Alerts,
		prod:      d.Producer,
		spoolDir:  d.SpoolDir,
		tasks:     make(map[int32]*task),
		reg:       d.Models,
		predTopic: cfg.Models.Topic,
		live:      d.LiveView,
	}
	e.current.Store(newSettings(cfg, pipe))
	e.predProduced = e.onPredictionProduced
	if d.Models != nil {
		e.Stats.ModelSeconds = make([]Histogram, d.Models.Len())
	}
	return e, nil
}

// Run consumes until ctx ends, then stops fetching, flushes and commits every
// partition (bounded by engine.shutdown_timeout) and leaves the group.
func (e *Engine) Run(ctx context.Context) error {
	ctx, e.fail = context.WithCancelCause(ctx)
	defer e.fail(nil)
	k := &e.cfg.Kafka
	opts, err := ClientOpts(k)
	if err != nil {
		return err
	}
	if k.InstanceID != "" {
		opts = append(opts, kgo.InstanceID(k.InstanceID))
	}
	cl, err := kgo.NewClient(append(opts,
		kgo.ConsumerGroup(k.Group),
		kgo.ConsumeTopics(k.Topic),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.OnPartitionsAssigned(e.assigned),
		kgo.OnPartitionsRevoked(e.revoked),
		kgo.OnPartitionsLost(e.lostPartitions),
		kgo.AdjustFetchOffsetsFn(e.recoverPartitions),
		kgo.SessionTimeout(k.SessionTimeout),
		kgo.FetchMaxWait(250*time.Millisecond),
		// Small fetches bound what the client buffers while a partition is
		// blocked on a slow lake: fetching pauses rather than piling up.
		kgo.FetchMaxBytes(4<<20),
		kgo.FetchMaxPartitionBytes(1<<20),
	)...)
	if err != nil {
		return fmt.Errorf("kafka consumer: %w", err)
	}
	e.cons = cl
	e.health.client.Store(cl)
	defer e.health.stopped.Store(true)
	e.log.Info("consuming", zap.Strings("brokers", k.Brokers), zap.String("topic", k.Topic), zap.String("group", k.Group))

	errorLog := throttle{every: 10 * time.Second}
	for {
		e.health.polling(true)
		fetches := cl.PollRecords(ctx, 10000)
		e.health.polling(false)
		if fetches.IsClientClosed() || ctx.Err() != nil {
			break
		}
		fetches.EachError(func(topic string, p int32, err error) {
			if errors.Is(err, context.Canceled) {
				return
			}
			if errorLog.allow(time.Now()) {
				e.log.Warn("fetch error; retrying", zap.String("topic", topic), zap.Int32("partition", p), zap.Error(err))
			}
		})
		stopped := false
		fetches.EachPartition(func(p kgo.FetchTopicPartition) {
			if stopped || len(p.Records) == 0 {
				return
			}
			t := e.tasks[p.Partition]
			if t == nil {
				e.log.Error("BUG: records for a partition without a task", zap.Int32("partition", p.Partition))
				return
			}
			t.status.hw.Store(p.HighWatermark)
			select {
			case t.in <- p.Records:
			case <-ctx.Done():
				stopped = true // undelivered records are not committed: re-read on restart
			}
		})
		cl.AllowRebalance()
	}

	e.log.Info("stopping: flushing and committing every partition")
	e.stopTasks(e.allPartitions(), false)
	cl.CloseAllowingRebalance()
	if cause := context.Cause(ctx); !errors.Is(cause, context.Canceled) && !errors.Is(cause, context.DeadlineExceeded) {
		return cause
	}
	return nil
}

func (e *Engine) allPartitions() []int32 {
	ps := make([]int32, 0, len(e.tasks))
	for p := range e.tasks {
		ps = append(ps, p)
	}
	return ps
}

func (e *Engine) assigned(_ context.Context, _ *kgo.Client, assigned map[string][]int32) {
	for _, p := range assigned[e.cfg.Kafka.Topic] {
		t, err := e.newTask(e.cfg.Kafka.Topic, p)
		if err != nil {
			// Without a writer the partition cannot make progress; its offsets
			// stay uncommitted and the records wait in Kafka.
			e.log.Error("cannot start partition task", zap.Int32("partition", p), zap.Error(err))
			continue
		}
		e.tasks[p] = t
		e.health.track(t)
		go t.run()
	}
	e.log.Info("partitions assigned", zap.Int32s("partitions", assigned[e.cfg.Kafka.Topic]))
}

// recoverPartitions runs after the group hands this member new partitions
// and before fetching starts: each new partition's state and resume offset
// come from its newest checkpoint in the lake, whatever the group's committed
// offset says (a crash between checkpoint and commit leaves the commit
// behind). Recovery is retried until it works or the session is revoked;
// until then the partition is simply not read.
func (e *Engine) recoverPartitions(ctx context.Context, offsets map[string]map[int32]kgo.Offset) (map[string]map[int32]kgo.Offset, error) {
	topic := e.cfg.Kafka.Topic
	for p := range offsets[topic] {
		t := e.tasks[p]
		if t == nil {
			continue
		}
		backoff := 100 * time.Millisecond
		for {
			rec, err := recoverPartition(ctx, e.store, topic, p, t.newSymState)
			if err == nil {
				t.restore(rec)
				if rec.found {
					offsets[topic][p] = kgo.NewOffset().At(rec.next).WithEpoch(-1)
				}
				close(t.ready)
				break
			}
			e.log.Error("cannot recover partition from the lake; retrying", zap.Int32("partition", p), zap.Error(err))
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(jitter(backoff)):
			}
			backoff = min(2*backoff, 10*time.Second)
		}
	}
	return offsets, nil
}

func (e *Engine) revoked(_ context.Context, _ *kgo.Client, revoked map[string][]int32) {
	e.log.Info("partitions revoked: flushing before hand-over", zap.Int32s("partitions", revoked[e.cfg.Kafka.Topic]))
	e.stopTasks(revoked[e.cfg.Kafka.Topic], false)
}

func (e *Engine) lostPartitions(_ context.Context, _ *kgo.Client, lost map[string][]int32) {
	e.log.Warn("partitions lost: dropping uncommitted rows, the new owner re-reads them", zap.Int32s("partitions", lost[e.cfg.Kafka.Topic]))
	e.stopTasks(lost[e.cfg.Kafka.Topic], true)
}

// stopTasks stops the tasks of the given partitions in parallel and waits.
func (e *Engine) stopTasks(partitions []int32, lost bool) {
	var wg sync.WaitGroup
	for _, p := range partitions {
		t := e.tasks[p]
		if t == nil {
			continue
		}
		delete(e.tasks, p)
		e.health.untrack(p)
		if lost {
			close(t.lost)
		} else {
			close(t.quit)
		}
		wg.Add(1)
		go func() { defer wg.Done(); <-t.done }()
	}
	wg.Wait()
}

// deadLetter produces a rejected record, unchanged, to the DLQ topic with
// why and where it came from in headers.
func (e *Engine) deadLetter(r *kgo.Record, reason tick.Reason, detail string) {
	dl := &kgo.Record{
		Topic: e.cfg.Kafka.DLQTopic,
		Key:   r.Key,
		Value: r.Value,
		Headers: []kgo.RecordHeader{
			{Key: "reason", Value: []byte(reason.String())},
			{Key: "error", Value: []byte(detail)},
			{Key: "source", Value: fmt.Appendf(nil, "%s/%d/%d", r.Topic, r.Partition, r.Offset)},
		},
	}
	e.prod.Produce(nil, dl, func(_ *kgo.Record, err error) {
		if err != nil {
			e.Stats.DLQErrors.Add(1)
			e.log.Error("dead-letter produce failed; the record stays in the raw table", zap.Error(err))
		}
	})
}
