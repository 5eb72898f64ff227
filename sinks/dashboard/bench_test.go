package dashboard

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tickstream/tickstream/internal/cputime"
	"github.com/tickstream/tickstream/models"
)

// BenchmarkFanout measures the server's CPU for the dashboard's design
// load: 1000 symbols all changing every push, 50 clients connected over
// real loopback connections and reading. The clients run in a child
// process (this test binary, see TestFanoutClients), so the process's CPU
// time (getrusage: user + system, every thread) is the server's alone:
// the hub updates, encoding each quotes event once, fan-out, the 50
// connections' writes, engine and ping events. Pushes run every 100 ms, 10×
// the default 1 s, to measure more of them; one op is one push interval,
// and the CPU per push, being what one second costs at 1 Hz, is reported
// as a share of one core. The bar is 5 %.
//
//	go test -run '^$' -bench Fanout -benchtime 100x ./sinks/dashboard/
func BenchmarkFanout(b *testing.B) {
	const symbols, clients, interval = 1000, 50, 100 * time.Millisecond
	hub, srv, qs := bigHub(b, symbols)
	hub.opts.PushInterval = interval
	if err := srv.Listen(); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx) }()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			b.Error(err)
		}
	}()

	child := exec.Command(os.Args[0], "-test.run=^TestFanoutClients$", "-test.v")
	child.Env = append(os.Environ(), "DASHBOARD_FANOUT_URL="+srv.URL(), "DASHBOARD_FANOUT_CLIENTS="+strconv.Itoa(clients))
	child.Stderr = os.Stderr
	out, err := child.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := child.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = child.Process.Kill(); _ = child.Wait() }()
	lines := bufio.NewScanner(out)
	for lines.Scan() && lines.Text() != "ready" {
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	if n := hub.Clients(); n != clients {
		b.Fatalf("%d clients connected, want %d", n, clients)
	}

	// The engine's side: every symbol ticks once per push interval.
	feed := time.NewTicker(interval)
	defer feed.Stop()
	fctx, stopFeed := context.WithCancel(ctx)
	fed := make(chan struct{})
	go func() {
		defer close(fed)
		for i := 1; ; i++ {
			select {
			case <-fctx.Done():
				return
			case <-feed.C:
				tickAll(qs, i)
				for k := 0; k < len(qs); k += 170 { // in batches, as partitions do
					hub.Quotes(int32(k), qs[k:min(k+170, len(qs))])
				}
			}
		}
	}()
	time.Sleep(3 * interval) // first events out

	b.ReportAllocs()
	cpu0, pushed0 := cputime.Process(), srv.pushed.Load()
	for b.Loop() {
		time.Sleep(interval)
	}
	cpu, pushes := cputime.Process()-cpu0, srv.pushed.Load()-pushed0
	stopFeed()
	<-fed
	if n := hub.Clients(); n != clients {
		b.Errorf("%d of %d clients still connected: some were too slow", n, clients)
	}
	if pushes == 0 || cpu == 0 {
		b.Skipf("no measurement (%d pushes, CPU %s; getrusage unavailable?)", pushes, cpu)
	}
	perPush := cpu / time.Duration(pushes)
	b.ReportMetric(perPush.Seconds()/time.Second.Seconds()*100, "%core_per_50clients@1Hz")
	b.ReportMetric(float64(perPush.Microseconds()), "µs_cpu/push")
	b.ReportMetric(float64(len(hub.appendSymbols(nil, t0))), "event_bytes")
}

// TestFanoutClients is BenchmarkFanout's child process: it connects the
// clients, reads every stream to the end and says "ready" once each has
// its snapshot. Run alone it does nothing.
func TestFanoutClients(t *testing.T) {
	url := os.Getenv("DASHBOARD_FANOUT_URL")
	if url == "" {
		t.Skip("the child process of BenchmarkFanout")
	}
	n, _ := strconv.Atoi(os.Getenv("DASHBOARD_FANOUT_CLIENTS"))
	addr := strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/")
	snap := make(chan error, n)
	for range n {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "GET /api/stream HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
		go func() {
			r := bufio.NewReaderSize(conn, 1<<20)
			for {
				line, err := r.ReadSlice('\n')
				if err != nil && err != bufio.ErrBufferFull {
					snap <- err
					return
				}
				if string(line) == "event: snapshot\n" {
					snap <- nil
					break
				}
			}
			_, _ = io.Copy(io.Discard, r)
		}()
	}
	for range n {
		if err := <-snap; err != nil {
			t.Fatal(err)
		}
	}
	fmt.Println("ready")
	select {} // read until the benchmark kills the process
}

// BenchmarkQuotesEvent is one push's encoding: 1000 changed symbols
// sampled into their series and written as one quotes event.
func BenchmarkQuotesEvent(b *testing.B) {
	hub, _, qs := bigHub(b, 1000)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		tickAll(qs, i+1)
		hub.Quotes(0, qs)
		if hub.quotesEvent(t0) == nil {
			b.Fatal("no event")
		}
	}
}

// BenchmarkHubQuotes is the engine's side: one partition batch's 16
// latest quotes handed to the hub.
func BenchmarkHubQuotes(b *testing.B) {
	hub, _, qs := bigHub(b, 1000)
	batch := qs[:16]
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		for k := range batch {
			batch[k].TS = int64(i)
		}
		hub.Quotes(0, batch)
	}
}

// TestHubAllocatesNothing: what the engine calls per batch allocates
// nothing once a symbol's state exists (the prediction and alert paths
// are per batch too, the alert path allocates only for its event).
func TestHubAllocatesNothing(t *testing.T) {
	hub, _, qs := bigHub(t, 1000)
	preds := []models.PredictionRow{{Symbol: "SYN0001", Model: "xgb", Horizon: "10s", Value: 0.5}}
	var i int64
	batch := func() {
		i++
		for k := range qs[:16] {
			qs[k].TS = i
		}
		hub.Quotes(0, qs[:16])
		hub.Predictions(0, preds)
	}
	batch()
	if a := testing.AllocsPerRun(100, batch); a != 0 {
		t.Errorf("%v allocations per batch", a)
	}
}
