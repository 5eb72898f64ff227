package metrics

import (
	"flag"
	"fmt"
	"maps"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/tickstream/tickstream/engine"
	"github.com/tickstream/tickstream/feeds/feedstats"
	"github.com/tickstream/tickstream/models"
	"github.com/tickstream/tickstream/operators"
	"github.com/tickstream/tickstream/sinks/alert"
	"github.com/tickstream/tickstream/tick"
)

var update = flag.Bool("update", false, "rewrite testdata/metrics.golden from the handler's output")

const goldenPath = "testdata/metrics.golden"

type atomicInt = atomic.Int64

// rig is a Sources with every counter set to a distinct value, and the
// durations observed into its histograms.
type rig struct {
	src        Sources
	eng        *engine.Stats
	feed       *feedstats.Stats
	alerts     map[string]*alert.Stats
	parts      []engine.PartitionStatus
	flushObs   []float64
	modelObs   [][]float64
	modelNames []string
}

func newRig(tb testing.TB) *rig {
	tb.Helper()
	const fixtures = "../../models/testdata/"
	reg, err := models.NewRegistry([]models.Spec{
		{Name: "xgb", Kind: models.KindXGBoost, Path: fixtures + "xgboost/reg.json"},
		{Name: "lstm", Kind: models.KindLSTM, Path: fixtures + "lstm/keras_20x5_16x8_hard.safetensors"},
	}, 20, nil)
	if err != nil {
		tb.Fatal(err)
	}
	g := &rig{
		eng:    &engine.Stats{},
		feed:   &feedstats.Stats{Provider: "sim"},
		alerts: map[string]*alert.Stats{"webhook": {}, "sns": {}},
		parts: []engine.PartitionStatus{
			{Partition: 0, NextOffset: 100, HighWatermark: 150},
			{Partition: 3, NextOffset: -1, HighWatermark: 200}, // nothing processed yet: lag unknown
			{Partition: 5, NextOffset: 40, HighWatermark: 40},
			{Partition: 11, NextOffset: 7, HighWatermark: -1}, // no fetch with records yet
		},
		modelNames: []string{"xgb", "lstm"},
	}
	v := int64(0)
	next := func() int64 { v += 7; return v }
	e := g.eng
	for _, c := range []*atomicInt{
		&e.Records, &e.Accepted, &e.DeadLettered, &e.DLQErrors, &e.Alerts, &e.AlertErrors,
		&e.Predictions, &e.PredictionErrors, &e.Flushes, &e.FlushErrors, &e.FilesWritten,
		&e.BytesWritten, &e.Commits, &e.CommitErrors,
	} {
		c.Store(next())
	}
	for i := range e.Rejected {
		e.Rejected[i].Store(next())
	}
	for i := range e.AlertsByKind {
		e.AlertsByKind[i].Store(next())
	}
	e.LastFlushMs.Store(time.Date(2026, 11, 25, 12, 0, 0, 500e6, time.UTC).UnixMilli())
	g.flushObs = []float64{0.004, 0.02, 0.02, 1.5, 30, 400}
	for _, d := range g.flushObs {
		e.FlushSeconds.Observe(d)
	}
	e.ModelSeconds = make([]engine.Histogram, reg.Len())
	g.modelObs = [][]float64{{0.00003, 0.0001, 0.002}, {0.0008}}
	for i, obs := range g.modelObs {
		for _, d := range obs {
			e.ObserveModel(i, time.Duration(d*float64(time.Second)))
		}
	}

	f := g.feed
	for _, c := range []*atomicInt{
		&f.Requests, &f.RateLimitWaits, &f.Pauses, &f.Ticks, &f.Duplicates, &f.Old,
		&f.Nulls, &f.Stale, &f.SkippedSlots,
	} {
		c.Store(next())
	}
	f.RateLimitWaitNanos.Store(2_500_000_000)
	for i := range f.Failures {
		f.Failures[i].Store(next())
	}
	for _, name := range slices.Sorted(maps.Keys(g.alerts)) {
		a := g.alerts[name]
		for _, c := range []*atomicInt{&a.Delivered, &a.Failed, &a.Dropped, &a.Duplicates, &a.Retries} {
			c.Store(next())
		}
	}
	g.src = Sources{
		Engine:     e,
		Partitions: func() []engine.PartitionStatus { return g.parts },
		Feed:       f,
		Alerts:     g.alerts,
		Models:     reg,
	}
	return g
}

// wantSamples are the counters and gauges the rig must scrape as, mapped
// field by field by hand: the test's own statement of what each metric is.
func (g *rig) wantSamples() map[string]float64 {
	e, f := g.eng, g.feed
	w := map[string]float64{}
	set := func(v int64, name string, labels ...string) { w[key(name, labels...)] = float64(v) }
	set(e.Records.Load(), "tickstream_records_consumed_total")
	set(e.Records.Load(), "tickstream_lake_rows_total", "table", "raw")
	set(e.Accepted.Load(), "tickstream_lake_rows_total", "table", "processed")
	set(e.Alerts.Load(), "tickstream_lake_rows_total", "table", "alerts")
	set(e.Predictions.Load(), "tickstream_lake_rows_total", "table", "predictions")
	for _, r := range tick.Reasons() {
		set(e.Rejected[r].Load(), "tickstream_records_rejected_total", "reason", r.String())
	}
	set(e.DeadLettered.Load(), "tickstream_dlq_records_total")
	set(e.DLQErrors.Load(), "tickstream_dlq_produce_errors_total")
	set(e.AlertsByKind[operators.VolumeSpike].Load(), "tickstream_alerts_total", "kind", "volume_spike")
	set(e.AlertsByKind[operators.PriceDrop].Load(), "tickstream_alerts_total", "kind", "price_drop")
	set(e.PredictionErrors.Load(), "tickstream_prediction_errors_total")
	set(e.Flushes.Load(), "tickstream_lake_flushes_total")
	set(e.BytesWritten.Load(), "tickstream_lake_written_bytes_total")
	set(e.FilesWritten.Load(), "tickstream_lake_written_files_total")
	set(e.FlushErrors.Load(), "tickstream_lake_write_failures_total")
	w[key("tickstream_lake_last_flush_timestamp_seconds")] = float64(time.UnixMilli(e.LastFlushMs.Load()).UnixNano()) / 1e9
	set(e.Commits.Load(), "tickstream_kafka_commits_total")
	set(e.CommitErrors.Load(), "tickstream_kafka_commit_errors_total")

	set(int64(len(g.parts)), "tickstream_partitions_assigned")
	for _, p := range g.parts {
		if p.NextOffset >= 0 && p.HighWatermark >= 0 {
			set(p.HighWatermark-p.NextOffset, "tickstream_consumer_lag_records", "partition", fmt.Sprint(p.Partition))
		}
	}
	for name, a := range g.alerts {
		set(a.Delivered.Load(), "tickstream_alert_deliveries_total", "sink", name)
		set(a.Failed.Load(), "tickstream_alert_delivery_failures_total", "sink", name)
		set(a.Dropped.Load(), "tickstream_alert_dropped_total", "sink", name)
		set(a.Duplicates.Load(), "tickstream_alert_duplicates_total", "sink", name)
		set(a.Retries.Load(), "tickstream_alert_retries_total", "sink", name)
	}

	p := f.Provider
	set(f.Requests.Load(), "tickstream_feed_requests_total", "provider", p)
	for k := range f.Failures {
		set(f.Failures[k].Load(), "tickstream_feed_failures_total", "kind", feedstats.Kind(k).String(), "provider", p)
	}
	set(f.RateLimitWaits.Load(), "tickstream_feed_rate_limit_waits_total", "provider", p)
	w[key("tickstream_feed_rate_limit_wait_seconds_total", "provider", p)] = time.Duration(f.RateLimitWaitNanos.Load()).Seconds()
	set(f.Pauses.Load(), "tickstream_feed_pauses_total", "provider", p)
	set(f.Ticks.Load(), "tickstream_feed_ticks_total", "provider", p)
	set(f.Duplicates.Load(), "tickstream_feed_skipped_total", "provider", p, "reason", "duplicate")
	set(f.Old.Load(), "tickstream_feed_skipped_total", "provider", p, "reason", "old")
	set(f.Nulls.Load(), "tickstream_feed_skipped_total", "provider", p, "reason", "null")
	set(f.Stale.Load(), "tickstream_feed_stale_ticks_total", "provider", p)
	set(f.SkippedSlots.Load(), "tickstream_feed_skipped_slots_total", "provider", p)
	return w
}

// key is a sample's identity: name{label="value",...} with labels in the
// order given (sorted by name in the callers and in samples).
func key(name string, labels ...string) string {
	var b strings.Builder
	b.WriteString(name)
	for i := 0; i+1 < len(labels); i += 2 {
		fmt.Fprintf(&b, ",%s=%q", labels[i], labels[i+1])
	}
	return b.String()
}

// scrape serves one request from h and parses the text exposition.
func scrape(t *testing.T, h http.Handler) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: status %d: %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("GET /metrics: Content-Type %q", ct)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatalf("parse the exposition: %v", err)
	}
	return mfs
}

// ours keeps tickstream's families (the runtime's vary by platform).
func ours(mfs map[string]*dto.MetricFamily) map[string]*dto.MetricFamily {
	out := map[string]*dto.MetricFamily{}
	for name, mf := range mfs {
		if strings.HasPrefix(name, "tickstream_") {
			out[name] = mf
		}
	}
	return out
}

func labelsOf(m *dto.Metric) []string {
	var ls []string
	for _, l := range m.GetLabel() { // the parser returns them sorted by name
		ls = append(ls, l.GetName(), l.GetValue())
	}
	return ls
}

func TestHandlerValues(t *testing.T) {
	g := newRig(t)
	mfs := ours(scrape(t, Handler(g.src)))

	got := map[string]float64{}
	for name, mf := range mfs {
		for _, m := range mf.GetMetric() {
			k := key(name, labelsOf(m)...)
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				got[k] = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				got[k] = m.GetGauge().GetValue()
			}
		}
	}
	want := g.wantSamples()
	for k, v := range want {
		if gv, ok := got[k]; !ok {
			t.Errorf("missing %s", k)
		} else if gv != v {
			t.Errorf("%s = %v, want %v", k, gv, v)
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected %s = %v", k, v)
		}
	}

	checkHistogram(t, mfs, "tickstream_lake_flush_duration_seconds", nil, g.flushObs)
	for i, name := range g.modelNames {
		checkHistogram(t, mfs, "tickstream_model_inference_duration_seconds", []string{"model", name}, g.modelObs[i])
	}
	if n := len(mfs["tickstream_model_inference_duration_seconds"].GetMetric()); n != len(g.modelNames) {
		t.Errorf("%d model histograms, want %d", n, len(g.modelNames))
	}
}

// checkHistogram compares the scraped histogram with labels to a count of
// obs per bound, made here one by one. Durations pass through
// time.Duration on the model path, so sums compare to within a nanosecond
// per observation.
func checkHistogram(t *testing.T, mfs map[string]*dto.MetricFamily, name string, labels []string, obs []float64) {
	t.Helper()
	mf := mfs[name]
	if mf.GetType() != dto.MetricType_HISTOGRAM {
		t.Fatalf("%s: type %v, want histogram", name, mf.GetType())
	}
	var h *dto.Histogram
	for _, m := range mf.GetMetric() {
		if slices.Equal(labelsOf(m), labels) {
			h = m.GetHistogram()
		}
	}
	if h == nil {
		t.Fatalf("%s%v: not scraped", name, labels)
	}
	var sum float64
	for _, v := range obs {
		sum += v
	}
	if h.GetSampleCount() != uint64(len(obs)) || math.Abs(h.GetSampleSum()-sum) > 1e-9*float64(len(obs)) {
		t.Errorf("%s%v: count %d sum %v, want %d and %v", name, labels, h.GetSampleCount(), h.GetSampleSum(), len(obs), sum)
	}
	// The parser adds the +Inf bucket the text format implies.
	bounds := append(engine.HistogramBounds[:], math.Inf(1))
	bs := h.GetBucket()
	if len(bs) != len(bounds) {
		t.Fatalf("%s%v: %d buckets, want %d", name, labels, len(bs), len(bounds))
	}
	for i, b := range bs {
		if b.GetUpperBound() != bounds[i] {
			t.Errorf("%s%v: bucket %d has le=%g, want %g", name, labels, i, b.GetUpperBound(), bounds[i])
		}
		var n uint64
		for _, v := range obs {
			if v <= b.GetUpperBound() {
				n++
			}
		}
		if b.GetCumulativeCount() != n {
			t.Errorf("%s%v: le=%g has %d, want %d", name, labels, b.GetUpperBound(), b.GetCumulativeCount(), n)
		}
	}
}

// TestHandlerSources: each missing source leaves out its metrics only, and
// zero counters are still exported (rate() needs the series from the start).
func TestHandlerSources(t *testing.T) {
	g := newRig(t)
	f := func(src Sources, want ...string) {
		t.Helper()
		got := slices.Sorted(maps.Keys(ours(scrape(t, Handler(src)))))
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("families %v, want %v", got, want)
		}
	}
	engineOnly := []string{
		"tickstream_records_consumed_total", "tickstream_lake_rows_total", "tickstream_records_rejected_total",
		"tickstream_dlq_records_total", "tickstream_dlq_produce_errors_total", "tickstream_alerts_total",
		"tickstream_prediction_errors_total", "tickstream_lake_flushes_total", "tickstream_lake_written_bytes_total",
		"tickstream_lake_written_files_total", "tickstream_lake_write_failures_total",
		"tickstream_lake_flush_duration_seconds", "tickstream_kafka_commits_total", "tickstream_kafka_commit_errors_total",
	}
	f(Sources{})
	f(Sources{Engine: &engine.Stats{}}, engineOnly...)
	// Models without their histograms (an engine made without them): none.
	f(Sources{Engine: &engine.Stats{}, Models: g.src.Models}, engineOnly...)
	f(Sources{Alerts: map[string]*alert.Stats{"webhook": {}, "sns": nil}},
		"tickstream_alert_deliveries_total", "tickstream_alert_delivery_failures_total",
		"tickstream_alert_dropped_total", "tickstream_alert_duplicates_total", "tickstream_alert_retries_total")
	f(Sources{Partitions: func() []engine.PartitionStatus { return nil }}, "tickstream_partitions_assigned")
}

// TestHandlerLint: the whole exposition, runtime collectors included,
// passes Prometheus's own linter.
func TestHandlerLint(t *testing.T) {
	problems, err := testutil.GatherAndLint(newRegistry(newRig(t).src))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}

// TestGolden keeps every metric's name, type, labels and help in
// testdata/metrics.golden, so a rename shows in review; and every
// described metric is in it.
func TestGolden(t *testing.T) {
	g := newRig(t)
	mfs := ours(scrape(t, Handler(g.src)))

	descs := make(chan *prometheus.Desc, 100)
	newCollector(g.src).Describe(descs)
	close(descs)
	if len(descs) != len(mfs) {
		t.Errorf("%d metrics described, %d scraped with every source set", len(descs), len(mfs))
	}

	var b strings.Builder
	for _, name := range slices.Sorted(maps.Keys(mfs)) {
		mf := mfs[name]
		var labels []string
		for _, l := range mf.GetMetric()[0].GetLabel() {
			labels = append(labels, l.GetName())
		}
		ls := strings.Join(labels, ",")
		if ls == "" {
			ls = "-"
		}
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n# LABELS %s %s\n",
			name, mf.GetHelp(), name, strings.ToLower(mf.GetType().String()), name, ls)
	}
	got := b.String()
	if *update {
		if err := os.WriteFile(goldenPath, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatalf("%v (run go test ./sinks/metrics -run Golden -update)", err)
	}
	if got != string(want) {
		t.Errorf("metrics differ from %s (go test ./sinks/metrics -run Golden -update, then review the diff):\n%s", goldenPath, got)
	}
}

// goldenNames are the metric names in the golden file.
func goldenNames(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for line := range strings.Lines(string(b)) {
		if f := strings.Fields(line); len(f) >= 3 && f[1] == "TYPE" {
			names[f[2]] = true
		}
	}
	if len(names) == 0 {
		t.Fatalf("%s lists no metric", goldenPath)
	}
	return names
}

// BenchmarkScrape is one scrape of every source with the runtime
// collectors: the whole cost of metrics, paid by the scraper only.
func BenchmarkScrape(b *testing.B) {
	h := Handler(newRig(b).src)
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
	}
}
