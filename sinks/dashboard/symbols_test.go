package dashboard

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tickstream/tickstream/engine"
)

// symbolsBody decodes an /api/symbols body (or a snapshot event's data)
// into the symbol names in order and each symbol's Quote as sent.
func symbolsBody(t testing.TB, body []byte) (names []string, quotes map[string]string) {
	t.Helper()
	var got struct {
		Symbols []json.RawMessage `json:"symbols"`
	}
	decode(t, body, &got)
	quotes = map[string]string{}
	for _, raw := range got.Symbols {
		var q apiQuote
		decode(t, raw, &q)
		names = append(names, q.Symbol)
		quotes[q.Symbol] = string(raw)
	}
	return names, quotes
}

// TestSetSymbols: after SetSymbols /api/symbols lists the new symbols in
// the new order; the kept ones keep their quote and series, the added
// ones are null until their first tick, the removed ones are unknown to
// every route and their series memory is gone.
func TestSetSymbols(t *testing.T) {
	fx := newFixture(t, nil)
	_, _, body := fx.do(t, "GET", "/api/symbols", "")
	oldNames, oldQuotes := symbolsBody(t, body)
	oldSeries := map[string]string{}
	for _, s := range oldNames {
		_, _, b := fx.do(t, "GET", "/api/symbols/"+s+"/series", "")
		oldSeries[s] = string(b)
	}
	perSymbol := fx.hub.SeriesBytes() / len(oldNames)
	if ev := fx.hub.snapshotEvent(t0); ev != nil {
		t.Fatalf("a snapshot owed before any list change: %.100s", ev)
	}

	// Two kept, swapped; two removed; two added.
	next := []string{"TSLA", fixSymbols[1], fixSymbols[0], "AMD"}
	if err := fx.hub.SetSymbols(next); err != nil {
		t.Fatal(err)
	}
	_, _, body = fx.do(t, "GET", "/api/symbols", "")
	names, quotes := symbolsBody(t, body)
	if !slices.Equal(names, next) {
		t.Fatalf("/api/symbols lists %q, want %q", names, next)
	}
	for _, s := range next {
		status, _, series := fx.do(t, "GET", "/api/symbols/"+s+"/series", "")
		if slices.Contains(oldNames, s) {
			if quotes[s] != oldQuotes[s] || string(series) != oldSeries[s] {
				t.Errorf("kept %s changed:\n%s\n%s\nwant\n%s\n%s", s, quotes[s], series, oldQuotes[s], oldSeries[s])
			}
			continue
		}
		var q apiQuote
		decode(t, []byte(quotes[s]), &q)
		if q.TS != nil || q.Price != nil || q.MA != nil || q.Volume != nil || q.LastAlert != nil || q.Prediction != nil {
			t.Errorf("added %s is not empty: %s", s, quotes[s])
		}
		var pts struct {
			Points []json.RawMessage `json:"points"`
		}
		if decode(t, series, &pts); status != http.StatusOK || len(pts.Points) != 0 {
			t.Errorf("added %s series: %d %s, want no points", s, status, series)
		}
	}
	for _, s := range oldNames {
		if slices.Contains(next, s) {
			continue
		}
		for _, route := range []string{"/series", "/history"} {
			if status, _, b := fx.do(t, "GET", "/api/symbols/"+s+route, ""); status != http.StatusNotFound {
				t.Errorf("removed %s: %s answers %d %s, want 404", s, route, status, b)
			}
		}
	}
	if got, want := fx.hub.SeriesBytes(), perSymbol*len(next); got != want {
		t.Errorf("series hold %d bytes, want %d for %d symbols (%d each, as before)", got, want, len(next), perSymbol)
	}

	// The list change owes one snapshot, equal to /api/symbols.
	if ev := fx.hub.snapshotEvent(fx.now); string(ev) != "event: snapshot\ndata: "+string(body)+"\n\n" {
		t.Errorf("snapshot event %q, want /api/symbols", ev)
	}
	if ev := fx.hub.snapshotEvent(fx.now); ev != nil {
		t.Errorf("a second snapshot for one change: %.100s", ev)
	}
	// The same list again, or one with a name twice: nothing changes.
	if err := fx.hub.SetSymbols(slices.Clone(next)); err != nil || fx.hub.snapshotEvent(fx.now) != nil {
		t.Errorf("the same list: error %v or a snapshot", err)
	}
	if err := fx.hub.SetSymbols([]string{"X", "Y", "X"}); err == nil || !strings.Contains(err.Error(), `"X" listed twice`) {
		t.Errorf("a name twice: error %v", err)
	}

	// An added symbol's tick shows; a removed one's is ignored.
	removed := fixQuotes[0][0]
	removed.Symbol, removed.TS = fixSymbols[2], ms(9*time.Second)
	added := engine.Quote{Symbol: next[0], TS: ms(9 * time.Second), Price: 250.5, Volume: 7, MA: 250.5}
	fx.hub.Quotes(0, []engine.Quote{removed, added})
	_, _, body = fx.do(t, "GET", "/api/symbols", "")
	names, quotes = symbolsBody(t, body)
	var q apiQuote
	decode(t, []byte(quotes[added.Symbol]), &q)
	if !slices.Equal(names, next) || q.Price == nil || *q.Price != added.Price || *q.TS != added.TS {
		t.Errorf("after a tick of each: %q, %s: %s", names, added.Symbol, quotes[added.Symbol])
	}
}

// TestSetSymbolsSnapshotToClients: connected SSE clients get a snapshot
// with the new list, from the running broadcaster, equal to /api/symbols.
func TestSetSymbolsSnapshotToClients(t *testing.T) {
	fx := newFixture(t, nil)
	if err := fx.srv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- fx.srv.Serve(ctx) }()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			t.Error(err)
		}
	}()
	url := strings.TrimSuffix(fx.srv.URL(), "/")
	var readers []*sseReader
	for range 2 {
		r, stop := connect(t, url)
		defer stop()
		// A stream that never sends the snapshot ends here, not at the
		// test binary's timeout.
		defer time.AfterFunc(10*time.Second, stop).Stop()
		expect(t, r, "retry")
		expect(t, r, "snapshot")
		readers = append(readers, r)
	}

	next := append([]string{"TSLA"}, fixSymbols[1:3]...)
	if err := fx.hub.SetSymbols(next); err != nil {
		t.Fatal(err)
	}
	_, _, want := fx.do(t, "GET", "/api/symbols", "")
	for i, r := range readers {
		for {
			ev, err := r.next()
			if err != nil {
				t.Fatalf("client %d: no snapshot after SetSymbols: %v", i, err)
			}
			if ev.name == "engine" || ev.name == ":" {
				continue // the broadcaster's periodic events
			}
			if ev.name != "snapshot" {
				t.Fatalf("client %d: %s event before the snapshot: %.200s", i, ev.name, ev.data)
			}
			if names, _ := symbolsBody(t, []byte(ev.data)); !slices.Equal(names, next) || ev.data != string(want) {
				t.Errorf("client %d: snapshot of %q, want %q:\n%s\nwant /api/symbols\n%s", i, names, next, ev.data, want)
			}
			break
		}
	}
}

// TestSetSymbolsConcurrent: reloads swapping the list while partitions
// feed the hub and the broadcaster and requests read it (meant for -race).
func TestSetSymbolsConcurrent(t *testing.T) {
	hub, srv, qs := bigHub(t, 200)
	all := make([]string, len(qs))
	for i := range qs {
		all[i] = qs[i].Symbol
	}
	lists := [][]string{all[:150], all[50:], all}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for p := range 2 {
		wg.Go(func() {
			mine := slices.Clone(qs[p*100 : (p+1)*100])
			for i := 1; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				for k := range mine {
					mine[k].TS = int64(i)
				}
				hub.Quotes(int32(p), mine)
			}
		})
	}
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			srv.pushQuotes(t0)
			srv.send(hub.snapshotEvent(t0))
			_ = hub.appendSymbols(nil, t0)
			_, _ = hub.appendSeries(nil, all[100])
		}
	})
	for i := range 60 {
		if err := hub.SetSymbols(lists[i%len(lists)]); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	names, _ := symbolsBody(t, hub.appendSymbols(nil, t0))
	if want := lists[59%len(lists)]; !slices.Equal(names, want) {
		t.Errorf("%d symbols listed, want the last list's %d", len(names), len(want))
	}
}

// BenchmarkSetSymbols is one reload of the design load's 1000 symbols
// (15 min of series at 1 s): one symbol swapped, 999 carried over.
func BenchmarkSetSymbols(b *testing.B) {
	hub, _, qs := bigHub(b, 1000)
	lists := [2][]string{make([]string, len(qs)), make([]string, len(qs))}
	for i := range qs {
		lists[0][i], lists[1][i] = qs[i].Symbol, qs[i].Symbol
	}
	lists[1][0] = "NEW"
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := hub.SetSymbols(lists[i%2]); err != nil {
			b.Fatal(err)
		}
	}
}
