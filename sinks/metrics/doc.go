// Package metrics serves tickstream's counters as Prometheus metrics: the
// engine's (records, rejects by reason, DLQ, alerts by kind, lake flushes,
// consumer lag, inference latency), the alert sinks' deliveries and the
// feed's requests, next to the Go runtime and process collectors.
//
// It reads the atomic counters the components already keep, at scrape
// time, from a private registry: the tick path pays nothing for metrics
// and nothing here registers globally. It must not count anything itself
// nor hold references that keep a stopped component alive beyond the
// handler; every source may be missing, and its metrics are then left out.
package metrics
