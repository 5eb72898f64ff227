package poll

import (
	"time"

	"github.com/tickstream/tickstream/tick"
)

// Out is one tick to produce, with its stale flag.
type Out struct {
	Tick  tick.Tick
	Stale bool
}

// Skips counts what Track chose not to produce.
type Skips struct {
	Duplicates int // quote identical to the symbol's last one
	Old        int // not newer than the symbol's last tick
}

// Track is one symbol's memory of what it has produced: the input to
// de-duplication and to volume deltas. It is owned by whoever polls the
// symbol at the moment (the poller hands a symbol to one worker at a time),
// so it takes no lock.
type Track struct {
	Symbol string

	lastTS    int64 // event time of the newest tick produced, Unix ms
	haveQuote bool
	last      Quote // the newest quote produced
	// volBase is the day volume at the newest tick produced (the bars'
	// running sum after a bar, DayVolume after a quote); -1 unknown.
	volBase float64
}

// NewTrack returns the state of a symbol that has produced nothing yet.
func NewTrack(symbol string) *Track { return &Track{Symbol: symbol, volBase: -1} }

// LastTS is the event time of the newest tick produced (0: none yet).
func (t *Track) LastTS() int64 { return t.lastTS }

// Apply appends to dst the ticks snap adds to what the symbol has produced,
// in event-time order, and records them as produced:
//
//   - every finished bar newer than the last tick (and older than the quote,
//     if any): the bars fill the gap at start-up and after an outage. A
//     bar's tick has its close as price and its volume;
//   - then the quote, if newer than the last tick and not identical to the
//     last quote produced (same price, day volume, bid and ask: a repeat,
//     counted as a duplicate). Its volume is what was traded since the
//     symbol's previous tick: the day volume minus the day volume at that
//     tick; a day volume lower than that means a new trading day, and then
//     the whole day volume counts. With no day volume, or no previous tick
//     to measure from, the volume is 0.
//
// A tick whose event time is more than staleAfter before now is flagged
// stale (staleAfter 0: never). Apply never produces a tick with a time that
// is not strictly increasing per symbol, since the engine would drop it.
func (t *Track) Apply(dst []Out, snap *Snapshot, now time.Time, staleAfter time.Duration) ([]Out, Skips) {
	var sk Skips
	staleBefore := int64(-1 << 63)
	if staleAfter > 0 {
		staleBefore = now.Add(-staleAfter).UnixMilli()
	}
	q := &snap.Quote
	cum := 0.0
	for i := 0; i+1 < len(snap.Bars); i++ { // the last bar may be forming
		b := &snap.Bars[i]
		cum += b.Volume
		if b.TS <= t.lastTS || snap.HasQuote && b.TS >= q.TS {
			continue
		}
		dst = append(dst, Out{
			Tick:  tick.Tick{Symbol: t.Symbol, TS: b.TS, Price: b.Close, Volume: b.Volume},
			Stale: b.TS < staleBefore,
		})
		t.lastTS, t.volBase = b.TS, cum
	}
	if !snap.HasQuote {
		return dst, sk
	}
	if t.haveQuote && q.Price == t.last.Price && q.DayVolume == t.last.DayVolume &&
		q.Bid == t.last.Bid && q.Ask == t.last.Ask {
		sk.Duplicates++
		return dst, sk
	}
	if q.TS <= t.lastTS {
		sk.Old++
		return dst, sk
	}
	vol := 0.0
	if q.DayVolume >= 0 && t.volBase >= 0 {
		vol = q.DayVolume - t.volBase
		if vol < 0 { // a new trading day: the count started again
			vol = q.DayVolume
		}
	}
	dst = append(dst, Out{
		Tick:  tick.Tick{Symbol: t.Symbol, TS: q.TS, Price: q.Price, Volume: vol, Bid: q.Bid, Ask: q.Ask},
		Stale: q.TS < staleBefore,
	})
	t.lastTS, t.last, t.haveQuote, t.volBase = q.TS, *q, true, q.DayVolume
	return dst, sk
}
