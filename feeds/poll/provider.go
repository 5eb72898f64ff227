package poll

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tickstream/tickstream/feeds/feedstats"
)

// Provider fetches one symbol's latest data from a market-data API.
//
// Fetch fills snap (Reset first; snap.Bars' storage may be reused) from one
// response, or returns an error and leaves snap unused. Errors should be
// *Error so the poller knows their kind; any other error counts as a network
// failure. Fetch must respect ctx (the poller's per-request timeout), must be
// safe for concurrent use by different symbols, and must put in snap only
// values it read: a bar or quote with a null or invalid price or time is
// left out and counted in snap.Nulls, never filled in.
type Provider interface {
	Fetch(ctx context.Context, symbol string, snap *Snapshot) error
}

// Bar is one intraday bar: its start time, closing price and volume.
type Bar struct {
	TS     int64 // Unix ms, start of the bar
	Close  float64
	Volume float64
}

// Quote is a provider's latest quote for a symbol.
type Quote struct {
	TS    int64 // event time, Unix ms
	Price float64
	// DayVolume is the trading day's cumulative volume so far, or -1 when
	// the provider gives none (indices, currencies).
	DayVolume float64
	Bid, Ask  float64 // 0 when not quoted
}

// Snapshot is what one response said about one symbol.
type Snapshot struct {
	HasQuote bool
	Quote    Quote
	// Bars are in ascending time order, without nulls. The last may still be
	// forming, so Track never produces it.
	Bars []Bar
	// Nulls counts bars or quote fields the provider left out because they
	// were null or invalid.
	Nulls int
}

// Reset empties s, keeping the Bars storage.
func (s *Snapshot) Reset() { *s = Snapshot{Bars: s.Bars[:0]} }

// Error is a failed request, classified.
type Error struct {
	Kind   feedstats.Kind
	Status int    // HTTP status, 0 when there was no response
	Msg    string // what went wrong, without secrets
	// Snippet is the start of the offending body, one line, truncated (Snip).
	Snippet string
	// RetryAfter is the provider's own hint (Retry-After), 0 when none.
	RetryAfter time.Duration
	Err        error // the underlying error, if any; must not hold secrets
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Kind.String())
	if e.Status != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.Status)
	}
	if e.Msg != "" {
		b.WriteString(": " + e.Msg)
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	if e.Snippet != "" {
		b.WriteString(": body " + e.Snippet)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// SnipBytes is how much of a body an error quotes.
const SnipBytes = 160

// Snip quotes the start of a body for a log line: at most SnipBytes bytes
// (cut on a rune boundary, "…" appended when cut), newlines and tabs as
// spaces, so one bad response is one readable line.
func Snip(body []byte) string {
	cut := len(body) > SnipBytes
	if cut {
		body = body[:SnipBytes]
		// Drop a rune the cut split in two (at most UTFMax-1 bytes).
		for range utf8.UTFMax - 1 {
			if r, size := utf8.DecodeLastRune(body); r != utf8.RuneError || size != 1 {
				break
			}
			body = body[:len(body)-1]
		}
	}
	s := strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\t' {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(string(body), "?"))
	if cut {
		s += "…"
	}
	return s
}
