package yahoo_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/tickstream/tickstream/feeds/feedstats"
	"github.com/tickstream/tickstream/feeds/internal/feedtest"
	"github.com/tickstream/tickstream/feeds/poll"
	"github.com/tickstream/tickstream/feeds/yahoo"
	"github.com/tickstream/tickstream/tick"
)

// route is how the fake Yahoo answers one symbol.
type route struct {
	status int
	file   string        // testdata file with the body
	delay  time.Duration // before answering
	// first429 answers the first request with 429 and Retry-After: 0.
	first429 bool
}

// server is a fake Yahoo: a cookie page, the crumb endpoint and the chart
// endpoint, which insists on both, like the real one.
type server struct {
	*httptest.Server
	routes map[string]route

	mu            sync.Mutex
	crumb         string
	crumbFetches  int
	chartRequests map[string]int
	rotateAfter   int // chart requests after which the crumb changes (0: never)
	total         int
}

const cookie = "A3"

func newServer(t *testing.T, routes map[string]route) *server {
	s := &server{routes: routes, crumb: "Xy1.z/8", chartRequests: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/cookie", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: cookie, Value: "d=AQABBx&S=AQAAA", Path: "/"})
		w.WriteHeader(http.StatusNotFound) // fc.yahoo.com answers 404 too
	})
	mux.HandleFunc("/v1/test/getcrumb", func(w http.ResponseWriter, r *http.Request) {
		if _, err := r.Cookie(cookie); err != nil {
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		s.mu.Lock()
		s.crumbFetches++
		c := s.crumb
		s.mu.Unlock()
		w.Write([]byte(c))
	})
	mux.HandleFunc("/v8/finance/chart/{symbol}", func(w http.ResponseWriter, r *http.Request) {
		sym := r.PathValue("symbol")
		s.mu.Lock()
		s.total++
		if s.rotateAfter > 0 && s.total == s.rotateAfter {
			s.crumb += "r"
		}
		_, cerr := r.Cookie(cookie)
		ok := cerr == nil && r.URL.Query().Get("crumb") == s.crumb
		s.chartRequests[sym]++
		n := s.chartRequests[sym]
		s.mu.Unlock()
		if !ok {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write(read(t, "crumb_invalid.json"))
			return
		}
		rt, found := s.routes[sym]
		if !found {
			rt = route{status: http.StatusNotFound, file: "chart_notfound.json"}
		}
		if rt.first429 && n == 1 {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
			w.Write(read(t, "too_many_requests.txt"))
			return
		}
		if rt.delay > 0 {
			select {
			case <-time.After(rt.delay):
			case <-r.Context().Done():
				return
			}
		}
		w.WriteHeader(rt.status)
		w.Write(read(t, rt.file))
	})
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func read(t testing.TB, name string) []byte {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Error(err)
	}
	return b
}

func (s *server) provider(t *testing.T) *yahoo.Provider {
	t.Helper()
	p, err := yahoo.New(yahoo.Config{BaseURL: s.URL, CookieURL: s.URL + "/cookie"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// expected reads a chart fixture independently of the package (generic
// JSON) and returns its quote and its bars without nulls, prices unwidened
// from float32.
func expected(t *testing.T, file string) (q poll.Quote, hasQuote bool, bars []poll.Bar, nulls int) {
	t.Helper()
	var doc struct {
		Chart struct {
			Result []struct {
				Meta       map[string]any
				Timestamp  []*float64
				Indicators struct{ Quote []map[string][]*float64 }
			}
		}
	}
	if err := json.Unmarshal(read(t, file), &doc); err != nil {
		t.Fatal(err)
	}
	res := doc.Chart.Result[0]
	price, pok := res.Meta["regularMarketPrice"].(float64)
	ts, tok := res.Meta["regularMarketTime"].(float64)
	if pok && tok {
		hasQuote = true
		q = poll.Quote{TS: int64(ts) * 1000, Price: unwiden(price), DayVolume: -1}
		if v, ok := res.Meta["regularMarketVolume"].(float64); ok {
			q.DayVolume = v
		}
	} else {
		nulls++
	}
	for i, ts := range res.Timestamp {
		c, v := res.Indicators.Quote[0]["close"][i], res.Indicators.Quote[0]["volume"][i]
		if c == nil || v == nil {
			nulls++
			continue
		}
		bars = append(bars, poll.Bar{TS: int64(*ts) * 1000, Close: unwiden(*c), Volume: *v})
	}
	return q, hasQuote, bars, nulls
}

// unwiden: a double that is exactly a float32 stands for that float32's
// shortest decimal.
func unwiden(v float64) float64 {
	if float64(float32(v)) != v {
		return v
	}
	w, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', -1, 32), 64)
	return w
}

func TestFetch(t *testing.T) {
	s := newServer(t, map[string]route{
		"AAPL":  {status: 200, file: "chart_AAPL.json"},
		"MSFT":  {status: 200, file: "chart_MSFT_nulls.json"},
		"^GSPC": {status: 200, file: "chart_GSPC.json"},
		"HALT":  {status: 200, file: "chart_HALT_nulls.json"},
		"TRUNC": {status: 200, file: "chart_truncated.json"},
		"MIS":   {status: 200, file: "chart_misaligned.json"},
		"STR":   {status: 200, file: "chart_string_price.json"},
		"HTML":  {status: 503, file: "html_error.html"},
		"OOPS":  {status: 200, file: "html_error.html"},
		"BUSY":  {status: 200, file: "chart_AAPL.json", first429: true},
	})
	p := s.provider(t)
	ok := func(sym, file string) {
		t.Helper()
		var snap poll.Snapshot
		if err := p.Fetch(context.Background(), sym, &snap); err != nil {
			t.Fatalf("Fetch(%s): %v", sym, err)
		}
		q, hasQuote, bars, nulls := expected(t, file)
		if snap.HasQuote != hasQuote || snap.Quote != q || snap.Nulls != nulls || len(snap.Bars) != len(bars) {
			t.Fatalf("Fetch(%s) = %+v\nwant quote %v %+v, bars %+v, nulls %d", sym, snap, hasQuote, q, bars, nulls)
		}
		for i := range bars {
			if snap.Bars[i] != bars[i] {
				t.Fatalf("Fetch(%s) bar %d = %+v, want %+v", sym, i, snap.Bars[i], bars[i])
			}
		}
	}
	fails := func(sym string, kind feedstats.Kind, status int) {
		t.Helper()
		var snap poll.Snapshot
		err := p.Fetch(context.Background(), sym, &snap)
		var e *poll.Error
		if !errors.As(err, &e) || e.Kind != kind || e.Status != status {
			t.Fatalf("Fetch(%s) = %v, want %s (HTTP %d)", sym, err, kind, status)
		}
		if len(e.Snippet) > poll.SnipBytes+len("…") || strings.ContainsAny(e.Error(), "\n") {
			t.Fatalf("Fetch(%s): snippet not truncated to one line: %q", sym, e.Error())
		}
	}
	ok("AAPL", "chart_AAPL.json")
	ok("MSFT", "chart_MSFT_nulls.json")
	ok("^GSPC", "chart_GSPC.json")
	ok("HALT", "chart_HALT_nulls.json")
	fails("NOPE", feedstats.NotFound, 404)
	fails("TRUNC", feedstats.Malformed, 200)
	fails("MIS", feedstats.Malformed, 200)
	fails("STR", feedstats.Malformed, 200)
	fails("HTML", feedstats.HTTP, 503)
	fails("OOPS", feedstats.Malformed, 200)
	fails("BUSY", feedstats.RateLimited, 429)
	ok("BUSY", "chart_AAPL.json")
	if s.crumbFetches != 1 {
		t.Errorf("crumb fetched %d times, want once", s.crumbFetches)
	}

	// Widened float32 prices come back as the decimals Yahoo meant.
	var snap poll.Snapshot
	if err := p.Fetch(context.Background(), "AAPL", &snap); err != nil || snap.Bars[1].Close != 189.42 {
		t.Fatalf("bar 1 close = %v, %v; want 189.42", snap.Bars[1].Close, err)
	}
}

// TestCrumbRenewed: a crumb the server stops accepting is fetched again
// once, and the request retried.
func TestCrumbRenewed(t *testing.T) {
	s := newServer(t, map[string]route{"AAPL": {status: 200, file: "chart_AAPL.json"}})
	s.rotateAfter = 2
	p := s.provider(t)
	for i := range 3 {
		var snap poll.Snapshot
		if err := p.Fetch(context.Background(), "AAPL", &snap); err != nil || !snap.HasQuote {
			t.Fatalf("Fetch %d: %v", i, err)
		}
	}
	if s.crumbFetches != 2 || s.chartRequests["AAPL"] != 4 {
		t.Fatalf("%d crumb fetches, %d chart requests; want 2 and 4", s.crumbFetches, s.chartRequests["AAPL"])
	}
}

// TestCrumbRefused: no crumb to be had is an auth failure, a 429 on the
// crumb a rate limit; neither returns data.
func TestCrumbRefused(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/test/getcrumb", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTooManyRequests)
	})
	busy := httptest.NewServer(mux)
	defer busy.Close()
	p, err := yahoo.New(yahoo.Config{BaseURL: busy.URL, CookieURL: busy.URL + "/nothing"})
	if err != nil {
		t.Fatal(err)
	}
	var e *poll.Error
	if err := p.Fetch(context.Background(), "AAPL", &poll.Snapshot{}); !errors.As(err, &e) || e.Kind != feedstats.RateLimited {
		t.Fatalf("crumb 429: %v", err)
	}
	closed := httptest.NewServer(http.NotFoundHandler())
	defer closed.Close()
	p, err = yahoo.New(yahoo.Config{BaseURL: closed.URL, CookieURL: closed.URL})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Fetch(context.Background(), "AAPL", &poll.Snapshot{}); !errors.As(err, &e) || e.Kind != feedstats.Auth {
		t.Fatalf("no crumb: %v", err)
	}
}

func TestNewRejects(t *testing.T) {
	f := func(c yahoo.Config) {
		t.Helper()
		if _, err := yahoo.New(c); err == nil {
			t.Errorf("New(%+v): no error", c)
		}
	}
	f(yahoo.Config{BaseURL: "query2.finance.yahoo.com"})
	f(yahoo.Config{CookieURL: "ftp://fc.yahoo.com"})
	f(yahoo.Config{Client: &http.Client{}}) // no cookie jar
}

// TestFeed runs the Yahoo provider through the poller into Kafka: the
// topic holds exactly each good symbol's ticks (finished bars before the
// quote, then the quote, once, however often polled), stale flags on the
// old bars, and nothing from a symbol that failed.
func TestFeed(t *testing.T) {
	good := map[string]string{
		"AAPL":  "chart_AAPL.json",
		"MSFT":  "chart_MSFT_nulls.json",
		"^GSPC": "chart_GSPC.json",
		"RATE":  "chart_AAPL.json", // answers 429 once first
	}
	routes := map[string]route{
		"HALT":  {status: 200, file: "chart_HALT_nulls.json"},
		"TRUNC": {status: 200, file: "chart_truncated.json"},
		"MIS":   {status: 200, file: "chart_misaligned.json"},
		"SLOW":  {status: 200, file: "chart_AAPL.json", delay: time.Hour},
	}
	for sym, file := range good {
		routes[sym] = route{status: 200, file: file, first429: sym == "RATE"}
	}
	s := newServer(t, routes)
	c, out := feedtest.Producer(t)

	// The clock stands at 14:37:30 UTC on the fixtures' day, moving with
	// real time; nothing in the fixtures is dated near 14:34:30.
	now0 := time.Unix(1764081000+7*60+30, 0)
	real0 := time.Now()
	const staleAfter = 3 * time.Minute
	symbols := []string{"AAPL", "HALT", "MSFT", "NOPE", "TRUNC", "^GSPC", "MIS", "SLOW", "RATE"}
	pl, err := poll.New(poll.Config{
		Provider: "yahoo", Symbols: symbols,
		Limits:      poll.Limits{Interval: 90 * time.Millisecond, RPS: 200},
		Concurrency: 3, Timeout: 150 * time.Millisecond, StaleAfter: staleAfter,
		Backoff: 20 * time.Millisecond, LogEvery: time.Hour,
		Now: func() time.Time { return now0.Add(time.Since(real0)) },
	}, s.provider(t), out, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	done := make(chan error, 1)
	go func() { done <- pl.Run(ctx) }()
	for {
		s.mu.Lock()
		enough := s.chartRequests["AAPL"] >= 3 && s.chartRequests["RATE"] >= 3 && s.chartRequests["SLOW"] >= 2
		s.mu.Unlock()
		if enough || ctx.Err() != nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := out.Flush(0); err != nil {
		t.Fatal(err)
	}

	got := feedtest.BySymbol(t, feedtest.Consume(t, c))
	total := 0
	for sym, file := range good {
		q, _, bars, _ := expected(t, file)
		// Bars without nulls, less the last (forming), before the quote;
		// then the quote with the day volume less the bars'.
		var want []feedtest.Record
		sum := 0.0
		for _, b := range bars[:len(bars)-1] {
			if b.TS >= q.TS {
				continue
			}
			sum += b.Volume
			want = append(want, feedtest.Record{Tick: tick.Tick{Symbol: sym, TS: b.TS, Price: b.Close, Volume: b.Volume},
				Stale: b.TS < now0.Add(-staleAfter).UnixMilli()})
		}
		vol := 0.0
		if q.DayVolume >= 0 {
			vol = q.DayVolume - sum
		}
		want = append(want, feedtest.Record{Tick: tick.Tick{Symbol: sym, TS: q.TS, Price: q.Price, Volume: vol},
			Stale: q.TS < now0.Add(-staleAfter).UnixMilli()})
		if len(got[sym]) != len(want) {
			t.Fatalf("%s: %d ticks, want %d: %+v", sym, len(got[sym]), len(want), got[sym])
		}
		for i, w := range want {
			if g := got[sym][i]; g.Tick != w.Tick || g.Stale != w.Stale || g.RecordTS != w.Tick.TS {
				t.Errorf("%s tick %d: got %+v stale %v, want %+v stale %v", sym, i, g.Tick, g.Stale, w.Tick, w.Stale)
			}
			if math.IsNaN(w.Tick.Price) || w.Tick.Price <= 0 {
				t.Fatalf("bad expectation %+v", w)
			}
		}
		total += len(want)
	}
	if len(got) != len(good) {
		t.Errorf("ticks for %d symbols, want only the %d good ones", len(got), len(good))
	}
	st := pl.Stats
	if st.Ticks.Load() != int64(total) || st.Failures[feedstats.RateLimited].Load() != 1 ||
		st.Failures[feedstats.NotFound].Load() == 0 || st.Failures[feedstats.Malformed].Load() < 2 ||
		st.Failures[feedstats.Timeout].Load() == 0 || st.Duplicates.Load() == 0 || st.Nulls.Load() == 0 {
		t.Errorf("stats: %v", st.Fields())
	}
}
