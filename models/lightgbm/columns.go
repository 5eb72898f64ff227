package lightgbm

import (
	"cmp"
	"math"
	"slices"
)

// Before the trees are walked, a row is expanded into the columns the
// splits compare, each with one node's missing-value rule already applied,
// so that a node is `x ≤ thr` and nothing else. LightGBM's rule
// (Tree::NumericalDecision), after the predictor has made every |x| ≤
// kZeroThreshold a 0:
//
//	missing type None: NaN is 0, then x ≤ thr.
//	missing type Zero: NaN is 0; 0 goes to the default side; else x ≤ thr.
//	missing type NaN:  NaN goes to the default side; else x ≤ thr.
//
// A value is sent left by making it −Inf (−Inf ≤ thr for any threshold
// that is not NaN, which load refuses) and right by making it NaN (NaN ≤
// thr is false). Neither collides with a real value: a real −Inf goes left
// and a real NaN is itself handled here. So a column is a feature and what
// its 0 and its NaN become, one of five rules.
type column struct {
	feat int32
	zero float64 // what 0 becomes
	nan  float64 // what NaN becomes
}

// rule is what a node's missing type and default side ask of its column.
type rule uint8

const (
	ruleNone      rule = iota // NaN → 0
	ruleZeroLeft              // 0, NaN → −Inf
	ruleZeroRight             // 0, NaN → NaN
	ruleNaNLeft               // NaN → −Inf
	ruleNaNRight              // as is
	numRules
)

func ruleOf(missing uint8, defaultLeft bool) rule {
	switch {
	case missing == missingZero && defaultLeft:
		return ruleZeroLeft
	case missing == missingZero:
		return ruleZeroRight
	case missing == missingNaN && defaultLeft:
		return ruleNaNLeft
	case missing == missingNaN:
		return ruleNaNRight
	}
	return ruleNone
}

func (r rule) column(feat int32) column {
	left, right := math.Inf(-1), math.NaN()
	switch r {
	case ruleZeroLeft:
		return column{feat, left, left}
	case ruleZeroRight:
		return column{feat, right, right}
	case ruleNaNLeft:
		return column{feat, 0, left}
	case ruleNaNRight:
		return column{feat, 0, right}
	}
	return column{feat, 0, 0}
}

// build lays the parsed trees out in m: columns numbered by (feature,
// rule), nodes and leaves of all trees in single slices with absolute
// indices.
func (m *Model) build(trees []*rawTree) {
	key := func(t *rawTree, i int) int {
		return int(t.feat[i])*int(numRules) + int(ruleOf(t.missing[i], t.defaultLeft[i]))
	}
	num := map[int]uint32{}
	var nodes, leaves int
	for _, t := range trees {
		for i := range t.feat {
			num[key(t, i)] = 0
		}
		nodes += len(t.feat)
		leaves += len(t.leaves)
	}
	keys := make([]int, 0, len(num))
	for k := range num {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, cmp.Compare)
	m.cols = make([]column, len(keys))
	for j, k := range keys {
		num[k] = uint32(j)
		m.cols[j] = rule(k % int(numRules)).column(int32(k / int(numRules)))
	}

	m.roots = make([]int32, len(trees))
	m.nodes = make([]node, 0, nodes)
	m.leaves = make([]float64, 0, leaves)
	for ti, t := range trees {
		n0, l0 := int32(len(m.nodes)), int32(len(m.leaves))
		abs := func(c int32) int32 {
			if c < 0 {
				return ^(^c + l0)
			}
			return c + n0
		}
		if len(t.feat) == 0 {
			m.roots[ti] = ^l0
		} else {
			m.roots[ti] = n0
		}
		for i := range t.feat {
			m.nodes = append(m.nodes, node{thr: t.thr[i], col: num[key(t, i)], child: [2]int32{abs(t.left[i]), abs(t.right[i])}})
		}
		m.leaves = append(m.leaves, t.leaves...)
	}
}

// expand writes the columns of row into xs.
func (m *Model) expand(row []float32, xs []float64) {
	for j, c := range m.cols {
		x := float64(row[c.feat])
		switch {
		case x >= -kZeroThreshold && x <= kZeroThreshold:
			// LightGBM's predictor keeps only |x| > kZeroThreshold (and
			// NaN) of a dense row: the rest is 0.
			x = c.zero
		case x != x:
			x = c.nan
		}
		xs[j] = x
	}
}
