package engine

import (
	"math"
	"sync"
	"testing"
)

// naiveHistogram is what Snapshot must return for obs, by counting each
// bound's observations one by one.
func naiveHistogram(obs []float64) (buckets []uint64, sum float64, count uint64) {
	buckets = make([]uint64, len(HistogramBounds))
	for _, v := range obs {
		if math.IsNaN(v) {
			continue
		}
		count++
		sum += v
		for i, b := range HistogramBounds {
			if v <= b {
				buckets[i]++
			}
		}
	}
	return buckets, sum, count
}

func checkSnapshot(t *testing.T, h *Histogram, obs []float64) {
	t.Helper()
	gotB, gotSum, gotN := h.Snapshot()
	wantB, wantSum, wantN := naiveHistogram(obs)
	if gotN != wantN || gotSum != wantSum {
		t.Errorf("observed %v: count %d sum %v, want %d and %v", obs, gotN, gotSum, wantN, wantSum)
	}
	for i := range wantB {
		if gotB[i] != wantB[i] {
			t.Errorf("observed %v: bucket le=%g has %d, want %d", obs, HistogramBounds[i], gotB[i], wantB[i])
		}
	}
}

func TestHistogram(t *testing.T) {
	f := func(obs ...float64) {
		t.Helper()
		var h Histogram
		for _, v := range obs {
			h.Observe(v)
		}
		checkSnapshot(t, &h, obs)
	}
	f()
	f(0)
	f(-1) // a clock stepping back lands in the first bucket
	f(HistogramBounds[0], HistogramBounds[1], HistogramBounds[len(HistogramBounds)-1])
	f(math.Nextafter(HistogramBounds[3], 0), math.Nextafter(HistogramBounds[3], 1))
	f(1e9, math.Inf(1)) // above every bound: only in the count
	f(math.NaN(), 0.125)
	f(0.003, 0.003, 0.02, 7, 0.0000125)
	every := make([]float64, 0, 3*len(HistogramBounds))
	for _, b := range HistogramBounds {
		every = append(every, b, b/2, b*1.5)
	}
	f(every...)
}

func TestHistogramBoundsIncrease(t *testing.T) {
	for i := 1; i < len(HistogramBounds); i++ {
		if HistogramBounds[i] <= HistogramBounds[i-1] {
			t.Fatalf("bound %d (%g) not above bound %d (%g)", i, HistogramBounds[i], i-1, HistogramBounds[i-1])
		}
	}
}

// TestHistogramConcurrent observes from many goroutines at once: nothing is
// lost from the buckets or the sum. Values are multiples of 2^-10, so the
// sum is exact whatever the order of the additions. Run with -race.
func TestHistogramConcurrent(t *testing.T) {
	const workers, each = 8, 2000
	var h Histogram
	var all []float64
	var wg sync.WaitGroup
	for w := range workers {
		obs := make([]float64, each)
		for i := range obs {
			obs[i] = float64((w*each+i)%4096) / 1024 // 0 … 4 s
		}
		all = append(all, obs...)
		wg.Go(func() {
			for _, v := range obs {
				h.Observe(v)
			}
		})
	}
	wg.Wait()
	checkSnapshot(t, &h, all)
}

func TestHistogramObserveAllocatesNothing(t *testing.T) {
	var h Histogram
	if a := testing.AllocsPerRun(100, func() { h.Observe(0.0042) }); a != 0 {
		t.Errorf("Observe: %v allocations", a)
	}
}

func BenchmarkHistogramObserve(b *testing.B) {
	var h Histogram
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		h.Observe(float64(i%1000) * 1e-4)
	}
}

// BenchmarkHistogramObserveParallel is every partition timing at once: the
// CAS on the sum is the contended part.
func BenchmarkHistogramObserveParallel(b *testing.B) {
	var h Histogram
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for i := 0; pb.Next(); i++ {
			h.Observe(float64(i%1000) * 1e-4)
		}
	})
}
