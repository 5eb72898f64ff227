package browser_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tickstream/tickstream/config"
	"github.com/tickstream/tickstream/internal/testkit"
)

// spiked is the symbol the test plants a volume spike on. Its cooldown is
// 0s so a spike the simulator planted a moment before cannot mute ours.
const spiked = "KO"

// testConfig is the embedded default (1000 symbols, in-process broker,
// simulator at 1 tick/s per symbol) with a short warm-up, so a spike
// alerts within seconds of start, and the dashboard on a free port.
const testConfig = `lake:
  url: %s
  flush_interval: 2s
log:
  format: json
moving_average:
  ticks: 20
anomaly:
  warmup_ticks: 5
  overrides:
    %s: {cooldown: 0s}
dashboard:
  listen: 127.0.0.1:%d
engine:
  shutdown_timeout: 20s
`

// stack is a running `tickstream run` and what the test needs to reach it.
type stack struct {
	base       string         // the dashboard, http://127.0.0.1:PORT
	brokers    []string       // the embedded broker
	cfg        *config.Config // the config it runs with, loaded here independently
	firstQuote time.Time      // when the spiked symbol first had a price
}

func startStack(t *testing.T) *stack {
	t.Helper()
	path := testkit.WriteFile(t, "browser.yaml", fmt.Sprintf(testConfig, t.TempDir(), spiked, freePort(t)))
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	p := testkit.Start(t, "run", testkit.Binary(t), "run", "--config", path)
	// Runs before testkit's kill: the server must also stop cleanly.
	t.Cleanup(func() {
		if err := p.Stop(30 * time.Second); err != nil {
			t.Errorf("tickstream run did not stop cleanly: %v", err)
		}
	})
	s := &stack{base: "http://" + cfg.Dashboard.Listen, cfg: cfg}
	testkit.Eventually(t, time.Minute, "the embedded broker's address in the log", func() bool {
		if p.Exited() {
			t.Fatalf("tickstream run exited early:\n%s", p.Output())
		}
		s.brokers = embeddedBrokers(p.Output())
		return s.brokers != nil
	})
	testkit.Eventually(t, time.Minute, "GET /healthz", func() bool {
		resp, err := http.Get(s.base + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	testkit.Eventually(t, time.Minute, spiked+"'s first price", func() bool {
		price, _ := s.quote(t, spiked)
		return price != nil
	})
	s.firstQuote = time.Now()
	return s
}

// embeddedBrokers finds the address `tickstream run` logs when it starts
// the in-process broker (log.format json), or nil.
func embeddedBrokers(out string) []string {
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var line struct {
			Msg  string   `json:"msg"`
			Addr []string `json:"addr"`
		}
		if json.Unmarshal(sc.Bytes(), &line) == nil && strings.Contains(line.Msg, "embedded broker") && len(line.Addr) > 0 {
			return line.Addr
		}
	}
	return nil
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// quote fetches one symbol's quote from /api/symbols.
func (s *stack) quote(t *testing.T, sym string) (price *float64, ts int64) {
	t.Helper()
	resp, err := http.Get(s.base + "/api/symbols")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Symbols []struct {
			Symbol string   `json:"symbol"`
			TS     int64    `json:"ts"`
			Price  *float64 `json:"price"`
		} `json:"symbols"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("GET /api/symbols: %v", err)
	}
	for _, q := range body.Symbols {
		if q.Symbol == sym {
			return q.Price, q.TS
		}
	}
	t.Fatalf("GET /api/symbols has no %s", sym)
	return nil, 0
}

// browser starts headless Chromium with a fresh profile, quiet on the
// network (the machine has none: background services would only flood the
// log with refused connections), and returns a tab's context.
func browser(t *testing.T, exe string) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox, // root in containers and CI
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.WindowSize(1400, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// Start the browser now, with no deadline: a timeout on the first Run
	// would end the browser with it.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", exe, err)
	}
	return ctx
}

// consoleErrors collects what the page reports as errors (exceptions, CSP
// violations, failed loads) for the test to check at the end.
func consoleErrors(ctx context.Context) func() []string {
	msgs := chromedp.Console(ctx)
	ch := make(chan string, 64)
	go func() {
		defer close(ch)
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException {
				ch <- m.String()
			}
		}
	}()
	return func() []string {
		var out []string
		for {
			select {
			case m, ok := <-ch:
				if !ok {
					return out
				}
				out = append(out, m)
			default:
				return out
			}
		}
	}
}

// artifacts is where screenshots go: TICKSTREAM_ARTIFACTS (a relative path
// is from this package's directory, where go test runs), else a temp dir.
func artifacts(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("TICKSTREAM_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	dir, err := filepath.Abs(dir)
	if err == nil {
		err = os.MkdirAll(dir, 0o755)
	}
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// run runs one action with a deadline, failing the test on error.
func run[T any](t *testing.T, ctx context.Context, what string, timeout time.Duration, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// poll waits until the JavaScript expression is truthy and returns its value.
func poll[T any](t *testing.T, ctx context.Context, what string, timeout time.Duration, expr string) T {
	t.Helper()
	return run(t, ctx, "waiting for "+what, timeout+5*time.Second,
		chromedp.Poll[T](expr, chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(50*time.Millisecond)))
}

// eval evaluates a JavaScript expression.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	return run(t, ctx, "evaluate "+expr, 10*time.Second, chromedp.Evaluate[T](expr))
}
