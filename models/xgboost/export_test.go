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
	for _, r := range m.roots {
		d = max(d, depth(r))
	}
	return d
}
