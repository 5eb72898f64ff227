package lightgbm

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// naiveRaw is LightGBM's prediction transcribed literally, with none of
// the column expansion: the predictor's dense row (|x| ≤ kZeroThreshold
// dropped to 0), then Tree::NumericalDecision at each node, leaves summed
// from 0 in file order.
func naiveRaw(trees []*rawTree, row []float32) float64 {
	sum := 0.0
	for _, t := range trees {
		if len(t.feat) == 0 {
			sum += t.leaves[0]
			continue
		}
		i := int32(0)
		for i >= 0 {
			fval := float64(row[t.feat[i]])
			if !(math.Abs(fval) > kZeroThreshold || math.IsNaN(fval)) {
				fval = 0
			}
			if math.IsNaN(fval) && t.missing[i] != missingNaN {
				fval = 0
			}
			isZero := fval >= -kZeroThreshold && fval <= kZeroThreshold
			switch {
			case t.missing[i] == missingZero && isZero, t.missing[i] == missingNaN && math.IsNaN(fval):
				if t.defaultLeft[i] {
					i = t.left[i]
				} else {
					i = t.right[i]
				}
			case fval <= t.thr[i]:
				i = t.left[i]
			default:
				i = t.right[i]
			}
		}
		sum += t.leaves[^i]
	}
	return sum
}

func rawTrees(t *testing.T, data []byte) []*rawTree {
	t.Helper()
	_, blocks, err := sections(splitLines(data)[1:])
	if err != nil {
		t.Fatal(err)
	}
	var out []*rawTree
	for _, b := range blocks {
		rt, err := parseTree(b, 13, nil)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, rt)
	}
	return out
}

// Rows made of the values the missing-value rules tell apart (NaN, ±0,
// ±kZeroThreshold and values either side of it, ±Inf, thresholds and
// their neighbours) give the same raw score by the column expansion as by
// the literal rule, to the bit.
func TestExpansionEqualsNaiveRule(t *testing.T) {
	for _, name := range []string{"reg", "binary", "reg_zero", "binary_zero", "reg_nomissing", "stump"} {
		data, err := os.ReadFile(filepath.Join("..", "testdata", "lightgbm", name+".txt"))
		if err != nil {
			t.Fatal(err)
		}
		m, err := Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		trees := rawTrees(t, data)
		kz := float32(1e-35)
		special := []float32{float32(math.NaN()), 0, float32(math.Copysign(0, -1)), kz, -kz,
			math.Nextafter32(kz, 1), -math.Nextafter32(kz, 1), math.Nextafter32(kz, 0), 1e-45,
			float32(math.Inf(1)), float32(math.Inf(-1))}
		var thr [13][]float32
		for _, rt := range trees {
			for i, f := range rt.feat {
				c := float32(rt.thr[i])
				thr[f] = append(thr[f], c, math.Nextafter32(c, float32(math.Inf(-1))), math.Nextafter32(c, float32(math.Inf(1))))
			}
		}
		rng := rand.New(rand.NewPCG(1, 2))
		row, out := make([]float32, 13), []float32{0}
		for range 3000 {
			for f := range row {
				switch k := rng.IntN(3); {
				case k == 0 || len(thr[f]) == 0:
					row[f] = special[rng.IntN(len(special))]
				case k == 1:
					row[f] = thr[f][rng.IntN(len(thr[f]))]
				default:
					row[f] = float32(rng.NormFloat64())
				}
			}
			if err := m.PredictRaw(row, out); err != nil {
				t.Fatal(err)
			}
			if want := float32(naiveRaw(trees, row)); math.Float32bits(out[0]) != math.Float32bits(want) {
				t.Fatalf("%s, row %v: %v, the literal rule %v", name, row, out[0], want)
			}
		}
	}
}
