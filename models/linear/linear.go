// Package linear is the baseline every prediction model must beat: an
// ordinary least-squares regression on the same feature vector, trained in
// Go with github.com/sajari/regression and served with a dot product.
//
// Features are standardised with their training mean and standard deviation
// before the fit, which keeps the QR factorisation well conditioned (gap_s,
// for one, is almost constant), and a missing (NaN) feature counts as its
// training mean. A feature that is constant in training gets no
// coefficient.
//
// The package must not know where features come from; it maps float32 rows
// to one float32 value. Training is for offline use: sajari/regression
// forms the full Q of the QR factorisation, rows × rows float64, so Train
// subsamples to MaxRows.
package linear

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"

	"github.com/sajari/regression"
)

// Format identifies the JSON model file.
const Format = "tickstream-linear/1"

// MaxRows bounds the rows Train fits on: sajari/regression allocates
// rows² float64s for Q (4000 rows: 128 MB).
const MaxRows = 4000

// Model is a fitted linear model, as stored in its JSON file.
type Model struct {
	Format    string    `json:"format"`
	Features  []string  `json:"features"`
	Mean      []float64 `json:"mean"`  // training mean: centre, and the value of a missing feature
	Scale     []float64 `json:"scale"` // training standard deviation (1 for a constant feature)
	Coef      []float64 `json:"coefficients"`
	Intercept float64   `json:"intercept"`
	R2        float64   `json:"r2"` // in-sample, as sajari/regression reports it
	Rows      int       `json:"trained_rows"`
	Horizon   string    `json:"horizon,omitempty"`
	Target    string    `json:"target,omitempty"`
}

// Train fits y on the n rows of rows (n × len(names) values, NaN for
// missing). Rows whose label is NaN are skipped; of the rest, an evenly
// spaced subset of at most MaxRows is used.
func Train(rows []float32, names []string, y []float32) (*Model, error) {
	nf := len(names)
	if nf == 0 || len(rows) != len(y)*nf {
		return nil, fmt.Errorf("linear: %d values for %d labels of %d features", len(rows), len(y), nf)
	}
	var use []int
	for i, v := range y {
		if !math.IsNaN(float64(v)) {
			use = append(use, i)
		}
	}
	if len(use) > MaxRows {
		step := float64(len(use)) / MaxRows
		sub := make([]int, MaxRows)
		for k := range sub {
			sub[k] = use[int(float64(k)*step)]
		}
		use = sub
	}
	if len(use) <= nf+1 {
		return nil, fmt.Errorf("linear: %d labelled rows, need more than %d: %w", len(use), nf+1, regression.ErrNotEnoughData)
	}
	m := &Model{Format: Format, Features: append([]string(nil), names...),
		Mean: make([]float64, nf), Scale: make([]float64, nf), Coef: make([]float64, nf), Rows: len(use)}
	var vars []int // the features that vary: a constant column would equal the intercept's and make R singular
	for j := range nf {
		var sum, sq float64
		cnt := 0
		for _, i := range use {
			if x := float64(rows[i*nf+j]); !math.IsNaN(x) {
				sum, sq, cnt = sum+x, sq+x*x, cnt+1
			}
		}
		m.Scale[j] = 1
		if cnt > 0 {
			m.Mean[j] = sum / float64(cnt)
			if v := sq/float64(cnt) - m.Mean[j]*m.Mean[j]; v > 1e-12*max(1, m.Mean[j]*m.Mean[j]) {
				m.Scale[j] = math.Sqrt(v)
				vars = append(vars, j)
			}
		}
	}
	r := new(regression.Regression)
	r.SetObserved("y")
	for k, j := range vars {
		r.SetVar(k, names[j])
	}
	pts := make(regression.DataPoints, 0, len(use))
	for _, i := range use {
		x := make([]float64, len(vars))
		for k, j := range vars {
			x[k] = m.standard(float64(rows[i*nf+j]), j)
		}
		pts = append(pts, regression.DataPoint(float64(y[i]), x))
	}
	r.Train(pts...)
	if err := r.Run(); err != nil {
		return nil, fmt.Errorf("linear: %w", err)
	}
	m.Intercept = r.Coeff(0)
	for k, j := range vars {
		m.Coef[j] = r.Coeff(k + 1)
	}
	m.R2 = r.R2
	return m, m.check()
}

func (m *Model) standard(x float64, j int) float64 {
	if math.IsNaN(x) {
		return 0
	}
	return (x - m.Mean[j]) / m.Scale[j]
}

// Predict returns the model's value for one row of len(Features) values.
func (m *Model) Predict(row []float32) float32 {
	s := m.Intercept
	for j, c := range m.Coef {
		s += c * m.standard(float64(row[j]), j)
	}
	return float32(s)
}

// PredictBatch predicts n rows stored one after another.
func (m *Model) PredictBatch(rows []float32, n int, out []float32) error {
	nf := len(m.Features)
	if n < 0 || len(rows) < n*nf || len(out) < n {
		return fmt.Errorf("linear: %d rows need %d values and %d outputs, got %d and %d", n, n*nf, n, len(rows), len(out))
	}
	for r := range n {
		out[r] = m.Predict(rows[r*nf : (r+1)*nf])
	}
	return nil
}

// Marshal encodes the model file.
func (m *Model) Marshal() ([]byte, error) { return json.MarshalIndent(m, "", "  ") }

// Parse decodes and checks a model file.
func Parse(data []byte) (*Model, error) {
	var m Model
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("linear: %w", err)
	}
	if m.Format != Format {
		return nil, fmt.Errorf("linear: format %q, want %q", m.Format, Format)
	}
	return &m, m.check()
}

// Load reads a model file.
func Load(path string) (*Model, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("linear: %w", err)
	}
	m, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

func (m *Model) check() error {
	nf := len(m.Features)
	if nf == 0 || len(m.Mean) != nf || len(m.Scale) != nf || len(m.Coef) != nf {
		return fmt.Errorf("linear: %d features but %d means, %d scales, %d coefficients", nf, len(m.Mean), len(m.Scale), len(m.Coef))
	}
	bad := func(x float64) bool { return math.IsNaN(x) || math.IsInf(x, 0) }
	if bad(m.Intercept) {
		return errors.New("linear: intercept is not finite")
	}
	for j := range nf {
		if bad(m.Mean[j]) || bad(m.Coef[j]) || bad(m.Scale[j]) || m.Scale[j] <= 0 {
			return fmt.Errorf("linear: feature %s: mean %v, scale %v, coefficient %v: want finite, scale > 0",
				m.Features[j], m.Mean[j], m.Scale[j], m.Coef[j])
		}
	}
	return nil
}
