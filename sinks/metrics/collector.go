package metrics

import (
	"maps"
	"slices"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tickstream/tickstream/engine"
	"github.com/tickstream/tickstream/operators"
	"github.com/tickstream/tickstream/tick"
)

// collector turns Sources into metrics at each scrape. Its descriptors are
// made once; Collect only loads atomics and builds const metrics.
type collector struct {
	src Sources

	records, rows, rejected, dlq, dlqErrors     *prometheus.Desc
	alerts, predErrors                          *prometheus.Desc
	lag, assigned                               *prometheus.Desc
	flushes, flushBytes, flushFiles, lakeErrors *prometheus.Desc
	lastFlush, flushSeconds                     *prometheus.Desc
	commits, commitErrors                       *prometheus.Desc
	modelSeconds                                *prometheus.Desc

	delivered, failed, dropped, duplicates, retries *prometheus.Desc

	feed map[string]feedDesc // by metric name
}

// feedDesc is a feed metric's descriptor and its label names in order.
type feedDesc struct {
	desc   *prometheus.Desc
	labels []string
}

func newCollector(src Sources) *collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, nil)
	}
	c := &collector{
		src: src,

		records: d("tickstream_records_consumed_total",
			"Records consumed from the ticks topic (every one also becomes a raw row)."),
		rows: d("tickstream_lake_rows_total",
			"Rows handed to the lake writer, by table: raw (every record), processed (accepted ticks), alerts, predictions. They reach the lake with the partition's next flush.",
			"table"),
		rejected: d("tickstream_records_rejected_total",
			"Records rejected, by reason (the raw table's reject_reason and the DLQ reason header).",
			"reason"),
		dlq: d("tickstream_dlq_records_total",
			"Rejected records produced to the dead-letter topic (every reason but duplicate and late)."),
		dlqErrors: d("tickstream_dlq_produce_errors_total",
			"Dead-letter produces that failed; the record is still in the lake's raw table."),
		alerts: d("tickstream_alerts_total",
			"Alerts raised by the anomaly operators, by kind.",
			"kind"),
		predErrors: d("tickstream_prediction_errors_total",
			"Model failures in a batch plus prediction records the producer failed to deliver; the lake keeps the rows made."),
		lag: d("tickstream_consumer_lag_records",
			"Records of an assigned partition not processed yet: its high watermark at the last fetch minus the next offset to process.",
			"partition"),
		assigned: d("tickstream_partitions_assigned",
			"Partitions of the ticks topic this process owns in the consumer group."),
		flushes: d("tickstream_lake_flushes_total",
			"Batches committed to the lake (marker, files, checkpoint, cleanup all done)."),
		flushBytes: d("tickstream_lake_written_bytes_total",
			"Bytes of Parquet files put into the lake."),
		flushFiles: d("tickstream_lake_written_files_total",
			"Parquet files put into the lake."),
		lakeErrors: d("tickstream_lake_write_failures_total",
			"Failed attempts at a lake step (batch marker, file upload, checkpoint, cleanup), each retried with backoff until it succeeds. The store client's own retries are not counted here."),
		lastFlush: d("tickstream_lake_last_flush_timestamp_seconds",
			"Wall clock of the last batch committed to the lake, Unix seconds."),
		flushSeconds: d("tickstream_lake_flush_duration_seconds",
			"Time to commit one batch to the lake, retries included."),
		commits: d("tickstream_kafka_commits_total",
			"Consumer offset commits that succeeded, each after its batch was in the lake."),
		commitErrors: d("tickstream_kafka_commit_errors_total",
			"Consumer offset commits that failed; the next flush commits past them."),
		modelSeconds: d("tickstream_model_inference_duration_seconds",
			"Time a model's batched inference took for one partition batch (stateful LSTMs, which step at every tick, are not timed).",
			"model"),

		delivered: d("tickstream_alert_deliveries_total",
			"Alerts the sink's receiver accepted.", "sink"),
		failed: d("tickstream_alert_delivery_failures_total",
			"Alerts the sink gave up on: attempts exhausted, a permanent error, or shutdown.", "sink"),
		dropped: d("tickstream_alert_dropped_total",
			"Alerts never attempted because the sink's queue was full or closed.", "sink"),
		duplicates: d("tickstream_alert_duplicates_total",
			"Alerts skipped because this process had already delivered them (a replayed batch).", "sink"),
		retries: d("tickstream_alert_retries_total",
			"Delivery attempts after the first.", "sink"),
	}
	c.feed = feedDescs()
	return c
}

// Describe sends every descriptor, whichever sources are set.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.records, c.rows, c.rejected, c.dlq, c.dlqErrors, c.alerts, c.predErrors,
		c.lag, c.assigned, c.flushes, c.flushBytes, c.flushFiles, c.lakeErrors,
		c.lastFlush, c.flushSeconds, c.commits, c.commitErrors, c.modelSeconds,
		c.delivered, c.failed, c.dropped, c.duplicates, c.retries,
	} {
		ch <- d
	}
	for _, name := range slices.Sorted(maps.Keys(c.feed)) {
		ch <- c.feed[name].desc
	}
}

// Collect reads the sources' counters.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	if s := c.src.Engine; s != nil {
		c.collectEngine(ch, s)
	}
	if c.src.Partitions != nil {
		c.collectLag(ch, c.src.Partitions())
	}
	for _, sink := range slices.Sorted(maps.Keys(c.src.Alerts)) {
		s := c.src.Alerts[sink]
		if s == nil {
			continue
		}
		counter(ch, c.delivered, s.Delivered.Load(), sink)
		counter(ch, c.failed, s.Failed.Load(), sink)
		counter(ch, c.dropped, s.Dropped.Load(), sink)
		counter(ch, c.duplicates, s.Duplicates.Load(), sink)
		counter(ch, c.retries, s.Retries.Load(), sink)
	}
	if c.src.Feed != nil {
		c.collectFeed(ch)
	}
}

func (c *collector) collectEngine(ch chan<- prometheus.Metric, s *engine.Stats) {
	counter(ch, c.records, s.Records.Load())
	counter(ch, c.rows, s.Records.Load(), "raw")
	counter(ch, c.rows, s.Accepted.Load(), "processed")
	counter(ch, c.rows, s.Alerts.Load(), "alerts")
	counter(ch, c.rows, s.Predictions.Load(), "predictions")
	// Every reason is sent, zero or not, so rate() has a series from the
	// first scrape and a dashboard shows the reasons that never happened.
	for _, r := range tick.Reasons() {
		counter(ch, c.rejected, s.RejectedBy(r), r.String())
	}
	counter(ch, c.dlq, s.DeadLettered.Load())
	counter(ch, c.dlqErrors, s.DLQErrors.Load())
	for k := range len(s.AlertsByKind) {
		kind := operators.AlertKind(k)
		if kind.String() == operators.AlertKind(0).String() {
			continue // not a kind the operators raise (0 is none)
		}
		counter(ch, c.alerts, s.AlertsOf(kind), kind.String())
	}
	counter(ch, c.predErrors, s.PredictionErrors.Load())

	counter(ch, c.flushes, s.Flushes.Load())
	counter(ch, c.flushBytes, s.BytesWritten.Load())
	counter(ch, c.flushFiles, s.FilesWritten.Load())
	counter(ch, c.lakeErrors, s.FlushErrors.Load())
	if ms := s.LastFlushMs.Load(); ms > 0 {
		ch <- prometheus.MustNewConstMetric(c.lastFlush, prometheus.GaugeValue, float64(ms)/1e3)
	}
	histogram(ch, c.flushSeconds, &s.FlushSeconds)
	counter(ch, c.commits, s.Commits.Load())
	counter(ch, c.commitErrors, s.CommitErrors.Load())

	if reg := c.src.Models; reg != nil {
		for i := range min(reg.Len(), len(s.ModelSeconds)) {
			histogram(ch, c.modelSeconds, &s.ModelSeconds[i], reg.Spec(i).Name)
		}
	}
}

// collectLag sends the lag of the partitions whose lag is known (records
// fetched and processed since assignment).
func (c *collector) collectLag(ch chan<- prometheus.Metric, ps []engine.PartitionStatus) {
	ch <- prometheus.MustNewConstMetric(c.assigned, prometheus.GaugeValue, float64(len(ps)))
	for _, p := range ps {
		if lag := p.Lag(); lag >= 0 {
			ch <- prometheus.MustNewConstMetric(c.lag, prometheus.GaugeValue, float64(lag),
				strconv.FormatInt(int64(p.Partition), 10))
		}
	}
}

func counter(ch chan<- prometheus.Metric, d *prometheus.Desc, v int64, labels ...string) {
	ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
}

// histogram sends a snapshot of h. bounds and buckets have the same length
// by construction; an error would be ours, reported as an invalid metric
// (the scrape goes on without it) rather than a panic.
func histogram(ch chan<- prometheus.Metric, d *prometheus.Desc, h *engine.Histogram, labels ...string) {
	buckets, sum, count := h.Snapshot()
	m := make(map[float64]uint64, len(buckets))
	for i, n := range buckets {
		m[engine.HistogramBounds[i]] = n
	}
	hm, err := prometheus.NewConstHistogram(d, count, sum, m, labels...)
	if err != nil {
		hm = prometheus.NewInvalidMetric(d, err)
	}
	ch <- hm
}
