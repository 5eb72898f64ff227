package lightgbm

import "fmt"

// SplitKinds counts the model's splits by missing type and default side
// ("none", "zero/left", "zero/right", "nan/left", "nan/right").
func SplitKinds(m *Model) map[string]int {
	names := [numRules]string{"none", "zero/left", "zero/right", "nan/left", "nan/right"}
	out := map[string]int{}
	for _, nd := range m.nodes {
		c := m.cols[nd.col]
		for r := range numRules {
			if fmt.Sprint(r.column(c.feat)) == fmt.Sprint(c) {
				out[names[r]]++
			}
		}
	}
	return out
}

// Columns is the length of an expanded row.
func Columns(m *Model) int { return len(m.cols) }
