package lightgbm

import (
	"fmt"
	"math"
	"sync"
)

// NumFeature is the length of a row (max_feature_idx + 1).
func (m *Model) NumFeature() int { return m.numFeature }

// NumOutput is how many values a prediction writes per row: always 1, as
// multiclass files are refused.
func (m *Model) NumOutput() int { return 1 }

// NumTrees is the number of trees.
func (m *Model) NumTrees() int { return len(m.roots) }

// Objective is the file's objective line, e.g. "binary sigmoid:1".
func (m *Model) Objective() string { return m.objective }

// FeatureNames are the names in the file's feature_names line (LightGBM
// writes Column_0… when training had none).
func (m *Model) FeatureNames() []string { return append([]string(nil), m.featureNames...) }

// Predict writes the prediction for one row (NumFeature float32 values, NaN
// for missing) into out[0]: lightgbm's predict, i.e. the probability for a
// binary model. It allocates nothing.
func (m *Model) Predict(row, out []float32) error { return m.PredictBatch(row, 1, out) }

// PredictRaw is Predict without the objective's transform: the sum of the
// leaves (lightgbm's predict(raw_score=True)).
func (m *Model) PredictRaw(row, out []float32) error { return m.PredictRawBatch(row, 1, out) }

// PredictBatch predicts n rows stored one after another in rows
// (n·NumFeature values) into out (n values). The result equals n calls to
// Predict.
func (m *Model) PredictBatch(rows []float32, n int, out []float32) error {
	return m.predict(rows, n, out, true)
}

// PredictRawBatch is PredictBatch without the objective's transform.
func (m *Model) PredictRawBatch(rows []float32, n int, out []float32) error {
	return m.predict(rows, n, out, false)
}

func (m *Model) predict(rows []float32, n int, out []float32, transform bool) error {
	if n < 0 || len(rows) < n*m.numFeature {
		return fmt.Errorf("lightgbm: %d rows need %d features, got %d values", n, n*m.numFeature, len(rows))
	}
	if len(out) < n {
		return fmt.Errorf("lightgbm: %d rows need %d outputs, got room for %d", n, n, len(out))
	}
	switch need := min(n, block) * len(m.cols); {
	case need <= rowScratch:
		var buf [rowScratch]float64
		m.scores(buf[:need], rows, n, out, transform)
		return nil
	case need <= blockScratch:
		var buf [blockScratch]float64
		m.scores(buf[:need], rows, n, out, transform)
		return nil
	}
	p := scratchPool.Get().(*[]float64)
	need := block * len(m.cols)
	if cap(*p) < need {
		*p = make([]float64, need)
	}
	m.scores((*p)[:need], rows, n, out, transform)
	scratchPool.Put(p)
	return nil
}

// block is how many rows share a pass over the trees: each tree is read
// once per block while it is in cache, and the block's walks of one tree
// are independent, so the CPU overlaps them.
const block = 64

// Expanded rows live on the stack when they are few: one row of up to 64
// columns without clearing a larger array on each call, or a block of up
// to 2048 values; more come from scratchPool.
const (
	rowScratch   = 64
	blockScratch = 2048
)

var scratchPool = sync.Pool{New: func() any { return new([]float64) }}

// scores writes n rows' outputs, expanding each block of rows into xs.
// Each row sums its trees in file order in float64, as LightGBM does.
func (m *Model) scores(xs []float64, rows []float32, n int, out []float32, transform bool) {
	nf, w := m.numFeature, len(m.cols)
	var sum [block]float64
	for lo := 0; lo < n; lo += block {
		k := min(block, n-lo)
		for r := range k {
			m.expand(rows[(lo+r)*nf:(lo+r+1)*nf], xs[r*w:(r+1)*w])
			sum[r] = 0
		}
		for _, root := range m.roots {
			if root < 0 { // a lone leaf
				v := m.leaves[^root]
				for r := range k {
					sum[r] += v
				}
				continue
			}
			for r := range k {
				sum[r] += m.walk(root, xs[r*w:(r+1)*w])
			}
		}
		for r := range k {
			v := sum[r]
			if transform && m.sigmoid != 0 {
				v = 1 / (1 + math.Exp(-m.sigmoid*v))
			}
			out[lo+r] = float32(v)
		}
	}
}

// walk descends from node i to a leaf for the expanded row x and returns
// the leaf's value. Load checked that every child is in range and that the
// walk ends.
func (m *Model) walk(i int32, x []float64) float64 {
	nodes := m.nodes
	for i >= 0 {
		nd := &nodes[i]
		i = nd.child[b2i(!(x[nd.col] <= nd.thr))]
	}
	return m.leaves[^i]
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
