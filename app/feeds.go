package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/zap"

	"github.com/tickstream/tickstream/config"
	"github.com/tickstream/tickstream/feeds/alphavantage"
	"github.com/tickstream/tickstream/feeds/feedstats"
	"github.com/tickstream/tickstream/feeds/poll"
	"github.com/tickstream/tickstream/feeds/produce"
	"github.com/tickstream/tickstream/feeds/replay"
	"github.com/tickstream/tickstream/feeds/yahoo"
)

// RunFeed runs one real feed (yahoo, alphavantage or replay, as configured
// in cfg.Feeds) into cfg.Kafka.Topic through cl, until ctx ends or, for a
// replay, the recording does; then it flushes what it produced. Ending
// through ctx is a normal stop. The simulator is not here: it has its own
// producer (feeds/sim).
func RunFeed(ctx context.Context, cfg *config.Config, source string, cl *kgo.Client, log *zap.Logger) error {
	return runFeed(ctx, cfg, source, &feedstats.Stats{Provider: source}, cl, log)
}

// newFeedStats is the counters of the feed RunFeed runs for source, made
// before it starts so that /metrics can be built over them; nil for a
// source RunFeed does not run here (none, or sim: Run counts the built-in
// simulator's ticks itself).
func newFeedStats(source string) *feedstats.Stats {
	switch source {
	case "yahoo", "alphavantage", "replay":
		return &feedstats.Stats{Provider: source}
	}
	return nil
}

// runFeed is RunFeed counting into st.
func runFeed(ctx context.Context, cfg *config.Config, source string, st *feedstats.Stats, cl *kgo.Client, log *zap.Logger) error {
	out, err := produce.New(cl, cfg.Kafka.Topic)
	if err != nil {
		return err
	}
	start := time.Now()
	switch source {
	case "yahoo", "alphavantage":
		err = runPoller(ctx, cfg, source, st, out, log) // the poller names the provider in its logs
	case "replay":
		err = runReplay(ctx, cfg, st, out, log.With(zap.String("provider", source)))
	default:
		return fmt.Errorf("feed source %q: want yahoo, alphavantage or replay", source)
	}
	ferr := out.Flush(produce.DefaultFlushTimeout)
	log.Info("feed stopped", zap.String("provider", source), zap.Int64("ticks_acked", out.Acked()),
		zap.Duration("took", time.Since(start)))
	return errors.Join(err, ferr)
}

// runPoller polls a provider for the configured symbols (not the
// synthetic ones: no provider knows them).
func runPoller(ctx context.Context, cfg *config.Config, source string, st *feedstats.Stats, out *produce.Producer, log *zap.Logger) error {
	if len(cfg.Symbols) == 0 {
		return fmt.Errorf("feed %s: no symbols: list the stocks to poll under symbols in the config", source)
	}
	if cfg.SyntheticSymbols > 0 {
		log.Info("synthetic symbols are not polled", zap.String("provider", source),
			zap.Int("synthetic_symbols", cfg.SyntheticSymbols))
	}
	f := &cfg.Feeds
	pc := poll.Config{Provider: source, Symbols: cfg.Symbols, StaleAfter: f.StaleAfter, LogEvery: f.LogEvery}
	var prov poll.Provider
	switch source {
	case "yahoo":
		y := &f.Yahoo
		p, err := yahoo.New(yahoo.Config{BaseURL: y.BaseURL, CookieURL: y.CookieURL})
		if err != nil {
			return err
		}
		prov = p
		pc.Limits = poll.Limits{Interval: y.Interval, RPS: y.RPS}
		pc.Concurrency, pc.Timeout = y.Concurrency, y.Timeout
		pc.Backoff, pc.MaxBackoff = 2*time.Second, 5*time.Minute
	case "alphavantage":
		av := &f.AlphaVantage
		p, err := alphavantage.New(alphavantage.Config{BaseURL: av.BaseURL, APIKey: av.APIKey, Function: av.Function})
		if err != nil {
			return err
		}
		prov = p
		pc.Limits = poll.Limits{Interval: av.Interval, PerMinute: av.RequestsPerMinute, PerDay: av.RequestsPerDay}
		// A handful of requests a minute needs no parallelism; a throttle
		// notice means wait out the minute, a daily one much longer.
		pc.Concurrency, pc.Timeout = 1, av.Timeout
		pc.Backoff, pc.MaxBackoff = time.Minute, time.Hour
	}
	p, err := poll.New(pc, prov, out, log)
	if err != nil {
		return err
	}
	p.Stats = st // before Run, which is the first to count
	return p.Run(ctx)
}

func runReplay(ctx context.Context, cfg *config.Config, st *feedstats.Stats, out *produce.Producer, log *zap.Logger) error {
	speed, err := replay.ParseSpeed(cfg.Feeds.Replay.Speed)
	if err != nil {
		return err
	}
	if cfg.Feeds.Replay.From == "" {
		return errors.New("replay: say what to replay with --from FILE|LAKE (or feeds.replay.from)")
	}
	r, err := replay.New(replay.Options{From: cfg.Feeds.Replay.From, Speed: speed, Log: log})
	if err != nil {
		return err
	}
	r.Stats = st // before Run, which is the first to count
	log.Info("replaying "+r.Source(), zap.String("speed", cfg.Feeds.Replay.Speed))
	err = r.Run(ctx, out)
	log.Info("replay summary", append(r.Stats.Fields(), zap.Int64("out_of_order", r.OutOfOrder.Load()))...)
	return err
}
