package models

import (
	"fmt"
	"math"

	"github.com/tickstream/tickstream/operators"
	"github.com/tickstream/tickstream/tick"
)

// The feature vector, in order. Every feature is computed in float64 from
// the accepted ticks of one symbol, in arrival order, and stored as float32,
// the precision the models read. A feature that is undefined (not enough
// history yet, no quote, zero dispersion) is NaN: XGBoost routes it by the
// split's default direction, the LSTM input replaces it by the training
// mean, the linear baseline by its imputation value.
//
// Lags and windows count accepted ticks, not seconds: at the simulator's
// one update a second they are the same, and counting keeps every update
// O(1). A tick accepted out of order (within clean.allowed_lateness) is
// taken in arrival order.
const (
	FeatRet1     = iota // ret_1: log(p / p one tick earlier)
	FeatRet5            // ret_5: log(p / p 5 ticks earlier)
	FeatRet15           // ret_15: log(p / p 15 ticks earlier)
	FeatRet60           // ret_60: log(p / p 60 ticks earlier)
	FeatPriceMA         // price_ma: p / ma − 1, ma the operators' moving average (moving_average.ticks)
	FeatVol20           // vol_20: sample stdev of the last 20 one-tick log returns
	FeatVol60           // vol_60: sample stdev of the last 60 one-tick log returns
	FeatVolumeZ         // volume_z: z-score of log1p(volume) against the previous 60 ticks (NaN if they are all equal)
	FeatVolumeMA        // volume_ma: log((volume+1) / (ma_volume+1)), ma_volume the operators' mean volume
	FeatSpread          // spread_bps: (ask − bid) / mid · 10⁴; NaN without a two-sided, uncrossed quote
	FeatTODSin          // tod_sin: sin(2π · UTC time of day / 24 h)
	FeatTODCos          // tod_cos: cos(2π · UTC time of day / 24 h)
	FeatGap             // gap_s: log1p(seconds since the previous accepted tick), 0 if it was not earlier; NaN on the first

	NumFeatures
)

// FeatureNames are the stable names of the features, in vector order. They
// are stored with every model (xgboost feature_names, the LSTM's safetensors
// metadata, the linear model's JSON) and checked against this list at load.
var FeatureNames = [NumFeatures]string{
	"ret_1", "ret_5", "ret_15", "ret_60", "price_ma", "vol_20", "vol_60",
	"volume_z", "volume_ma", "spread_bps", "tod_sin", "tod_cos", "gap_s",
}

// FeatureIndex returns the position of a named feature.
func FeatureIndex(name string) (int, error) {
	for i, n := range FeatureNames {
		if n == name {
			return i, nil
		}
	}
	return 0, fmt.Errorf("unknown feature %q (known: %v)", name, FeatureNames)
}

// Warmup is the number of ticks after which every feature that history can
// define is defined: ret_60 needs 61 prices.
const Warmup = 61

// The history the features need; hist must exceed the longest lag and be a
// power of two so ring positions are a mask.
const (
	hist    = 64
	histMsk = hist - 1
	volWin  = 60 // ticks of volume behind volume_z
)

// Features is the feature state of one symbol: the short histories the
// features need and a ring of the last Steps feature vectors, which is the
// LSTM's input window. It is owned by the partition task that owns the
// symbol, like operators.State, and Update is O(1) and allocates nothing.
type Features struct {
	n      int64 // accepted ticks seen
	prevTS int64

	logp [hist]float64 // log price of the last ticks, at n & histMsk
	ret  [hist]float64 // one-tick log returns; n−1 of them
	lvol [hist]float64 // log1p(volume)

	// Running sums over the newest 20 and 60 returns and the 60 volumes
	// before the current tick, re-summed from the rings every hist updates
	// so rounding cannot build up however long the stream runs.
	r20, q20, r60, q60 float64
	v60, w60           float64
	sinceResum         int

	cur    [NumFeatures]float32
	steps  int
	window []float32 // steps × NumFeatures, ring by tick: row (n−1) % steps is the newest
}

// NewFeatures returns an empty feature state keeping the last steps
// feature vectors (the longest LSTM window it will serve; at least 1).
func NewFeatures(steps int) *Features {
	steps = max(steps, 1)
	return &Features{steps: steps, window: make([]float32, steps*NumFeatures)}
}

// Count is the number of accepted ticks seen.
func (f *Features) Count() int64 { return f.n }

// Steps is the length of the window this state keeps.
func (f *Features) Steps() int { return f.steps }

// Update takes the next tick of the symbol with the pipeline's result for
// it. A rejected tick (r.Reject != tick.OK) changes nothing, as in the
// operators.
func (f *Features) Update(t *tick.Tick, r *operators.Result) {
	if r.Reject != tick.OK {
		return
	}
	i := f.n & histMsk
	lp := math.Log(t.Price)
	lv := math.Log1p(t.Volume)
	nan := math.NaN()
	var out [NumFeatures]float64

	// Volume z-score against the ticks before this one.
	out[FeatVolumeZ] = nan
	if f.n >= volWin {
		mean, sd := meanSD(f.v60, f.w60, volWin)
		if sd > 0 {
			out[FeatVolumeZ] = (lv - mean) / sd
		}
	}

	// Returns over lags, and the one-tick return into the volatility sums.
	for k, lag := range [...]int64{1, 5, 15, 60} {
		out[FeatRet1+k] = nan
		if f.n >= lag {
			out[FeatRet1+k] = lp - f.logp[(f.n-lag)&histMsk]
		}
	}
	if f.n >= 1 {
		r1 := out[FeatRet1]
		m := f.n - 1 // returns held before this one
		f.ret[m&histMsk] = r1
		f.r20, f.q20 = f.r20+r1, f.q20+r1*r1
		f.r60, f.q60 = f.r60+r1, f.q60+r1*r1
		if m >= 20 {
			old := f.ret[(m-20)&histMsk]
			f.r20, f.q20 = f.r20-old, f.q20-old*old
		}
		if m >= 60 {
			old := f.ret[(m-60)&histMsk]
			f.r60, f.q60 = f.r60-old, f.q60-old*old
		}
	}
	out[FeatVol20], out[FeatVol60] = nan, nan
	if f.n >= 20 {
		_, out[FeatVol20] = meanSD(f.r20, f.q20, 20)
	}
	if f.n >= 60 {
		_, out[FeatVol60] = meanSD(f.r60, f.q60, 60)
	}

	out[FeatPriceMA] = t.Price/r.MA - 1
	out[FeatVolumeMA] = math.Log((t.Volume + 1) / (r.MAVolume + 1))
	out[FeatSpread] = nan
	if t.Bid > 0 && t.Ask >= t.Bid {
		out[FeatSpread] = (t.Ask - t.Bid) / ((t.Ask + t.Bid) / 2) * 1e4
	}
	const day = 86_400_000
	tod := float64(((t.TS%day)+day)%day) / day * 2 * math.Pi
	out[FeatTODSin], out[FeatTODCos] = math.Sin(tod), math.Cos(tod)
	out[FeatGap] = nan
	if f.n >= 1 {
		out[FeatGap] = math.Log1p(float64(max(t.TS-f.prevTS, 0)) / 1000)
	}

	// Volume history: this tick joins the window the next tick is scored on.
	f.lvol[i] = lv
	f.v60, f.w60 = f.v60+lv, f.w60+lv*lv
	if f.n >= volWin {
		old := f.lvol[(f.n-volWin)&histMsk]
		f.v60, f.w60 = f.v60-old, f.w60-old*old
	}
	f.logp[i] = lp
	f.prevTS = t.TS
	f.n++
	if f.sinceResum++; f.sinceResum >= hist {
		f.resum()
	}

	row := f.window[int((f.n-1)%int64(f.steps))*NumFeatures:][:NumFeatures]
	for k, x := range out {
		f.cur[k] = float32(x)
		row[k] = f.cur[k]
	}
}

// meanSD is the mean and sample standard deviation of n values from their
// sum and sum of squares; the variance is clamped at 0 against rounding.
func meanSD(sum, sq float64, n int) (float64, float64) {
	mean := sum / float64(n)
	v := (sq - sum*mean) / float64(n-1)
	return mean, math.Sqrt(max(v, 0))
}

// resum recomputes the running sums from the rings, in a fixed order.
func (f *Features) resum() {
	f.sinceResum = 0
	m := f.n - 1 // returns held
	f.r20, f.q20, f.r60, f.q60 = 0, 0, 0, 0
	for j := max(m-60, 0); j < m; j++ {
		r := f.ret[j&histMsk]
		f.r60, f.q60 = f.r60+r, f.q60+r*r
		if j >= m-20 {
			f.r20, f.q20 = f.r20+r, f.q20+r*r
		}
	}
	f.v60, f.w60 = 0, 0
	for j := max(f.n-volWin, 0); j < f.n; j++ {
		v := f.lvol[j&histMsk]
		f.v60, f.w60 = f.v60+v, f.w60+v*v
	}
}

// Vector is the feature vector of the newest tick. It points into f and
// changes with the next Update.
func (f *Features) Vector() []float32 { return f.cur[:] }

// Full reports whether the window holds steps ticks.
func (f *Features) Full(steps int) bool { return steps <= f.steps && f.n >= int64(steps) }

// Row returns the feature vector of the tick back ticks before the newest
// (0: the newest), which must be within the window and the ticks seen.
func (f *Features) Row(back int) []float32 {
	j := int((f.n - 1 - int64(back)) % int64(f.steps))
	return f.window[j*NumFeatures:][:NumFeatures]
}
