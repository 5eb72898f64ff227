package xgboost_test

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/tickstream/tickstream/models/xgboost"
)

// refTree is a tree as xgboost's JSON has it, walked below the way
// xgboost's CPU predictor documents it, one node at a time: missing goes
// the default way, else left when x < cond in float32. It is the
// reference the re-laid-out trees are checked against.
type refTree struct {
	left, right, feat []int
	cond              []float32
	defaultLeft       []bool
}

func (t *refTree) leaf(row []float32) float32 {
	i := 0
	for t.left[i] != -1 {
		x := row[t.feat[i]]
		switch {
		case math.IsNaN(float64(x)):
			if t.defaultLeft[i] {
				i = t.left[i]
			} else {
				i = t.right[i]
			}
		case x < t.cond[i]:
			i = t.left[i]
		default:
			i = t.right[i]
		}
	}
	return t.cond[i]
}

// grow adds a random subtree of at most depth levels and returns its root.
// Nodes are numbered depth first, unlike xgboost's breadth-first files, so
// the loader must not rely on the numbering.
func (t *refTree) grow(rng *rand.Rand, depth, nf int, conds []float32, leafProb float64) int {
	i := len(t.left)
	t.left, t.right, t.feat = append(t.left, -1), append(t.right, -1), append(t.feat, 0)
	t.cond, t.defaultLeft = append(t.cond, 0), append(t.defaultLeft, false)
	if depth == 0 || rng.Float64() < leafProb {
		t.cond[i] = float32(rng.NormFloat64())
		return i
	}
	t.feat[i] = rng.IntN(nf)
	t.cond[i] = conds[rng.IntN(len(conds))]
	t.defaultLeft[i] = rng.IntN(2) == 0
	l := t.grow(rng, depth-1, nf, conds, leafProb)
	r := t.grow(rng, depth-1, nf, conds, leafProb)
	t.left[i], t.right[i] = l, r
	return i
}

// refModel is a random regression model and its JSON file.
type refModel struct {
	nf    int
	base  float32
	trees []refTree
	conds []float32
	file  []byte
}

func newRefModel(t *testing.T, seed uint64, nf, trees, depth int, leafProb float64) *refModel {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	m := &refModel{nf: nf, base: 0.5}
	// Conditions from a small set, so rows can sit exactly on them; -0
	// must compare equal to +0.
	m.conds = []float32{float32(math.Copysign(0, -1)), 0, 1, -1, 0.25, 3.5e-3, 1e30, -1e30}
	for range 8 {
		m.conds = append(m.conds, float32(rng.NormFloat64()))
	}
	var js []map[string]any
	for range trees {
		var rt refTree
		rt.grow(rng, depth, nf, m.conds, leafProb)
		m.trees = append(m.trees, rt)
		js = append(js, map[string]any{
			"left_children": rt.left, "right_children": rt.right, "split_indices": rt.feat,
			"split_conditions": rt.cond, "default_left": rt.defaultLeft,
			"split_type": make([]int, len(rt.left)),
		})
	}
	doc := map[string]any{"learner": map[string]any{
		"learner_model_param": map[string]any{"num_feature": fmt.Sprint(nf), "base_score": "5E-1"},
		"objective":           map[string]any{"name": "reg:squarederror"},
		"gradient_booster":    map[string]any{"name": "gbtree", "model": map[string]any{"trees": js}},
	}}
	var err error
	if m.file, err = json.Marshal(doc); err != nil {
		t.Fatal(err)
	}
	return m
}

// rows are random rows of values that stress the comparison: the
// conditions themselves and their float32 neighbours, ±0, ±Inf, NaN.
func (m *refModel) rows(seed uint64, n int) []float32 {
	rng := rand.New(rand.NewPCG(seed, 2))
	out := make([]float32, n*m.nf)
	for i := range out {
		c := m.conds[rng.IntN(len(m.conds))]
		switch rng.IntN(8) {
		case 0:
			out[i] = float32(math.NaN())
		case 1:
			out[i] = float32(math.Inf(2*rng.IntN(2) - 1))
		case 2:
			out[i] = math.Nextafter32(c, float32(math.Inf(1)))
		case 3:
			out[i] = math.Nextafter32(c, float32(math.Inf(-1)))
		case 4:
			out[i] = float32(rng.NormFloat64())
		default:
			out[i] = c
		}
	}
	return out
}

// margin is the reference margin of row: the base, plus each tree's leaf
// in order, in float32.
func (m *refModel) margin(row []float32) float32 {
	sum := m.base
	for i := range m.trees {
		sum += m.trees[i].leaf(row)
	}
	return sum
}

// Every way to predict equals the reference bit for bit, whichever layout
// the trees get.
func TestReferenceWalk(t *testing.T) {
	f := func(name string, nf, trees, depth int, leafProb float64, always, upTo int, wantComplete, wantSparse bool) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			defer xgboost.SetLayoutDepths(always, upTo)()
			ref := newRefModel(t, uint64(nf*1000+depth), nf, trees, depth, leafProb)
			m, err := xgboost.Parse(ref.file)
			if err != nil {
				t.Fatal(err)
			}
			complete, sparse := xgboost.Layouts(m)
			if (complete > 0) != wantComplete || (sparse > 0) != wantSparse {
				t.Fatalf("%d complete and %d sparse trees: not the layouts this case is for", complete, sparse)
			}
			const n = 203 // not a multiple of the block of rows nor of 2
			rows := ref.rows(uint64(depth), n)
			batch := make([]float32, n)
			if err := m.PredictBatch(rows, n, batch); err != nil {
				t.Fatal(err)
			}
			one := make([]float32, 1)
			for r := range n {
				row := rows[r*nf : (r+1)*nf]
				want := ref.margin(row)
				if err := m.PredictMargin(row, one); err != nil {
					t.Fatal(err)
				}
				if math.Float32bits(one[0]) != math.Float32bits(want) || math.Float32bits(batch[r]) != math.Float32bits(want) {
					t.Fatalf("row %d %v: one row %v, batch %v, reference %v", r, row, one[0], batch[r], want)
				}
			}
		})
	}
	f("shallow", 6, 50, 4, 0.2, 9, 16, true, false)
	f("full depth 6", 13, 40, 6, 0, 9, 16, true, false)
	f("deep and thin", 8, 30, 14, 0.35, 9, 16, true, true)
	f("all sparse", 8, 30, 8, 0.2, -1, -1, false, true)
	f("all complete", 8, 30, 12, 0.3, 16, 16, true, false)
	f("single leaves", 0, 5, 0, 0, 9, 16, true, false)
	// More columns than a block's stack scratch: rows one at a time from
	// the pool.
	f("wide", 6000, 20, 9, 0, 9, 16, true, false)
}

// The wide case's scratch comes from a pool; once warm it allocates
// nothing either.
func TestWidePredictAllocatesNothing(t *testing.T) {
	ref := newRefModel(t, 1, 6000, 20, 9, 0)
	m, err := xgboost.Parse(ref.file)
	if err != nil {
		t.Fatal(err)
	}
	if w := xgboost.Columns(m); w <= 4096 {
		t.Fatalf("%d columns: too few to need the pool", w)
	}
	rows := ref.rows(1, 3)
	out := make([]float32, 3)
	if a := testing.AllocsPerRun(100, func() { _ = m.PredictBatch(rows, 3, out) }); a != 0 {
		t.Errorf("%v allocations per batch", a)
	}
}
