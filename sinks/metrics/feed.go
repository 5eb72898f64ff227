package metrics

import (
	"maps"
	"slices"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tickstream/tickstream/feeds/feedstats"
)

// feedHelp is the HELP text of each metric feedstats.Stats.Metrics lists;
// the names and labels are feedstats', so they are renamed there only.
var feedHelp = map[string]string{
	"tickstream_feed_requests_total":                "Symbol fetches the feed made.",
	"tickstream_feed_failures_total":                "Failed fetches or rejected input rows, by kind.",
	"tickstream_feed_rate_limit_waits_total":        "Requests the client-side rate limiter held back.",
	"tickstream_feed_rate_limit_wait_seconds_total": "Time requests waited for the client-side rate limiter.",
	"tickstream_feed_pauses_total":                  "Provider-wide back-offs after a refusal (429 or a notice).",
	"tickstream_feed_ticks_total":                   "Ticks handed to the Kafka producer.",
	"tickstream_feed_skipped_total":                 "Quotes not produced, by reason: duplicate of the last, not newer than the last, or a null field.",
	"tickstream_feed_stale_ticks_total":             "Ticks produced with the stale flag.",
	"tickstream_feed_skipped_slots_total":           "Scheduled polls not made: the symbol was still in flight or backing off.",
}

// feedDescs makes a descriptor per feed metric, with the label names
// feedstats uses (read from a zero Stats, so a label added there is
// exported without a change here).
func feedDescs() map[string]feedDesc {
	ds := make(map[string]feedDesc)
	for _, m := range (&feedstats.Stats{}).Metrics() {
		if _, ok := ds[m.Name]; ok {
			continue
		}
		help := feedHelp[m.Name]
		if help == "" {
			help = "Feed counter " + m.Name + " (see feeds/feedstats)."
		}
		labels := slices.Sorted(maps.Keys(m.Labels))
		ds[m.Name] = feedDesc{desc: prometheus.NewDesc(m.Name, help, labels, nil), labels: labels}
	}
	return ds
}

func (c *collector) collectFeed(ch chan<- prometheus.Metric) {
	for _, m := range c.src.Feed.Metrics() {
		fd, ok := c.feed[m.Name]
		if !ok {
			continue // cannot happen: the names come from the same method
		}
		values := make([]string, len(fd.labels))
		for i, l := range fd.labels {
			values[i] = m.Labels[l]
		}
		ch <- prometheus.MustNewConstMetric(fd.desc, prometheus.CounterValue, m.Value, values...)
	}
}
