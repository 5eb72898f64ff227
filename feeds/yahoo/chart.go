package yahoo

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"

	"github.com/tickstream/tickstream/feeds/feedstats"
	"github.com/tickstream/tickstream/feeds/poll"
)

// chartBody is the part of a chart response tickstream reads.
type chartBody struct {
	Chart *struct {
		Result []struct {
			Meta struct {
				RegularMarketPrice  num `json:"regularMarketPrice"`
				RegularMarketTime   num `json:"regularMarketTime"` // Unix seconds
				RegularMarketVolume num `json:"regularMarketVolume"`
			} `json:"meta"`
			Timestamp  []num `json:"timestamp"` // Unix seconds, one per bar
			Indicators struct {
				Quote []struct {
					Close  []num `json:"close"`
					Volume []num `json:"volume"`
				} `json:"quote"`
			} `json:"indicators"`
		} `json:"result"`
		Error *struct {
			Code        string `json:"code"`
			Description string `json:"description"`
		} `json:"error"`
	} `json:"chart"`
}

// num is a JSON number that may be null.
type num struct {
	v  float64
	ok bool
}

func (n *num) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = num{}
		return nil
	}
	if len(b) == 0 || b[0] == '"' {
		return fmt.Errorf("want a number, got %s", b)
	}
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("want a number, got %s", b)
	}
	*n = num{v, true}
	return nil
}

// readChart turns one chart response into snap, or a classified error.
func readChart(r *poll.Response, snap *poll.Snapshot) error {
	fail := func(k feedstats.Kind, msg string) error {
		e := &poll.Error{Kind: k, Status: r.Status, Msg: msg, Snippet: poll.Snip(r.Body)}
		if k == feedstats.RateLimited {
			e.RetryAfter = poll.RetryAfter(r.Header)
		}
		return e
	}
	switch {
	case r.Status == http.StatusTooManyRequests:
		return fail(feedstats.RateLimited, "too many requests")
	case r.Status != http.StatusOK && r.Status != http.StatusNotFound:
		return fail(feedstats.HTTP, "unexpected status")
	}
	var c chartBody
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	if err := dec.Decode(&c); err != nil {
		return fail(feedstats.Malformed, "not a chart response: "+err.Error())
	}
	if c.Chart == nil {
		return fail(feedstats.Malformed, `no "chart" object`)
	}
	if e := c.Chart.Error; e != nil {
		if e.Code == "Not Found" || r.Status == http.StatusNotFound {
			return fail(feedstats.NotFound, e.Description)
		}
		return fail(feedstats.Malformed, "chart error "+e.Code+": "+e.Description)
	}
	if r.Status == http.StatusNotFound {
		return fail(feedstats.NotFound, "not found")
	}
	if len(c.Chart.Result) == 0 {
		return fail(feedstats.Malformed, "no result and no error")
	}
	res := &c.Chart.Result[0]

	// The latest quote, from meta.
	m := &res.Meta
	if price, t := m.RegularMarketPrice, m.RegularMarketTime; price.ok && t.ok && validPrice(price.v) && t.v > 0 {
		snap.HasQuote = true
		snap.Quote = poll.Quote{TS: int64(t.v) * 1000, Price: widened(price.v), DayVolume: -1}
		if v := m.RegularMarketVolume; v.ok && v.v >= 0 {
			snap.Quote.DayVolume = v.v
		}
	} else {
		snap.Nulls++
	}

	// The bars: arrays of one length, with nulls where a minute had no data.
	if len(res.Timestamp) > 0 {
		if len(res.Indicators.Quote) == 0 {
			return fail(feedstats.Malformed, "timestamps without indicators.quote")
		}
		q := &res.Indicators.Quote[0]
		if len(q.Close) != len(res.Timestamp) || len(q.Volume) != len(res.Timestamp) {
			return fail(feedstats.Malformed, fmt.Sprintf("%d timestamps but %d closes and %d volumes",
				len(res.Timestamp), len(q.Close), len(q.Volume)))
		}
		for i, ts := range res.Timestamp {
			c, v := q.Close[i], q.Volume[i]
			if !ts.ok || ts.v <= 0 || !c.ok || !validPrice(c.v) || !v.ok || v.v < 0 {
				snap.Nulls++
				continue
			}
			snap.Bars = append(snap.Bars, poll.Bar{TS: int64(ts.v) * 1000, Close: widened(c.v), Volume: v.v})
		}
	}
	// Bars come in time order; if not, sort them, and keep one per time
	// (Yahoo may repeat the forming minute): the later one, the newer data.
	slices.SortStableFunc(snap.Bars, func(a, b poll.Bar) int { return cmp.Compare(a.TS, b.TS) })
	snap.Bars = compactLast(snap.Bars)
	return nil
}

func validPrice(v float64) bool { return v > 0 && !math.IsInf(v, 0) }

// widened undoes float32-to-double widening: Yahoo's bar prices are float32
// values, so 189.42 arrives as 189.4199981689453. A value that is exactly a
// float32 becomes the double nearest that float32's shortest decimal form.
func widened(v float64) float64 {
	f := float32(v)
	if float64(f) != v {
		return v
	}
	var buf [32]byte
	w, err := strconv.ParseFloat(string(strconv.AppendFloat(buf[:0], float64(f), 'g', -1, 32)), 64)
	if err != nil {
		return v
	}
	return w
}

// compactLast keeps the last of each run of bars with the same time.
func compactLast(bs []poll.Bar) []poll.Bar {
	out := bs[:0]
	for i, b := range bs {
		if i+1 < len(bs) && bs[i+1].TS == b.TS {
			continue
		}
		out = append(out, b)
	}
	return out
}
