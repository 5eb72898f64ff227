package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/tickstream/tickstream/config"
	"github.com/tickstream/tickstream/engine"
	"github.com/tickstream/tickstream/feeds/sim"
)

// RunCommand is `tickstream run` with its logger and a hard stop: once ctx
// ends, the process gets engine.shutdown_timeout (plus a margin for leaving
// the group) to flush and commit, then exits non-zero rather than hang.
// Edits to the config file rl names are applied as it runs (reload.go).
func RunCommand(ctx context.Context, cfg *config.Config, rl Reload) error {
	log, err := NewLogger(cfg.Log)
	if err != nil {
		return err
	}
	defer log.Sync() //nolint:errcheck // nothing to do about a failed sync at exit
	go func() {
		<-ctx.Done()
		time.Sleep(cfg.Engine.ShutdownTimeout + 10*time.Second)
		log.Error("shutdown took longer than engine.shutdown_timeout; exiting without a clean stop")
		os.Exit(1)
	}()
	return Run(ctx, cfg, log, rl)
}

// FeedFlags declares `tickstream feed`'s flags and returns the command: one
// feed (--source, default feeds.source) into kafka.brokers.
func FeedFlags(fs *flag.FlagSet) func(context.Context, *config.Config) error {
	source := fs.String("source", "", "sim, yahoo, alphavantage or replay (default feeds.source)")
	from := fs.String("from", "", "replay: a CSV file, a Parquet file or a lake directory (default feeds.replay.from)")
	speed := fs.String("speed", "", "replay: max, or a factor such as 1x, 10x (default feeds.replay.speed)")
	rate := fs.Float64("rate", -1, "sim: updates per second per symbol (0 = as fast as possible; default simulator.rate)")
	limit := fs.Int64("limit", 0, "sim: stop after this many ticks (0 = run until interrupted)")
	brokers := fs.String("brokers", "", "comma-separated brokers (default kafka.brokers)")
	return func(ctx context.Context, cfg *config.Config) error {
		if *brokers != "" {
			cfg.Kafka.Brokers = strings.Split(*brokers, ",")
		}
		if cfg.Embedded() {
			return fmt.Errorf("feed needs kafka.brokers or --brokers: the embedded broker lives inside `tickstream run`, which starts its own feed")
		}
		src := cfg.Feeds.Source
		if *source != "" {
			src = *source
		}
		if *from != "" {
			cfg.Feeds.Replay.From = *from
		}
		if *speed != "" {
			cfg.Feeds.Replay.Speed = *speed
		}
		log, err := NewLogger(cfg.Log)
		if err != nil {
			return err
		}
		cl, err := engine.NewProducer(&cfg.Kafka)
		if err != nil {
			return err
		}
		defer cl.Close()
		switch src {
		case "sim":
		case "none":
			return errors.New("feeds.source is none: pass --source sim|yahoo|alphavantage|replay")
		default:
			err := RunFeed(ctx, cfg, src, cl, log.Named("feed"))
			if ctx.Err() != nil && errors.Is(err, context.Canceled) {
				return nil
			}
			return err
		}
		if *rate < 0 {
			*rate = cfg.Simulator.Rate
		}
		s, err := sim.New(cfg.AllSymbols(), cfg.Simulator, time.Now())
		if err != nil {
			return fmt.Errorf("simulator: %w", err)
		}
		start := time.Now()
		n, err := (&sim.Producer{Client: cl, Topic: cfg.Kafka.Topic}).Run(ctx, s, *rate, *limit)
		el := time.Since(start)
		log.Info("feed done", zap.Int64("ticks", n), zap.Duration("took", el),
			zap.Float64("ticks_per_s", float64(n)/el.Seconds()), zap.Int("planted", len(s.Planted())))
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
}
