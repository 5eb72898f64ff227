package linear_test

import (
	"errors"
	"math"
	"math/rand"
	"strings"
	"testing"

	"github.com/sajari/regression"

	"github.com/tickstream/tickstream/models/linear"
)

// A noise-free linear target is recovered: predictions on new rows equal
// the generating formula, with a constant feature left out and a missing
// value counted as the training mean.
func TestRecoversALinearFunction(t *testing.T) {
	names := []string{"a", "b", "const", "c"}
	truth := func(x []float32) float64 { return 2 + 3*float64(x[0]) - 0.5*float64(x[1]) + 10*float64(x[3]) }
	rng := rand.New(rand.NewSource(1))
	gen := func(n int) ([]float32, []float32) {
		xs, ys := make([]float32, 0, n*4), make([]float32, 0, n)
		for range n {
			x := []float32{float32(rng.NormFloat64()), float32(rng.NormFloat64() * 100), 7, float32(rng.Float64())}
			xs = append(xs, x...)
			ys = append(ys, float32(truth(x)))
		}
		return xs, ys
	}
	xs, ys := gen(6000) // more than MaxRows: subsampled
	m, err := linear.Train(xs, names, ys)
	if err != nil {
		t.Fatal(err)
	}
	if m.Rows != linear.MaxRows || m.Coef[2] != 0 || m.R2 < 0.999999 {
		t.Fatalf("rows %d, constant's coefficient %v, R² %v", m.Rows, m.Coef[2], m.R2)
	}
	test, _ := gen(100)
	for i := range 100 {
		row := test[i*4 : (i+1)*4]
		if got, want := float64(m.Predict(row)), truth(row); math.Abs(got-want) > 1e-4*math.Max(1, math.Abs(want)) {
			t.Fatalf("row %d: %v, want %v", i, got, want)
		}
	}
	// A missing feature is its training mean.
	row := []float32{float32(math.NaN()), 1, 7, 0.5}
	withMean := []float32{float32(m.Mean[0]), 1, 7, 0.5}
	if a, b := m.Predict(row), m.Predict(withMean); math.Abs(float64(a-b)) > 1e-5 {
		t.Errorf("missing %v, at the mean %v", a, b)
	}
	data, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := linear.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if back.Predict(test[:4]) != m.Predict(test[:4]) {
		t.Error("the file does not predict as the model")
	}
}

func TestErrors(t *testing.T) {
	if _, err := linear.Train(make([]float32, 6), []string{"a", "b"}, make([]float32, 3)); !errors.Is(err, regression.ErrNotEnoughData) {
		t.Errorf("3 rows of 2 features: %v", err)
	}
	if _, err := linear.Train(make([]float32, 7), []string{"a", "b"}, make([]float32, 4)); err == nil {
		t.Error("a ragged matrix was accepted")
	}
	f := func(doc, want string) {
		t.Helper()
		if _, err := linear.Parse([]byte(doc)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", doc, err, want)
		}
	}
	f(`{`, "unexpected end")
	f(`{"format":"other"}`, "format")
	f(`{"format":"tickstream-linear/1","features":["a"],"mean":[0],"scale":[1],"coefficients":[]}`, "1 features but")
	f(`{"format":"tickstream-linear/1","features":["a"],"mean":[0],"scale":[0],"coefficients":[1]}`, "scale > 0")
}
