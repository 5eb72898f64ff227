package poll

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/tickstream/tickstream/feeds/feedstats"
)

// MaxBody bounds how much of a response Get reads.
const MaxBody = 4 << 20

// Response is what Get read.
type Response struct {
	Status int
	Header http.Header
	Body   []byte // at most MaxBody bytes
}

// Get does one GET with the given headers and reads the answer. A failed
// round trip comes back as an *Error of kind Timeout or Network whose text
// never holds the URL: net/http's *url.Error repeats it, and a provider's
// URL may carry an API key.
func Get(ctx context.Context, c *http.Client, u string, header http.Header) (*Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, &Error{Kind: feedstats.Network, Msg: "build request", Err: err}
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, transportError(ctx, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody))
	if err != nil {
		return nil, transportError(ctx, err)
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: body}, nil
}

func transportError(ctx context.Context, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ne interface{ Timeout() bool }
	if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		return &Error{Kind: feedstats.Timeout, Msg: "no complete response in time", Err: err}
	}
	return &Error{Kind: feedstats.Network, Err: err}
}

// RetryAfter reads a Retry-After header given in seconds or as an HTTP
// date; 0 when absent or unreadable.
func RetryAfter(h http.Header) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}
