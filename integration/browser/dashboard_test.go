package browser_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tickstream/tickstream/engine"
	"github.com/tickstream/tickstream/tick"
)

// maxFrameGap bounds the longest gap between two animation frames the page
// may show: generous (a smooth page shows ~17 ms), so only a page that
// stalls on its data fails.
const maxFrameGap = 500 * time.Millisecond

// alertWithin is how soon a tick's alert must show in the open alert feed.
const alertWithin = 2 * time.Second

// perf is window.__tickstreamPerf (ui/src/perf.js).
type perf struct {
	WindowMS      int     `json:"window_ms"`
	Frames        int     `json:"frames"`
	FPS           int     `json:"fps"`
	MaxFrameGapMS int     `json:"max_frame_gap_ms"`
	MaxLongTaskMS int     `json:"max_long_task_ms"`
	LongTasks     int     `json:"long_tasks"`
	Paints        int     `json:"paints"`
	MaxPaintMS    float64 `json:"max_paint_ms"`
}

// TestDashboard opens every page of the dashboard of a running engine in
// headless Chromium and checks what a user would: all symbols are there and
// live, a spike produced into Kafka reaches the alert feed within
// alertWithin, the chart draws, the engine page reports the partitions, and
// the page stays responsive throughout.
func TestDashboard(t *testing.T) {
	exe := os.Getenv("TICKSTREAM_CHROMIUM")
	if exe == "" {
		t.Skip("no browser: run `make test-browser` (scripts/test-browser.sh), or `make ui` and set TICKSTREAM_CHROMIUM to a Chromium binary")
	}
	if _, err := os.Stat("../../sinks/dashboard/ui/dist/index.html"); err != nil {
		t.Fatal("the dashboard is not built (no sinks/dashboard/ui/dist/index.html), and the binary embeds it: run `make ui` first")
	}
	s := startStack(t)
	ctx := browser(t, exe)
	pageErrors := consoleErrors(ctx)
	dir := artifacts(t)
	var perfs []perf
	measure := func(page string) {
		t.Helper()
		p := eval[perf](t, ctx, "window.__tickstreamPerf")
		t.Logf("%s: frame budget over the last %d ms: %d frames (%d fps), max frame gap %d ms, max long task %d ms (%d long tasks), %d repaints, slowest %.1f ms",
			page, p.WindowMS, p.Frames, p.FPS, p.MaxFrameGapMS, p.MaxLongTaskMS, p.LongTasks, p.Paints, p.MaxPaintMS)
		perfs = append(perfs, p)
	}
	shoot := func(name string) {
		t.Helper()
		png := run(t, ctx, "screenshot "+name, 20*time.Second, chromedp.CaptureScreenshot())
		path := filepath.Join(dir, name+".png")
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", path)
	}
	open := func(hash string) {
		t.Helper()
		eval[bool](t, ctx, fmt.Sprintf("(location.hash = %q, true)", hash))
	}

	run(t, ctx, "open the dashboard", 30*time.Second, chromedp.Navigate(s.base+"/#/"))
	checkOverview(t, ctx, s)
	measure("overview")
	shoot("overview")

	checkAlert(t, ctx, s, open)
	measure("alerts")
	shoot("alerts")

	checkChart(t, ctx, open)
	measure("symbol")
	shoot("symbol")

	checkEngine(t, ctx, s, open)
	measure("engine")
	shoot("engine")

	// The overview is the heaviest page: a full window of it, live.
	open("#/")
	run(t, ctx, "stay on the overview", 15*time.Second, chromedp.Sleep(10*time.Second))
	measure("overview, 10 s live")
	for _, p := range perfs {
		if p.Frames == 0 || time.Duration(p.MaxFrameGapMS)*time.Millisecond >= maxFrameGap {
			t.Errorf("page stalled: %d frames, max frame gap %d ms (limit %v)", p.Frames, p.MaxFrameGapMS, maxFrameGap)
		}
	}
	for _, e := range pageErrors() {
		t.Errorf("page console: %s", e)
	}
}

// checkOverview: the virtualised table counts every configured symbol,
// holds only a screenful of rows, reaches the last symbol by scrolling, sorts
// and filters, and its values change as ticks arrive.
func checkOverview(t *testing.T, ctx context.Context, s *stack) {
	t.Helper()
	syms := s.cfg.AllSymbols()
	total := poll[string](t, ctx, "the symbol count", 30*time.Second,
		`(c => c && c.dataset.total !== "0" && c.dataset.total)(document.getElementById("count"))`)
	if total != strconv.Itoa(len(syms)) {
		t.Fatalf("overview counts %s symbols, config has %d", total, len(syms))
	}
	rows := eval[int](t, ctx, `document.querySelectorAll(".vcanvas .vrow:not([hidden])").length`)
	if rows == 0 || rows > 100 {
		t.Errorf("overview has %d rows in the DOM for %d symbols: want a screenful (virtualised)", rows, len(syms))
	}
	t.Logf("overview: %s symbols, %d rows in the DOM", total, rows)

	scroll := func(to string) {
		eval[bool](t, ctx, `(b => (b.scrollTop = `+to+`, true))(document.querySelector(".vbody"))`)
	}
	last := len(syms) - 1
	scroll("b.scrollHeight")
	waitRow(t, ctx, last, syms[last])

	sorted := slices.Sorted(slices.Values(syms))
	run(t, ctx, "sort by symbol", 10*time.Second, chromedp.Click(chromedp.CSS(`.vhead [data-sort="symbol"]`)))
	scroll("0")
	waitRow(t, ctx, 0, sorted[0])
	scroll("b.scrollHeight")
	waitRow(t, ctx, last, sorted[last])

	target := syms[len(syms)*3/4]
	var matches []string
	for _, sym := range sorted {
		if strings.Contains(sym, target) {
			matches = append(matches, sym)
		}
	}
	run(t, ctx, "filter", 10*time.Second, chromedp.SendKeys(chromedp.CSS(".filter"), target))
	shown := poll[string](t, ctx, "the filtered count", 5*time.Second, `document.getElementById("count").dataset.shown !== "`+total+`" && document.getElementById("count").dataset.shown`)
	if shown != strconv.Itoa(len(matches)) {
		t.Errorf("filter %q shows %s symbols, want %d", target, shown, len(matches))
	}
	waitRow(t, ctx, 0, matches[0])
	eval[bool](t, ctx, `(f => (f.value = "", f.dispatchEvent(new Event("input")), true))(document.querySelector(".filter"))`)
	waitRow(t, ctx, 0, sorted[0])

	// Live: the first row's numbers change as its ticks arrive (1 a second).
	const cells = `(r => r && [".c-price", ".c-ma", ".c-volume"].map(c => r.querySelector(c).textContent).join(" | "))(document.querySelector('.vrow[data-index="0"]'))`
	before := eval[string](t, ctx, cells)
	after := poll[string](t, ctx, "the first row to change", 15*time.Second, fmt.Sprintf(`(v => v !== %q && v)(%s)`, before, cells))
	t.Logf("overview: %s: %q, then %q", sorted[0], before, after)
}

// waitRow waits until the overview's row at index shows sym.
func waitRow(t *testing.T, ctx context.Context, index int, sym string) {
	t.Helper()
	row := fmt.Sprintf(`document.querySelector('.vrow[data-index="%d"]:not([hidden])')?.dataset.symbol`, index)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := chromedp.Run(pctx, chromedp.Poll[string](fmt.Sprintf(`(s => s === %q && s)(%s)`, sym, row),
		chromedp.WithPollingTimeout(5*time.Second), chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		got := eval[*string](t, ctx, row)
		t.Fatalf("overview row %d shows %v, want %s (%v)", index, deref(got), sym, err)
	}
}

func deref(s *string) string {
	if s == nil {
		return "no row"
	}
	return *s
}

// checkAlert produces a tick with a volume far above the symbol's mean into
// the engine's Kafka topic, with the alert feed open, and waits for its
// alert to show.
func checkAlert(t *testing.T, ctx context.Context, s *stack, open func(string)) {
	t.Helper()
	open("#/alerts")
	poll[bool](t, ctx, "the alert feed", 10*time.Second, `!!document.getElementById("alert-rows")`)

	// The window must hold warmup_ticks ticks before the engine judges one:
	// wait for twice as many since the symbol's first quote.
	warm := time.Duration(float64(2*s.cfg.Anomaly.WarmupTicks) / s.cfg.Simulator.Rate * float64(time.Second))
	time.Sleep(time.Until(s.firstQuote.Add(warm)))

	k := s.cfg.Kafka
	k.Brokers = s.brokers
	// engine.NewProducer: the simulator's partitioner, so the tick reaches
	// the partition that holds the symbol's state.
	prod, err := engine.NewProducer(&k)
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	price, _ := s.quote(t, spiked)
	now := time.Now()
	tk := tick.Tick{Symbol: spiked, TS: now.UnixMilli(), Price: *price, Volume: 1e9}
	rec := &kgo.Record{Topic: k.Topic, Key: []byte(spiked), Value: tick.AppendJSON(nil, &tk), Timestamp: now}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := prod.ProduceSync(pctx, rec).FirstErr(); err != nil {
		t.Fatalf("produce the spike: %v", err)
	}

	row := fmt.Sprintf(`document.querySelector('#alert-rows tr[data-symbol=%q][data-kind="volume_spike"][data-ts="%d"]')`, spiked, tk.TS)
	wctx, wcancel := context.WithTimeout(ctx, alertWithin+5*time.Second)
	defer wcancel()
	_, err = chromedp.Run(wctx, chromedp.Poll[bool]("!!"+row,
		chromedp.WithPollingTimeout(alertWithin-time.Since(now)), chromedp.WithPollingInterval(20*time.Millisecond)))
	took := time.Since(now)
	if err != nil {
		t.Fatalf("the spike on %s at %d is not in the alert feed %v after it was produced (server has it: %v): %v",
			spiked, tk.TS, took.Round(time.Millisecond), s.hasAlert(t, spiked, tk.TS), err)
	}
	t.Logf("alerts: the spike on %s showed in the feed %v after it was produced", spiked, took.Round(time.Millisecond))
}

// hasAlert reports whether /api/alerts holds the alert, to tell a server
// that never raised it from a page that never showed it.
func (s *stack) hasAlert(t *testing.T, sym string, ts int64) bool {
	t.Helper()
	resp, err := http.Get(s.base + "/api/alerts?limit=500")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	type alert struct {
		Symbol string `json:"symbol"`
		TS     int64  `json:"ts"`
	}
	var body struct {
		Alerts []alert `json:"alerts"`
	}
	if json.NewDecoder(resp.Body).Decode(&body) != nil {
		return false
	}
	return slices.Contains(body.Alerts, alert{sym, ts})
}

// chartStats reads the price chart's canvas back: pixels painted at all, in
// the price line's colour, and in the anomaly markers' colour (the colours
// of ui/src/pages/symbol.js), with the counts the page reports.
const chartStats = `(() => {
  const box = document.getElementById("price-chart");
  const c = box && box.querySelector("canvas");
  if (!c || !c.width) return null;
  const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
  const near = (i, rgb) => d[i + 3] > 200 && Math.abs(d[i] - rgb[0]) < 24 && Math.abs(d[i + 1] - rgb[1]) < 24 && Math.abs(d[i + 2] - rgb[2]) < 24;
  let painted = 0, line = 0, anomaly = 0;
  for (let i = 0; i < d.length; i += 4) {
    if (d[i + 3] === 0) continue;
    painted++;
    if (near(i, [0x2f, 0x7d, 0xe1])) line++;
    if (near(i, [0xe5, 0x48, 0x4d])) anomaly++;
  }
  return { width: c.width, height: c.height, painted, line, anomaly, points: +box.dataset.points, alerts: +box.dataset.alerts };
})()`

type chart struct {
	Width, Height, Painted, Line, Anomaly, Points, Alerts int
}

// checkChart opens the spiked symbol's page: the chart must draw its price
// line and the marker of the spike, and history must load from the lake.
func checkChart(t *testing.T, ctx context.Context, open func(string)) {
	t.Helper()
	open("#/symbol/" + spiked)
	// A price line crosses the plot (hundreds of pixels); a 10 px marker is ~60.
	const ready = `(s => s && s.points >= 2 && s.alerts >= 1 && s.line >= 200 && s.anomaly >= 20 && s)(` + chartStats + `)`
	pctx, cancel := context.WithTimeout(ctx, 25*time.Second)
	defer cancel()
	c, err := chromedp.Run(pctx, chromedp.Poll[chart](ready, chromedp.WithPollingTimeout(20*time.Second), chromedp.WithPollingInterval(100*time.Millisecond)))
	if err != nil {
		got := eval[*chart](t, ctx, chartStats)
		t.Fatalf("the %s chart did not draw its line and anomaly (want ≥2 points, ≥1 alert, ≥200 line and ≥20 marker pixels); it shows %+v: %v", spiked, got, err)
	}
	t.Logf("symbol: %dx%d canvas, %d pixels painted, %d of the price line, %d of anomaly markers; %d points, %d alerts",
		c.Width, c.Height, c.Painted, c.Line, c.Anomaly, c.Points, c.Alerts)

	run(t, ctx, "load history", 10*time.Second, chromedp.Click(chromedp.ID("load-history")))
	state := poll[string](t, ctx, "history from the lake", 30*time.Second,
		`(s => s.dataset.state !== "loading" && s.dataset.state)(document.getElementById("history-status"))`)
	msg := eval[string](t, ctx, `document.getElementById("history-status").textContent`)
	if state != "ok" {
		t.Errorf("load history: %s", msg)
	}
	t.Logf("symbol: load history: %s", msg)
}

// checkEngine: the engine page lists every partition of the ticks topic
// (one instance owns them all) and a non-zero throughput.
func checkEngine(t *testing.T, ctx context.Context, s *stack, open func(string)) {
	t.Helper()
	open("#/engine")
	want := s.cfg.Kafka.Partitions
	n := poll[int](t, ctx, "the partitions table", 15*time.Second,
		fmt.Sprintf(`(n => n === %d && n)(document.querySelectorAll("#eng-partitions tr:not(.empty)").length)`, want))
	rate := poll[string](t, ctx, "a throughput", 15*time.Second,
		`(v => /[1-9]/.test(v) && v)(document.getElementById("eng-rate").textContent)`)
	t.Logf("engine: %d partitions, %s records/s", n, rate)
}
