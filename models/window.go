package models

import (
	"fmt"
	"math"
)

// InputSpec is how a sequence model reads the feature ring: which features
// (by name, resolved to positions in the feature vector), how each is
// normalised, and how many steps. It comes from the model file's metadata
// (lstm.Input), so the normalisation always travels with the weights.
//
// A step's input is (x − Mean) / Std in float32, as the training script
// computes it with numpy float32 arrays, and 0 (the training mean) where x
// is NaN.
type InputSpec struct {
	Names     []string
	Cols      []int
	Mean, Std []float32
	Steps     int
}

// NewInputSpec resolves names to feature positions and checks the
// normalisation.
func NewInputSpec(names []string, mean, std []float32, steps int) (*InputSpec, error) {
	if len(names) == 0 {
		return nil, fmt.Errorf("no input features named")
	}
	if len(mean) != len(names) || len(std) != len(names) {
		return nil, fmt.Errorf("%d features but %d means and %d standard deviations", len(names), len(mean), len(std))
	}
	if steps <= 0 {
		return nil, fmt.Errorf("steps %d: want > 0", steps)
	}
	s := &InputSpec{Names: names, Mean: mean, Std: std, Steps: steps, Cols: make([]int, len(names))}
	for i, n := range names {
		c, err := FeatureIndex(n)
		if err != nil {
			return nil, err
		}
		s.Cols[i] = c
		if !(std[i] > 0) || math.IsInf(float64(std[i]), 0) || math.IsNaN(float64(mean[i])) {
			return nil, fmt.Errorf("feature %s: mean %v, std %v: want finite, std > 0", n, mean[i], std[i])
		}
	}
	return s, nil
}

// Width is the number of inputs per step.
func (s *InputSpec) Width() int { return len(s.Cols) }

// Normalise writes the normalised inputs of one feature vector into dst
// (Width values).
func (s *InputSpec) Normalise(vec, dst []float32) {
	for k, c := range s.Cols {
		z := (vec[c] - s.Mean[k]) / s.Std[k]
		if z != z {
			z = 0
		}
		dst[k] = z
	}
}

// Window writes the normalised window of the last Steps ticks, oldest
// first, into dst (Steps × Width values). It reports false, writing
// nothing, while f holds fewer ticks.
func (s *InputSpec) Window(f *Features, dst []float32) bool {
	if !f.Full(s.Steps) {
		return false
	}
	w := s.Width()
	for t := range s.Steps {
		s.Normalise(f.Row(s.Steps-1-t), dst[t*w:(t+1)*w])
	}
	return true
}
