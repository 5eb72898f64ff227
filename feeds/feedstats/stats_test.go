package feedstats

import (
	"strings"
	"testing"
	"time"
)

// TestMetrics: every counter is published under its Prometheus name with
// the provider label, each failure kind once, with the counter's value.
func TestMetrics(t *testing.T) {
	s := &Stats{Provider: "yahoo"}
	s.Requests.Add(7)
	for k := range numKinds {
		for range int(k) + 1 {
			s.Fail(k)
		}
	}
	s.Waited(1500 * time.Millisecond)
	s.Ticks.Add(11)
	s.Duplicates.Add(3)
	seen := map[string]bool{}
	for _, m := range s.Metrics() {
		if !strings.HasPrefix(m.Name, "tickstream_feed_") || m.Labels["provider"] != "yahoo" {
			t.Errorf("metric %+v: want a tickstream_feed_ name and the provider label", m)
		}
		id := m.Name + "{" + m.Labels["kind"] + m.Labels["reason"] + "}"
		if seen[id] {
			t.Errorf("metric %s twice", id)
		}
		seen[id] = true
		switch {
		case m.Name == "tickstream_feed_failures_total":
			var k Kind
			for k = 0; k < numKinds && k.String() != m.Labels["kind"]; k++ {
			}
			if k == numKinds || m.Value != float64(k)+1 {
				t.Errorf("%s = %v", id, m.Value)
			}
		case m.Name == "tickstream_feed_requests_total" && m.Value != 7,
			m.Name == "tickstream_feed_ticks_total" && m.Value != 11,
			m.Name == "tickstream_feed_rate_limit_waits_total" && m.Value != 1,
			m.Name == "tickstream_feed_rate_limit_wait_seconds_total" && m.Value != 1.5,
			m.Labels["reason"] == "duplicate" && m.Value != 3:
			t.Errorf("%s = %v", id, m.Value)
		}
	}
	if n := len(seen); n != int(numKinds)+10 {
		t.Errorf("%d metrics, want %d", n, int(numKinds)+10)
	}
	if Kind(200).String() != "unknown" || !RateLimited.ProviderWide() || NotFound.ProviderWide() {
		t.Error("Kind helpers")
	}
}
