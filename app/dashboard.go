package app

import (
	"go.uber.org/zap"

	"github.com/tickstream/tickstream/config"
	"github.com/tickstream/tickstream/engine"
	"github.com/tickstream/tickstream/feeds/feedstats"
	"github.com/tickstream/tickstream/models"
	"github.com/tickstream/tickstream/sinks/alert"
	"github.com/tickstream/tickstream/sinks/dashboard"
	"github.com/tickstream/tickstream/sinks/metrics"
)

// newDashboardHub is the live state the engine and the alert fan-out feed,
// built before the engine; nil when dashboard.listen is "" (off).
func newDashboardHub(cfg *config.Config, reg *models.Registry) (*dashboard.Hub, error) {
	d := &cfg.Dashboard
	if d.Listen == "" {
		return nil, nil
	}
	n := 0
	if reg != nil {
		n = reg.Len()
	}
	return dashboard.NewHub(dashboard.HubOptions{Symbols: cfg.AllSymbols(), History: d.History,
		PushInterval: d.PushInterval, AlertsKept: d.AlertsKept, Models: n})
}

// liveView is hub as the engine's LiveView: nil (not a nil *Hub in an
// interface, which the engine would call) when the dashboard is off.
func liveView(hub *dashboard.Hub) engine.LiveView {
	if hub == nil {
		return nil
	}
	return hub
}

// hubSymbols is the config reloader's hook that hands a new symbol list
// to the hub (see reloader.onSymbols).
func hubSymbols(hub *dashboard.Hub, log *zap.Logger) func([]string) {
	return func(symbols []string) {
		if err := hub.SetSymbols(symbols); err != nil {
			log.Error("the dashboard keeps its symbol list", zap.Error(err))
		}
	}
}

// startDashboard builds the server over hub and eng, with /metrics over
// msrc, and binds dashboard.listen, so a port in use fails the start;
// Serve runs it. With no hub (the dashboard off) it returns nil.
func startDashboard(cfg *config.Config, hub *dashboard.Hub, eng *engine.Engine, reg *models.Registry, msrc metrics.Sources, log *zap.Logger) (*dashboard.Server, error) {
	if hub == nil {
		return nil, nil
	}
	srv, err := dashboard.New(dashboard.Options{
		Listen:      cfg.Dashboard.Listen,
		Token:       cfg.Dashboard.Token,
		Hub:         hub,
		LakeURL:     cfg.Lake.URL,
		SQLRowLimit: cfg.Dashboard.SQLRowLimit,
		Stats:       &eng.Stats,
		Partitions:  eng.Partitions,
		Models:      modelInfos(reg),
		Checks: []dashboard.Check{
			{Name: "consuming", Run: eng.Consuming},
			{Name: "lake", Run: eng.LakeWritable},
		},
		Metrics: metrics.Handler(msrc),
		Assets:  dashboard.Assets(),
		Log:     log,
	})
	if err != nil {
		return nil, err
	}
	if err := srv.Listen(); err != nil {
		return nil, err
	}
	if !dashboard.AssetsBuilt() {
		log.Warn("dashboard assets are not built into this binary (run `make ui`); the API and /metrics are served")
	}
	log.Info("dashboard at "+srv.URL(), zap.Bool("token", cfg.Dashboard.Token != ""),
		zap.Int("series_bytes", hub.SeriesBytes()))
	return srv, nil
}

// modelInfos lists the served models with the version of the file in use.
func modelInfos(reg *models.Registry) func() []dashboard.ModelInfo {
	return func() []dashboard.ModelInfo {
		if reg == nil {
			return nil
		}
		ms := make([]dashboard.ModelInfo, reg.Len())
		for i := range ms {
			spec := reg.Spec(i)
			ms[i] = dashboard.ModelInfo{Name: spec.Name, Kind: spec.Kind}
			if m := reg.Model(i); m != nil {
				ms[i].Version = m.Version
			}
		}
		return ms
	}
}

// metricsSources is what /metrics reads: the engine's counters,
// partitions and models, the delivery counters of the network alert sinks
// among alerts, and feed's counters (nil: no polling or replay feed runs
// in this process).
func metricsSources(eng *engine.Engine, reg *models.Registry, alerts alert.Multi, feed *feedstats.Stats) metrics.Sources {
	return metrics.Sources{Engine: &eng.Stats, Partitions: eng.Partitions, Models: reg,
		Alerts: alertStats(alerts), Feed: feed}
}
