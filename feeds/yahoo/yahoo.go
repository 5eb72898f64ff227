// Package yahoo reads Yahoo Finance's unofficial chart endpoint
// (/v8/finance/chart/SYMBOL, 1-minute bars of the current day plus the
// latest quote in "meta") as a poll.Provider.
//
// Yahoo refuses plain clients: like the widely used clients, this one first
// fetches a cookie (from cookie_url, fc.yahoo.com) and a crumb
// (/v1/test/getcrumb), sends both with every chart request, and fetches them
// again once when a request is refused for them. HTTP 429 is a refusal the
// poller backs off from. Nulls inside the bar arrays are left out and
// counted, never filled in.
//
// It must not schedule, rate-limit or produce: the poller does that.
package yahoo

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"

	"github.com/tickstream/tickstream/feeds/feedstats"
	"github.com/tickstream/tickstream/feeds/poll"
)

// Defaults of Config.
const (
	DefaultBaseURL   = "https://query2.finance.yahoo.com"
	DefaultCookieURL = "https://fc.yahoo.com"
	// userAgent: Yahoo answers requests without a browser-like agent with 429s.
	userAgent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
)

// Config says where Yahoo is. Empty fields take the defaults.
type Config struct {
	BaseURL   string // chart and crumb host
	CookieURL string // a page that sets Yahoo's session cookie
	// Client is the HTTP client; nil builds one with a cookie jar. A given
	// client must have a Jar. Timeouts come from the poller's context.
	Client *http.Client
}

// Provider fetches charts; it is safe for concurrent use.
type Provider struct {
	base, cookieURL string
	client          *http.Client

	mu    sync.Mutex // serialises the cookie/crumb dance
	crumb string
	gen   int // bumped each time a crumb is fetched
}

var _ poll.Provider = (*Provider)(nil)

// New returns a Provider.
func New(c Config) (*Provider, error) {
	p := &Provider{base: c.BaseURL, cookieURL: c.CookieURL, client: c.Client}
	if p.base == "" {
		p.base = DefaultBaseURL
	}
	if p.cookieURL == "" {
		p.cookieURL = DefaultCookieURL
	}
	for _, u := range []string{p.base, p.cookieURL} {
		if pu, err := url.Parse(u); err != nil || pu.Scheme != "http" && pu.Scheme != "https" || pu.Host == "" {
			return nil, fmt.Errorf("yahoo: %q is not an http(s) URL", u)
		}
	}
	p.base = strings.TrimRight(p.base, "/")
	if p.client == nil {
		jar, err := cookiejar.New(nil)
		if err != nil {
			return nil, fmt.Errorf("yahoo: cookie jar: %w", err)
		}
		p.client = &http.Client{Jar: jar}
	}
	if p.client.Jar == nil {
		return nil, errors.New("yahoo: the HTTP client needs a cookie jar")
	}
	return p, nil
}

// Fetch gets symbol's chart. A refusal for the crumb or cookie (401, 403, or
// an "Invalid Crumb"/"Invalid Cookie" error) renews both once and retries.
func (p *Provider) Fetch(ctx context.Context, symbol string, snap *poll.Snapshot) error {
	for attempt := 0; ; attempt++ {
		crumb, gen, err := p.session(ctx)
		if err != nil {
			return err
		}
		r, err := p.get(ctx, p.chartURL(symbol, crumb))
		if err != nil {
			return err
		}
		if crumbRefused(r.Status, r.Body) {
			p.expire(gen)
			if attempt == 0 {
				continue
			}
			return &poll.Error{Kind: feedstats.Auth, Status: r.Status, Msg: "crumb refused after renewing it", Snippet: poll.Snip(r.Body)}
		}
		return readChart(r, snap)
	}
}

func (p *Provider) chartURL(symbol, crumb string) string {
	q := url.Values{"interval": {"1m"}, "range": {"1d"}, "includePrePost": {"false"}, "crumb": {crumb}}
	return p.base + "/v8/finance/chart/" + url.PathEscape(symbol) + "?" + q.Encode()
}

// session returns the crumb, fetching cookie and crumb first if there is
// none. One caller fetches while the others wait for it.
func (p *Provider) session(ctx context.Context) (string, int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.crumb != "" {
		return p.crumb, p.gen, nil
	}
	// The cookie page answers 404 on purpose; only its Set-Cookie matters,
	// and the jar keeps it.
	if _, err := p.get(ctx, p.cookieURL); err != nil {
		return "", 0, err
	}
	r, err := p.get(ctx, p.base+"/v1/test/getcrumb")
	if err != nil {
		return "", 0, err
	}
	switch crumb := strings.TrimSpace(string(r.Body)); {
	case r.Status == http.StatusTooManyRequests:
		return "", 0, &poll.Error{Kind: feedstats.RateLimited, Status: r.Status, Msg: "crumb refused",
			RetryAfter: poll.RetryAfter(r.Header), Snippet: poll.Snip(r.Body)}
	case r.Status != http.StatusOK || crumb == "" || len(crumb) > 64 || strings.ContainsAny(crumb, " \n{<"):
		return "", 0, &poll.Error{Kind: feedstats.Auth, Status: r.Status, Msg: "no crumb (is cookie_url reachable?)", Snippet: poll.Snip(r.Body)}
	default:
		p.crumb = crumb
		p.gen++
		return p.crumb, p.gen, nil
	}
}

// expire forgets the crumb of generation gen, unless another request has
// already renewed it.
func (p *Provider) expire(gen int) {
	p.mu.Lock()
	if p.gen == gen {
		p.crumb = ""
	}
	p.mu.Unlock()
}

func crumbRefused(status int, body []byte) bool {
	if status == http.StatusUnauthorized || status == http.StatusForbidden {
		return true
	}
	if status == http.StatusOK {
		return false
	}
	s := string(body[:min(len(body), 512)])
	return strings.Contains(s, "Invalid Crumb") || strings.Contains(s, "Invalid Cookie")
}

var headers = http.Header{
	"User-Agent": {userAgent},
	"Accept":     {"application/json,text/plain,*/*"},
}

// get does one GET with a browser-like agent.
func (p *Provider) get(ctx context.Context, u string) (*poll.Response, error) {
	return poll.Get(ctx, p.client, u, headers)
}
