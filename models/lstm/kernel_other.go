//go:build !amd64 || purego

package lstm

// haveAccel: no vector kernels on this platform; the portable path runs.
const haveAccel = false

func gatesAccel(a []float32, lda, rows, k int, w, bias []float32, panels int, g []float32, ldg int) {
	panic("BUG: lstm: vector kernel called without vector support")
}

func cellAccel(g []float32, ldg int, c, h []float32, ldh, rows, hid, n8 int, sigmoid bool) {
	panic("BUG: lstm: vector kernel called without vector support")
}
