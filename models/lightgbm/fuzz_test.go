package lightgbm_test

import (
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/tickstream/tickstream/models/lightgbm"
)

// firstTrees is the binary fixture cut to its first n trees (tree_sizes
// cut to match): a real file small enough for the fuzzer to mutate.
func firstTrees(tb testing.TB, n int) []byte {
	tb.Helper()
	s := string(readFixture(tb, "lightgbm/binary.txt"))
	end := strings.Index(s, "end of trees")
	if cut := strings.Index(s, "Tree="+strconv.Itoa(n)+"\n"); cut > 0 {
		s = s[:cut] + s[end:]
	}
	i := strings.Index(s, "tree_sizes=")
	j := i + strings.Index(s[i:], "\n")
	sizes := strings.Fields(s[i+len("tree_sizes=") : j])
	return []byte(s[:i] + "tree_sizes=" + strings.Join(sizes[:n], " ") + s[j:])
}

// Whatever the bytes, Parse returns a model or an error, never panics, and
// a model it returns predicts without panicking (a walk that did not end
// would hang the fuzzer).
func FuzzParse(f *testing.F) {
	two := firstTrees(f, 2)
	f.Add(two)
	f.Add(two[:len(two)/2])
	f.Add(readFixture(f, "lightgbm/stump.txt"))
	f.Add([]byte("tree\nversion=v4\nnum_class=1\nnum_tree_per_iteration=1\nmax_feature_idx=0\nobjective=regression\n" +
		"Tree=0\nnum_leaves=2\nsplit_feature=0\nthreshold=0\ndecision_type=6\nleft_child=-1\nright_child=-2\nleaf_value=1 2\nend of trees\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := lightgbm.Parse(data)
		if err != nil {
			return
		}
		if m.NumFeature() > 1<<20 {
			return // valid, but too big to allocate a row for here
		}
		row := make([]float32, m.NumFeature())
		out := []float32{0}
		for _, x := range []float32{0, float32(math.NaN()), 1e-36, -1, float32(math.Inf(1))} {
			for i := range row {
				row[i] = x
			}
			if err := m.Predict(row, out); err != nil {
				t.Fatalf("a loaded model failed to predict: %v", err)
			}
		}
	})
}

// The cut-down seed is a valid file, so the fuzzer starts from a model.
func TestFuzzSeedParses(t *testing.T) {
	m, err := lightgbm.Parse(firstTrees(t, 2))
	if err != nil {
		t.Fatal(err)
	}
	if m.NumTrees() != 2 {
		t.Fatalf("%d trees, want 2", m.NumTrees())
	}
}
