// Package feedstats counts what a feed does, per provider: requests,
// failures by kind, rate-limit waits, ticks produced, and the ticks it chose
// not to produce. The counters are atomics that any goroutine may bump; the
// accessor Metrics lists them under the names and labels they will carry on
// a Prometheus endpoint, so exporting them later is a loop, not a rename.
//
// It must not decide anything: it only counts, and formats a summary line.
package feedstats

import (
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// Kind classifies a failed request or a rejected input row. Kinds are stable
// label values (tickstream_feed_failures_total{kind=…}): never rename one.
type Kind uint8

const (
	RateLimited Kind = iota // HTTP 429, or a provider's "slow down" notice in a 200 body
	Auth                    // missing or invalid API key, refused cookie or crumb
	NotFound                // the provider does not know the symbol
	Malformed               // a body that is not the documented format
	HTTP                    // any other non-2xx status
	Timeout                 // no complete response within the request timeout
	Network                 // connection refused, reset, DNS …
	BadRow                  // replay: a row that is not a valid tick

	numKinds
)

var kindNames = [numKinds]string{
	RateLimited: "rate_limited",
	Auth:        "auth",
	NotFound:    "not_found",
	Malformed:   "malformed",
	HTTP:        "http",
	Timeout:     "timeout",
	Network:     "network",
	BadRow:      "bad_row",
}

// String returns the stable label value.
func (k Kind) String() string {
	if k < numKinds {
		return kindNames[k]
	}
	return "unknown"
}

// ProviderWide reports whether a failure of this kind concerns the provider
// rather than one symbol: the feed then pauses every request to it, instead
// of backing off that symbol alone.
func (k Kind) ProviderWide() bool { return k == RateLimited || k == Auth }

// Stats are one provider's counters. The zero value is ready to use (set
// Provider first); every field may be updated from any goroutine.
type Stats struct {
	Provider string // label value: yahoo, alphavantage, replay, sim

	Requests atomic.Int64 // symbol fetches made (a crumb refresh is part of its fetch)
	Failures [numKinds]atomic.Int64
	// RateLimitWaits counts requests the client-side limiter held back;
	// RateLimitWaitNanos is the total time they waited.
	RateLimitWaits     atomic.Int64
	RateLimitWaitNanos atomic.Int64
	// Pauses counts provider-wide back-offs after a refusal (429, notice).
	Pauses atomic.Int64

	Ticks      atomic.Int64 // ticks handed to the Kafka producer
	Duplicates atomic.Int64 // quotes identical to the symbol's last one, not produced again
	Old        atomic.Int64 // ticks not newer than the symbol's last one, not produced
	Nulls      atomic.Int64 // bars or quotes with a null or invalid field, skipped
	Stale      atomic.Int64 // ticks produced with the stale flag (older than stale_after)
	// SkippedSlots counts scheduled polls not made because the symbol was
	// still in flight or backing off after its own failures.
	SkippedSlots atomic.Int64
}

// Fail counts one failure of kind k.
func (s *Stats) Fail(k Kind) {
	if k < numKinds {
		s.Failures[k].Add(1)
	}
}

// Waited counts one limiter wait of d.
func (s *Stats) Waited(d time.Duration) {
	s.RateLimitWaits.Add(1)
	s.RateLimitWaitNanos.Add(int64(d))
}

// Metric is one sample as a Prometheus exporter will publish it.
type Metric struct {
	Name   string            // e.g. tickstream_feed_requests_total
	Labels map[string]string // always has "provider"
	Value  float64
}

// Metrics lists every counter, failures once per kind, in a fixed order.
func (s *Stats) Metrics() []Metric {
	p := func(extra ...string) map[string]string {
		m := map[string]string{"provider": s.Provider}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	ms := []Metric{{"tickstream_feed_requests_total", p(), float64(s.Requests.Load())}}
	for k := range numKinds {
		ms = append(ms, Metric{"tickstream_feed_failures_total", p("kind", k.String()), float64(s.Failures[k].Load())})
	}
	return append(ms,
		Metric{"tickstream_feed_rate_limit_waits_total", p(), float64(s.RateLimitWaits.Load())},
		Metric{"tickstream_feed_rate_limit_wait_seconds_total", p(), time.Duration(s.RateLimitWaitNanos.Load()).Seconds()},
		Metric{"tickstream_feed_pauses_total", p(), float64(s.Pauses.Load())},
		Metric{"tickstream_feed_ticks_total", p(), float64(s.Ticks.Load())},
		Metric{"tickstream_feed_skipped_total", p("reason", "duplicate"), float64(s.Duplicates.Load())},
		Metric{"tickstream_feed_skipped_total", p("reason", "old"), float64(s.Old.Load())},
		Metric{"tickstream_feed_skipped_total", p("reason", "null"), float64(s.Nulls.Load())},
		Metric{"tickstream_feed_stale_ticks_total", p(), float64(s.Stale.Load())},
		Metric{"tickstream_feed_skipped_slots_total", p(), float64(s.SkippedSlots.Load())},
	)
}

// Fields returns the counters as zap fields for a periodic summary line
// (the logger is expected to carry the provider); failure kinds that never
// happened are left out.
func (s *Stats) Fields() []zap.Field {
	fs := []zap.Field{
		zap.Int64("requests", s.Requests.Load()),
		zap.Int64("ticks", s.Ticks.Load()),
		zap.Int64("duplicates", s.Duplicates.Load()),
		zap.Int64("old", s.Old.Load()),
		zap.Int64("nulls", s.Nulls.Load()),
		zap.Int64("stale", s.Stale.Load()),
		zap.Int64("rate_limit_waits", s.RateLimitWaits.Load()),
		zap.Duration("rate_limit_wait", time.Duration(s.RateLimitWaitNanos.Load())),
		zap.Int64("pauses", s.Pauses.Load()),
		zap.Int64("skipped_slots", s.SkippedSlots.Load()),
	}
	for k := range numKinds {
		if n := s.Failures[k].Load(); n > 0 {
			fs = append(fs, zap.Int64("failed_"+k.String(), n))
		}
	}
	return fs
}
