package app

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/zap"

	"github.com/tickstream/tickstream/config"
	"github.com/tickstream/tickstream/engine"
	"github.com/tickstream/tickstream/feeds/sim"
	"github.com/tickstream/tickstream/internal/cputime"
	"github.com/tickstream/tickstream/operators"
	"github.com/tickstream/tickstream/sinks/lake"
)

// BenchFlags declares `tickstream bench`'s flags and returns the command. It
// always runs on the embedded broker so figures are comparable between
// machines; the README records them with the machine named.
func BenchFlags(fs *flag.FlagSet) func(context.Context, *config.Config) error {
	ticks := fs.Int64("ticks", 2_000_000, "throughput: ticks pre-produced and then consumed")
	// The simulator plants its first anomalies once a symbol has a full
	// 300-tick window and a minute of history (~6 min at 1 Hz), so a
	// shorter run measures no alert at all.
	latFor := fs.Duration("latency-for", 8*time.Minute, "latency: how long to run 1 Hz per symbol; alerts start after ~6 min (0 skips)")
	skipTP := fs.Bool("skip-throughput", false, "only run the latency benchmark")
	set := fs.String("models", benchModelsNone, "latency: models served on every symbol: none, xgboost, lstm or both")
	compare := fs.Bool("compare-models", false, "latency: run twice, models none then both, and print the difference")
	var bm benchModels
	fs.StringVar(&bm.xgboost, "xgboost", "", fmt.Sprintf("latency: XGBoost model file (default: generate %d trees of depth %d)", benchTrees, benchDepth))
	fs.StringVar(&bm.lstm, "lstm", benchLSTMFixture, "latency: LSTM safetensors file (windowed)")
	fs.DurationVar(&bm.cadence, "cadence", time.Second, "latency: models.cadence with --models or --compare-models")
	return func(ctx context.Context, cfg *config.Config) error {
		cfg.Kafka.Brokers = nil
		cfg.Log.Level = "warn"
		if *compare && *set != benchModelsNone {
			return fmt.Errorf("--compare-models runs --models none and both: give one of the two flags")
		}
		if !*skipTP {
			if err := benchThroughput(ctx, *cfg, *ticks); err != nil {
				return err
			}
		}
		switch {
		case *latFor <= 0:
			return nil
		case *compare:
			return compareModels(ctx, *cfg, *latFor, bm)
		case *set != benchModelsNone:
			return benchModelsLatency(ctx, *cfg, *latFor, bm, *set)
		}
		return benchLatency(ctx, *cfg, *latFor)
	}
}

// benchThroughput fills the topic first, then times the engine draining it:
// consume, decode, clean, moving average, anomaly, Parquet for raw and
// processed, commit. CPU is the whole process's, embedded broker included.
func benchThroughput(ctx context.Context, cfg config.Config, n int64) error {
	b, err := newBenchRig(&cfg)
	if err != nil {
		return err
	}
	defer b.close()
	prod, store := b.prod, b.store

	s, err := sim.New(cfg.AllSymbols(), cfg.Simulator, time.Date(2026, 11, 24, 14, 30, 0, 0, time.UTC))
	if err != nil {
		return err
	}
	fmt.Printf("throughput: producing %d ticks for %d symbols into %d partitions…\n", n, len(cfg.AllSymbols()), cfg.Kafka.Partitions)
	t0 := time.Now()
	if _, err := (&sim.Producer{Client: prod, Topic: cfg.Kafka.Topic}).Run(ctx, s, 0, n); err != nil {
		return fmt.Errorf("produce: %w", err)
	}
	fmt.Printf("  produced in %v (%.0f ticks/s)\n", time.Since(t0).Round(time.Millisecond), float64(n)/time.Since(t0).Seconds())

	cfg.Lake.FlushInterval = time.Hour // one flush at the end, part of the timing
	eng, err := engine.New(&cfg, engine.Deps{Log: zap.NewNop(), Store: store, Producer: prod})
	if err != nil {
		return err
	}
	runtime.GC()
	cpu0, wall0 := cputime.Process(), time.Now()
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- eng.Run(rctx) }()
	for eng.Stats.Records.Load() < n {
		select {
		case err := <-done:
			cancel()
			return fmt.Errorf("engine stopped early: %v", err)
		case <-ctx.Done():
			cancel()
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil {
		return err
	}
	wall, cpu := time.Since(wall0), cputime.Process()-cpu0
	fmt.Printf("  consumed+processed+written %d ticks in %v: %.0f ticks/s, %.2f µs CPU/tick (%.0f%% of one core), %d files, %.1f MB\n",
		n, wall.Round(time.Millisecond), float64(n)/wall.Seconds(),
		float64(cpu.Nanoseconds())/1e3/float64(n), 100*cpu.Seconds()/wall.Seconds(),
		eng.Stats.FilesWritten.Load(), float64(eng.Stats.BytesWritten.Load())/1e6)
	return nil
}

// benchLatency runs the nominal load with the operators only and prints
// tick-to-alert latency.
func benchLatency(ctx context.Context, cfg config.Config, d time.Duration) error {
	fmt.Printf("latency: %d symbols at %.0f Hz for %v…\n", len(cfg.AllSymbols()), cfg.Simulator.Rate, d)
	r, err := runLatency(ctx, cfg, d, nil, 0)
	if err != nil {
		return err
	}
	if r.noAlerts != nil {
		return r.noAlerts
	}
	r.print()
	return nil
}

// latencyResult is one run of the nominal load.
type latencyResult struct {
	ticks, accepted, predictions int64
	lat                          []time.Duration // tick-to-alert, sorted
	cpu                          float64         // the process's, in cores
	// noAlerts is set when lat is empty: the figures need at least one.
	noAlerts error
}

func (r *latencyResult) q(p float64) time.Duration {
	return r.lat[min(len(r.lat)-1, int(p*float64(len(r.lat))))]
}

func (r *latencyResult) max() time.Duration { return r.lat[len(r.lat)-1] }

func (r *latencyResult) print() {
	fmt.Printf("  %d ticks, %d alerts, %d predictions: tick-to-alert p50 %v, p99 %v, max %v; CPU %.1f%% of one core\n",
		r.ticks, len(r.lat), r.predictions, r.q(0.50), r.q(0.99), r.max(), 100*r.cpu)
}

// runLatency runs the nominal load (every symbol at the simulator's rate,
// wall-clock event times) for d, serving the models of files (none: the
// operators only), and measures tick-to-alert latency: alert published
// minus the event time of the tick that raised it. Alerts of ticks in the
// first steady of the run are not counted. With models it fails unless
// they predicted what the cadence says. A run without alerts is no error
// here (noAlerts says so): the caller needs them to print figures.
func runLatency(ctx context.Context, cfg config.Config, d time.Duration, files []config.ModelFile, steady time.Duration) (*latencyResult, error) {
	cfg.Models.Files = files
	reg, _, err := loadModels(&cfg, zap.NewNop())
	if err != nil {
		return nil, err
	}
	b, err := newBenchRig(&cfg)
	if err != nil {
		return nil, err
	}
	defer b.close()
	prod, store := b.prod, b.store
	feed, err := engine.NewProducer(&cfg.Kafka)
	if err != nil {
		return nil, err
	}
	defer feed.Close()
	// Plant often so there are enough alerts to read a p99 from.
	cfg.Simulator.SpikeEvery, cfg.Simulator.DropEvery = 3*time.Minute, 6*time.Minute
	start := time.Now()
	rec := &latencyRecorder{from: start.Add(steady).UnixMilli()}
	eng, err := engine.New(&cfg, engine.Deps{Log: zap.NewNop(), Store: store, Producer: prod, Alerts: rec, Models: reg})
	if err != nil {
		return nil, err
	}
	s, err := sim.New(cfg.AllSymbols(), cfg.Simulator, start)
	if err != nil {
		return nil, err
	}
	rctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	go func() {
		_, _ = (&sim.Producer{Client: feed, Topic: cfg.Kafka.Topic}).Run(rctx, s, cfg.Simulator.Rate, 0)
	}()
	runtime.GC()
	cpu0 := cputime.Process()
	if err := eng.Run(rctx); err != nil {
		return nil, err
	}
	r := &latencyResult{
		ticks: eng.Stats.Records.Load(), accepted: eng.Stats.Accepted.Load(), predictions: eng.Stats.Predictions.Load(),
		lat: rec.sorted(), cpu: (cputime.Process() - cpu0).Seconds() / d.Seconds(),
	}
	if len(files) > 0 {
		err := checkPredictions(len(files), len(cfg.AllSymbols()), cfg.Simulator.Rate, cfg.Models.Cadence,
			r.accepted, r.predictions, eng.Stats.PredictionErrors.Load())
		if err != nil {
			return nil, fmt.Errorf("models: %w", err)
		}
	}
	if len(r.lat) == 0 {
		r.noAlerts = fmt.Errorf("no alerts raised in %v (%v of it not counted): run longer; the simulator plants "+
			"anomalies only after its warm-up (a 300-tick window and a minute of history: ≈ 6 min at 1 Hz)", d, steady)
	}
	return r, nil
}

type latencyRecorder struct {
	from int64 // alerts of ticks before this (Unix ms) are not counted
	mu   sync.Mutex
	lat  []time.Duration
}

func (r *latencyRecorder) Publish(a *operators.Alert, _ int32, _ int64) {
	if a.TS < r.from {
		return
	}
	l := time.Since(time.UnixMilli(a.TS))
	r.mu.Lock()
	r.lat = append(r.lat, l)
	r.mu.Unlock()
}

func (r *latencyRecorder) sorted() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	slices.Sort(r.lat)
	return r.lat
}

// benchRig is what both benchmarks run on: the embedded broker (with the
// predictions topic), the engine's producer and a throwaway local lake.
type benchRig struct {
	emb   *engine.Embedded
	prod  *kgo.Client
	dir   string
	store *lake.LocalStore
}

func newBenchRig(cfg *config.Config) (b *benchRig, err error) {
	b = &benchRig{}
	defer func() {
		if err != nil {
			b.close()
		}
	}()
	if b.emb, err = engine.StartEmbedded(&cfg.Kafka, cfg.Models.Topic); err != nil {
		return nil, err
	}
	if b.prod, err = engine.NewProducer(&cfg.Kafka); err != nil {
		return nil, err
	}
	if b.dir, err = os.MkdirTemp("", "tickstream-bench-lake"); err != nil {
		return nil, err
	}
	if b.store, err = lake.NewLocalStore(b.dir); err != nil {
		return nil, err
	}
	return b, nil
}

func (b *benchRig) close() {
	if b.prod != nil {
		b.prod.Close()
	}
	if b.emb != nil {
		b.emb.Close()
	}
	if b.dir != "" {
		os.RemoveAll(b.dir)
	}
}
