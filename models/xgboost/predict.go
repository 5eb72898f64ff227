package xgboost

import "fmt"

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
func (m *Model) NumTrees() int { return len(m.roots) }

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

// block is how many rows share a pass over the trees: xgboost's CPU
// predictor uses the same size, and it keeps the rows' sums in L1.
const block = 64

// margins writes n rows' margins (numGroup per row) into out.
//
// A tree walk is a chain of dependent loads, so a row walks four trees at
// once: the CPU overlaps their memory latency. Their leaves are still added
// in tree order, which keeps the float32 sum identical to xgboost's.
func (m *Model) margins(rows []float32, n int, out []float32) {
	g, nf := m.numGroup, m.numFeature
	for r := range n {
		copy(out[r*g:(r+1)*g], m.base)
	}
	nodes, roots, group := m.nodes, m.roots, m.group
	four := len(roots) &^ 3
	for lo := 0; lo < n; lo += block {
		hi := min(lo+block, n)
		for t := 0; t < four; t += 4 {
			for r := lo; r < hi; r++ {
				row := rows[r*nf : (r+1)*nf]
				i0, i1, i2, i3 := roots[t], roots[t+1], roots[t+2], roots[t+3]
				for {
					n0, n1, n2, n3 := &nodes[i0], &nodes[i1], &nodes[i2], &nodes[i3]
					more := false
					if n0.left >= 0 {
						i0, more = n0.left+next(row[n0.feat&^defaultLeft], n0), true
					}
					if n1.left >= 0 {
						i1, more = n1.left+next(row[n1.feat&^defaultLeft], n1), true
					}
					if n2.left >= 0 {
						i2, more = n2.left+next(row[n2.feat&^defaultLeft], n2), true
					}
					if n3.left >= 0 {
						i3, more = n3.left+next(row[n3.feat&^defaultLeft], n3), true
					}
					if !more {
						break
					}
				}
				o := out[r*g:]
				o[group[t]] += nodes[i0].cond
				o[group[t+1]] += nodes[i1].cond
				o[group[t+2]] += nodes[i2].cond
				o[group[t+3]] += nodes[i3].cond
			}
		}
		for t := four; t < len(roots); t++ {
			for r := lo; r < hi; r++ {
				row := rows[r*nf : (r+1)*nf]
				i := roots[t]
				for nodes[i].left >= 0 {
					nd := &nodes[i]
					i = nd.left + next(row[nd.feat&^defaultLeft], nd)
				}
				out[r*g+int(group[t])] += nodes[i].cond
			}
		}
	}
}

// next is 0 to go left, 1 to go right: right when x ≥ cond, or when x is
// NaN (neither comparison holds) and the default is right. Written without
// branches on x, whose outcome is a coin flip to the CPU's predictor: this
// halves the time per row.
func next(x float32, nd *node) int32 {
	right := b2i(x >= nd.cond)
	isNaN := b2i(x != x)
	dright := b2i(nd.feat&defaultLeft == 0)
	return right | isNaN&dright
}

func b2i(b bool) int32 {
	if b {
		return 1
	}
	return 0
}
