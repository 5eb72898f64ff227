package dashboard

import (
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestAPIGolden: the stable responses of the fixture, byte for byte.
func TestAPIGolden(t *testing.T) {
	fx := newFixture(t, nil)
	f := func(target, file string, wantStatus int) {
		t.Helper()
		status, hdr, body := fx.do(t, "GET", target, "")
		if status != wantStatus {
			t.Errorf("GET %s: %d, want %d: %s", target, status, wantStatus, body)
		}
		if ct := hdr.Get("Content-Type"); ct != "application/json" {
			t.Errorf("GET %s: Content-Type %q", target, ct)
		}
		golden(t, file, body)
	}
	f("/api/symbols", "symbols.json", 200)
	f("/api/symbols/AAPL/series", "series_aapl.json", 200)
	f("/api/symbols/NVDA/series", "series_nvda.json", 200)
	f("/api/alerts", "alerts.json", 200)
	f("/api/alerts?limit=2", "alerts_limit2.json", 200)
	f("/api/engine", "engine.json", 200)
	f("/readyz", "readyz_ok.json", 200)
	fx.ready["lake"] = fmt.Errorf("2 partition(s) cannot write the lake; retrying (the log says why)")
	f("/readyz", "readyz_lake_failing.json", 503)
	f("/api/symbols/ZZZZ/series", "series_unknown.json", 404)
	f("/api/alerts?limit=0", "alerts_bad_limit.json", 400)
	f("/api/nothing", "api_unknown.json", 404)
}

// apiQuote is the Quote object as a client decodes it.
type apiQuote struct {
	Symbol    string   `json:"symbol"`
	TS        *int64   `json:"ts"`
	Price     *float64 `json:"price"`
	Change    *float64 `json:"change"`
	ChangePct *float64 `json:"change_pct"`
	MA        *float64 `json:"ma"`
	Volume    *float64 `json:"volume"`
	Bid       *float64 `json:"bid"`
	Ask       *float64 `json:"ask"`
	LastAlert *struct {
		Kind string `json:"kind"`
		TS   int64  `json:"ts"`
		Rule string `json:"rule"`
	} `json:"last_alert"`
	Prediction *struct {
		Model   string  `json:"model"`
		Value   float64 `json:"value"`
		TS      int64   `json:"ts"`
		Horizon string  `json:"horizon"`
	} `json:"prediction"`
}

// TestSymbolsMatchFeed recomputes /api/symbols from the fixture's feed:
// the last quote of each symbol, change against its first price, its
// newest alert and prediction; null for a symbol without ticks.
func TestSymbolsMatchFeed(t *testing.T) {
	fx := newFixture(t, nil)
	_, _, body := fx.do(t, "GET", "/api/symbols", "")
	var got struct {
		TS      int64      `json:"ts"`
		Symbols []apiQuote `json:"symbols"`
	}
	decode(t, body, &got)
	if got.TS != fx.now.UnixMilli() {
		t.Errorf("ts %d, want now %d", got.TS, fx.now.UnixMilli())
	}
	var names []string
	for _, q := range got.Symbols {
		names = append(names, q.Symbol)
	}
	if !slices.Equal(names, fixSymbols) {
		t.Fatalf("symbols %v, want the configured %v", names, fixSymbols)
	}
	for _, q := range got.Symbols {
		var first, last *float64
		var lastQ = -1
		for b := range fixQuotes {
			for i := range fixQuotes[b] {
				if fq := fixQuotes[b][i]; fq.Symbol == q.Symbol {
					if first == nil {
						first = &fixQuotes[b][i].Price
					}
					last, lastQ = &fixQuotes[b][i].Price, b*100+i
				}
			}
		}
		if last == nil {
			if q.TS != nil || q.Price != nil || q.Change != nil || q.MA != nil || q.Bid != nil {
				t.Errorf("%s has no tick but %+v", q.Symbol, q)
			}
			continue
		}
		fq := fixQuotes[lastQ/100][lastQ%100]
		if q.Price == nil || *q.Price != *last || *q.TS != fq.TS || *q.MA != fq.MA || *q.Volume != fq.Volume {
			t.Errorf("%s: %+v, want the last tick %+v", q.Symbol, q, fq)
		}
		if wantBid := fq.Bid; (wantBid == 0) != (q.Bid == nil) || q.Bid != nil && *q.Bid != wantBid {
			t.Errorf("%s: bid %v, want %v (0 is null)", q.Symbol, q.Bid, wantBid)
		}
		if d := *last - *first; q.Change == nil || math.Abs(*q.Change-d) > 1e-12 || math.Abs(*q.ChangePct - d / *first * 100) > 1e-12 {
			t.Errorf("%s: change %v (%v %%), want %v (%v %%)", q.Symbol, q.Change, q.ChangePct, d, d / *first * 100)
		}
		var newest *int
		for i, a := range fixAlerts {
			if a.Symbol == q.Symbol && (newest == nil || a.TS >= fixAlerts[*newest].TS) {
				newest = &i
			}
		}
		if (newest == nil) != (q.LastAlert == nil) || newest != nil && (q.LastAlert.Kind != fixAlerts[*newest].Kind.String() || q.LastAlert.TS != fixAlerts[*newest].TS) {
			t.Errorf("%s: last alert %+v, want %v", q.Symbol, q.LastAlert, newest)
		}
	}
	if p := got.Symbols[0].Prediction; p == nil || p.Model != fixPreds[1].Model || p.Value != fixPreds[1].Value {
		t.Errorf("AAPL prediction %+v, want the newest row %+v", p, fixPreds[1])
	}
}

// TestAlertsNewestFirst: /api/alerts lists the published alerts newest
// first, and a full ring keeps the newest alerts_kept.
func TestAlertsNewestFirst(t *testing.T) {
	fx := newFixture(t, nil)
	for i := range 25 { // the ring keeps 10
		a := fixAlerts[i%len(fixAlerts)]
		a.TS = ms(time.Duration(10+i) * time.Second)
		fx.hub.Publish(&a, 0, 0)
	}
	_, _, body := fx.do(t, "GET", "/api/alerts?limit=1000", "")
	var got struct {
		Alerts []struct {
			Symbol string `json:"symbol"`
			TS     int64  `json:"ts"`
		} `json:"alerts"`
	}
	decode(t, body, &got)
	if len(got.Alerts) != 10 {
		t.Fatalf("%d alerts, want the 10 kept", len(got.Alerts))
	}
	for k, a := range got.Alerts {
		i := 24 - k
		if want := ms(time.Duration(10+i) * time.Second); a.TS != want || a.Symbol != fixAlerts[i%len(fixAlerts)].Symbol {
			t.Errorf("alert %d: %+v, want #%d at %d", k, a, i, want)
		}
	}
}

// TestNotBuiltPage: without index.html, / says how to build the app and
// the API still answers.
func TestNotBuiltPage(t *testing.T) {
	fx := newFixture(t, func(o *Options) { o.Assets = nil })
	status, hdr, body := fx.do(t, "GET", "/", "")
	if status != 200 || !strings.Contains(string(body), "dashboard assets are not built: run <code>make ui</code>") ||
		!strings.HasPrefix(hdr.Get("Content-Type"), "text/html") {
		t.Errorf("/ without assets: %d %s", status, body)
	}
	if status, _, _ := fx.do(t, "GET", "/api/symbols", ""); status != 200 {
		t.Errorf("/api/symbols without assets: %d", status)
	}
	fx = newFixture(t, nil)
	if status, _, body := fx.do(t, "GET", "/", ""); status != 200 || string(body) != "<!doctype html><title>app</title>" {
		t.Errorf("/ with assets: %d %s", status, body)
	}
	if status, _, body := fx.do(t, "GET", "/assets/app.js", ""); status != 200 || string(body) != "console.log(1)" {
		t.Errorf("/assets/app.js: %d %s", status, body)
	}
	if status, _, _ := fx.do(t, "GET", "/assets/", ""); status != http.StatusNotFound {
		t.Errorf("/assets/ (a listing): %d, want 404", status)
	}
	if status, _, _ := fx.do(t, "GET", "/metrics", ""); status != http.StatusNotFound {
		t.Errorf("/metrics without a handler: %d, want 404", status)
	}
}
