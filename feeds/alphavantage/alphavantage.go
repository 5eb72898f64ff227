// Package alphavantage reads Alpha Vantage's GLOBAL_QUOTE (the latest quote)
// or TIME_SERIES_INTRADAY (1-minute bars) as a poll.Provider.
//
// Alpha Vantage reports its limits and errors as HTTP 200 bodies holding one
// key instead of data: "Note" (per-minute throttle), "Information" (daily
// limit, premium-only call) or "Error Message" (bad key, bad symbol). They
// are recognised before anything is read as data, classified (rate_limited,
// auth, not_found) and never become a snapshot, let alone a tick.
//
// The API key travels in the query string, so it must never be logged: no
// error or snippet this package returns holds the URL, and any echo of the
// key in a body is redacted. It must not schedule or rate-limit: the poller
// plans requests within the free tier's few per minute and per day.
package alphavantage

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	_ "time/tzdata" // the intraday series is in "US/Eastern", on any host

	"github.com/tickstream/tickstream/feeds/feedstats"
	"github.com/tickstream/tickstream/feeds/poll"
)

// Defaults and the functions supported.
const (
	DefaultBaseURL = "https://www.alphavantage.co"
	GlobalQuote    = "GLOBAL_QUOTE"
	Intraday       = "TIME_SERIES_INTRADAY"
)

// Config says where Alpha Vantage is and what to ask it.
type Config struct {
	BaseURL  string // empty: DefaultBaseURL
	APIKey   string // required; never logged
	Function string // GlobalQuote (default) or Intraday
	Client   *http.Client
	// Now is the clock (nil: time.Now); it dates GLOBAL_QUOTE ticks, whose
	// body has a trading day but no time of day.
	Now func() time.Time
}

// Provider is safe for concurrent use.
type Provider struct {
	base, key, function string
	client              *http.Client
	now                 func() time.Time
}

var _ poll.Provider = (*Provider)(nil)

// eastern is the exchange time zone, in which trading days are counted.
var eastern = mustLoad("America/New_York")

func mustLoad(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic("BUG: embedded tzdata lacks " + name)
	}
	return l
}

// New returns a Provider. Its error never shows the key.
func New(c Config) (*Provider, error) {
	p := &Provider{base: c.BaseURL, key: c.APIKey, function: c.Function, client: c.Client, now: c.Now}
	if p.base == "" {
		p.base = DefaultBaseURL
	}
	if u, err := url.Parse(p.base); err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("alphavantage: base URL %q is not an http(s) URL", p.base)
	}
	p.base = strings.TrimRight(p.base, "/")
	if p.key == "" {
		return nil, errors.New("alphavantage: no API key (set feeds.alphavantage.api_key, e.g. to ${ALPHAVANTAGE_API_KEY})")
	}
	switch p.function {
	case "":
		p.function = GlobalQuote
	case GlobalQuote, Intraday:
	default:
		return nil, fmt.Errorf("alphavantage: function %q: want %s or %s", p.function, GlobalQuote, Intraday)
	}
	if p.client == nil {
		p.client = &http.Client{}
	}
	if p.now == nil {
		p.now = time.Now
	}
	return p, nil
}

// Fetch makes one request for symbol.
func (p *Provider) Fetch(ctx context.Context, symbol string, snap *poll.Snapshot) error {
	q := url.Values{"function": {p.function}, "symbol": {symbol}, "apikey": {p.key}}
	if p.function == Intraday {
		q.Set("interval", "1min")
		q.Set("outputsize", "compact")
	}
	r, err := poll.Get(ctx, p.client, p.base+"/query?"+q.Encode(), nil)
	if err != nil {
		return p.redact(err)
	}
	fail := func(k feedstats.Kind, msg string) error {
		return &poll.Error{Kind: k, Status: r.Status, Msg: p.redactString(msg), Snippet: p.redactString(poll.Snip(r.Body)),
			RetryAfter: poll.RetryAfter(r.Header)}
	}
	switch {
	case r.Status == http.StatusTooManyRequests:
		return fail(feedstats.RateLimited, "too many requests")
	case r.Status != http.StatusOK:
		return fail(feedstats.HTTP, "unexpected status")
	}
	if p.function == Intraday {
		return readIntraday(r.Body, snap, fail)
	}
	return readGlobalQuote(r.Body, p.now(), snap, fail)
}

// notice recognises a body that is a notice instead of data: the kind and
// text, or ok false for data.
func notice(top map[string]any) (kind feedstats.Kind, text string, ok bool) {
	for _, k := range []string{"Note", "Information", "Error Message"} {
		v, found := top[k]
		if !found {
			continue
		}
		text, _ = v.(string)
		switch {
		case k != "Error Message":
			// "Note" is the per-minute throttle and "Information" the daily
			// limit (or a premium-only call): either way, wait.
			return feedstats.RateLimited, text, true
		case strings.Contains(strings.ToLower(text), "apikey"):
			return feedstats.Auth, text, true
		default:
			// "Invalid API call": for a well-formed request, an unknown symbol.
			return feedstats.NotFound, text, true
		}
	}
	return 0, "", false
}

// redact removes the key from an error's text: the transport's errors are
// built without the URL, but a server may echo the key in what it says.
func (p *Provider) redact(err error) error {
	var e *poll.Error
	if errors.As(err, &e) {
		e.Msg, e.Snippet = p.redactString(e.Msg), p.redactString(e.Snippet)
		if e.Err != nil && strings.Contains(e.Err.Error(), p.key) {
			e.Err = errors.New(p.redactString(e.Err.Error()))
		}
		return e
	}
	return errors.New(p.redactString(err.Error()))
}

func (p *Provider) redactString(s string) string {
	return strings.ReplaceAll(s, p.key, "[api key]")
}
