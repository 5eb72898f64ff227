package xgboost

import (
	"fmt"
	"sync"
	"unsafe"
)

// NumFeature is the length of a row (learner_model_param.num_feature).
func (m *Model) NumFeature() int { return m.numFeature }

// NumOutput is how many values Predict writes per row: the number of output
// groups (classes for multi:softprob, targets for multi-target models), or 1
// for multi:softmax, which writes the winning class.
func (m *Model) NumOutput() int {
	if m.link == linkSoftmax {
		return 1
	}
	return m.numGroup
}

// NumTrees is the number of trees, across all output groups.
func (m *Model) NumTrees() int { return len(m.trees) }

// Objective is learner.objective.name, e.g. "binary:logistic".
func (m *Model) Objective() string { return m.objective }

// FeatureNames are the names the model was trained with, if it was given
// any (xgboost stores them when the training DMatrix had them).
func (m *Model) FeatureNames() []string { return append([]string(nil), m.featureNames...) }

// Attr returns a learner attribute (Booster.set_attr), "" if absent. The
// fixture models carry horizon and target this way.
func (m *Model) Attr(key string) string { return m.attrs[key] }

// Version is the xgboost version that wrote the file.
func (m *Model) Version() [3]int { return m.version }

// Predict writes the prediction for one row (NumFeature float32 values, NaN
// for missing) into out, which must hold NumOutput values. It allocates
// nothing.
func (m *Model) Predict(row, out []float32) error {
	return m.PredictBatch(row, 1, out)
}

// PredictMargin is Predict without the objective's transform: the raw sum
// of leaves and base margin (xgboost's output_margin=True). out must hold
// one value per output group.
func (m *Model) PredictMargin(row, out []float32) error {
	if err := m.check(row, 1, out, m.numGroup); err != nil {
		return err
	}
	m.margins(row, 1, out)
	return nil
}

// PredictBatch predicts n rows stored one after another in rows
// (n·NumFeature values) into out (n·NumOutput values). Trees are walked for
// a block of rows at a time, so a batch reads each tree once per block
// instead of once per row; every row still sums its trees in file order,
// so the result equals n calls to Predict.
func (m *Model) PredictBatch(rows []float32, n int, out []float32) error {
	if err := m.check(rows, n, out, m.NumOutput()); err != nil {
		return err
	}
	if m.link != linkSoftmax {
		m.margins(rows, n, out)
		g := m.numGroup
		for r := range n {
			m.link.transform(out[r*g : (r+1)*g])
		}
		return nil
	}
	// Softmax needs every group's margin but writes one value per row.
	var buf [64]float32
	g := m.numGroup
	for r := range n {
		margin := buf[:min(g, len(buf))]
		if g > len(buf) {
			margin = make([]float32, g) // more than 64 classes: rare enough to allocate
		}
		m.margins(rows[r*m.numFeature:(r+1)*m.numFeature], 1, margin)
		m.link.transform(margin)
		out[r] = margin[0]
	}
	return nil
}

func (m *Model) check(rows []float32, n int, out []float32, perRow int) error {
	if n < 0 || len(rows) < n*m.numFeature {
		return fmt.Errorf("xgboost: %d rows need %d features, got %d values", n, n*m.numFeature, len(rows))
	}
	if len(out) < n*perRow {
		return fmt.Errorf("xgboost: %d rows need %d outputs, got room for %d", n, n*perRow, len(out))
	}
	return nil
}

// block is how many rows share a pass over the trees, as in xgboost's CPU
// predictor: each tree is read once per block while it is in cache, and
// the block's expanded rows stay in L1.
const block = 64

// Scratch for a block's expanded rows lives on the stack when it is small,
// otherwise in scratchPool. rowScratch serves one row without clearing a
// larger array on each call.
const (
	rowScratch   = 256
	blockScratch = 4096
)

var scratchPool = sync.Pool{New: func() any { return new([]float32) }}

// margins writes n rows' margins (numGroup per row) into out: the base
// margin plus every tree's leaf, added in float32 in file order as
// xgboost does, so the sums are its bits.
func (m *Model) margins(rows []float32, n int, out []float32) {
	g := m.numGroup
	for r := range n {
		copy(out[r*g:(r+1)*g], m.base)
	}
	w := len(m.cols)
	// Rows per block: fewer than block when rows have many columns, so
	// that a block's columns fit blockScratch.
	bs := min(n, block, max(1, blockScratch/max(w, 1)))
	switch need := bs * w; {
	case need <= rowScratch:
		var buf [rowScratch]float32
		m.marginsIn(buf[:need], bs, rows, n, out)
	case need <= blockScratch:
		var buf [blockScratch]float32
		m.marginsIn(buf[:need], bs, rows, n, out)
	default:
		p := scratchPool.Get().(*[]float32)
		if cap(*p) < need {
			*p = make([]float32, need)
		}
		m.marginsIn((*p)[:need], bs, rows, n, out)
		scratchPool.Put(p)
	}
}

// marginsIn does margins in blocks of bs rows, expanding each into xs.
func (m *Model) marginsIn(xs []float32, bs int, rows []float32, n int, out []float32) {
	nf, g, w := m.numFeature, m.numGroup, len(m.cols)
	for lo := 0; lo < n; lo += bs {
		k := min(bs, n-lo)
		for r := range k {
			m.expand(rows[(lo+r)*nf:(lo+r+1)*nf], xs[r*w:(r+1)*w])
		}
		if k == 1 {
			m.addTreesRow(xs[:w], out[lo*g:(lo+1)*g])
		} else {
			m.addTrees(xs[:k*w], k, out[lo*g:(lo+k)*g])
		}
	}
}

// addTrees adds every tree's leaf for the k rows expanded in xs to out,
// tree by tree: each tree is walked for all k rows while it is in cache,
// and each row still sums its trees in file order.
func (m *Model) addTrees(xs []float32, k int, out []float32) {
	g, w := m.numGroup, len(m.cols)
	ts := m.trees
	for t := 0; t < len(ts); t++ {
		if ts[t].depth < 0 {
			t += m.addSparse(ts[t:], xs[:k*w], w, k, out, g) - 1
			continue
		}
		addComplete(m.splits[ts[t].off:int(ts[t].off)+2<<ts[t].depth], int(ts[t].depth), xs, w, k, out[ts[t].group:], g)
	}
}

// addTreesRow is addTrees for one row: with no rows to share a tree, the
// CPU overlaps the walks of successive trees instead.
func (m *Model) addTreesRow(x []float32, out []float32) {
	xp := unsafe.Pointer(unsafe.SliceData(x))
	ts := m.trees
	for t := 0; t < len(ts); t++ {
		if ts[t].depth < 0 {
			t += m.addSparse(ts[t:], x, len(x), 1, out, 0) - 1
			continue
		}
		s := m.splits[ts[t].off : int(ts[t].off)+2<<ts[t].depth]
		out[ts[t].group] += walk(unsafe.Pointer(unsafe.SliceData(s)), xp, int(ts[t].depth))
	}
}

// addComplete adds the leaf of the complete tree s, of depth d, for each
// of the k rows of xs (w columns each) to out[r·g]. Two rows walk side by
// side, which shares the loop's own work between them.
func addComplete(s []split, d int, xs []float32, w, k int, out []float32, g int) {
	xs = xs[:k*w]
	sp := unsafe.Pointer(unsafe.SliceData(s))
	xp := unsafe.Pointer(unsafe.SliceData(xs))
	for r := 0; r < k; r += 2 {
		if r+1 == k {
			out[r*g] += walk(sp, xp, d)
			break
		}
		xq := unsafe.Add(xp, w*4)
		i, j := uintptr(1), uintptr(1)
		for range d {
			i = step(sp, xp, i)
			j = step(sp, xq, j)
		}
		out[r*g] += (*split)(unsafe.Add(sp, i*8)).cond
		out[r*g+g] += (*split)(unsafe.Add(sp, j*8)).cond
		if r+2 < k { // no pointer past the end of xs
			xp = unsafe.Add(xq, w*4)
		}
	}
}

// walk descends the complete tree s, of depth d, for the row whose columns
// start at xp, and returns the leaf it reaches.
//
// The loads are unsafe because a bounds check on each would double the
// work of a step. They stay in bounds by construction: s holds the tree's
// 2^(d+1) entries (the callers slice m.splits so) and i < 2^(l+1) after l
// steps; every column a split names is below len(m.cols), the length of
// the row at xp (the callers slice xs so); and a tree with no split reads
// no column.
func walk(sp, xp unsafe.Pointer, d int) float32 {
	i := uintptr(1)
	for range d {
		i = step(sp, xp, i)
	}
	return (*split)(unsafe.Add(sp, i*8)).cond
}

// step moves from split i to the child the row at xp goes to.
func step(sp, xp unsafe.Pointer, i uintptr) uintptr {
	nd := (*split)(unsafe.Add(sp, i*8))
	x := *(*float32)(unsafe.Add(xp, uintptr(nd.col)*4))
	return 2*i + b2u(x >= nd.cond)
}

// addSparse adds the leaves of ts[0], a sparse tree, for the k rows of xs
// (w columns each) to out[r·g + group], and returns how many trees it
// did: four at once when the next three are sparse too. A sparse walk
// ends at a different depth for each row, a branch the CPU mispredicts;
// walking four trees in step pays that once for four, and overlaps their
// loads. Their leaves are still added in tree order.
func (m *Model) addSparse(ts []tree, xs []float32, w, k int, out []float32, g int) int {
	nodes := m.nodes
	if len(ts) < 4 || ts[1].depth >= 0 || ts[2].depth >= 0 || ts[3].depth >= 0 {
		for r := range k {
			x := xs[r*w : (r+1)*w]
			i := ts[0].off
			for nodes[i].left >= 0 {
				nd := &nodes[i]
				i = nd.left + int32(b2u(x[nd.col] >= nd.cond))
			}
			out[r*g+int(ts[0].group)] += nodes[i].cond
		}
		return 1
	}
	for r := range k {
		x := xs[r*w : (r+1)*w]
		i0, i1, i2, i3 := ts[0].off, ts[1].off, ts[2].off, ts[3].off
		for {
			n0, n1, n2, n3 := &nodes[i0], &nodes[i1], &nodes[i2], &nodes[i3]
			more := false
			if n0.left >= 0 {
				i0, more = n0.left+int32(b2u(x[n0.col] >= n0.cond)), true
			}
			if n1.left >= 0 {
				i1, more = n1.left+int32(b2u(x[n1.col] >= n1.cond)), true
			}
			if n2.left >= 0 {
				i2, more = n2.left+int32(b2u(x[n2.col] >= n2.cond)), true
			}
			if n3.left >= 0 {
				i3, more = n3.left+int32(b2u(x[n3.col] >= n3.cond)), true
			}
			if !more {
				break
			}
		}
		o := out[r*g:]
		o[ts[0].group] += nodes[i0].cond
		o[ts[1].group] += nodes[i1].cond
		o[ts[2].group] += nodes[i2].cond
		o[ts[3].group] += nodes[i3].cond
	}
	return 4
}

func b2u(b bool) uintptr {
	if b {
		return 1
	}
	return 0
}
