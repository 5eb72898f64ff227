package lstm

import (
	"fmt"
	"math"
)

// activation is an element-wise function of the cell.
type activation uint8

const (
	actLinear activation = iota
	actSigmoid
	actTanh
	actHardSigmoid   // Keras 3 and PyTorch: clip(x/6 + 0.5, 0, 1)
	actHardSigmoidK2 // Keras 2 / TF1: clip(0.2·x + 0.5, 0, 1)
)

// parseActivation maps a Keras activation name; the meaning of
// hard_sigmoid changed with Keras 3, hence the major version.
func parseActivation(name, def string, kerasMajor int) (activation, error) {
	if name == "" {
		name = def
	}
	switch name {
	case "linear":
		return actLinear, nil
	case "sigmoid":
		return actSigmoid, nil
	case "tanh":
		return actTanh, nil
	case "hard_sigmoid":
		if kerasMajor < 3 {
			return actHardSigmoidK2, nil
		}
		return actHardSigmoid, nil
	}
	return 0, fmt.Errorf("%q: want linear, sigmoid, tanh or hard_sigmoid", name)
}

// apply maps v in place.
func (a activation) apply(v []float32) {
	switch a {
	case actSigmoid:
		for i, x := range v {
			v[i] = sigmoid(x)
		}
	case actTanh:
		for i, x := range v {
			v[i] = tanh(x)
		}
	case actHardSigmoid:
		for i, x := range v {
			v[i] = min(max(x/6+0.5, 0), 1)
		}
	case actHardSigmoidK2:
		for i, x := range v {
			v[i] = min(max(0.2*x+0.5, 0), 1)
		}
	}
}

// sigmoid and tanh are evaluated in float64 and rounded once: within half
// an ulp of the exact value, where the frameworks' vectorised float32
// versions are within one or two.
func sigmoid(x float32) float32 { return float32(1 / (1 + math.Exp(-float64(x)))) }

func tanh(x float32) float32 { return float32(math.Tanh(float64(x))) }
