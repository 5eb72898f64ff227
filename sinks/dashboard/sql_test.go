package dashboard

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tickstream/tickstream/internal/testkit"
	"github.com/tickstream/tickstream/models"
	"github.com/tickstream/tickstream/sinks/lake"
)

// testLake is a small lake written with the lake package: AAPL and MSFT
// every second from 23:55 to 00:05 UTC (two dates), some alerts and
// predictions, with every row kept for the expectations.
type testLake struct {
	dir    string
	proc   []lake.ProcessedRow
	alerts []lake.AlertRow
	preds  []models.PredictionRow
}

var lakeStart = time.Date(2026, 11, 23, 23, 55, 0, 0, time.UTC)

func writeTestLake(t testing.TB) *testLake {
	t.Helper()
	l := &testLake{}
	var w *lake.PartitionWriter
	l.dir, w = testkit.LakeWriter(t)
	for i := range 600 {
		for k, sym := range []string{"AAPL", "MSFT"} {
			ts := lakeStart.Add(time.Duration(i)*time.Second + time.Duration(k)*time.Millisecond).UnixMilli()
			price := 100 + float64(k*300) + math.Sin(float64(i)/17)*3
			r := lake.ProcessedRow{Symbol: sym, TS: ts, Price: price, Volume: float64(100 + (i*7+k)%50),
				MA: price - 0.5, MAVolume: 120, MACount: 300, KafkaOffset: int64(2*i + k)}
			w.Processed(&r)
			l.proc = append(l.proc, r)
			if i%97 == 13 {
				a := lake.AlertRow{Symbol: sym, TS: ts, Kind: "volume_spike", Rule: "factor", Observed: r.Volume * 9,
					Threshold: 600, Reference: 120, KafkaOffset: r.KafkaOffset}
				w.Alert(&a)
				l.alerts = append(l.alerts, a)
			}
			if i%5 == 0 {
				for _, m := range []string{"lstm", "xgb"} {
					p := models.PredictionRow{Symbol: sym, TS: ts, Model: m, ModelVersion: "v1", Horizon: "10s",
						Value: float64(i%11) / 8, KafkaOffset: r.KafkaOffset}
					w.Prediction(&p)
					l.preds = append(l.preds, p)
				}
			}
		}
	}
	if _, err := w.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	return l
}

// historyJSON is the history response as a client decodes it.
type historyJSON struct {
	Symbol string `json:"symbol"`
	Points []struct {
		TS     int64   `json:"ts"`
		Price  float64 `json:"price"`
		MA     float64 `json:"ma"`
		Volume float64 `json:"volume"`
	} `json:"points"`
	Alerts []struct {
		Symbol   string  `json:"symbol"`
		TS       int64   `json:"ts"`
		Kind     string  `json:"kind"`
		Observed float64 `json:"observed"`
	} `json:"alerts"`
	Predictions []struct {
		TS    int64   `json:"ts"`
		Model string  `json:"model"`
		Value float64 `json:"value"`
	} `json:"predictions"`
}

// TestHistory compares the lake history with a bucketing done here over
// the rows written: last price and MA of each bucket, summed volume, the
// alerts in range, each model's last prediction per bucket.
func TestHistory(t *testing.T) {
	l := writeTestLake(t)
	fx := newFixture(t, func(o *Options) { o.LakeURL = l.dir })
	f := func(sym string, from, to time.Time, step int64) {
		t.Helper()
		target := fmt.Sprintf("/api/symbols/%s/history?from=%d&to=%d&step=%d", sym, from.UnixMilli(), to.UnixMilli(), step)
		status, _, body := fx.do(t, "GET", target, "")
		if status != 200 {
			t.Fatalf("%s: %d %s", target, status, body)
		}
		var got historyJSON
		decode(t, body, &got)
		type point struct {
			ts            int64
			price, ma, vl float64
			last          int64
		}
		var want []point
		for _, r := range l.proc {
			if r.Symbol != sym || r.TS < from.UnixMilli() || r.TS >= to.UnixMilli() {
				continue
			}
			b := r.TS - r.TS%(step*1000)
			if n := len(want); n == 0 || want[n-1].ts != b {
				want = append(want, point{ts: b})
			}
			p := &want[len(want)-1]
			if r.TS >= p.last {
				p.price, p.ma, p.last = r.Price, r.MA, r.TS
			}
			p.vl += r.Volume
		}
		if len(got.Points) != len(want) {
			t.Fatalf("%s: %d points, want %d", target, len(got.Points), len(want))
		}
		for i, p := range got.Points {
			w := want[i]
			if p.TS != w.ts || p.Price != w.price || p.MA != w.ma || p.Volume != w.vl {
				t.Errorf("%s: point %d %+v, want %+v", target, i, p, w)
			}
		}
		var wantAlerts []int64
		for _, a := range l.alerts {
			if a.Symbol == sym && a.TS >= from.UnixMilli() && a.TS < to.UnixMilli() {
				wantAlerts = append(wantAlerts, a.TS)
			}
		}
		var gotAlerts []int64
		for _, a := range got.Alerts {
			gotAlerts = append(gotAlerts, a.TS)
			if a.Symbol != sym || a.Kind != "volume_spike" {
				t.Errorf("%s: alert %+v", target, a)
			}
		}
		if !slices.Equal(gotAlerts, wantAlerts) {
			t.Errorf("%s: alerts at %v, want %v", target, gotAlerts, wantAlerts)
		}
		wantPreds := map[string]float64{}
		for _, p := range l.preds {
			if p.Symbol == sym && p.TS >= from.UnixMilli() && p.TS < to.UnixMilli() {
				wantPreds[fmt.Sprint(p.TS-p.TS%(step*1000), p.Model)] = p.Value // rows come in ts order: the last wins
			}
		}
		if len(got.Predictions) != len(wantPreds) {
			t.Errorf("%s: %d predictions, want %d", target, len(got.Predictions), len(wantPreds))
		}
		for _, p := range got.Predictions {
			if w, ok := wantPreds[fmt.Sprint(p.TS, p.Model)]; !ok || w != p.Value {
				t.Errorf("%s: prediction %+v, want %v", target, p, w)
			}
		}
	}
	f("AAPL", lakeStart, lakeStart.Add(10*time.Minute), 60)
	f("MSFT", lakeStart, lakeStart.Add(10*time.Minute), 60)
	f("AAPL", lakeStart.Add(4*time.Minute+30*time.Second), lakeStart.Add(6*time.Minute+7*time.Second), 7) // across midnight
	f("MSFT", lakeStart.Add(time.Minute), lakeStart.Add(time.Minute+50*time.Second), 1)
	f("AAPL", lakeStart.Add(-time.Hour), lakeStart.Add(-time.Minute), 60) // before the data: empty
}

// TestHistoryErrors: bad parameters are 400s naming the parameter, an
// unknown symbol is 404, a lake that is not there is 503.
func TestHistoryErrors(t *testing.T) {
	l := writeTestLake(t)
	fx := newFixture(t, func(o *Options) { o.LakeURL = l.dir })
	f := func(target string, status int, msg string) {
		t.Helper()
		got, _, body := fx.do(t, "GET", target, "")
		var e struct {
			Error string `json:"error"`
		}
		decode(t, body, &e)
		if got != status || !strings.Contains(e.Error, msg) {
			t.Errorf("%s: %d %q, want %d with %q", target, got, e.Error, status, msg)
		}
	}
	from, to := lakeStart.UnixMilli(), lakeStart.Add(10*time.Minute).UnixMilli()
	f("/api/symbols/NOPE/history", 404, `unknown symbol "NOPE"`)
	f("/api/symbols/AAPL/history?from=yesterday", 400, `from: want Unix milliseconds, got "yesterday"`)
	f("/api/symbols/AAPL/history?to=-5", 400, `to: want Unix milliseconds`)
	f(fmt.Sprintf("/api/symbols/AAPL/history?from=%d&to=%d", to, from), 400, "from: must be before to")
	f(fmt.Sprintf("/api/symbols/AAPL/history?from=%d&to=%d&step=0", from, to), 400, `step: want whole seconds, at least 1, got "0"`)
	f(fmt.Sprintf("/api/symbols/AAPL/history?from=%d&to=%d&step=1.5", from, to), 400, `step: want whole seconds`)
	// The fixture's row limit is 100: 600 one-second buckets are too many.
	f(fmt.Sprintf("/api/symbols/AAPL/history?from=%d&to=%d&step=1", from, to), 400, "step: 1 s makes 600 points")

	// The default step keeps to the row limit: 600 s in at most 100 points.
	status, _, body := fx.do(t, "GET", fmt.Sprintf("/api/symbols/AAPL/history?from=%d&to=%d", from, to), "")
	var h historyJSON
	decode(t, body, &h)
	if status != 200 || len(h.Points) != 100 || h.Points[1].TS-h.Points[0].TS != 6000 {
		t.Errorf("default step: %d, %d points", status, len(h.Points))
	}

	missing := newFixture(t, func(o *Options) { o.LakeURL = filepath.Join(t.TempDir(), "none") })
	got, _, body := missing.do(t, "GET", "/api/symbols/AAPL/history", "")
	if got != 503 || !strings.Contains(string(body), "does not exist") {
		t.Errorf("missing lake: %d %s", got, body)
	}
}

// sqlJSON is the /api/sql answer.
type sqlJSON struct {
	Columns   []string `json:"columns"`
	Rows      [][]any  `json:"rows"`
	Truncated bool     `json:"truncated"`
	Error     string   `json:"error"`
}

// TestSQL: results, the row limit and the truncated flag, times as Unix
// ms, and refusals of anything but reading the lake, with DuckDB's message.
func TestSQL(t *testing.T) {
	l := writeTestLake(t)
	fx := newFixture(t, func(o *Options) { o.LakeURL = l.dir }) // sql_row_limit 100
	run := func(body string, ct ...string) (int, sqlJSON) {
		t.Helper()
		contentType := "application/json"
		if len(ct) > 0 {
			contentType = ct[0]
		}
		status, _, b := fx.do(t, "POST", "/api/sql", body, "Content-Type", contentType)
		var res sqlJSON
		decode(t, b, &res)
		return status, res
	}
	ok := func(body string, cols []string, rows int, truncated bool) sqlJSON {
		t.Helper()
		status, res := run(body)
		if status != 200 || !slices.Equal(res.Columns, cols) || len(res.Rows) != rows || res.Truncated != truncated {
			t.Errorf("%s: %d %v, %d rows, truncated %v; want %v, %d rows, truncated %v (%s)",
				body, status, res.Columns, len(res.Rows), res.Truncated, cols, rows, truncated, res.Error)
		}
		return res
	}
	fail := func(body string, status int, msg string) {
		t.Helper()
		got, res := run(body)
		if got != status || !strings.Contains(res.Error, msg) {
			t.Errorf("%s: %d %q, want %d with %q", body, got, res.Error, status, msg)
		}
	}

	res := ok(`{"sql":"SELECT count(*) AS n, max(ts) AS last FROM processed"}`, []string{"n", "last"}, 1, false)
	if len(res.Rows) == 1 && (res.Rows[0][0] != float64(len(l.proc)) || res.Rows[0][1] != float64(l.proc[len(l.proc)-1].TS)) {
		t.Errorf("count and last ts %v, want %d and %d (Unix ms)", res.Rows[0], len(l.proc), l.proc[len(l.proc)-1].TS)
	}
	ok(`{"sql":"SELECT ts FROM processed","limit":5}`, []string{"ts"}, 5, true)
	ok(`{"sql":"SELECT ts FROM processed"}`, []string{"ts"}, 100, true)                // dashboard.sql_row_limit
	ok(`{"sql":"SELECT ts FROM processed","limit":100000}`, []string{"ts"}, 100, true) // never more
	ok(`{"sql":"SELECT ts FROM processed LIMIT 100"}`, []string{"ts"}, 100, false)     // exactly the limit: all of it
	ok(`{"sql":"SELECT symbol FROM processed WHERE symbol = 'NONE'"}`, []string{"symbol"}, 0, false)
	ok(`{"sql":"SELECT NULL AS x, 'nan'::DOUBLE AS y, 1.5 AS z"}`, []string{"x", "y", "z"}, 1, false)

	fail(`{"sql":"SELECT * FROM read_csv('/etc/passwd')"}`, 400, "Permission Error")
	fail(`{"sql":"SELECT * FROM read_text('/etc/passwd')"}`, 400, "Permission Error")
	fail(`{"sql":"COPY (SELECT 1) TO '`+l.dir+`/x.csv'"}`, 400, "only a single SELECT")
	fail(`{"sql":"ATTACH ':memory:' AS m"}`, 400, "only a single SELECT")
	fail(`{"sql":"INSTALL httpfs"}`, 400, "only a single SELECT")
	fail(`{"sql":"SELECT 1; SELECT 2"}`, 400, "one SELECT statement at a time")
	fail(`{"sql":"SELEC 1"}`, 400, "Parser Error")
	fail(`{"sql":"SELECT nope FROM processed"}`, 400, `"nope" not found`)
	fail(`{"sql":""}`, 400, "empty SQL")
	fail(`{"sql":"SELECT 1","limit":0}`, 400, "limit: want 1 to 100")
	fail(`{"sql":"SELECT 1","rows":3}`, 400, `body: json: unknown field "rows"`)
	fail(`not json`, 400, "body: ")
	if status, res := run(`{"sql":"SELECT 1"}`, "text/plain"); status != 415 || !strings.Contains(res.Error, "application/json") {
		t.Errorf("text/plain: %d %q", status, res.Error)
	}
	if status, _ := run(`{"sql":"SELECT 1"}`, "application/json; charset=utf-8"); status != 200 {
		t.Errorf("application/json with a charset: %d", status)
	}
}
