package dashboard

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/tickstream/tickstream/config"
	"github.com/tickstream/tickstream/engine"
	"github.com/tickstream/tickstream/models"
	"github.com/tickstream/tickstream/operators"
	"github.com/tickstream/tickstream/tick"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// t0 is the fixture's clock: quotes, alerts and the server's now are all
// fixed offsets from it, so responses are byte-for-byte stable.
var t0 = time.Date(2026, 11, 24, 14, 30, 0, 0, time.UTC)

func ms(d time.Duration) int64 { return t0.Add(d).UnixMilli() }

// fixture is a hub and server fed deterministic data.
type fixture struct {
	hub   *Hub
	srv   *Server
	stats *engine.Stats
	now   time.Time
	ready map[string]error
}

// The fixture's feed, kept as values so tests can compute expectations
// from them independently of the hub.
var (
	fixSymbols = []string{"AAPL", "MSFT", "NVDA", "BRK.B"}
	fixQuotes  = [][]engine.Quote{
		{
			{Symbol: "AAPL", TS: ms(0), Price: 100, Volume: 1200, Bid: 99.99, Ask: 100.01, MA: 100},
			{Symbol: "MSFT", TS: ms(0), Price: 400, Volume: 300, MA: 400},
		},
		{
			{Symbol: "AAPL", TS: ms(time.Second), Price: 101.5, Volume: 9000, Bid: 101.49, Ask: 101.51, MA: 100.75},
			{Symbol: "UNKNOWN", TS: ms(time.Second), Price: 1, Volume: 1, MA: 1}, // not configured: ignored
			{Symbol: "MSFT", TS: ms(2 * time.Second), Price: 396, Volume: 350, MA: 398},
		},
	}
	fixAlerts = []operators.Alert{
		{Symbol: "AAPL", Kind: operators.VolumeSpike, TS: ms(time.Second), Observed: 9000, Threshold: 6000, Reference: 1200, Rule: operators.RuleFactor},
		{Symbol: "MSFT", Kind: operators.PriceDrop, TS: ms(2 * time.Second), Observed: 396, Threshold: 398, Reference: 410, Rule: operators.RuleFromMax},
		{Symbol: "BRK.B", Kind: operators.VolumeSpike, TS: ms(3 * time.Second), Observed: 5e6, Threshold: 25000, Reference: 5000, Rule: operators.RuleFactor},
	}
	fixPreds = []models.PredictionRow{
		{Symbol: "AAPL", TS: ms(time.Second), Model: "xgb", ModelVersion: "1a2b3c4d5e6f", Horizon: "10s", Value: 0.42},
		{Symbol: "AAPL", TS: ms(time.Second), Model: "lstm", ModelVersion: "77aa", Horizon: "10s", Value: -0.125},
	}
)

// newFixture feeds the hub: the first batch of quotes, a push (sampling
// it), the second batch, alerts and predictions, a second push.
func newFixture(t testing.TB, mod func(*Options)) *fixture {
	t.Helper()
	hub, err := NewHub(HubOptions{Symbols: fixSymbols, History: time.Minute, PushInterval: time.Second, AlertsKept: 10, Models: 2})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{hub: hub, stats: &engine.Stats{}, now: t0, // the server starts at t0
		ready: map[string]error{"consuming": nil, "lake": nil}}
	f.stats.Records.Store(1500)
	f.stats.Accepted.Store(1490)
	f.stats.Rejected[tick.Late].Store(7)
	f.stats.Rejected[tick.Malformed].Store(3)
	f.stats.DeadLettered.Store(3)
	f.stats.Alerts.Store(3)
	f.stats.Predictions.Store(2)
	f.stats.Flushes.Store(4)
	f.stats.FlushErrors.Store(1)
	f.stats.BytesWritten.Store(123456)
	f.stats.LastFlushMs.Store(ms(-time.Second))
	o := Options{
		Listen: "127.0.0.1:0", Hub: hub, SQLRowLimit: 100, Stats: f.stats,
		Partitions: func() []engine.PartitionStatus {
			return []engine.PartitionStatus{{Partition: 0, NextOffset: 500, HighWatermark: 510}, {Partition: 1, NextOffset: -1, HighWatermark: -1}}
		},
		Models: func() []ModelInfo { return []ModelInfo{{Name: "xgb", Kind: "xgboost", Version: "1a2b3c4d5e6f"}} },
		Checks: []Check{
			{Name: "consuming", Run: func() error { return f.ready["consuming"] }},
			{Name: "lake", Run: func() error { return f.ready["lake"] }},
		},
		Assets: fstest.MapFS{"index.html": {Data: []byte("<!doctype html><title>app</title>")}, "assets/app.js": {Data: []byte("console.log(1)")}},
		Now:    func() time.Time { return f.now },
	}
	if mod != nil {
		mod(&o)
	}
	if f.srv, err = New(o); err != nil {
		t.Fatal(err)
	}
	f.now = t0.Add(5 * time.Second)
	// Engine samples 2 s apart, 500 records between them: 250 records/s.
	f.stats.Records.Store(1000)
	f.srv.sampleEngine(t0.Add(3 * time.Second))
	f.stats.Records.Store(1500)
	f.srv.sampleEngine(t0.Add(5 * time.Second))

	hub.Quotes(0, fixQuotes[0])
	f.srv.pushQuotes(t0.Add(time.Second))
	hub.Quotes(0, fixQuotes[1])
	for i := range fixAlerts {
		hub.Publish(&fixAlerts[i], 0, int64(i))
	}
	hub.Predictions(0, fixPreds)
	f.srv.pushQuotes(t0.Add(2 * time.Second))
	hub.takeAlerts()
	return f
}

// do runs one request through the handler; hdr are header name, value
// pairs ("Host" sets the request's host).
func (f *fixture) do(t testing.TB, method, target, body string, hdr ...string) (int, http.Header, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, rd)
	req.Host = "127.0.0.1:8080" // httptest's default, example.com, is refused without a token
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i] == "Host" {
			req.Host = hdr[i+1]
			continue
		}
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	f.srv.Handler().ServeHTTP(w, req)
	return w.Code, w.Header(), w.Body.Bytes()
}

// golden compares a JSON body, indented, with testdata/name (rewritten
// with -update). The body must be valid JSON.
func golden(t testing.TB, name string, body []byte) {
	t.Helper()
	var ind bytes.Buffer
	if err := json.Indent(&ind, body, "", "  "); err != nil {
		t.Fatalf("%s: not JSON: %v\n%s", name, err, body)
	}
	ind.WriteByte('\n')
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, ind.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(ind.Bytes(), want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\ngot:\n%s\nwant:\n%s", name, ind.Bytes(), want)
	}
}

// decode unmarshals a JSON body into v.
func decode(t testing.TB, body []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
}

// testToken is the token the auth tests use.
const testToken = config.Secret("test-token-0123456789")
