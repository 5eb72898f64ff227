package lightgbm

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// decision_type bits, as LightGBM's tree.h reads them.
const (
	categoricalMask = 1 // a categorical split: refused
	defaultLeftMask = 2 // missing values go left
)

// Missing types, (decision_type >> 2) & 3.
const (
	missingNone = 0 // no missing values in training: NaN is 0
	missingZero = 1 // zero_as_missing: 0 and NaN go to the default side
	missingNaN  = 2 // NaN goes to the default side; 0 is a value
)

// kZeroThreshold is LightGBM's 1e-35f widened to double: the predictor
// drops a value within it of zero, and the binner puts thresholds at ±it.
var kZeroThreshold = float64(float32(1e-35))

// rawTree is one tree as the file gives it: internal nodes 0…n-2 (0 the
// root), a child below 0 being leaf ^child.
type rawTree struct {
	feat        []int32
	thr         []float64
	missing     []uint8
	defaultLeft []bool
	left, right []int32
	leaves      []float64
}

// parseTree reads one "Tree=i" block and checks it is a tree that the walk
// can follow: every node reached once from the root, features in range,
// thresholds and leaves numbers.
func parseTree(kv map[string]string, numFeature int, names []string) (*rawTree, error) {
	v, ok := kv["num_leaves"]
	if !ok {
		return nil, errors.New("no num_leaves line")
	}
	numLeaves, err := strconv.Atoi(v)
	if err != nil || numLeaves < 1 {
		return nil, fmt.Errorf("num_leaves=%.20q, want a positive integer", v)
	}
	if v := kv["is_linear"]; v != "" && v != "0" {
		return nil, fmt.Errorf("is_linear=%.20q: linear trees are %w", v, ErrUnsupported)
	}
	t := &rawTree{}
	if t.leaves, err = floats(kv, "leaf_value", numLeaves); err != nil {
		return nil, err
	}
	for i, x := range t.leaves {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("leaf %d has value %v", i, x)
		}
	}
	n := numLeaves - 1
	if n == 0 { // a lone leaf; the split lines are empty
		if err := noCategories(kv); err != nil {
			return nil, err
		}
		return t, nil
	}
	var dt []int32
	if t.feat, err = ints(kv, "split_feature", n); err != nil {
		return nil, err
	}
	if t.thr, err = floats(kv, "threshold", n); err != nil {
		return nil, err
	}
	if dt, err = ints(kv, "decision_type", n); err != nil {
		return nil, err
	}
	if t.left, err = ints(kv, "left_child", n); err != nil {
		return nil, err
	}
	if t.right, err = ints(kv, "right_child", n); err != nil {
		return nil, err
	}
	t.missing, t.defaultLeft = make([]uint8, n), make([]bool, n)
	for i := range n {
		if f := t.feat[i]; f < 0 || int(f) >= numFeature {
			return nil, fmt.Errorf("node %d splits on feature %d; the model has %d", i, f, numFeature)
		}
		if math.IsNaN(t.thr[i]) {
			return nil, fmt.Errorf("node %d has threshold NaN", i)
		}
		d := dt[i]
		if d < 0 || d > 15 {
			return nil, fmt.Errorf("node %d: decision_type %d out of range", i, d)
		}
		if d&categoricalMask != 0 {
			f := t.feat[i]
			if int(f) < len(names) {
				return nil, fmt.Errorf("node %d: a categorical split on feature %d (%s): %w", i, f, names[f], ErrUnsupported)
			}
			return nil, fmt.Errorf("node %d: a categorical split on feature %d: %w", i, f, ErrUnsupported)
		}
		t.missing[i], t.defaultLeft[i] = uint8(d>>2&3), d&defaultLeftMask != 0
		if t.missing[i] > missingNaN {
			return nil, fmt.Errorf("node %d: decision_type %d has missing type 3, which LightGBM does not define", i, d)
		}
	}
	if err := t.checkShape(); err != nil {
		return nil, err
	}
	if err := noCategories(kv); err != nil {
		return nil, err
	}
	return t, nil
}

// noCategories refuses a tree whose num_cat says it has categorical splits
// that no decision_type showed (a categorical split is named by its node
// above).
func noCategories(kv map[string]string) error {
	if v := kv["num_cat"]; v != "" && v != "0" {
		return fmt.Errorf("num_cat=%.20q: categorical splits are %w", v, ErrUnsupported)
	}
	return nil
}

// checkShape checks that the children make a tree rooted at node 0 in
// which every node and leaf is reached exactly once, so a walk ends.
func (t *rawTree) checkShape() error {
	n := len(t.feat)
	seenNode, seenLeaf := make([]bool, n), make([]bool, len(t.leaves))
	stack := []int32{0}
	seenNode[0] = true
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, c := range [2]int32{t.left[i], t.right[i]} {
			switch {
			case c >= 0 && int(c) < n && !seenNode[c]:
				seenNode[c] = true
				stack = append(stack, c)
			case c < 0 && int(^c) < len(seenLeaf) && !seenLeaf[^c]:
				seenLeaf[^c] = true
			default:
				return fmt.Errorf("node %d: child %d is out of range or reached twice", i, c)
			}
		}
	}
	for i, ok := range seenNode {
		if !ok {
			return fmt.Errorf("node %d is not reached from the root", i)
		}
	}
	// n nodes have 2n children: n-1 are nodes, so n+1 = every leaf is one.
	return nil
}

func fields(kv map[string]string, key string, n int) ([]string, error) {
	v, ok := kv[key]
	if !ok {
		return nil, fmt.Errorf("no %s line", key)
	}
	f := strings.Fields(v)
	if len(f) != n {
		return nil, fmt.Errorf("%s has %d values, want %d (a truncated file?)", key, len(f), n)
	}
	return f, nil
}

func floats(kv map[string]string, key string, n int) ([]float64, error) {
	f, err := fields(kv, key, n)
	if err != nil {
		return nil, err
	}
	out := make([]float64, n)
	for i, s := range f {
		if out[i], err = strconv.ParseFloat(s, 64); err != nil {
			return nil, fmt.Errorf("%s value %d: %.30q is not a number", key, i, s)
		}
	}
	return out, nil
}

func ints(kv map[string]string, key string, n int) ([]int32, error) {
	f, err := fields(kv, key, n)
	if err != nil {
		return nil, err
	}
	out := make([]int32, n)
	for i, s := range f {
		x, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("%s value %d: %.30q is not an integer", key, i, s)
		}
		out[i] = int32(x)
	}
	return out, nil
}
