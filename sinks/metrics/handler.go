package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tickstream/tickstream/engine"
	"github.com/tickstream/tickstream/feeds/feedstats"
	"github.com/tickstream/tickstream/models"
	"github.com/tickstream/tickstream/sinks/alert"
)

// Sources are the counters a scrape reads. Any field may be nil (or empty):
// its metrics are then left out, so a process without feeds, alert sinks
// or models still serves the rest.
type Sources struct {
	Engine *engine.Stats
	// Partitions lists the engine's assigned partitions with their
	// offsets, for the consumer lag (engine.Engine.Partitions).
	Partitions func() []engine.PartitionStatus
	Feed       *feedstats.Stats
	// Alerts are the alert sinks' delivery counters by sink name
	// (webhook, sns): the label value of tickstream_alert_*.
	Alerts map[string]*alert.Stats
	// Models names the slots of Engine.ModelSeconds.
	Models *models.Registry
}

// Handler serves the Prometheus text exposition of src.
func Handler(src Sources) http.Handler {
	reg := newRegistry(src)
	// ContinueOnError: one metric that cannot be built must not blank the
	// whole scrape; promhttp_metric_handler_errors_total counts it.
	return promhttp.InstrumentMetricHandler(reg, promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		Registry:      reg,
		ErrorHandling: promhttp.ContinueOnError,
	}))
}

// newRegistry is a private registry (never the global default, so tests
// and two engines in one process do not collide) with the Go runtime and
// process collectors and ours.
func newRegistry(src Sources) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		newCollector(src),
	)
	return reg
}
