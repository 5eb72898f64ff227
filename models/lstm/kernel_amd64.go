//go:build amd64 && !purego

package lstm

import (
	"fmt"

	"golang.org/x/sys/cpu"
)

// haveAccel: the AVX2+FMA kernels of kernel_amd64.s can run (x/sys/cpu
// also checks that the OS saves the ymm registers).
var haveAccel = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// gatesAVX2 sets, for r < rows (a multiple of 3) and c < 32·panels,
// gs[r·ldg + c] = bias[c] + Σ_{j<k} a[r·lda + j] · w[(c/32·k + j)·32 + c%32]:
// one step's gate pre-activations of rows inputs, with w packed in panels
// of 32 columns (see packWeights). It accumulates in the order j = 0, 1, …
// with one rounding per fused multiply-add, whatever the row's position,
// so a sequence gets the same bits alone or in a batch.
//
//go:noescape
func gatesAVX2(a *float32, lda, rows, k int, w, bias *float32, panels int, gs *float32, ldg int)

// cellAVX2 applies the LSTM cell to rows rows of gate pre-activations for
// units 0..n8 (a multiple of 8): per row, i, f, g, o are the four blocks of
// hid values at gs (i, f, o through the sigmoid when sigmoid ≠ 0, already
// activated otherwise), then c = f·c + i·tanh(g) and h = o·tanh(c). c rows
// are hid apart, h rows ldh apart, gs rows ldg apart.
//
//go:noescape
func cellAVX2(gs *float32, ldg int, c, h *float32, ldh, rows, hid, n8, sigmoid int)

// gatesAccel checks the bounds gatesAVX2 relies on and calls it.
func gatesAccel(a []float32, lda, rows, k int, w, bias []float32, panels int, g []float32, ldg int) {
	if rows <= 0 || rows%3 != 0 || k <= 0 || lda < k || panels <= 0 || ldg < 32*panels ||
		len(a) < (rows-1)*lda+k || len(w) < panels*k*32 || len(bias) < 32*panels || len(g) < (rows-1)*ldg+32*panels {
		panic(fmt.Sprintf("BUG: lstm gates kernel: rows %d k %d lda %d panels %d ldg %d, len a %d w %d bias %d g %d",
			rows, k, lda, panels, ldg, len(a), len(w), len(bias), len(g)))
	}
	gatesAVX2(&a[0], lda, rows, k, &w[0], &bias[0], panels, &g[0], ldg)
}

// cellAccel checks the bounds cellAVX2 relies on and calls it.
func cellAccel(g []float32, ldg int, c, h []float32, ldh, rows, hid, n8 int, sigmoid bool) {
	if rows <= 0 || n8 <= 0 || n8%8 != 0 || n8 > hid || ldg < 4*hid || ldh < hid ||
		len(g) < (rows-1)*ldg+4*hid || len(c) < rows*hid || len(h) < (rows-1)*ldh+hid {
		panic(fmt.Sprintf("BUG: lstm cell kernel: rows %d hid %d n8 %d ldg %d ldh %d, len g %d c %d h %d",
			rows, hid, n8, ldg, ldh, len(g), len(c), len(h)))
	}
	s := 0
	if sigmoid {
		s = 1
	}
	cellAVX2(&g[0], ldg, &c[0], &h[0], ldh, rows, hid, n8, s)
}
