package alert

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tickstream/tickstream/operators"
)

// received is one request as the test server saw it.
type received struct {
	id, sig, ctype string
	body           []byte
}

// hookServer records every request and answers with reply(n, r), n counting
// from 1; reply returning 0 hijacks the connection and closes it after the
// request was read: the delivery happened, the response is lost.
type hookServer struct {
	*httptest.Server
	mu  sync.Mutex
	got []received
}

func newHookServer(t *testing.T, reply func(n int, w http.ResponseWriter) int) *hookServer {
	t.Helper()
	s := &hookServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.got = append(s.got, received{r.Header.Get("Idempotency-Key"), r.Header.Get("X-Tickstream-Signature"), r.Header.Get("Content-Type"), body})
		n := len(s.got)
		s.mu.Unlock()
		code := reply(n, w)
		if code == 0 {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *hookServer) requests() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.got...)
}

func closeNow(t *testing.T, c interface{ Close(context.Context) error }) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

var spike = operators.Alert{Symbol: "AAPL", Kind: operators.VolumeSpike, Rule: "factor", TS: 1764081067000, Observed: 91000, Threshold: 25000, Reference: 5000}

func TestWebhookBody(t *testing.T) {
	f := func(slack bool, secret string, check func(t *testing.T, body []byte)) {
		t.Helper()
		srv := newHookServer(t, func(int, http.ResponseWriter) int { return 200 })
		now := time.Unix(1764081100, 0)
		w, err := NewWebhook(WebhookOptions{URL: srv.URL + "/hook", Slack: slack, Secret: secret, Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		a := spike
		w.Publish(&a, 3, 81234)
		a.Symbol = "CHANGED" // Publish must have copied what it needs
		closeNow(t, w)
		got := srv.requests()
		if len(got) != 1 {
			t.Fatalf("%d requests, want 1", len(got))
		}
		r := got[0]
		if r.id != "p3-o81234-volume_spike" || r.ctype != "application/json" {
			t.Errorf("headers: Idempotency-Key %q, Content-Type %q", r.id, r.ctype)
		}
		if secret == "" && r.sig != "" {
			t.Errorf("unsigned webhook sent signature %q", r.sig)
		}
		if secret != "" {
			// Recompute as a receiver would, from the header's t.
			mac := hmac.New(sha256.New, []byte(secret))
			mac.Write([]byte("1764081100." + string(r.body)))
			if want := "t=1764081100,v1=" + hex.EncodeToString(mac.Sum(nil)); r.sig != want {
				t.Errorf("signature %q, want %q", r.sig, want)
			}
		}
		check(t, r.body)
		if s := w.Stats(); s.Delivered.Load() != 1 || s.Failed.Load()+s.Dropped.Load()+s.Retries.Load() != 0 {
			t.Errorf("stats delivered %d failed %d dropped %d retries %d", s.Delivered.Load(), s.Failed.Load(), s.Dropped.Load(), s.Retries.Load())
		}
	}
	plain := func(t *testing.T, body []byte) {
		want := `{"symbol":"AAPL","kind":"volume_spike","rule":"factor","ts":"2025-11-25T14:31:07.000Z","observed":91000,"threshold":25000,"reference":5000,"partition":3,"offset":81234}`
		if string(body) != want {
			t.Errorf("body\n got %s\nwant %s", body, want)
		}
	}
	slack := func(t *testing.T, body []byte) {
		var m map[string]string
		if err := json.Unmarshal(body, &m); err != nil || len(m) != 1 {
			t.Fatalf("slack body %s: want exactly {\"text\": …} (%v)", body, err)
		}
		want := ":rotating_light: *AAPL* volume_spike (factor): observed 91000, threshold 25000, reference 5000 at 2025-11-25T14:31:07.000Z (partition 3, offset 81234)"
		if m["text"] != want {
			t.Errorf("slack text\n got %q\nwant %q", m["text"], want)
		}
	}
	f(false, "", plain)
	f(false, "s3cr3t", plain)
	f(true, "", slack)
	f(true, "other secret", slack)
}

// TestWebhookLostResponse: the first attempt arrives but its response is
// lost. The retry must carry the same id and body, so a receiver that
// dedupes on Idempotency-Key records the alert once; and the same alert
// raised again in this process (a replay after a rebalance) is not resent.
func TestWebhookLostResponse(t *testing.T) {
	srv := newHookServer(t, func(n int, _ http.ResponseWriter) int {
		if n == 1 {
			return 0
		}
		return 200
	})
	w, err := NewWebhook(WebhookOptions{URL: srv.URL, Secret: "k", Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	a := spike
	w.Publish(&a, 0, 7)
	closeNow(t, w)
	got := srv.requests()
	if len(got) != 2 {
		t.Fatalf("%d attempts, want 2 (one lost response, one retry)", len(got))
	}
	if got[0].id != got[1].id || string(got[0].body) != string(got[1].body) {
		t.Errorf("retry differs: %q %s vs %q %s", got[0].id, got[0].body, got[1].id, got[1].body)
	}
	delivered := map[string]int{}
	for _, r := range got {
		delivered[r.id]++
	}
	if len(delivered) != 1 {
		t.Errorf("receiver deduping on the key saw %d alerts, want 1", len(delivered))
	}

	// A second publisher instance sharing nothing would resend; the same
	// instance must not.
	w2, err := NewWebhook(WebhookOptions{URL: srv.URL, Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	w2.Publish(&a, 0, 7)
	w2.Publish(&a, 0, 7) // replayed tick: same id
	b := spike
	b.Kind = operators.PriceDrop
	w2.Publish(&b, 0, 7) // another alert of the same tick: a new id
	closeNow(t, w2)
	if n := len(srv.requests()) - 2; n != 2 {
		t.Errorf("after a replay, %d requests, want 2", n)
	}
	if d := w2.Stats().Duplicates.Load(); d != 1 {
		t.Errorf("duplicates %d, want 1", d)
	}
}

func TestWebhookRetryPolicy(t *testing.T) {
	f := func(codes []int, maxAttempts int, wantAttempts int, wantDelivered bool) {
		t.Helper()
		srv := newHookServer(t, func(n int, w http.ResponseWriter) int {
			if n > len(codes) {
				return 200
			}
			if codes[n-1] == 429 {
				w.Header().Set("Retry-After", "0")
			}
			return codes[n-1]
		})
		var errs []error
		w, err := NewWebhook(WebhookOptions{URL: srv.URL, MaxAttempts: maxAttempts, Backoff: time.Millisecond,
			OnError: func(err error) { errs = append(errs, err) }})
		if err != nil {
			t.Fatal(err)
		}
		a := spike
		w.Publish(&a, 1, 1)
		closeNow(t, w)
		if n := len(srv.requests()); n != wantAttempts {
			t.Errorf("codes %v: %d attempts, want %d", codes, n, wantAttempts)
		}
		s := w.Stats()
		if got := s.Delivered.Load() == 1; got != wantDelivered || s.Failed.Load() == 1 == wantDelivered {
			t.Errorf("codes %v: delivered %d failed %d", codes, s.Delivered.Load(), s.Failed.Load())
		}
		if s.Retries.Load() != int64(wantAttempts-1) {
			t.Errorf("codes %v: retries %d", codes, s.Retries.Load())
		}
		if !wantDelivered && (len(errs) != 1 || !strings.Contains(errs[0].Error(), strconv.Itoa(codes[wantAttempts-1]))) {
			t.Errorf("codes %v: errors reported %v", codes, errs)
		}
	}
	f(nil, 5, 1, true)
	f([]int{500, 502}, 5, 3, true)
	f([]int{429, 408, 425, 503}, 5, 5, true)
	f([]int{503, 503, 503}, 3, 3, false)
	f([]int{400}, 5, 1, false) // a client error is not retried
	f([]int{404}, 5, 1, false)
	f([]int{500, 401}, 5, 2, false)
}

func TestWebhookQueueFullDrops(t *testing.T) {
	release := make(chan struct{})
	inFlight := make(chan struct{}, 1)
	srv := newHookServer(t, func(n int, _ http.ResponseWriter) int {
		if n == 1 {
			inFlight <- struct{}{}
			<-release
		}
		return 200
	})
	w, err := NewWebhook(WebhookOptions{URL: srv.URL, Queue: 2})
	if err != nil {
		t.Fatal(err)
	}
	a := spike
	w.Publish(&a, 0, 0)
	<-inFlight // the worker holds alert 0; the queue is empty
	const more = 9
	for i := range more {
		w.Publish(&a, 0, int64(1+i))
	}
	close(release)
	closeNow(t, w)
	s := w.Stats()
	if s.Delivered.Load() != 3 || s.Dropped.Load() != more-2 {
		t.Errorf("delivered %d dropped %d, want 3 and %d", s.Delivered.Load(), s.Dropped.Load(), more-2)
	}
	var ids []string
	for _, r := range srv.requests() {
		ids = append(ids, r.id)
	}
	if strings.Join(ids, " ") != "p0-o0-volume_spike p0-o1-volume_spike p0-o2-volume_spike" {
		t.Errorf("delivered %v: want the first three, in order", ids)
	}
	w.Publish(&a, 0, 99) // after Close: dropped, not a panic
	if s.Dropped.Load() != more-1 {
		t.Errorf("publish after close: dropped %d", s.Dropped.Load())
	}
}

func TestWebhookCloseDeadline(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	srv := newHookServer(t, func(int, http.ResponseWriter) int { <-block; return 200 })
	w, err := NewWebhook(WebhookOptions{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	a := spike
	w.Publish(&a, 0, 1)
	w.Publish(&a, 0, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := w.Close(ctx); err == nil || !strings.Contains(err.Error(), "undelivered") {
		t.Errorf("Close past its deadline: %v", err)
	}
	if s := w.Stats(); s.Failed.Load() != 2 || s.Delivered.Load() != 0 {
		t.Errorf("failed %d delivered %d, want 2 and 0", s.Failed.Load(), s.Delivered.Load())
	}
}

func TestWebhookBadURL(t *testing.T) {
	if _, err := NewWebhook(WebhookOptions{URL: "ftp://x"}); err == nil {
		t.Error("ftp url accepted")
	}
}
