package xgboost

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// tree says where one tree lives and how to walk it.
type tree struct {
	off   int32 // first entry in Model.splits (complete) or Model.nodes (sparse)
	depth int32 // levels of a complete tree; -1 for a sparse one
	group int32 // output group (tree_info)
}

// split is one entry of a complete tree: a binary heap of depth levels
// below the root, entry 1, where the children of entry i are 2i (left) and
// 2i+1 (right), so no child index is stored. A row goes right when its
// column col is ≥ cond. A leaf above the last level is repeated over the
// whole subtree below it; the splits over those copies (column 0, cond 0)
// cannot change which value a row reaches. The last level holds the leaves,
// their value in cond. Entry 0 is unused.
//
// Every walk is then depth steps of the same branch-free arithmetic, which
// lets the CPU run the walks of many rows, or of one row's trees, at once.
type split struct {
	cond float32
	col  uint32
}

// node is one entry of a sparse tree, for trees too deep and thin to pad to
// complete: left < 0 marks a leaf (its value in cond), otherwise a row goes
// to left when its column col is below cond, to left+1 otherwise.
type node struct {
	cond float32
	col  uint32
	left int32
}

// A tree is laid out complete up to completeDepth (at most 4 KB of splits),
// deeper while padding at most quadruples it (up to maxCompleteDepth), and
// sparse otherwise: a deep thin tree walks fewer levels and touches less
// memory sparse. Variables so that tests can force either layout.
var (
	completeDepth    = 8
	maxCompleteDepth = 16
)

// treeShape is a checked tree: every node reached once from the root, in
// breadth-first order, and its depth.
type treeShape struct {
	order []int32 // node indices, breadth first
	depth int
}

// shape checks that left/right describe a tree rooted at 0 and measures it.
func shape(left, right []int64) (treeShape, error) {
	nn := len(left)
	seen := make([]bool, nn)
	level := make([]int32, nn)
	order := make([]int32, 1, nn)
	seen[0] = true
	depth := 0
	for qi := 0; qi < len(order); qi++ {
		i := order[qi]
		if left[i] == -1 {
			depth = max(depth, int(level[i]))
			continue
		}
		l, r := left[i], right[i]
		if l < 0 || l >= int64(nn) || r < 0 || r >= int64(nn) {
			return treeShape{}, fmt.Errorf("node %d: children %d, %d out of range [0, %d)", i, l, r, nn)
		}
		// seen guards against cycles and shared children, which a valid
		// tree never has.
		if seen[l] || seen[r] || l == r {
			return treeShape{}, fmt.Errorf("node %d: child reached twice (not a tree)", i)
		}
		seen[l], seen[r] = true, true
		level[l], level[r] = level[i]+1, level[i]+1
		order = append(order, int32(l), int32(r))
	}
	return treeShape{order: order, depth: depth}, nil
}

// rawTree is one tree as the file has it, checked.
type rawTree struct {
	left, right, feat []int64
	defaultLeft       []int64
	cond              []float32
	weight            float32 // DART: each leaf is scaled by it
	shape             treeShape
}

// leaf is node i's output. xgboost multiplies a DART leaf by the tree
// weight in float32 before adding it, so scaling at load gives its sums.
func (t *rawTree) leaf(i int32) float32 {
	if t.weight != 1 {
		return t.cond[i] * t.weight
	}
	return t.cond[i]
}

// place appends t to m.splits or m.nodes and says where it went; cols
// numbers the columns (numberColumns).
func (m *Model) place(t *rawTree, group int32, cols map[colID]uint32) (tree, error) {
	nn, d := len(t.left), t.shape.depth
	if d <= completeDepth || d <= maxCompleteDepth && 2<<d <= 4*nn {
		if len(m.splits)+2<<d > math.MaxInt32 {
			return tree{}, errors.New("model too large")
		}
		off := int32(len(m.splits))
		m.placeComplete(t, cols)
		return tree{off: off, depth: int32(d), group: group}, nil
	}
	if len(m.nodes)+nn > math.MaxInt32 {
		return tree{}, errors.New("model too large")
	}
	off := int32(len(m.nodes))
	m.placeSparse(t, cols)
	return tree{off: off, depth: -1, group: group}, nil
}

func (m *Model) placeComplete(t *rawTree, cols map[colID]uint32) {
	d := t.shape.depth
	first := 1 << d // the first leaf's entry
	// src[p] is the file's node at heap entry p; a leaf above the last
	// level fills both children with itself.
	src := make([]int32, 2*first)
	for p := 1; p < first; p++ {
		i := src[p]
		if t.left[i] == -1 {
			src[2*p], src[2*p+1] = i, i
		} else {
			src[2*p], src[2*p+1] = int32(t.left[i]), int32(t.right[i])
		}
	}
	base := len(m.splits)
	m.splits = slices.Grow(m.splits, 2*first)[:base+2*first]
	out := m.splits[base:]
	out[0] = split{}
	for p := 1; p < 2*first; p++ {
		i := src[p]
		switch {
		case p >= first:
			out[p] = split{cond: t.leaf(i)}
		case t.left[i] == -1:
			out[p] = split{} // padding
		default:
			out[p] = split{cond: t.cond[i], col: cols[t.colID(i)]}
		}
	}
}

// placeSparse lays the tree out breadth first with sibling pairs adjacent.
func (m *Model) placeSparse(t *rawTree, cols map[colID]uint32) {
	base := int32(len(m.nodes))
	at := make([]int32, len(t.left)) // where each file node goes
	at[0] = base
	next := base + 1
	for _, i := range t.shape.order {
		if t.left[i] != -1 {
			at[t.left[i]], at[t.right[i]] = next, next+1
			next += 2
		}
	}
	m.nodes = slices.Grow(m.nodes, len(t.shape.order))[:next]
	for _, i := range t.shape.order {
		if t.left[i] == -1 {
			m.nodes[at[i]] = node{cond: t.leaf(i), left: -1}
		} else {
			m.nodes[at[i]] = node{cond: t.cond[i], col: cols[t.colID(i)], left: at[t.left[i]]}
		}
	}
}
