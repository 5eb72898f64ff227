package xgboost

// MaxDepth is the depth of the deepest tree (a lone leaf has depth 0).
func MaxDepth(m *Model) int {
	var depth func(i int32) int
	depth = func(i int32) int {
		n := m.nodes[i]
		if n.left < 0 {
			return 0
		}
		return 1 + max(depth(n.left), depth(n.left+1))
	}
	d := 0
	for _, t := range m.trees {
		if t.depth >= 0 {
			d = max(d, int(t.depth))
		} else {
			d = max(d, depth(t.off))
		}
	}
	return d
}

// Layouts counts the trees laid out complete and sparse.
func Layouts(m *Model) (complete, sparse int) {
	for _, t := range m.trees {
		if t.depth >= 0 {
			complete++
		} else {
			sparse++
		}
	}
	return complete, sparse
}

// Columns is the length of an expanded row.
func Columns(m *Model) int { return len(m.cols) }

// SetLayoutDepths changes which trees Parse lays out complete (see
// completeDepth) until restore is called.
func SetLayoutDepths(always, upTo int) (restore func()) {
	a, u := completeDepth, maxCompleteDepth
	completeDepth, maxCompleteDepth = always, upTo
	return func() { completeDepth, maxCompleteDepth = a, u }
}
