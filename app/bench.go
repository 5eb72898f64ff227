package app

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/zap"

	"github.com/tickstream/tickstream/config"
	"github.com/tickstream/tickstream/engine"
	"github.com/tickstream/tickstream/feeds/sim"
	"github.com/tickstream/tickstream/operators"
	"github.com/tickstream/tickstream/sinks/lake"
)

// BenchFlags declares `tickstream bench`'s flags and returns the command. It
// always runs on the embedded broker so figures are comparable between
// machines; the README records them with the machine named.
func BenchFlags(fs *flag.FlagSet) func(context.Context, *config.Config) error {
	ticks := fs.Int64("ticks", 2_000_000, "throughput: ticks pre-produced and then consumed")
	latFor := fs.Duration("latency-for", 90*time.Second, "latency: how long to run 1 Hz per symbol (0 skips)")
	skipTP := fs.Bool("skip-throughput", false, "only run the latency benchmark")
	return func(ctx context.Context, cfg *config.Config) error {
		cfg.Kafka.Brokers = nil
		cfg.Log.Level = "warn"
		if !*skipTP {
			if err := benchThroughput(ctx, *cfg, *ticks); err != nil {
				return err
			}
		}
		if *latFor > 0 {
			return benchLatency(ctx, *cfg, *latFor)
		}
		return nil
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
	cpu0, wall0 := cpuTime(), time.Now()
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
	wall, cpu := time.Since(wall0), cpuTime()-cpu0
	fmt.Printf("  consumed+processed+written %d ticks in %v: %.0f ticks/s, %.2f µs CPU/tick (%.0f%% of one core), %d files, %.1f MB\n",
		n, wall.Round(time.Millisecond), float64(n)/wall.Seconds(),
		float64(cpu.Nanoseconds())/1e3/float64(n), 100*cpu.Seconds()/wall.Seconds(),
		eng.Stats.FilesWritten.Load(), float64(eng.Stats.BytesWritten.Load())/1e6)
	return nil
}

// benchLatency runs the nominal load (every symbol at 1 Hz, wall-clock event
// times) and measures tick-to-alert latency: alert published minus the event
// time of the tick that raised it.
func benchLatency(ctx context.Context, cfg config.Config, d time.Duration) error {
	b, err := newBenchRig(&cfg)
	if err != nil {
		return err
	}
	defer b.close()
	prod, store := b.prod, b.store
	feed, err := engine.NewProducer(&cfg.Kafka)
	if err != nil {
		return err
	}
	defer feed.Close()
	// Plant often so there are enough alerts to read a p99 from.
	cfg.Simulator.SpikeEvery, cfg.Simulator.DropEvery = 3*time.Minute, 6*time.Minute
	rec := &latencyRecorder{}
	eng, err := engine.New(&cfg, engine.Deps{Log: zap.NewNop(), Store: store, Producer: prod, Alerts: rec})
	if err != nil {
		return err
	}
	s, err := sim.New(cfg.AllSymbols(), cfg.Simulator, time.Now())
	if err != nil {
		return err
	}
	fmt.Printf("latency: %d symbols at %.0f Hz for %v…\n", len(cfg.AllSymbols()), cfg.Simulator.Rate, d)
	rctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	go func() {
		_, _ = (&sim.Producer{Client: feed, Topic: cfg.Kafka.Topic}).Run(rctx, s, cfg.Simulator.Rate, 0)
	}()
	cpu0 := cpuTime()
	if err := eng.Run(rctx); err != nil {
		return err
	}
	lat := rec.sorted()
	if len(lat) == 0 {
		return fmt.Errorf("no alerts raised in %v: run longer (warm-up is %d ticks)", d, cfg.Anomaly.WarmupTicks)
	}
	q := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	fmt.Printf("  %d ticks, %d alerts: tick-to-alert p50 %v, p99 %v, max %v; CPU %.1f%% of one core\n",
		eng.Stats.Records.Load(), len(lat), q(0.50), q(0.99), lat[len(lat)-1],
		100*(cpuTime()-cpu0).Seconds()/d.Seconds())
	return nil
}

type latencyRecorder struct {
	mu  sync.Mutex
	lat []time.Duration
}

func (r *latencyRecorder) Publish(a *operators.Alert, _ int32, _ int64) {
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

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchRig is what both benchmarks run on: the embedded broker, the
// engine's producer and a throwaway local lake.
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
	if b.emb, err = engine.StartEmbedded(&cfg.Kafka); err != nil {
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
