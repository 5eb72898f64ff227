package operators

import "math"

// ksum is a Neumaier-compensated running sum: S carries the sum, C the
// rounding error lost by each addition. Removing x is adding −x. Unlike a
// plain running sum, a huge value that enters and later leaves the window
// does not wipe out the small values beside it, because the low bits live on
// in C.
//
// Compensation alone still lets C collect one rounding error per operation,
// a random walk that over 10^8 ticks becomes visible; the windows therefore
// also re-sum their samples from scratch once every window-length operations
// (see countWindow.push), which costs O(1) amortised and bounds the error
// to that of about 2N compensated additions, independent of stream length.
//
// Only + and − are used, never x*y+z, so the compiler cannot fuse operations
// into FMA differently on different CPUs: same inputs, same bits.
type ksum struct{ S, C float64 }

func (k *ksum) add(x float64) {
	t := k.S + x
	if math.Abs(k.S) >= math.Abs(x) {
		k.C += (k.S - t) + x
	} else {
		k.C += (x - t) + k.S
	}
	k.S = t
}

func (k ksum) value() float64 { return k.S + k.C }
