package operators

import (
	"math"

	"github.com/tickstream/tickstream/tick"
)

// clean rejects ticks whose values cannot be true and ticks the stream has
// already accounted for (duplicates, late ticks). It is the only step that
// rejects; the symbol's frontier and duplicate memory change only when it
// accepts.
//
// Duplicates: an in-order tick (TS above the newest) cannot be a duplicate,
// so the fast path is one comparison. For an out-of-order tick, st.dedup holds
// every accepted TS in [newest − lateness, newest], sorted; an older tick is
// Late whether or not it was seen before. Because accepted TS of a symbol are distinct milliseconds, the
// memory is bounded by lateness/1ms + 1 entries (5001 × 8 B for the default
// 5 s) whatever the rate, and in practice by the ticks of one lateness span
// (5 at 1 tick/s). The search walks back from the newest entry, so it costs
// the number of ticks newer than the out-of-order one.
type clean struct {
	lateness  int64 // ms
	maxFuture int64 // ms
}

var _ Operator = (*clean)(nil)

func (c *clean) Process(st *State, t *tick.Tick, recordTS int64, out *Result) {
	switch {
	case !finiteAtLeast0(t.Price) || t.Price == 0:
		out.Reject = tick.BadPrice
	case !finiteAtLeast0(t.Volume):
		out.Reject = tick.BadVolume
	case !finiteAtLeast0(t.Bid) || !finiteAtLeast0(t.Ask):
		out.Reject = tick.BadQuote
	case t.TS > recordTS && uint64(t.TS)-uint64(recordTS) > uint64(c.maxFuture):
		out.Reject = tick.FutureTS
	default:
		out.Reject = c.admit(st, t.TS)
	}
}

// finiteAtLeast0 is false for NaN, ±Inf and negatives.
func finiteAtLeast0(x float64) bool { return x >= 0 && x <= math.MaxFloat64 }

// admit decides Duplicate / Late / OK by event time and records an accepted TS.
func (c *clean) admit(st *State, ts int64) tick.Reason {
	d := &st.dedup
	if !st.seen || ts > st.newest {
		st.seen, st.newest = true, ts
		d.pushBack(ts)
		// Entries below the new lower bound can only ever meet Late ticks.
		for d.n > 0 && notAfter(*d.at(0), ts, c.lateness+1) {
			d.popFront()
		}
		return tick.OK
	}
	if ts == st.newest {
		return tick.Duplicate
	}
	if notAfter(ts, st.newest, c.lateness+1) { // ts < newest − lateness
		return tick.Late
	}
	i := d.n
	for i > 0 && *d.at(i - 1) > ts {
		i--
	}
	if i > 0 && *d.at(i - 1) == ts {
		return tick.Duplicate
	}
	d.insert(i, ts)
	return tick.OK
}
