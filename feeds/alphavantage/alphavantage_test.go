package alphavantage_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/tickstream/tickstream/feeds/alphavantage"
	"github.com/tickstream/tickstream/feeds/feedstats"
	"github.com/tickstream/tickstream/feeds/internal/feedtest"
	"github.com/tickstream/tickstream/feeds/poll"
	"github.com/tickstream/tickstream/tick"
)

// key is the test's API key: it must never appear in an error or a log.
const key = "TESTKEY-9f8e7d"

// route is one symbol's scripted answers: the first len(files)-1 requests
// get files in order, later ones the last file.
type route struct {
	status int
	files  []string
	delay  time.Duration
}

type server struct {
	*httptest.Server
	routes map[string]route
	mu     sync.Mutex
	calls  map[string]int
}

func newServer(t *testing.T, routes map[string]route) *server {
	s := &server{routes: routes, calls: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if r.URL.Path != "/query" || q.Get("function") == "" {
			http.NotFound(w, r)
			return
		}
		if q.Get("apikey") != key {
			w.Write(read(t, "error_apikey.json")) // HTTP 200, as Alpha Vantage does
			return
		}
		sym := q.Get("symbol")
		s.mu.Lock()
		s.calls[sym]++
		n := s.calls[sym]
		s.mu.Unlock()
		rt, ok := s.routes[sym]
		if !ok {
			rt = route{files: []string{"global_quote_unknown.json"}}
		}
		if rt.delay > 0 {
			select {
			case <-time.After(rt.delay):
			case <-r.Context().Done():
				return
			}
		}
		if rt.status != 0 {
			w.WriteHeader(rt.status)
		}
		w.Write(read(t, rt.files[min(n, len(rt.files))-1]))
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) callsOf(sym string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[sym]
}

func read(t testing.TB, name string) []byte {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Error(err)
	}
	return b
}

// newYork is where the test clock and expected trading days are.
var newYork, _ = time.LoadLocation("America/New_York")

// clock is 2025-11-25 15:00 in New York, the fixtures' trading day.
var clock = time.Date(2025, 11, 25, 15, 0, 0, 0, newYork)

func provider(t *testing.T, url, function, apiKey string) *alphavantage.Provider {
	t.Helper()
	p, err := alphavantage.New(alphavantage.Config{BaseURL: url, APIKey: apiKey, Function: function,
		Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// expectQuote reads a GLOBAL_QUOTE fixture generically.
func expectQuote(t *testing.T, file string) poll.Quote {
	t.Helper()
	var doc map[string]map[string]string
	if err := json.Unmarshal(read(t, file), &doc); err != nil {
		t.Fatal(err)
	}
	g := doc["Global Quote"]
	price, _ := strconv.ParseFloat(g["05. price"], 64)
	vol, _ := strconv.ParseFloat(g["06. volume"], 64)
	q := poll.Quote{Price: price, DayVolume: vol, TS: clock.UnixMilli()}
	if day := g["07. latest trading day"]; day != clock.Format(time.DateOnly) {
		d, err := time.ParseInLocation(time.DateOnly, day, newYork)
		if err != nil {
			t.Fatal(err)
		}
		q.TS = d.Add(16 * time.Hour).UnixMilli() // the close
	}
	return q
}

// expectBars reads an intraday fixture generically: valid bars, oldest
// first, and how many entries are not valid bars.
func expectBars(t *testing.T, file string) (bars []poll.Bar, bad int) {
	t.Helper()
	var doc struct {
		Series map[string]map[string]string `json:"Time Series (1min)"`
	}
	if err := json.Unmarshal(read(t, file), &doc); err != nil {
		t.Fatal(err)
	}
	for k, v := range doc.Series {
		ts, err := time.ParseInLocation("2006-01-02 15:04:05", k, newYork)
		c, cerr := strconv.ParseFloat(v["4. close"], 64)
		vol, verr := strconv.ParseFloat(v["5. volume"], 64)
		if err != nil || cerr != nil || verr != nil || c <= 0 || vol < 0 {
			bad++
			continue
		}
		bars = append(bars, poll.Bar{TS: ts.UnixMilli(), Close: c, Volume: vol})
	}
	sort.Slice(bars, func(i, j int) bool { return bars[i].TS < bars[j].TS })
	return bars, bad
}

func TestFetch(t *testing.T) {
	s := newServer(t, map[string]route{
		"IBM":   {files: []string{"global_quote_IBM.json"}},
		"KO":    {files: []string{"global_quote_KO_old.json"}},
		"BAD":   {files: []string{"global_quote_bad_price.json"}},
		"NOTE":  {files: []string{"note.json"}},
		"INFO":  {files: []string{"information.json"}},
		"INV":   {files: []string{"error_invalid_call.json"}},
		"ECHO":  {files: []string{"error_echo_key.json"}},
		"TRUNC": {files: []string{"truncated.json"}},
		"429":   {status: 429, files: []string{"note.json"}},
		"500":   {status: 500, files: []string{"truncated.json"}},
		"BARS":  {files: []string{"intraday_IBM.json"}},
		"NOSER": {files: []string{"intraday_no_series.json"}},
	})
	gq := provider(t, s.URL, alphavantage.GlobalQuote, key)
	quote := func(sym, file string) {
		t.Helper()
		var snap poll.Snapshot
		if err := gq.Fetch(context.Background(), sym, &snap); err != nil {
			t.Fatalf("Fetch(%s): %v", sym, err)
		}
		if want := expectQuote(t, file); !snap.HasQuote || snap.Quote != want || len(snap.Bars) != 0 {
			t.Fatalf("Fetch(%s) = %+v, want quote %+v", sym, snap, want)
		}
	}
	fails := func(p *alphavantage.Provider, sym string, kind feedstats.Kind) {
		t.Helper()
		var snap poll.Snapshot
		err := p.Fetch(context.Background(), sym, &snap)
		var e *poll.Error
		if !errors.As(err, &e) || e.Kind != kind {
			t.Fatalf("Fetch(%s) = %v, want %s", sym, err, kind)
		}
		if strings.Contains(err.Error(), key) {
			t.Fatalf("Fetch(%s): error shows the key: %v", sym, err)
		}
	}
	quote("IBM", "global_quote_IBM.json")
	quote("KO", "global_quote_KO_old.json")
	fails(gq, "NOPE", feedstats.NotFound)
	fails(gq, "BAD", feedstats.Malformed)
	fails(gq, "NOTE", feedstats.RateLimited)
	fails(gq, "INFO", feedstats.RateLimited)
	fails(gq, "INV", feedstats.NotFound)
	fails(gq, "ECHO", feedstats.Auth)
	fails(gq, "TRUNC", feedstats.Malformed)
	fails(gq, "429", feedstats.RateLimited)
	fails(gq, "500", feedstats.HTTP)
	fails(gq, "BARS", feedstats.Malformed) // an intraday body where a quote is due
	fails(provider(t, s.URL, alphavantage.GlobalQuote, "wrong"), "IBM", feedstats.Auth)

	intraday := provider(t, s.URL, alphavantage.Intraday, key)
	bars := func(sym, file string) {
		t.Helper()
		var snap poll.Snapshot
		if err := intraday.Fetch(context.Background(), sym, &snap); err != nil {
			t.Fatalf("Fetch(%s): %v", sym, err)
		}
		want, bad := expectBars(t, file)
		if snap.HasQuote || snap.Nulls != bad || len(snap.Bars) != len(want) {
			t.Fatalf("Fetch(%s) = %+v, want bars %+v and %d nulls", sym, snap, want, bad)
		}
		for i := range want {
			if snap.Bars[i] != want[i] {
				t.Fatalf("Fetch(%s) bar %d = %+v, want %+v", sym, i, snap.Bars[i], want[i])
			}
		}
	}
	s.routes["ODD"] = route{files: []string{"intraday_odd_entries.json"}}
	bars("BARS", "intraday_IBM.json")
	bars("ODD", "intraday_odd_entries.json")
	fails(intraday, "NOSER", feedstats.Malformed)
	fails(intraday, "NOTE", feedstats.RateLimited)
	fails(intraday, "IBM", feedstats.Malformed) // a quote where bars are due
}

// TestKeyNeverShown: neither errors nor logs ever hold the key, also when
// the transport fails (net/http's errors repeat the URL, key included).
func TestKeyNeverShown(t *testing.T) {
	s := newServer(t, map[string]route{
		"SLOW": {files: []string{"global_quote_IBM.json"}, delay: time.Hour},
		"ECHO": {files: []string{"error_echo_key.json"}},
		"NOTE": {files: []string{"note.json"}},
	})
	var logs bytes.Buffer
	log := zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.Lock(zapcore.AddSync(&logs)), zap.DebugLevel))
	_, out := feedtest.Producer(t)
	p := provider(t, s.URL, alphavantage.GlobalQuote, key)
	pl, err := poll.New(poll.Config{Provider: "alphavantage", Symbols: []string{"SLOW", "ECHO", "NOTE", "NOPE"},
		Limits: poll.Limits{Interval: 20 * time.Millisecond}, Concurrency: 4, Timeout: 50 * time.Millisecond,
		Backoff: time.Millisecond, MaxBackoff: time.Millisecond, LogEvery: time.Millisecond}, p, out, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
	defer cancel()
	if err := pl.Run(ctx); err != nil {
		t.Fatal(err)
	}
	// A server that is gone: a transport error, whose text would hold the URL.
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	err = provider(t, gone.URL, alphavantage.GlobalQuote, key).Fetch(context.Background(), "IBM", &poll.Snapshot{})
	var e *poll.Error
	if !errors.As(err, &e) || e.Kind != feedstats.Network {
		t.Fatalf("closed server: %v", err)
	}
	st := pl.Stats
	if st.Failures[feedstats.Timeout].Load() == 0 || st.Failures[feedstats.Auth].Load() == 0 ||
		st.Failures[feedstats.RateLimited].Load() == 0 || st.Failures[feedstats.NotFound].Load() == 0 {
		t.Fatalf("not every failure happened: %v", st.Fields())
	}
	for _, text := range []string{logs.String(), err.Error()} {
		if strings.Contains(text, key) || strings.Contains(text, "apikey="+key[:4]) {
			t.Fatalf("the key is shown:\n%s", text)
		}
	}
	if !strings.Contains(logs.String(), "[api key]") {
		t.Fatalf("the echoed key was not logged redacted:\n%s", logs.String())
	}
}

// TestFeed: GLOBAL_QUOTE through the poller into Kafka. Each symbol's quote
// is produced once however often it is polled; an old trading day's quote
// is flagged stale; a notice, an unknown symbol or a bad body is never a
// tick, and a throttle notice pauses the provider.
func TestFeed(t *testing.T) {
	s := newServer(t, map[string]route{
		"IBM":  {files: []string{"global_quote_IBM.json"}},
		"KO":   {files: []string{"note.json", "global_quote_KO_old.json"}}, // throttled once first
		"BAD":  {files: []string{"global_quote_bad_price.json"}},
		"INFO": {files: []string{"information.json", "information.json", "global_quote_IBM.json"}},
	})
	c, out := feedtest.Producer(t)
	real0 := time.Now()
	now := func() time.Time { return clock.Add(time.Since(real0)) }
	p, err := alphavantage.New(alphavantage.Config{BaseURL: s.URL, APIKey: key, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	pl, err := poll.New(poll.Config{Provider: "alphavantage", Symbols: []string{"IBM", "KO", "NOPE", "BAD", "INFO"},
		Limits: poll.Limits{Interval: 40 * time.Millisecond}, Concurrency: 2, StaleAfter: time.Hour,
		Backoff: 10 * time.Millisecond, LogEvery: time.Hour, Now: now}, p, out, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	done := make(chan error, 1)
	go func() { done <- pl.Run(ctx) }()
	for ctx.Err() == nil && (s.callsOf("IBM") < 4 || s.callsOf("KO") < 4 || s.callsOf("INFO") < 4) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := out.Flush(0); err != nil {
		t.Fatal(err)
	}
	got := feedtest.BySymbol(t, feedtest.Consume(t, c))
	one := func(sym, file string, stale bool) {
		t.Helper()
		q := expectQuote(t, file)
		rs := got[sym]
		// The quote is dated by the clock at its fetch: any time after start.
		if len(rs) != 1 || rs[0].Stale != stale || rs[0].Tick.TS < q.TS {
			t.Fatalf("%s: %+v, want one tick of %+v, stale %v", sym, rs, q, stale)
		}
		if stale && rs[0].Tick.TS != q.TS {
			t.Fatalf("%s: old quote dated %d, want the close %d", sym, rs[0].Tick.TS, q.TS)
		}
		// First quote of a symbol: no earlier day volume to measure from.
		if w := (tick.Tick{Symbol: sym, TS: rs[0].Tick.TS, Price: q.Price}); rs[0].Tick != w {
			t.Fatalf("%s: %+v, want %+v", sym, rs[0].Tick, w)
		}
	}
	one("IBM", "global_quote_IBM.json", false)
	one("KO", "global_quote_KO_old.json", true)
	one("INFO", "global_quote_IBM.json", false)
	if len(got) != 3 {
		t.Fatalf("ticks for %d symbols, want 3", len(got))
	}
	st := pl.Stats
	if st.Failures[feedstats.RateLimited].Load() != 3 || st.Pauses.Load() == 0 || st.Duplicates.Load() == 0 ||
		st.Failures[feedstats.Malformed].Load() == 0 || st.Failures[feedstats.NotFound].Load() == 0 || st.Stale.Load() != 1 {
		t.Fatalf("stats: %v", st.Fields())
	}
}

func TestNewRejects(t *testing.T) {
	f := func(c alphavantage.Config, wantInErr string) {
		t.Helper()
		_, err := alphavantage.New(c)
		if err == nil || !strings.Contains(err.Error(), wantInErr) || strings.Contains(err.Error(), key) {
			t.Errorf("New(%+v) = %v, want an error about %q", c, err, wantInErr)
		}
	}
	f(alphavantage.Config{}, "API key")
	f(alphavantage.Config{APIKey: key, Function: "TIME_SERIES_DAILY"}, "function")
	f(alphavantage.Config{APIKey: key, BaseURL: "www.alphavantage.co"}, "base URL")
}
