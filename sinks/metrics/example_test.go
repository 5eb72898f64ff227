package metrics_test

import (
	"bufio"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/tickstream/tickstream/engine"
	"github.com/tickstream/tickstream/sinks/metrics"
)

// The handler reads the engine's counters when scraped; mount it at
// /metrics.
func ExampleHandler() {
	var stats engine.Stats
	stats.Records.Add(1200)
	stats.Accepted.Add(1180)
	stats.FlushSeconds.Observe(0.3)

	mux := http.NewServeMux()
	mux.Handle("/metrics", metrics.Handler(metrics.Sources{Engine: &stats}))
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))

	sc := bufio.NewScanner(rec.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "tickstream_records_consumed_total") ||
			strings.HasPrefix(line, "tickstream_lake_rows_total") ||
			strings.HasPrefix(line, "tickstream_lake_flush_duration_seconds_count") {
			fmt.Println(line)
		}
	}
	// Output:
	// tickstream_lake_flush_duration_seconds_count 1
	// tickstream_lake_rows_total{table="alerts"} 0
	// tickstream_lake_rows_total{table="predictions"} 0
	// tickstream_lake_rows_total{table="processed"} 1180
	// tickstream_lake_rows_total{table="raw"} 1200
	// tickstream_records_consumed_total 1200
}
