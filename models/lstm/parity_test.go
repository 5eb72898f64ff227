package lstm_test

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/tickstream/tickstream/models/internal/testfixture"
	"github.com/tickstream/tickstream/models/lstm"
	"github.com/tickstream/tickstream/models/npy"
)

const testdata = "../testdata"

type fixture struct {
	Name     string `json:"name"`
	File     string `json:"file"`
	Format   string `json:"format"`
	Steps    int    `json:"steps"`
	Inputs   string `json:"inputs"`
	Expected string `json:"expected"`
}

func fixtures(t testing.TB) []fixture {
	t.Helper()
	var m struct {
		LSTM []fixture `json:"lstm"`
	}
	testfixture.JSON(t, filepath.Join(testdata, "fixtures.json"), &m)
	if len(m.LSTM) == 0 {
		t.Fatal("fixtures.json lists no LSTM models")
	}
	return m.LSTM
}

func readNPY(t testing.TB, name string) *npy.Array {
	t.Helper()
	return testfixture.NPY(t, filepath.Join(testdata, name))
}

func load(t testing.TB, fx fixture) *lstm.Model {
	t.Helper()
	m, err := lstm.Load(filepath.Join(testdata, fx.File))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// tol is the bar: the framework's outputs to 1e-5 (relative, or
// absolute for outputs below 1).
const tol = 1e-5

// forKernels runs f once with each kernel set this machine has (the
// portable one always), so both paths meet the same bars.
func forKernels(t *testing.T, f func(t *testing.T)) {
	for _, k := range lstm.Kernels() {
		t.Run(k, func(t *testing.T) {
			defer lstm.UseKernels(k)()
			f(t)
		})
	}
}

func TestParityWithFrameworks(t *testing.T) { forKernels(t, testParity) }

func testParity(t *testing.T) {
	for _, fx := range fixtures(t) {
		t.Run(fx.Name, func(t *testing.T) {
			m := load(t, fx)
			if m.Format() != fx.Format {
				t.Fatalf("format %q, fixture says %q", m.Format(), fx.Format)
			}
			in := readNPY(t, fx.Inputs)
			want := readNPY(t, fx.Expected)
			n, steps, feat := in.Shape[0], in.Shape[1], in.Shape[2]
			if steps != fx.Steps || feat != m.InputSize() || want.Len() != n*m.OutputSize() {
				t.Fatalf("inputs %v, expected %v, model %d→%v→%d", in.Shape, want.Shape, m.InputSize(), m.Units(), m.OutputSize())
			}
			k := m.OutputSize()
			ws := m.NewWorkspace(n)
			batch := make([]float32, n*k)
			if err := m.PredictBatch(ws, in.F32, n, steps, batch); err != nil {
				t.Fatal(err)
			}
			var maxAbs, maxRel float64
			one := make([]float32, k)
			for s := range n {
				if err := m.Predict(ws, in.F32[s*steps*feat:], steps, one); err != nil {
					t.Fatal(err)
				}
				for j := range k {
					got, w := float64(batch[s*k+j]), float64(want.F32[s*k+j])
					d := math.Abs(got - w)
					maxAbs = max(maxAbs, d)
					if w != 0 {
						maxRel = max(maxRel, d/math.Abs(w))
					}
					if d > tol*max(math.Abs(w), 1) {
						t.Errorf("sequence %d output %d: got %v, %s %v", s, j, got, fx.Format, w)
					}
					if math.Float32bits(one[j]) != math.Float32bits(batch[s*k+j]) {
						t.Errorf("sequence %d: alone %v, in the batch %v", s, one[j], batch[s*k+j])
					}
				}
			}
			t.Logf("%s %d→%v→%d, %d steps, %d sequences: max abs %.3g, max rel %.3g",
				fx.Format, m.InputSize(), m.Units(), k, steps, n, maxAbs, maxRel)
		})
	}
}

// Fed a window one step at a time from a zero state, stateful mode ends on
// exactly the windowed output; across a batch of states as well.
func TestStatefulEqualsWindowed(t *testing.T) { forKernels(t, testStatefulEqualsWindowed) }

func testStatefulEqualsWindowed(t *testing.T) {
	for _, fx := range fixtures(t) {
		m := load(t, fx)
		in := readNPY(t, fx.Inputs)
		n, steps, feat := in.Shape[0], in.Shape[1], in.Shape[2]
		k := m.OutputSize()
		ws := m.NewWorkspace(n)
		windowed := make([]float32, n*k)
		if err := m.PredictBatch(ws, in.F32, n, steps, windowed); err != nil {
			t.Fatal(err)
		}
		states := make([]*lstm.State, n)
		for i := range states {
			states[i] = m.NewState()
		}
		x := make([]float32, n*feat)
		out := make([]float32, n*k)
		for s := range steps {
			for b := range n {
				copy(x[b*feat:(b+1)*feat], in.F32[(b*steps+s)*feat:])
			}
			if err := m.Step(ws, states, x, out); err != nil {
				t.Fatal(err)
			}
		}
		for i := range out {
			if math.Float32bits(out[i]) != math.Float32bits(windowed[i]) {
				t.Fatalf("%s: output %d stateful %v, windowed %v", fx.Name, i, out[i], windowed[i])
			}
		}
		if states[0].Steps() != int64(steps) {
			t.Errorf("%s: state counts %d steps, want %d", fx.Name, states[0].Steps(), steps)
		}
		states[0].Reset()
		if states[0].Steps() != 0 {
			t.Errorf("Reset left %d steps", states[0].Steps())
		}
	}
}

// The input description written by the exporters comes back.
func TestInputMetadata(t *testing.T) {
	for _, fx := range fixtures(t) {
		in := load(t, fx).Input()
		if len(in.Features) != 5 || len(in.Mean) != 5 || len(in.Std) != 5 || in.Steps != fx.Steps {
			t.Errorf("%s: input %+v", fx.Name, in)
		}
	}
}

func TestPredictAllocatesNothing(t *testing.T) { forKernels(t, testPredictAllocatesNothing) }

func testPredictAllocatesNothing(t *testing.T) {
	fx := fixtures(t)[0]
	m := load(t, fx)
	in := readNPY(t, fx.Inputs)
	ws := m.NewWorkspace(4)
	out := make([]float32, 4*m.OutputSize())
	st := []*lstm.State{m.NewState(), m.NewState()}
	if a := testing.AllocsPerRun(20, func() {
		_ = m.PredictBatch(ws, in.F32, 4, fx.Steps, out)
		_ = m.Predict(ws, in.F32, fx.Steps, out)
		_ = m.Step(ws, st, in.F32, out)
	}); a != 0 {
		t.Errorf("%v allocations per prediction", a)
	}
}

func TestForwardChecksSizes(t *testing.T) {
	fx := fixtures(t)[0]
	m := load(t, fx)
	ws := m.NewWorkspace(2)
	out := make([]float32, 8)
	seq := make([]float32, 3*fx.Steps*m.InputSize())
	f := func(what string, err error) {
		t.Helper()
		if err == nil {
			t.Errorf("%s: accepted", what)
		}
	}
	f("batch over the workspace", m.PredictBatch(ws, seq, 3, fx.Steps, out))
	f("short input", m.PredictBatch(ws, seq[:10], 1, fx.Steps, out))
	f("no room for output", m.Predict(ws, seq, fx.Steps, nil))
	f("zero steps", m.Predict(ws, seq, 0, out))
	f("foreign workspace", m.Predict(&lstm.Workspace{}, seq, fx.Steps, out))
	f("foreign state", m.Step(ws, []*lstm.State{{}}, seq, out))
}

// The vector and portable kernels agree on every fixture model, on its
// inputs and on random windows scaled to saturate the gates, within the
// parity tolerance.
func TestKernelsAgree(t *testing.T) {
	kernels := lstm.Kernels()
	if len(kernels) < 2 {
		t.Skip("no AVX2+FMA on this CPU: the portable kernels only (TestParityWithFrameworks checks them)")
	}
	r := rand.New(rand.NewPCG(3, 4))
	for _, fx := range fixtures(t) {
		m := load(t, fx)
		in := readNPY(t, fx.Inputs)
		const extra = 40
		seqs := append([]float32(nil), in.F32...)
		for range extra * fx.Steps * m.InputSize() {
			seqs = append(seqs, float32(r.NormFloat64()*3))
		}
		n := in.Shape[0] + extra
		ws := m.NewWorkspace(n)
		outs := make([][]float32, len(kernels))
		for i, k := range kernels {
			restore := lstm.UseKernels(k)
			outs[i] = make([]float32, n*m.OutputSize())
			err := m.PredictBatch(ws, seqs, n, fx.Steps, outs[i])
			restore()
			if err != nil {
				t.Fatal(err)
			}
		}
		for j, p := range outs[0] {
			v := outs[1][j]
			if d := math.Abs(float64(v - p)); d > tol*max(math.Abs(float64(p)), 1) {
				t.Errorf("%s output %d: %s %v, %s %v", fx.Name, j, kernels[1], v, kernels[0], p)
			}
		}
	}
}
