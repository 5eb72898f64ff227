package alphavantage

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tickstream/tickstream/feeds/feedstats"
	"github.com/tickstream/tickstream/feeds/poll"
)

type failFunc func(k feedstats.Kind, msg string) error

// topLevel decodes a body as a JSON object and rejects notices.
func topLevel(body []byte, fail failFunc) (map[string]any, error) {
	var top map[string]any
	if err := json.Unmarshal(body, &top); err != nil || top == nil {
		msg := "not a JSON object"
		if err != nil {
			msg += ": " + err.Error()
		}
		return nil, fail(feedstats.Malformed, msg)
	}
	if k, text, ok := notice(top); ok {
		return nil, fail(k, text)
	}
	return top, nil
}

// readGlobalQuote reads {"Global Quote": {"05. price": "…", …}}. The body
// names the latest trading day but no time: a quote of today (in New York)
// is dated now, the moment it was fetched; one of an earlier day is dated
// that day's 16:00 close, so it is older than any stale_after.
func readGlobalQuote(body []byte, now time.Time, snap *poll.Snapshot, fail failFunc) error {
	top, err := topLevel(body, fail)
	if err != nil {
		return err
	}
	raw, ok := top["Global Quote"]
	if !ok {
		return fail(feedstats.Malformed, `no "Global Quote"`)
	}
	gq, ok := raw.(map[string]any)
	if !ok {
		return fail(feedstats.Malformed, `"Global Quote" is not an object`)
	}
	if len(gq) == 0 {
		return fail(feedstats.NotFound, "empty quote: unknown symbol")
	}
	price, pok := number(gq["05. price"])
	vol, vok := number(gq["06. volume"])
	day, derr := time.ParseInLocation(time.DateOnly, str(gq["07. latest trading day"]), eastern)
	if !pok || !validPrice(price) || derr != nil {
		return fail(feedstats.Malformed, "quote without a valid price or trading day")
	}
	q := poll.Quote{Price: price, DayVolume: -1}
	if vok && vol >= 0 {
		q.DayVolume = vol
	}
	today := now.In(eastern)
	if y, m, d := today.Date(); day.Before(time.Date(y, m, d, 0, 0, 0, 0, eastern)) {
		q.TS = time.Date(day.Year(), day.Month(), day.Day(), 16, 0, 0, 0, eastern).UnixMilli()
	} else {
		q.TS = now.UnixMilli()
	}
	snap.HasQuote, snap.Quote = true, q
	return nil
}

// readIntraday reads "Time Series (1min)": bars keyed by local time in the
// "6. Time Zone" of "Meta Data", newest first (sorted here: JSON objects
// have no order).
func readIntraday(body []byte, snap *poll.Snapshot, fail failFunc) error {
	top, err := topLevel(body, fail)
	if err != nil {
		return err
	}
	meta, _ := top["Meta Data"].(map[string]any)
	series, ok := top["Time Series (1min)"].(map[string]any)
	if meta == nil || !ok {
		return fail(feedstats.Malformed, `want "Meta Data" and "Time Series (1min)"`)
	}
	loc := eastern
	if tz := str(meta["6. Time Zone"]); tz != "" {
		if loc, err = time.LoadLocation(tz); err != nil {
			return fail(feedstats.Malformed, fmt.Sprintf("unknown time zone %q", tz))
		}
	}
	for k, v := range series {
		bar, _ := v.(map[string]any)
		t, terr := time.ParseInLocation(time.DateTime, k, loc)
		c, cok := number(bar["4. close"])
		vol, vok := number(bar["5. volume"])
		if terr != nil || !cok || !validPrice(c) || !vok || vol < 0 {
			snap.Nulls++
			continue
		}
		snap.Bars = append(snap.Bars, poll.Bar{TS: t.UnixMilli(), Close: c, Volume: vol})
	}
	slices.SortFunc(snap.Bars, func(a, b poll.Bar) int { return cmp.Compare(a.TS, b.TS) })
	return nil
}

func str(v any) string { s, _ := v.(string); return s }

// number reads Alpha Vantage's numbers, which are strings ("189.4200"), and
// "10.5%" percentages; plain JSON numbers are taken too.
func number(v any) (float64, bool) {
	switch v := v.(type) {
	case string:
		f, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), "%"), 64)
		return f, err == nil && !math.IsNaN(f) && !math.IsInf(f, 0)
	case float64:
		return v, true
	}
	return 0, false
}

func validPrice(v float64) bool { return v > 0 && !math.IsInf(v, 0) }
