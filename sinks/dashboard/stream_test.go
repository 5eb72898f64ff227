package dashboard

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tickstream/tickstream/engine"
	"github.com/tickstream/tickstream/operators"
)

// sseEvent is one event as a client parses it; a comment line is event
// ":" with the comment as data.
type sseEvent struct {
	name, data string
}

// sseReader parses an SSE stream.
type sseReader struct{ r *bufio.Reader }

func (s *sseReader) next() (sseEvent, error) {
	var ev sseEvent
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			return ev, err
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			if ev.name != "" || ev.data != "" {
				return ev, nil
			}
		case strings.HasPrefix(line, ":"):
			ev.name, ev.data = ":", strings.TrimSpace(line[1:])
		case strings.HasPrefix(line, "retry: "):
			ev.name, ev.data = "retry", line[len("retry: "):]
		case strings.HasPrefix(line, "event: "):
			ev.name = line[len("event: "):]
		case strings.HasPrefix(line, "data: "):
			ev.data += line[len("data: "):]
		default:
			return ev, fmt.Errorf("unexpected line %q", line)
		}
	}
}

// connect opens /api/stream over a real connection.
func connect(t testing.TB, url string) (*sseReader, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", url+"/api/stream", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: %s %v", resp.Status, resp.Header)
	}
	return &sseReader{bufio.NewReaderSize(resp.Body, 1<<20)}, func() { cancel(); resp.Body.Close() }
}

func expect(t testing.TB, r *sseReader, name string) string {
	t.Helper()
	ev, err := r.next()
	if err != nil {
		t.Fatalf("waiting for %s: %v", name, err)
	}
	if ev.name != name {
		t.Fatalf("got event %q (%.200s), want %s", ev.name, ev.data, name)
	}
	return ev.data
}

// TestStream: a client gets the retry delay, a snapshot equal to
// /api/symbols, then only the changed symbols' quotes, each alert, and the
// engine event equal to /api/engine.
func TestStream(t *testing.T) {
	fx := newFixture(t, nil)
	ts := httptest.NewServer(fx.srv.Handler())
	defer ts.Close()
	r, stop := connect(t, ts.URL)
	defer stop()

	if got := expect(t, r, "retry"); got != "2000" {
		t.Errorf("retry %s", got)
	}
	_, _, symbols := fx.do(t, "GET", "/api/symbols", "")
	if got := expect(t, r, "snapshot"); got != string(symbols) {
		t.Errorf("snapshot:\n%s\nwant /api/symbols:\n%s", got, symbols)
	}

	q := engine.Quote{Symbol: "NVDA", TS: ms(4 * time.Second), Price: 180.25, Volume: 10, MA: 180.25}
	fx.hub.Quotes(2, []engine.Quote{q})
	fx.srv.pushQuotes(t0.Add(5 * time.Second))
	var got struct {
		TS      int64      `json:"ts"`
		Symbols []apiQuote `json:"symbols"`
	}
	decode(t, []byte(expect(t, r, "quotes")), &got)
	if got.TS != ms(5*time.Second) || len(got.Symbols) != 1 || got.Symbols[0].Symbol != "NVDA" || *got.Symbols[0].Price != q.Price {
		t.Errorf("quotes event %+v, want NVDA alone at %v", got, q.Price)
	}
	fx.srv.pushQuotes(t0.Add(6 * time.Second)) // nothing changed: no event

	a := fixAlerts[1]
	a.TS = ms(6 * time.Second)
	fx.hub.Publish(&a, 0, 0)
	fx.srv.send(fx.hub.takeAlerts())
	want := string(appendAlert(nil, &Alert{Symbol: a.Symbol, TS: a.TS, Kind: a.Kind.String(), Rule: a.Rule,
		Observed: a.Observed, Threshold: a.Threshold, Reference: a.Reference}))
	if got := expect(t, r, "alert"); got != want {
		t.Errorf("alert event %s, want %s", got, want)
	}

	fx.srv.send(fx.srv.engineEvent(fx.now))
	_, _, eng := fx.do(t, "GET", "/api/engine", "")
	if got := expect(t, r, "engine"); got != string(eng) {
		t.Errorf("engine event %s, want /api/engine %s", got, eng)
	}
	fx.srv.send(pingEvent)
	if got := expect(t, r, ":"); got != "ping" {
		t.Errorf("comment %q, want ping", got)
	}
}

// bigHub is a hub of n symbols SYN0000… and a server over it.
func bigHub(t testing.TB, n int) (*Hub, *Server, []engine.Quote) {
	t.Helper()
	syms := make([]string, n)
	qs := make([]engine.Quote, n)
	for i := range syms {
		syms[i] = fmt.Sprintf("SYN%04d", i)
		qs[i] = engine.Quote{Symbol: syms[i], Price: 100 + float64(i)/7, Volume: float64(1000 + i), Bid: 99.9, Ask: 100.1, MA: 100.05}
	}
	hub, err := NewHub(HubOptions{Symbols: syms, History: 15 * time.Minute, PushInterval: time.Second, AlertsKept: 500})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Options{Listen: "127.0.0.1:0", Hub: hub})
	if err != nil {
		t.Fatal(err)
	}
	return hub, srv, qs
}

// tickAll moves every quote one second on.
func tickAll(qs []engine.Quote, i int) {
	for k := range qs {
		qs[k].TS = ms(time.Duration(i) * time.Second)
		qs[k].Price += 0.01
	}
}

// TestSlowClientDropped: a client that stops reading is disconnected once
// its queue is full, while a client that reads gets every event and the
// pushes never wait for either.
func TestSlowClientDropped(t *testing.T) {
	hub, srv, qs := bigHub(t, 1000)
	srv.queue = 4
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()

	slow, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	_ = slow.(*net.TCPConn).SetReadBuffer(4096)
	fmt.Fprintf(slow, "GET /api/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")

	good, stop := connect(t, ts.URL)
	defer stop()
	expect(t, good, "retry")
	expect(t, good, "snapshot")
	for hub.Clients() < 2 {
		time.Sleep(time.Millisecond)
	}

	pushes := 0
	for ; hub.Clients() == 2; pushes++ {
		if pushes == 2000 {
			t.Fatalf("the slow client was not dropped after %d events", pushes)
		}
		tickAll(qs, pushes+1)
		hub.Quotes(0, qs)
		start := time.Now()
		srv.pushQuotes(t0.Add(time.Duration(pushes+1) * time.Second))
		if d := time.Since(start); d > time.Second {
			t.Fatalf("push %d took %s: it waited for a client", pushes, d)
		}
		var got struct {
			TS      int64      `json:"ts"`
			Symbols []apiQuote `json:"symbols"`
		}
		decode(t, []byte(expect(t, good, "quotes")), &got)
		if got.TS != ms(time.Duration(pushes+1)*time.Second) || len(got.Symbols) != len(qs) {
			t.Fatalf("push %d: event at %d with %d symbols", pushes, got.TS, len(got.Symbols))
		}
	}
	t.Logf("slow client dropped after %d events of %d KB", pushes, len(hub.appendSymbols(nil, t0))>>10)
	if hub.Clients() != 1 {
		t.Errorf("%d clients left, want the reading one", hub.Clients())
	}
	// The reader is still served.
	tickAll(qs, pushes+1)
	hub.Quotes(0, qs)
	srv.pushQuotes(t0)
	expect(t, good, "quotes")
}

// TestServeStopsClients: ending Serve's context closes open streams and
// returns nil promptly.
func TestServeStopsClients(t *testing.T) {
	fx := newFixture(t, nil)
	if err := fx.srv.Listen(); err != nil {
		t.Fatal(err)
	}
	if u := fx.srv.URL(); !strings.HasPrefix(u, "http://127.0.0.1:") || !strings.HasSuffix(u, "/") {
		t.Errorf("URL %q", u)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- fx.srv.Serve(ctx) }()
	r, stop := connect(t, strings.TrimSuffix(fx.srv.URL(), "/"))
	defer stop()
	expect(t, r, "retry")
	expect(t, r, "snapshot")
	start := time.Now()
	cancel()
	for {
		ev, err := r.next()
		if err != nil {
			break // the stream ended
		}
		if ev.name == "snapshot" {
			t.Fatal("a second snapshot")
		}
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("stopping took %s", d)
	}
	if resp, err := http.Get(fx.srv.URL() + "healthz"); err == nil {
		resp.Body.Close()
		t.Errorf("still serving after the stop")
	}
}

// TestHubConcurrent: partitions feeding the hub while the broadcaster
// pushes and requests read it (meant for -race); every tick's latest
// price ends up in the snapshot.
func TestHubConcurrent(t *testing.T) {
	hub, srv, qs := bigHub(t, 400)
	var wg sync.WaitGroup
	const parts, rounds = 4, 200
	for p := range parts {
		wg.Go(func() {
			mine := slices.Clone(qs[p*100 : (p+1)*100])
			for i := 1; i <= rounds; i++ {
				for k := range mine {
					mine[k].TS, mine[k].Price = int64(i), float64(i)
				}
				hub.Quotes(int32(p), mine)
				a := operators.Alert{Symbol: mine[0].Symbol, Kind: operators.PriceDrop, TS: int64(i), Rule: operators.RuleReturn}
				hub.Publish(&a, int32(p), 0)
			}
		})
	}
	done, stopRead := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-hub.wake:
				srv.send(hub.takeAlerts())
			default:
			}
			srv.pushQuotes(t0.Add(time.Duration(i) * time.Millisecond))
			_ = hub.appendSymbols(nil, t0)
			if _, ok := hub.appendSeries(nil, "SYN0000"); !ok {
				t.Error("SYN0000 unknown")
			}
			select {
			case <-stopRead:
				return
			default:
			}
		}
	}()
	wg.Wait()
	close(stopRead)
	<-done
	var got struct {
		Symbols []apiQuote `json:"symbols"`
	}
	decode(t, hub.appendSymbols(nil, t0), &got)
	for _, q := range got.Symbols {
		if q.Price == nil || *q.Price != rounds {
			t.Fatalf("%s: price %v, want the last round's %d", q.Symbol, q.Price, rounds)
		}
	}
}
