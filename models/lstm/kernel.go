package lstm

import "gonum.org/v1/gonum/blas/gonum"

// One step of a layer is two kernels: gates (the pre-activations
// b + [x, h]·[wx; wh] of a block of rows, the products that are nearly all
// the work) and cell (the activations and the c, h update). Each has a
// vector version (kernel_amd64.s, AVX2+FMA, float32 exp/sigmoid/tanh to a
// few ulp) and a portable one (gonum's axpy, float64 activations rounded
// once), chosen at run time; both give every row the same arithmetic
// wherever it sits in a batch.

// accel selects the vector kernels; it starts as haveAccel, and tests
// turn it off to run the portable path on the same machine.
var accel = haveAccel

// panelCols is the width of a packed weight panel: four ymm registers of
// float32, the columns one call of the vector kernel accumulates per row.
const panelCols = 32

// tileRows is the number of rows the vector gates kernel does at once;
// blocks of rows are rounded up to it (the workspace has the spare rows).
const tileRows = 3

// packWeights lays w (k × n, row-major) and b (n) out for the vector
// kernel: panels of panelCols columns, panel p holding rows 0..k of
// columns p·32..p·32+31 one after another, the last panel padded with
// zero columns, and b padded likewise. A panel is read front to back once
// per row tile.
func packWeights(w, b []float32, k, n int) (wp, bp []float32, panels int) {
	panels = (n + panelCols - 1) / panelCols
	wp = make([]float32, panels*k*panelCols)
	bp = make([]float32, panels*panelCols)
	copy(bp, b)
	for p := range panels {
		for j := range k {
			dst := wp[(p*k+j)*panelCols : (p*k+j+1)*panelCols]
			lo := p * panelCols
			copy(dst, w[j*n+lo:j*n+min(lo+panelCols, n)])
		}
	}
	return wp, bp, panels
}

// blas is gonum's pure-Go BLAS; its float32 axpy has an SSE kernel on
// amd64. It is called per row rather than through Sgemm because Sgemm
// spreads products of this size over goroutines, which allocates and would
// compete with the other partition tasks for the cores.
var blas gonum.Implementation

// gates writes the gate pre-activations of rows rows of inputs a (each
// row [x, h], lda apart) into g (ldg apart): g = b + a·w.
func (l *layer) gates(a []float32, lda, rows int, g []float32, ldg int) {
	k := l.in + l.hid
	if accel {
		gatesAccel(a, lda, roundUp(rows, tileRows), k, l.wp, l.bp, l.panels, g, ldg)
		return
	}
	n := 4 * l.hid
	for r := range rows {
		d := g[r*ldg : r*ldg+n]
		copy(d, l.b)
		// A zero input skips its row of w, which is exact for finite
		// weights and makes the first step (h = 0) cheap.
		for j, alpha := range a[r*lda : r*lda+k] {
			if alpha != 0 {
				blas.Saxpy(n, alpha, l.w[j*n:(j+1)*n], 1, d, 1)
			}
		}
	}
}

// cells applies the cell to rows rows: gate pre-activations g (ldg apart),
// c (hid apart) updated in place, h (ldh apart) written.
func (l *layer) cells(g []float32, ldg int, c, h []float32, ldh, rows int) {
	n := l.hid
	n8 := 0
	if accel {
		n8 = n &^ 7
		if l.gate != actSigmoid {
			// Hard sigmoid and the rest are cheap; the kernel takes the
			// gates activated.
			for r := range rows {
				gr := g[r*ldg:]
				l.gate.apply(gr[:2*n])
				l.gate.apply(gr[3*n : 4*n])
			}
		}
		if n8 > 0 {
			cellAccel(g, ldg, c, h, ldh, rows, n, n8, l.gate == actSigmoid)
		}
		if n8 == n {
			return
		}
	}
	gate := l.gate
	if accel && gate != actSigmoid {
		gate = actLinear // applied above
	}
	for r := range rows {
		gr, cr, hr := g[r*ldg:], c[r*n:(r+1)*n], h[r*ldh:r*ldh+n]
		ig, fg, cg, og := gr[n8:n], gr[n+n8:2*n], gr[2*n+n8:3*n], gr[3*n+n8:4*n]
		gate.apply(ig)
		gate.apply(fg)
		actTanh.apply(cg)
		gate.apply(og)
		for j := range n - n8 {
			c := fg[j]*cr[n8+j] + ig[j]*cg[j]
			cr[n8+j] = c
			hr[n8+j] = og[j] * tanh(c)
		}
	}
}

func roundUp(n, m int) int { return (n + m - 1) / m * m }
