package lstm_test

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/tickstream/tickstream/models/internal/testfixture"
	"github.com/tickstream/tickstream/models/lstm"
)

// benchFixture is the design notes' network (60 × 5 → LSTM(128) →
// Dense(1)), trained by scripts/models/gen_fixtures.py.
const benchFixture = "keras_60x5_128"

func benchModel(b *testing.B) (*lstm.Model, fixture) {
	b.Helper()
	fx := fixtures(b)[0]
	if fx.Name != benchFixture {
		b.Fatalf("first fixture is %s, want %s", fx.Name, benchFixture)
	}
	return load(b, fx), fx
}

// flops is the multiply-adds (×2) of one sequence step of every layer and
// of the head: the GFLOP/s the benchmarks report count these only.
func flops(m *lstm.Model) float64 {
	in, f := m.InputSize(), 0
	for _, h := range m.Units() {
		f += 2 * (in + h) * 4 * h
		in = h
	}
	return float64(f)
}

// benchSeqs runs batch sequences per call; 166 is one partition's share
// of 1000 symbols over 6 partitions.
func benchSeqs(b *testing.B, batch int) {
	m, fx := benchModel(b)
	in := readNPY(b, fx.Inputs)
	n := in.Shape[0]
	per := fx.Steps * m.InputSize()
	seqs := make([]float32, batch*per)
	for i := range batch {
		copy(seqs[i*per:], in.F32[(i%n)*per:(i%n+1)*per])
	}
	ws := m.NewWorkspace(batch)
	out := make([]float32, batch)
	b.ReportAllocs()
	for b.Loop() {
		if err := m.PredictBatch(ws, seqs, batch, fx.Steps, out); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*batch), "µs/seq")
}

func BenchmarkWindowed(b *testing.B) {
	b.Run("single", func(b *testing.B) { benchSeqs(b, 1) })
	b.Run("batch166", func(b *testing.B) { benchSeqs(b, 166) })
}

// BenchmarkWindowed1000 scores 1000 windows of 60 steps in one call, on
// one goroutine. The windows are random (fixed seed) unless
// LSTM_BENCH_DIR names a directory where scripts/models/bench_lstm.py
// wrote windows.npy (1000 × 60 × 5) and PyTorch's outputs for them,
// expected.npy: then the benchmark first checks it agrees with PyTorch,
// so the side-by-side times the same work.
func BenchmarkWindowed1000(b *testing.B) {
	m, fx := benchModel(b)
	const batch = 1000
	seqs, want := benchWindows(b, batch, fx.Steps, m.InputSize())
	ws := m.NewWorkspace(batch)
	out := make([]float32, batch*m.OutputSize())
	if err := m.PredictBatch(ws, seqs, batch, fx.Steps, out); err != nil {
		b.Fatal(err)
	}
	if want != nil {
		worst := 0.0
		for i, w := range want {
			d := math.Abs(float64(out[i]) - float64(w))
			if d > tol*max(math.Abs(float64(w)), 1) {
				b.Fatalf("sequence %d: Go %v, PyTorch %v", i, out[i], w)
			}
			worst = max(worst, d)
		}
		b.Logf("max |Go − PyTorch| over %d sequences: %.3g", batch, worst)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := m.PredictBatch(ws, seqs, batch, fx.Steps, out); err != nil {
			b.Fatal(err)
		}
	}
	sec := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(sec*1e3, "ms/1000seq")
	b.ReportMetric(flops(m)*float64(fx.Steps*batch)/sec/1e9, "GFLOP/s")
}

// BenchmarkWindowed1000Portable is BenchmarkWindowed1000 on the portable
// kernels, the path of CPUs without AVX2+FMA.
func BenchmarkWindowed1000Portable(b *testing.B) {
	defer lstm.UseKernels("portable")()
	BenchmarkWindowed1000(b)
}

// benchWindows returns batch windows, and PyTorch's outputs for them when
// bench_lstm.py wrote them (nil otherwise).
func benchWindows(b *testing.B, batch, steps, in int) (seqs, want []float32) {
	b.Helper()
	dir := os.Getenv("LSTM_BENCH_DIR")
	if dir == "" {
		r := rand.New(rand.NewPCG(1, 2))
		seqs = make([]float32, batch*steps*in)
		for i := range seqs {
			seqs[i] = float32(r.NormFloat64())
		}
		return seqs, nil
	}
	x := testfixture.NPY(b, filepath.Join(dir, "windows.npy"))
	y := testfixture.NPY(b, filepath.Join(dir, "expected.npy"))
	if len(x.Shape) != 3 || x.Shape[0] != batch || x.Shape[1] != steps || x.Shape[2] != in || y.Len() != batch {
		b.Fatalf("%s: windows %v, expected %v: want (%d, %d, %d) and (%d, 1)", dir, x.Shape, y.Shape, batch, steps, in, batch)
	}
	return x.F32, y.F32
}

// BenchmarkStateful166 is one tick's step for 166 symbols.
func BenchmarkStateful166(b *testing.B) { benchStateful(b, 166) }

// BenchmarkStateful1 is one step of one symbol, as models.Predictor takes
// a stateful model at each tick.
func BenchmarkStateful1(b *testing.B) { benchStateful(b, 1) }

func benchStateful(b *testing.B, batch int) {
	m, fx := benchModel(b)
	states := make([]*lstm.State, batch)
	for i := range states {
		states[i] = m.NewState()
	}
	in := readNPY(b, fx.Inputs)
	ws := m.NewWorkspace(batch)
	out := make([]float32, batch)
	x := make([]float32, batch*m.InputSize())
	copy(x, in.F32)
	b.ReportAllocs()
	for b.Loop() {
		if err := m.Step(ws, states, x, out); err != nil {
			b.Fatal(err)
		}
	}
	sec := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(sec*1e6/float64(batch), "µs/symbol")
	b.ReportMetric(flops(m)*float64(batch)/sec/1e9, "GFLOP/s")
}
