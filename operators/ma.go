package operators

import "github.com/tickstream/tickstream/tick"

// movingAverage keeps the count window (the last N accepted ticks, by
// arrival) and, when moving_average.window is set, the time window (ticks
// with TS in (t.TS − window, t.TS]). It never rejects.
//
// Both windows keep their samples sorted by event time in a ring, which makes
// in-order ticks O(1) and keeps out-of-order ticks (at most allowed_lateness
// old) exact: they are inserted in place, shifting only the samples newer than
// them. Sums are compensated and re-summed from the samples once per window
// length of operations (see ksum): O(1) amortised, and the error no longer
// depends on how long the stream has run, which a 10^8-tick test checks.
// Every operation happens in an order fixed by the input, so the same ticks
// give the same bits, also after a checkpoint round trip.
type movingAverage struct {
	ticks    int   // N
	window   int64 // ms; 0: time window off
	lateness int64 // ms; how far back the time window must stay able to look
}

var _ Operator = (*movingAverage)(nil)

func (m *movingAverage) Process(st *State, t *tick.Tick, _ int64, out *Result) {
	w := &st.count
	if n := w.samples.n; n > 0 {
		out.countBefore = int32(n)
		out.volumeBefore = w.volume.value() / float64(n)
	}
	w.push(t, m.ticks, st.newest, st.rules.returnWindow)
	n := float64(w.samples.n)
	out.Count = int32(w.samples.n)
	out.MA = w.price.value() / n
	out.MAVolume = w.volume.value() / n
	if m.window > 0 {
		out.MATime = st.time.push(t.TS, t.Price, st.newest, m.window, m.lateness)
	}
}

// sample is one accepted tick as the count window keeps it.
type sample struct {
	ts     int64
	seq    uint64 // arrival number within the symbol (count window only)
	price  float64
	volume float64
}

// point is a sample of the time window, which needs no more; half the size
// of a sample, so a tick touches fewer cache lines.
type point struct {
	ts    int64
	price float64
}

// peak is an entry of the rolling-maximum deque.
type peak struct {
	seq   uint64
	price float64
}

// countWindow is the last N accepted ticks of a symbol, with what the
// anomaly rules need from them: the rolling maximum price (a monotonic
// deque, O(1) amortised) and the sample a return is measured against.
type countWindow struct {
	samples       ring[sample] // sorted by ts; capacity ≥ N, never grows
	peaks         ring[peak]   // arrival order, prices strictly decreasing: front is the max
	price, volume ksum         // over samples
	seq           uint64       // arrival number of the next accepted tick
	sinceResum    int          // pushes since price and volume were last re-summed
	past          int          // samples with ts ≤ newest − return window: a prefix
}

func newCountWindow(n int) countWindow {
	return countWindow{samples: newRing[sample](n), peaks: newRing[peak](n)}
}

// push adds t, evicting the tick that arrived N ticks earlier. newest is the
// symbol's frontier after t; returnWindow (ms, 0: off) keeps past current.
func (w *countWindow) push(t *tick.Tick, limit int, newest, returnWindow int64) {
	s := sample{ts: t.TS, seq: w.seq, price: t.Price, volume: t.Volume}
	w.seq++
	if w.samples.n >= limit {
		w.evict(s.seq - uint64(limit))
	}
	i := w.samples.n
	for i > 0 && w.samples.at(i-1).ts > s.ts {
		i--
	}
	w.samples.insert(i, s)
	w.price.add(s.price)
	w.volume.add(s.volume)
	if returnWindow > 0 {
		// Also counts an out-of-order sample inserted into the prefix: it
		// shifts a prefix sample to position past, which the loop takes.
		for w.past < w.samples.n && notAfter(w.samples.at(w.past).ts, newest, returnWindow) {
			w.past++
		}
	}
	for w.peaks.n > 0 && w.peaks.at(w.peaks.n-1).price <= s.price {
		w.peaks.popBack()
	}
	w.peaks.pushBack(peak{seq: s.seq, price: s.price})
	if w.sinceResum++; w.sinceResum >= limit {
		w.resum()
	}
}

// evict removes the sample with arrival number seq. In order it is the
// front; after out-of-order ticks it is among the first few.
func (w *countWindow) evict(seq uint64) {
	i := 0
	for i < w.samples.n-1 && w.samples.at(i).seq != seq {
		i++
	}
	s := *w.samples.at(i)
	w.samples.remove(i)
	if i < w.past {
		w.past--
	}
	w.price.add(-s.price)
	w.volume.add(-s.volume)
	for w.peaks.n > 0 && w.peaks.at(0).seq <= seq {
		w.peaks.popFront()
	}
}

func (w *countWindow) resum() {
	var p, v ksum
	for i := 0; i < w.samples.n; i++ {
		s := w.samples.at(i)
		p.add(s.price)
		v.add(s.volume)
	}
	w.price, w.volume, w.sinceResum = p, v, 0
}

// maxPrice is the highest price in the window; the window is not empty.
func (w *countWindow) maxPrice() float64 { return w.peaks.at(0).price }

// pastPrice returns the price of the newest sample with ts ≤ at − d, if the
// window still holds one. at ≤ newest, so the answer lies in the prefix past
// and, for an out-of-order at, a few samples below its end.
func (w *countWindow) pastPrice(at, d int64) (float64, bool) {
	i := w.past - 1
	for i >= 0 && !notAfter(w.samples.at(i).ts, at, d) {
		i--
	}
	if i < 0 {
		return 0, false
	}
	return w.samples.at(i).price, true
}

// timeWindow holds the samples the time-based mean needs. samples[lo:] are
// inside (newest − window, newest] and summed in price; samples[:lo] are
// older but kept while an out-of-order tick (≥ newest − lateness) may still
// need them, i.e. while ts > newest − window − lateness.
type timeWindow struct {
	samples    ring[point] // sorted by ts; grows to the busiest window seen
	lo         int
	price      ksum // over samples[lo:]
	sinceResum int  // additions and removals since price was re-summed
}

// push adds an accepted tick and returns the mean price over
// (ts − window, ts]. newest is the symbol's frontier after the tick.
func (w *timeWindow) push(ts int64, price float64, newest, window, lateness int64) float64 {
	s := &w.samples
	i := s.n
	for i > 0 && s.at(i-1).ts > ts {
		i--
	}
	s.insert(i, point{ts: ts, price: price})
	ops := 1
	if notAfter(ts, newest, window) {
		w.lo++ // only when lateness ≥ window: born already outside
	} else {
		w.price.add(price)
	}
	for w.lo < s.n && notAfter(s.at(w.lo).ts, newest, window) {
		w.price.add(-s.at(w.lo).price)
		w.lo++
		ops++
	}
	for s.n > 0 && w.lo > 0 && notAfter(s.at(0).ts, newest, window+lateness) {
		s.popFront()
		w.lo--
	}
	if w.sinceResum += ops; w.sinceResum >= s.n-w.lo {
		w.resum()
	}
	if ts == newest {
		return w.price.value() / float64(s.n-w.lo)
	}
	// Out of order: the running sum is for (newest − window, newest]; move
	// both edges back to ts. Only samples within lateness of an edge are
	// touched.
	acc, cnt := w.price, s.n-w.lo
	for j := s.n - 1; j >= w.lo && s.at(j).ts > ts; j-- {
		acc.add(-s.at(j).price)
		cnt--
	}
	j := w.lo - 1
	for j >= 0 && s.at(j).ts > ts { // only when lateness ≥ window
		j--
	}
	for ; j >= 0 && !notAfter(s.at(j).ts, ts, window); j-- {
		acc.add(s.at(j).price)
		cnt++
	}
	return acc.value() / float64(cnt)
}

func (w *timeWindow) resum() {
	var p ksum
	for i := w.lo; i < w.samples.n; i++ {
		p.add(w.samples.at(i).price)
	}
	w.price, w.sinceResum = p, 0
}
