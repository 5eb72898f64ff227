package app

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"

	"github.com/tickstream/tickstream/config"
	"github.com/tickstream/tickstream/engine"
	"github.com/tickstream/tickstream/feeds/feedstats"
	"github.com/tickstream/tickstream/feeds/sim"
	"github.com/tickstream/tickstream/models"
	"github.com/tickstream/tickstream/sinks/alert"
	"github.com/tickstream/tickstream/sinks/lake"
)

// Run is `tickstream run`: the engine, plus the embedded broker and the
// simulator when config asks for them, and with rl set the config reloader
// (reload.go). It returns when ctx ends and everything has been flushed and
// committed, or on the first failure.
func Run(ctx context.Context, cfg *config.Config, log *zap.Logger, rl Reload) error {
	// Decide before StartEmbedded points kafka.brokers at the embedded broker,
	// and keep the config as loaded for the reloader to compare edits with.
	embedded, simulate, base := cfg.Embedded(), cfg.SimulatorOn(), cfg.Clone()
	reg, predTopics, err := loadModels(cfg, log.Named("models"))
	if err != nil {
		return err
	}
	if embedded {
		emb, err := engine.StartEmbedded(&cfg.Kafka, predTopics...)
		if err != nil {
			return err
		}
		defer emb.Close()
		log.Info("no kafka.brokers configured: started the embedded broker", zap.Strings("addr", emb.Addrs()))
	}

	prod, err := engine.NewProducer(&cfg.Kafka)
	if err != nil {
		return err
	}
	defer prod.Close()
	if !embedded {
		pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := engine.EnsureTopics(pctx, prod, &cfg.Kafka, predTopics...)
		cancel()
		if err != nil {
			return err
		}
	}

	store, err := lake.Open(ctx, cfg.Lake)
	if err != nil {
		return fmt.Errorf("lake.url: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, time.Minute)
	err = lake.Probe(pctx, store)
	cancel()
	if err != nil {
		return fmt.Errorf("lake.url %s: %w", cfg.Lake.URL, err)
	}

	var pubs alert.Multi
	if cfg.Alerts.Log {
		pubs = append(pubs, alert.Log{L: log.Named("alert")})
	}
	if cfg.Alerts.Kafka {
		pubs = append(pubs, alert.Kafka{Client: prod, Topic: cfg.Kafka.AlertsTopic, OnError: func(err error) {
			log.Error("alert produce failed", zap.Error(err))
		}})
	}
	netPubs, drainAlerts, err := networkAlerts(ctx, &cfg.Alerts, log.Named("alert"))
	if err != nil {
		return err
	}
	pubs = append(pubs, netPubs...)
	hub, err := newDashboardHub(cfg, reg) // nil when dashboard.listen is ""
	if err != nil {
		return err
	}
	if hub != nil {
		pubs = append(pubs, hub)
	}
	// Runs after the engine has stopped (defers run after g.Wait), so every
	// alert it raised is queued; bounded to stay inside RunCommand's hard stop.
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), alertDrainTimeout)
		defer cancel()
		if err := drainAlerts(dctx); err != nil {
			log.Warn("alerts left undelivered", zap.Error(err))
		}
	}()

	eng, err := engine.New(cfg, engine.Deps{Log: log.Named("engine"), Store: store, Alerts: pubs, Producer: prod, Models: reg,
		LiveView: liveView(hub)})
	if err != nil {
		return err
	}
	feedSrc := cfg.FeedSource()
	feedStats := newFeedStats(feedSrc) // nil unless RunFeed runs a feed here
	metricFeed := feedStats
	var simStats *feedstats.Stats
	if simulate {
		simStats = &feedstats.Stats{Provider: "sim"}
		metricFeed = simStats
	}
	// Bound before anything runs, so a port in use fails the start.
	dash, err := startDashboard(cfg, hub, eng, reg, metricsSources(eng, reg, netPubs, metricFeed), log.Named("dashboard"))
	if err != nil {
		return err
	}
	defer dash.Close()

	g, gctx := errgroup.WithContext(ctx)
	if reg != nil {
		w := models.NewWatcher(reg, cfg.Models.ReloadInterval)
		g.Go(func() error { return w.Run(gctx) })
	}
	var simSymbols chan []string // a config reload's new symbol list
	if simulate {
		simSymbols = make(chan []string, 1)
		s, err := sim.New(cfg.AllSymbols(), cfg.Simulator, time.Now())
		if err != nil {
			return fmt.Errorf("simulator: %w", err)
		}
		log.Info("simulator producing", zap.Int("symbols", len(cfg.AllSymbols())), zap.Float64("rate_per_symbol", cfg.Simulator.Rate))
		// The feed gets a client of its own: the engine's producer is flushed
		// before each commit, which a never-ending feed would keep busy.
		feed, err := engine.NewProducer(&cfg.Kafka)
		if err != nil {
			return err
		}
		defer feed.Close()
		g.Go(func() error {
			_, err := (&sim.Producer{Client: feed, Topic: cfg.Kafka.Topic, Symbols: simSymbols, Stats: simStats}).Run(gctx, s, cfg.Simulator.Rate, 0)
			if err != nil && gctx.Err() == nil {
				return fmt.Errorf("simulator: %w", err)
			}
			return nil
		})
	}
	if feedStats != nil {
		feed, err := engine.NewProducer(&cfg.Kafka) // its own client, like the simulator's
		if err != nil {
			return err
		}
		defer feed.Close()
		g.Go(func() error {
			err := runFeed(gctx, cfg, feedSrc, feedStats, feed, log.Named("feed"))
			if gctx.Err() != nil {
				return nil
			}
			return err
		})
	}
	if rl.on() {
		r, err := newReloader(rl, base, log.Named("config"), eng.Reload)
		if err != nil {
			return err
		}
		r.simSymbols = simSymbols
		if feedSrc == "yahoo" || feedSrc == "alphavantage" {
			r.pollFeed = feedSrc
		}
		if hub != nil {
			r.onSymbols = append(r.onSymbols, hubSymbols(hub, log.Named("dashboard")))
		}
		w := r.watch()
		g.Go(func() error { return r.loop(gctx, w) })
	}
	if dash != nil {
		g.Go(func() error { return dash.Serve(gctx) }) // closes the SSE streams when gctx ends
	}
	g.Go(func() error { return eng.Run(gctx) })
	if err := g.Wait(); err != nil {
		return err
	}
	log.Info("stopped cleanly",
		zap.Int64("records", eng.Stats.Records.Load()),
		zap.Int64("accepted", eng.Stats.Accepted.Load()),
		zap.Int64("dead_lettered", eng.Stats.DeadLettered.Load()),
		zap.Int64("alerts", eng.Stats.Alerts.Load()),
		zap.Int64("predictions", eng.Stats.Predictions.Load()))
	return nil
}
