package app

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/twmb/franz-go/pkg/kfake"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/tickstream/tickstream/config"
	"github.com/tickstream/tickstream/engine"
	"github.com/tickstream/tickstream/internal/testkit"
	"github.com/tickstream/tickstream/operators"
	"github.com/tickstream/tickstream/sinks/alert"
	"github.com/tickstream/tickstream/sinks/metrics"
)

// hookServer is a webhook receiver that accepts every alert and counts
// them.
func hookServer(t *testing.T) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		n.Add(1)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// ticksCSV writes a replay file of one symbol: a calm minute, a volume
// spike the anomaly operator must flag, a row breaking the input contract
// and a calm tail. It returns the rows that are ticks and the bad ones.
func ticksCSV(t *testing.T, symbol string) (path string, good, bad int) {
	var b strings.Builder
	b.WriteString("symbol,ts,price,volume\n")
	ts := time.Date(2026, 1, 5, 14, 30, 0, 0, time.UTC).UnixMilli()
	row := func(price, volume float64) {
		fmt.Fprintf(&b, "%s,%d,%g,%g\n", symbol, ts, price, volume)
		ts += 1000
		if price > 0 {
			good++
		} else {
			bad++
		}
	}
	for range 60 {
		row(100, 100)
	}
	row(100, 50_000) // 500× the volume so far
	row(-1, 100)     // not a positive price
	for range 5 {
		row(100, 100)
	}
	path = filepath.Join(t.TempDir(), "ticks.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, good, bad
}

// scrapeValues parses a /metrics body into value by series, written as
// name{label="value",…} with the labels sorted (the parser's order), or
// the bare name.
func scrapeValues(t *testing.T, body io.Reader) map[string]float64 {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(body)
	if err != nil {
		t.Fatalf("parse the exposition: %v", err)
	}
	out := map[string]float64{}
	for name, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var ls []string
			for _, l := range m.GetLabel() {
				ls = append(ls, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			key := name
			if len(ls) > 0 {
				key += "{" + strings.Join(ls, ",") + "}"
			}
			switch {
			case m.GetCounter() != nil:
				out[key] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				out[key] = m.GetGauge().GetValue()
			}
		}
	}
	return out
}

func scrapeHandler(t *testing.T, h http.Handler) map[string]float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", rec.Code, rec.Body)
	}
	return scrapeValues(t, rec.Body)
}

// TestMetricsSources: /metrics as Run builds it shows the webhook's and
// the SNS topic's delivery counters under their sink names and the
// replay feed's counters (counted by the feed runFeed runs, into the
// Stats made before it), beside the engine's; without network sinks or a
// feed their families are left out.
func TestMetricsSources(t *testing.T) {
	hook, received := hookServer(t)
	// SNS is built (never called): static keys, no profile, no IMDS.
	dir := t.TempDir()
	for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret",
		"AWS_SESSION_TOKEN": "", "AWS_PROFILE": "", "AWS_REGION": "", "AWS_EC2_METADATA_DISABLED": "true",
		"AWS_CONFIG_FILE": filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials")} {
		t.Setenv(k, v)
	}
	cfg := config.Default()
	cfg.Alerts.Webhook.URL = hook.URL
	cfg.Alerts.SNS.TopicARN, cfg.Alerts.SNS.Endpoint = "arn:aws:sns:eu-west-1:123456789012:alerts", "http://127.0.0.1:1"
	ctx := context.Background()
	pubs, drain, err := networkAlerts(ctx, &cfg.Alerts, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	var webhook alert.Publisher
	for _, p := range pubs {
		if _, ok := p.(*alert.Webhook); ok {
			webhook = p
		}
	}
	if webhook == nil {
		t.Fatalf("networkAlerts built no webhook: %v", pubs)
	}
	const published = 3
	for i := range published {
		a := operators.Alert{Symbol: "AAA", Kind: operators.VolumeSpike, TS: int64(1000 + i), Rule: operators.RuleFactor}
		webhook.Publish(&a, 0, int64(i))
	}
	if err := drain(ctx); err != nil {
		t.Fatal(err)
	}

	csv, good, bad := ticksCSV(t, "AAA")
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, cfg.Kafka.Topic))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cfg.Kafka.Brokers = c.ListenAddrs()
	cfg.Feeds.Replay.From, cfg.Feeds.Replay.Speed = csv, "max"
	cl, err := engine.NewProducer(&cfg.Kafka)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	st := newFeedStats("replay")
	if err := runFeed(ctx, cfg, "replay", st, cl, zap.NewNop()); err != nil {
		t.Fatal(err)
	}

	eng, err := engine.New(cfg, engine.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	eng.Stats.Records.Store(int64(good))
	got := scrapeHandler(t, metrics.Handler(metricsSources(eng, nil, pubs, st)))
	want := map[string]float64{
		`tickstream_alert_deliveries_total{sink="webhook"}`:                float64(received.Load()),
		`tickstream_alert_deliveries_total{sink="sns"}`:                    0,
		`tickstream_alert_retries_total{sink="webhook"}`:                   0,
		`tickstream_feed_ticks_total{provider="replay"}`:                   float64(good),
		`tickstream_feed_failures_total{kind="bad_row",provider="replay"}`: float64(bad),
		`tickstream_records_consumed_total`:                                float64(good),
	}
	if received.Load() != published {
		t.Errorf("the webhook received %d alerts, want %d", received.Load(), published)
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
		}
	}

	// Only the log sink and no feed: no alert or feed families at all.
	got = scrapeHandler(t, metrics.Handler(metricsSources(eng, nil, alert.Multi{alert.Log{L: zap.NewNop()}}, newFeedStats("sim"))))
	for k := range got {
		if strings.HasPrefix(k, "tickstream_alert_") || strings.HasPrefix(k, "tickstream_feed_") {
			t.Errorf("%s scraped without network sinks or a feed", k)
		}
	}
	if _, ok := got["tickstream_records_consumed_total"]; !ok {
		t.Error("the engine's counters are missing")
	}
}

func TestNewFeedStats(t *testing.T) {
	f := func(source string, counted bool) {
		t.Helper()
		st := newFeedStats(source)
		if (st != nil) != counted || st != nil && st.Provider != source {
			t.Errorf("newFeedStats(%q) = %+v, want counted %v under provider %q", source, st, counted, source)
		}
	}
	f("yahoo", true)
	f("alphavantage", true)
	f("replay", true)
	f("sim", false) // the simulator keeps no feed counters
	f("none", false)
}

// TestRunServesSinkAndFeedMetrics runs `tickstream run` on the embedded
// broker with a replay feed and a webhook, and scrapes the dashboard's
// /metrics once everything replayed is processed: the webhook's
// deliveries equal what the receiver got and the alerts the engine
// raised, and the feed's ticks equal the file's.
func TestRunServesSinkAndFeedMetrics(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole pipeline for a few seconds; skipped in -short mode")
	}
	hook, received := hookServer(t)
	csv, good, bad := ticksCSV(t, "AAA")
	cfg := config.Default()
	cfg.Symbols, cfg.SyntheticSymbols = []string{"AAA"}, 0
	cfg.Feeds.Source = "replay"
	cfg.Feeds.Replay.From, cfg.Feeds.Replay.Speed = csv, "max"
	cfg.Lake.URL = t.TempDir()
	cfg.Lake.FlushInterval = time.Second
	cfg.Alerts.Log = false
	cfg.Alerts.Webhook.URL = hook.URL
	cfg.Dashboard.Listen = "127.0.0.1:0"
	cfg.Engine.ShutdownTimeout = 10 * time.Second

	core, logs := observer.New(zapcore.InfoLevel)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, zap.New(core), Reload{}) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()

	var url string
	testkit.Eventually(t, 30*time.Second, "the dashboard's address in the log", func() bool {
		if e := logs.FilterMessageSnippet("dashboard at ").All(); len(e) > 0 {
			url = strings.TrimPrefix(e[0].Message, "dashboard at ")
		}
		return url != ""
	})
	scrape := func() map[string]float64 {
		resp, err := http.Get(url + "metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /metrics: %s", resp.Status)
		}
		return scrapeValues(t, resp.Body)
	}
	var got map[string]float64
	const delivered = `tickstream_alert_deliveries_total{sink="webhook"}`
	defer func() {
		if t.Failed() {
			t.Logf("last scrape: %v records, %v alert rows, %v delivered; the receiver got %d",
				got[`tickstream_records_consumed_total`], got[`tickstream_lake_rows_total{table="alerts"}`], got[delivered], received.Load())
		}
	}()
	testkit.Eventually(t, 60*time.Second, "every replayed tick processed and its alerts delivered", func() bool {
		got = scrape()
		return got[`tickstream_records_consumed_total`] == float64(good) &&
			got[`tickstream_lake_rows_total{table="alerts"}`] > 0 &&
			got[delivered] == got[`tickstream_lake_rows_total{table="alerts"}`] &&
			got[delivered] == float64(received.Load())
	})
	f := func(series string, want float64) {
		t.Helper()
		if g, ok := got[series]; !ok || g != want {
			t.Errorf("%s = %v (present %v), want %v", series, g, ok, want)
		}
	}
	f(`tickstream_feed_ticks_total{provider="replay"}`, float64(good))
	f(`tickstream_feed_failures_total{kind="bad_row",provider="replay"}`, float64(bad))
	f(`tickstream_alert_delivery_failures_total{sink="webhook"}`, 0)
	for k := range got {
		if strings.Contains(k, `sink="sns"`) {
			t.Errorf("%s without alerts.sns configured", k)
		}
	}
}
