package lstm

import (
	"math"
	"math/rand/v2"
	"testing"
)

// kernelSets returns the kernel selections to test: the portable one, and
// the vector one where the CPU has it.
func kernelSets() []bool {
	if haveAccel {
		return []bool{false, true}
	}
	return []bool{false}
}

func withAccel(on bool, f func()) {
	prev := accel
	accel = on
	defer func() { accel = prev }()
	f()
}

// randomLayer returns a layer of random weights, a fraction of them zero
// as in a pruned model.
func randomLayer(r *rand.Rand, in, hid int) *layer {
	l := &layer{in: in, hid: hid, gate: actSigmoid}
	l.wx = randomVec(r, in*4*hid, 0.5)
	l.wh = randomVec(r, hid*4*hid, 0.5)
	l.b = randomVec(r, 4*hid, 0.5)
	m := &Model{}
	if err := m.addLayer(*l); err != nil {
		panic(err)
	}
	return &m.layers[0]
}

func randomVec(r *rand.Rand, n int, scale float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		if r.IntN(8) != 0 {
			v[i] = float32(r.NormFloat64() * scale)
		}
	}
	return v
}

// checkGates runs the gates kernel of each set on rows random input rows
// of a random layer (in, hid) and compares every pre-activation with a
// float64 sum of the same terms, within the bound of a float32 running
// sum of k+1 terms, (k+1)·2⁻²⁴·Σ|term|; and each row computed alone with
// the same row in the batch, bit for bit.
func checkGates(t *testing.T, seed uint64, in, hid, rows int) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 7))
	l := randomLayer(r, in, hid)
	k, n := in+hid, 4*hid
	// An odd leading dimension and spare rows for the tile, as a
	// workspace has them.
	lda, ldg := k+3, l.panels*panelCols+5
	spare := roundUp(rows, tileRows)
	a := randomVec(r, spare*lda, 2)
	for _, on := range kernelSets() {
		g := make([]float32, spare*ldg)
		one := make([]float32, tileRows*ldg)
		solo := make([]float32, tileRows*lda) // one row and the tile's spare rows
		withAccel(on, func() {
			l.gates(a, lda, rows, g, ldg)
			for row := range rows {
				copy(solo, a[row*lda:row*lda+k])
				l.gates(solo, lda, 1, one, ldg)
				for c := range n {
					if math.Float32bits(one[c]) != math.Float32bits(g[row*ldg+c]) {
						t.Fatalf("accel %v (%d, %d) row %d col %d: alone %v, in the batch %v", on, in, hid, row, c, one[c], g[row*ldg+c])
					}
				}
			}
		})
		for row := range rows {
			for c := range n {
				want, mag := float64(l.b[c]), math.Abs(float64(l.b[c]))
				for j := range k {
					term := float64(a[row*lda+j]) * float64(l.w[j*n+c])
					want += term
					mag += math.Abs(term)
				}
				got := float64(g[row*ldg+c])
				if d := math.Abs(got - want); d > float64(k+1)*0x1p-24*mag+1e-30 {
					t.Fatalf("accel %v (%d, %d) row %d col %d: got %v, float64 %v (|diff| %.3g, bound %.3g)",
						on, in, hid, row, c, got, want, d, float64(k+1)*0x1p-24*mag)
				}
			}
		}
	}
}

// FuzzGates checks the gates kernels on odd sizes: rows not a multiple of
// the tile, columns not a multiple of the panel.
func FuzzGates(f *testing.F) {
	for _, s := range [][4]uint64{
		{1, 1, 1, 1}, {2, 5, 128, 7}, {3, 3, 13, 2}, {4, 7, 9, 5}, {5, 5, 17, 4},
		{6, 33, 50, 11}, {7, 128, 32, 3}, {8, 1, 2, 1}, {9, 16, 8, 6},
	} {
		f.Add(s[0], uint8(s[1]), uint8(s[2]), uint8(s[3]))
	}
	f.Fuzz(func(t *testing.T, seed uint64, in, hid, rows uint8) {
		checkGates(t, seed, 1+int(in)%80, 1+int(hid)%80, 1+int(rows)%40)
	})
}

// ulps is |got − want| in units of the float32 spacing at want.
func ulps(got float32, want float64) float64 {
	w := float32(want)
	spacing := math.Float32frombits(math.Float32bits(float32(math.Abs(float64(w))))+1) - float32(math.Abs(float64(w)))
	return math.Abs(float64(got)-want) / float64(spacing)
}

// The vector kernel's float32 sigmoid and tanh, read through the cell:
// with c = 0, a saturated gate (σ = 1 and tanh = 1 exactly in float32)
// makes c = tanh(x) or σ(x) alone, and h = tanh(c). Compared with float64
// math over a dense sweep.
func TestVectorActivations(t *testing.T) {
	if !haveAccel {
		t.Skip("no AVX2+FMA on this CPU: the portable path uses float64 math")
	}
	const sat = 40 // σ(40) and tanh(40) round to 1 in float32
	var xs []float32
	for x := -30.0; x <= 30; x += 1.0 / 512 {
		xs = append(xs, float32(x))
	}
	for e := -40; e <= 6; e++ { // tiny and large magnitudes
		for _, m := range []float64{1, 1.37, -1, -1.91} {
			xs = append(xs, float32(math.Ldexp(m, e)))
		}
	}
	xs = append(xs, 0, 0.625, -0.625, math.Nextafter32(0.625, 1), math.Nextafter32(-0.625, -1), 87, -87, 200, -200)
	n := roundUp(len(xs), 8)
	run := func(ig, gg func(x float32) float32) (c, h []float32) {
		g := make([]float32, 4*n)
		for j := range n {
			x := xs[min(j, len(xs)-1)]
			g[j], g[n+j], g[2*n+j], g[3*n+j] = ig(x), 0, gg(x), sat
		}
		c, h = make([]float32, n), make([]float32, n)
		cellAccel(g, 4*n, c, h, n, 1, n, n, true)
		return c, h
	}
	id := func(x float32) float32 { return x }
	satf := func(float32) float32 { return sat }
	tanhC, tanhH := run(satf, id)
	sigC, _ := run(id, satf)
	var worstT, worstS float64
	for j, x := range xs {
		want := math.Tanh(float64(x))
		worstT = max(worstT, ulps(tanhC[j], want))
		if u := ulps(tanhH[j], math.Tanh(float64(tanhC[j]))); u > 3 {
			t.Errorf("tanh(%v) as h: %v ulp", tanhC[j], u)
		}
		if x > -80 { // below, exp's argument is clamped: σ is ~1e-38 instead of smaller
			worstS = max(worstS, ulps(sigC[j], 1/(1+math.Exp(-float64(x)))))
		}
	}
	t.Logf("%d points: tanh within %.2f ulp, sigmoid within %.2f ulp", len(xs), worstT, worstS)
	if worstT > 3 || worstS > 3 {
		t.Errorf("tanh %.2f ulp, sigmoid %.2f ulp: want ≤ 3", worstT, worstS)
	}

	f := func(x float32, wantTanh, wantSigmoid float64) {
		t.Helper()
		xs = []float32{x}
		tc, _ := run(satf, id)
		sc, _ := run(id, satf)
		if g := float64(tc[0]); g != wantTanh && !(math.IsNaN(g) && math.IsNaN(wantTanh)) {
			t.Errorf("tanh(%v) = %v, want %v", x, g, wantTanh)
		}
		if g := float64(sc[0]); math.Abs(g-wantSigmoid) > 1e-37 && !(math.IsNaN(g) && math.IsNaN(wantSigmoid)) {
			t.Errorf("sigmoid(%v) = %v, want %v", x, g, wantSigmoid)
		}
	}
	f(float32(math.Inf(1)), 1, 1)
	f(float32(math.Inf(-1)), -1, 0)
	f(float32(math.NaN()), math.NaN(), math.NaN())
	f(0, 0, 0.5)
}

// The two cells agree within a few ulp on random gates, for widths with
// and without a tail the vector kernel leaves to Go, and for hard-sigmoid
// gates, which Go applies before the kernel.
func TestCellsAgree(t *testing.T) {
	if !haveAccel {
		t.Skip("no AVX2+FMA on this CPU: one cell only")
	}
	f := func(hid, rows int, gate activation) {
		t.Helper()
		r := rand.New(rand.NewPCG(uint64(hid), uint64(rows)))
		l := &layer{hid: hid, gate: gate}
		ldg, ldh := 4*hid+3, hid+2
		g := randomVec(r, rows*ldg, 4)
		c0 := randomVec(r, rows*hid, 2)
		var cs, hs [2][]float32
		for i, on := range []bool{false, true} {
			gi, c, h := append([]float32(nil), g...), append([]float32(nil), c0...), make([]float32, rows*ldh)
			withAccel(on, func() { l.cells(gi, ldg, c, h, ldh, rows) })
			cs[i], hs[i] = c, h
		}
		for i := range cs[0] {
			row, j := i/hid, i%hid
			if d := math.Abs(float64(cs[1][i] - cs[0][i])); d > 1e-6*max(1, math.Abs(float64(cs[0][i]))) {
				t.Errorf("hid %d gate %d: c[%d] vector %v, portable %v", hid, gate, i, cs[1][i], cs[0][i])
			}
			a, b := hs[1][row*ldh+j], hs[0][row*ldh+j]
			if d := math.Abs(float64(a - b)); d > 1e-6 {
				t.Errorf("hid %d gate %d: h[%d] vector %v, portable %v", hid, gate, i, a, b)
			}
		}
	}
	f(128, 3, actSigmoid)
	f(13, 4, actSigmoid)
	f(5, 2, actSigmoid)
	f(16, 3, actHardSigmoid)
	f(21, 1, actHardSigmoidK2)
}
