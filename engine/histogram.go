package engine

import (
	"math"
	"sync/atomic"
)

// HistogramBounds are the upper bounds, in seconds, of every Histogram's
// buckets: 1-2.5-5 steps from 10 µs to 250 s, so one layout serves both a
// model's forward pass (tens of µs) and a lake flush retrying through an
// outage (minutes land in +Inf). Fixed, so the zero Histogram is ready to
// use and an observation is an array index, never an allocation.
var HistogramBounds = [...]float64{
	10e-6, 25e-6, 50e-6,
	100e-6, 250e-6, 500e-6,
	1e-3, 2.5e-3, 5e-3,
	10e-3, 25e-3, 50e-3,
	100e-3, 250e-3, 500e-3,
	1, 2.5, 5,
	10, 25, 50,
	100, 250,
}

// Histogram counts durations into the HistogramBounds buckets. Observe may
// run on any number of goroutines at once and takes no lock, so the engine
// can time its work without importing a metrics library; the metrics sink
// reads Snapshot at scrape time. The zero value is ready to use.
type Histogram struct {
	// counts[i] is the observations in (bounds[i-1], bounds[i]];
	// the last one is those above every bound (+Inf).
	counts [len(HistogramBounds) + 1]atomic.Uint64
	// sumBits is the float64 bits of the sum of observations, updated by
	// compare-and-swap: there is no atomic float add.
	sumBits atomic.Uint64
}

// Observe records one duration in seconds. NaN is ignored; a negative
// value (a clock step backwards) counts in the first bucket.
func (h *Histogram) Observe(seconds float64) {
	if math.IsNaN(seconds) {
		return
	}
	// lo ends at the first bound >= seconds (Prometheus's le), or past
	// the last one for +Inf.
	lo, hi := 0, len(HistogramBounds)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if HistogramBounds[mid] < seconds {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	h.counts[lo].Add(1)
	for {
		old := h.sumBits.Load()
		if h.sumBits.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+seconds)) {
			return
		}
	}
}

// Snapshot returns the cumulative count at each of HistogramBounds (le
// semantics, +Inf excluded), the sum of observations and their count.
// Observations landing during the call may be counted in some buckets and
// not yet in the sum: each value is exact only when no Observe runs.
func (h *Histogram) Snapshot() (buckets []uint64, sum float64, count uint64) {
	buckets = make([]uint64, len(HistogramBounds))
	for i := range buckets {
		count += h.counts[i].Load()
		buckets[i] = count
	}
	count += h.counts[len(HistogramBounds)].Load()
	return buckets, math.Float64frombits(h.sumBits.Load()), count
}
