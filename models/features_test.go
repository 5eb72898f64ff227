package models_test

import (
	"math"
	"testing"
	"time"

	"github.com/tickstream/tickstream/models"
	"github.com/tickstream/tickstream/operators"
	"github.com/tickstream/tickstream/tick"
)

// history is one symbol's accepted ticks, kept whole so the features can be
// recomputed from scratch.
type history struct {
	ts                []int64
	price, vol        []float64
	bid, ask, ma, mav []float64
}

// naive computes the feature vector of tick i from the whole history with
// direct sums: the definitions in features.go, written a second way.
func (h *history) naive(i int) [models.NumFeatures]float64 {
	var f [models.NumFeatures]float64
	nan := math.NaN()
	lp := func(j int) float64 { return math.Log(h.price[j]) }
	for k, lag := range []int{1, 5, 15, 60} {
		f[models.FeatRet1+k] = nan
		if i >= lag {
			f[models.FeatRet1+k] = lp(i) - lp(i-lag)
		}
	}
	f[models.FeatPriceMA] = h.price[i]/h.ma[i] - 1
	sd := func(xs []float64) float64 {
		var m float64
		for _, x := range xs {
			m += x
		}
		m /= float64(len(xs))
		var v float64
		for _, x := range xs {
			v += (x - m) * (x - m)
		}
		return math.Sqrt(v / float64(len(xs)-1))
	}
	rets := func(n int) []float64 {
		var r []float64
		for j := i - n + 1; j <= i; j++ {
			r = append(r, lp(j)-lp(j-1))
		}
		return r
	}
	f[models.FeatVol20], f[models.FeatVol60] = nan, nan
	if i >= 20 {
		f[models.FeatVol20] = sd(rets(20))
	}
	if i >= 60 {
		f[models.FeatVol60] = sd(rets(60))
	}
	f[models.FeatVolumeZ] = nan
	if i >= 60 {
		var prev []float64
		for j := i - 60; j < i; j++ {
			prev = append(prev, math.Log1p(h.vol[j]))
		}
		var m float64
		for _, x := range prev {
			m += x
		}
		m /= 60
		if s := sd(prev); s > 1e-12 {
			f[models.FeatVolumeZ] = (math.Log1p(h.vol[i]) - m) / s
		}
	}
	f[models.FeatVolumeMA] = math.Log((h.vol[i] + 1) / (h.mav[i] + 1))
	f[models.FeatSpread] = nan
	if h.bid[i] > 0 && h.ask[i] >= h.bid[i] {
		f[models.FeatSpread] = (h.ask[i] - h.bid[i]) / ((h.ask[i] + h.bid[i]) / 2) * 1e4
	}
	sec := float64(time.UnixMilli(h.ts[i]).UTC().Sub(time.UnixMilli(h.ts[i]).UTC().Truncate(24*time.Hour))) / float64(24*time.Hour)
	f[models.FeatTODSin], f[models.FeatTODCos] = math.Sin(2*math.Pi*sec), math.Cos(2*math.Pi*sec)
	f[models.FeatGap] = nan
	if i >= 1 {
		f[models.FeatGap] = math.Log1p(math.Max(float64(h.ts[i]-h.ts[i-1]), 0) / 1000)
	}
	return f
}

// close compares a float32 feature with its float64 recomputation. The
// running sums differ from direct sums by rounding, which cancellation in
// a variance of tiny returns magnifies: 1e-4 relative, or 1e-9 absolute.
func closeTo(got float32, want float64) bool {
	if math.IsNaN(want) {
		return math.IsNaN(float64(got))
	}
	d := math.Abs(float64(got) - want)
	return d <= 1e-4*math.Abs(want) || d <= 1e-9
}

// The features of a simulated stream equal their naive recomputation at
// every tick, through several re-summations of the running sums.
func TestFeaturesMatchNaive(t *testing.T) {
	hs := map[int]*history{}
	checked := 0
	_, err := models.Simulate(models.SimSpec{Symbols: 3, TicksPerSymbol: 1500, Seed: 3,
		Start: time.Date(2024, 1, 2, 14, 0, 0, 0, time.UTC), Rate: 1, Steps: 60}, func(s *models.SimTick) {
		h := hs[s.Symbol]
		if h == nil {
			h = &history{}
			hs[s.Symbol] = h
		}
		h.ts = append(h.ts, s.Tick.TS)
		h.price, h.vol = append(h.price, s.Tick.Price), append(h.vol, s.Tick.Volume)
		h.bid, h.ask = append(h.bid, s.Tick.Bid), append(h.ask, s.Tick.Ask)
		h.ma, h.mav = append(h.ma, s.Result.MA), append(h.mav, s.Result.MAVolume)
		i := len(h.ts) - 1
		want := h.naive(i)
		got := s.F.Vector()
		for k := range models.NumFeatures {
			if !closeTo(got[k], want[k]) {
				t.Fatalf("symbol %d tick %d %s: got %v, naive %v", s.Symbol, i, models.FeatureNames[k], got[k], want[k])
			}
		}
		checked++
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked != 4500 {
		t.Fatalf("checked %d ticks", checked)
	}
}

func TestFeaturesWindowRing(t *testing.T) {
	f := models.NewFeatures(5)
	var past [][models.NumFeatures]float32
	r := operators.Result{MA: 100, MAVolume: 10}
	for i := range 12 {
		tk := tick.Tick{Symbol: "X", TS: int64(1000 * i), Price: 100 + float64(i%3), Volume: float64(i), Bid: 99, Ask: 101}
		f.Update(&tk, &r)
		past = append(past, [models.NumFeatures]float32(f.Vector()))
		if f.Full(5) != (i >= 4) {
			t.Fatalf("tick %d: Full(5) = %v", i, f.Full(5))
		}
		for back := 0; back < min(5, i+1); back++ {
			got := f.Row(back)
			for k := range got {
				if w := past[i-back][k]; math.Float32bits(got[k]) != math.Float32bits(w) {
					t.Fatalf("tick %d back %d feature %d: %v, want %v", i, back, k, got[k], w)
				}
			}
		}
	}
	if f.Full(6) {
		t.Error("Full(6) on a ring of 5")
	}
}

func TestRejectedTickChangesNothing(t *testing.T) {
	f := models.NewFeatures(3)
	ok := operators.Result{MA: 10, MAVolume: 1}
	tk := tick.Tick{TS: 1000, Price: 10, Volume: 1}
	f.Update(&tk, &ok)
	before := *f
	bad := operators.Result{Reject: tick.Late}
	tk2 := tick.Tick{TS: 500, Price: 20, Volume: 9}
	f.Update(&tk2, &bad)
	if f.Count() != 1 || f.Vector()[models.FeatPriceMA] != before.Vector()[models.FeatPriceMA] {
		t.Fatal("a rejected tick changed the features")
	}
}

func TestFeaturesUpdateAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	f := models.NewFeatures(60)
	r := operators.Result{MA: 100, MAVolume: 10}
	tk := tick.Tick{Symbol: "X", Price: 100, Volume: 5, Bid: 99.9, Ask: 100.1}
	if a := testing.AllocsPerRun(1000, func() {
		tk.TS += 1000
		tk.Price += 0.01
		f.Update(&tk, &r)
	}); a != 0 {
		t.Errorf("%v allocations per update", a)
	}
}

func BenchmarkFeaturesUpdate(b *testing.B) {
	f := models.NewFeatures(60)
	r := operators.Result{MA: 100, MAVolume: 10}
	tk := tick.Tick{Symbol: "X", Price: 100, Volume: 5, Bid: 99.9, Ask: 100.1}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		tk.TS += 1000
		tk.Price = 100 + float64(i%17)*0.01
		f.Update(&tk, &r)
	}
}
