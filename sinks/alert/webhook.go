package alert

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tickstream/tickstream/operators"
)

// Webhook request headers. The signature follows the scheme Stripe and
// GitHub users know: the receiver recomputes HMAC-SHA256(secret, t + "." +
// body), compares in constant time, and rejects old t to stop replays.
const (
	HeaderIdempotencyKey = "Idempotency-Key"        // the alert's ID, the same on every retry
	HeaderSignature      = "X-Tickstream-Signature" // t=UNIX,v1=HEX (only with a secret)
)

// WebhookOptions configures a Webhook; zero values take the defaults noted.
type WebhookOptions struct {
	URL string
	// Slack sends {"text": "…"} (Slack's incoming-webhook body) instead of
	// the alert JSON of AppendJSON.
	Slack bool
	// Secret, when not empty, signs each request (HeaderSignature).
	Secret      string
	Timeout     time.Duration // per attempt; default 5s
	MaxAttempts int           // default 5
	Queue       int           // alerts waiting at most; default 1024
	Backoff     time.Duration // before the second attempt, doubling; default 500ms
	MaxBackoff  time.Duration // default 30s
	Client      *http.Client  // default: a client of its own
	OnError     func(error)   // told of drops and failed deliveries
	Now         func() time.Time
}

// Webhook POSTs each alert to a URL from a goroutine of its own, with
// retries, and never blocks the stream: see queue.
type Webhook struct {
	o WebhookOptions
	q *queue
}

var _ Publisher = (*Webhook)(nil)

// NewWebhook starts the delivery goroutine; Close stops it.
func NewWebhook(o WebhookOptions) (*Webhook, error) {
	if !strings.HasPrefix(o.URL, "http://") && !strings.HasPrefix(o.URL, "https://") {
		return nil, fmt.Errorf("alert webhook: url %q is not http(s)", o.URL)
	}
	o.Timeout = orDefault(o.Timeout, 5*time.Second)
	o.MaxAttempts = orDefault(o.MaxAttempts, 5)
	o.Queue = orDefault(o.Queue, 1024)
	o.Backoff = orDefault(o.Backoff, 500*time.Millisecond)
	o.MaxBackoff = orDefault(o.MaxBackoff, 30*time.Second)
	if o.Client == nil {
		o.Client = &http.Client{}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	w := &Webhook{o: o}
	w.q = newQueue("webhook", o.Queue, o.MaxAttempts, o.Backoff, o.MaxBackoff, w.attempt, o.OnError)
	return w, nil
}

// Publish queues the alert; a full queue drops it and counts the drop.
func (w *Webhook) Publish(a *operators.Alert, partition int32, offset int64) {
	var body []byte
	if w.o.Slack {
		body = SlackJSON(a, partition, offset)
	} else {
		body = AppendJSON(make([]byte, 0, 256), a, partition, offset)
	}
	w.q.enqueue(job{id: ID(a, partition, offset), symbol: a.Symbol, kind: a.Kind.String(), body: body})
}

// Stats are the delivery counters.
func (w *Webhook) Stats() *Stats { return &w.q.stats }

// Close delivers what is queued until ctx ends, then stops.
func (w *Webhook) Close(ctx context.Context) error { return w.q.close(ctx) }

// SlackJSON is the Slack incoming-webhook body for an alert: one line of text.
func SlackJSON(a *operators.Alert, partition int32, offset int64) []byte {
	text := fmt.Sprintf(":rotating_light: *%s* %s (%s): observed %s, threshold %s, reference %s at %s (partition %d, offset %d)",
		a.Symbol, a.Kind, a.Rule, num(a.Observed), num(a.Threshold), num(a.Reference),
		time.UnixMilli(a.TS).UTC().Format("2006-01-02T15:04:05.000Z07:00"), partition, offset)
	b, _ := json.Marshal(struct {
		Text string `json:"text"`
	}{text}) // cannot fail for a string
	return b
}

func num(f float64) string { return string(appendFloat(nil, f)) }

// Sign returns the HeaderSignature value for body sent at unix time t.
func Sign(secret string, t int64, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(strconv.AppendInt(nil, t, 10))
	m.Write([]byte{'.'})
	m.Write(body)
	return "t=" + strconv.FormatInt(t, 10) + ",v1=" + hex.EncodeToString(m.Sum(nil))
}

func (w *Webhook) attempt(ctx context.Context, j job) error {
	ctx, cancel := context.WithTimeout(ctx, w.o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.o.URL, bytes.NewReader(j.body))
	if err != nil {
		return fmt.Errorf("build request: %w", err) // permanent: the URL is bad
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "tickstream")
	req.Header.Set(HeaderIdempotencyKey, j.id)
	if w.o.Secret != "" {
		req.Header.Set(HeaderSignature, Sign(w.o.Secret, w.o.Now().Unix(), j.body))
	}
	resp, err := w.o.Client.Do(req)
	if err != nil {
		// The request may have arrived and only the answer been lost: the
		// retry carries the same Idempotency-Key for the receiver to drop.
		return &attemptErr{err: err, retry: true}
	}
	defer resp.Body.Close()
	head, _ := io.ReadAll(io.LimitReader(resp.Body, 160))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	if resp.StatusCode/100 == 2 {
		return nil
	}
	err = fmt.Errorf("POST %s: %s: %q", w.o.URL, resp.Status, bytes.TrimSpace(head))
	switch c := resp.StatusCode; {
	case c == http.StatusRequestTimeout, c == http.StatusTooEarly, c == http.StatusTooManyRequests, c >= 500:
		return &attemptErr{err: err, retry: true, after: retryAfter(resp.Header.Get("Retry-After"))}
	}
	return err // other 4xx: retrying the same request cannot help
}

// retryAfter reads a Retry-After of delay seconds (the HTTP-date form is
// rare from webhooks and ignored: the backoff applies).
func retryAfter(v string) time.Duration {
	s, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || s < 0 {
		return 0
	}
	return time.Duration(s) * time.Second
}

// orDefault returns v, or def when v is zero or negative.
func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}
