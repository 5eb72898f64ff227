package lightgbm

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
)

// Model is a loaded booster. It is immutable, so any number of goroutines
// may predict with one Model at once.
type Model struct {
	roots  []int32   // each tree's first node, or ^leaf for a tree that is a lone leaf
	nodes  []node    // every tree's splits; children index this slice, or ^leaf
	leaves []float64 // every tree's leaf values
	cols   []column  // what a row is expanded into (see columns.go)

	numFeature   int
	sigmoid      float64 // binary: the sigmoid parameter; 0: identity
	objective    string
	featureNames []string
}

// node is one split. The column holds the row's value with the node's
// missing-value rule applied, so the split is x ≤ thr and nothing else.
type node struct {
	thr   float64
	col   uint32
	child [2]int32 // left, right: a node index, or ^leaf index when negative
}

// maxFeatures bounds max_feature_idx, so that a row is not absurdly long
// and a column number fits a uint32.
const maxFeatures = 1 << 24

// ErrUnsupported is wrapped by the errors for files that are valid
// LightGBM models but outside what the package predicts exactly.
var ErrUnsupported = errors.New("unsupported model")

// Load reads a model file written by Booster.save_model (text format).
func Load(path string) (*Model, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("lightgbm: %w", err)
	}
	m, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("lightgbm %s: %w", path, err)
	}
	return m, nil
}

// Parse builds a model from the bytes of a text model file.
func Parse(data []byte) (*Model, error) {
	lines := splitLines(data)
	if len(lines) == 0 || lines[0] != "tree" {
		first := ""
		if len(lines) > 0 {
			first = lines[0]
		}
		hint := ""
		if looksLikeJSON(data) {
			hint = "; a JSON or UBJSON file is an xgboost model"
		}
		return nil, fmt.Errorf(`not a LightGBM text model: first line %.20q, want "tree" (Booster.save_model writes it)%s`, first, hint)
	}
	header, trees, err := sections(lines[1:])
	if err != nil {
		return nil, err
	}
	m := &Model{}
	if err := m.readHeader(header, len(trees)); err != nil {
		return nil, err
	}
	var raws []*rawTree
	size := 0
	for i, t := range trees {
		rt, err := parseTree(t, m.numFeature, m.featureNames)
		if err != nil {
			return nil, fmt.Errorf("tree %d: %w", i, err)
		}
		raws = append(raws, rt)
		// Node and leaf numbers are int32.
		if size += len(rt.leaves); size > math.MaxInt32/2 {
			return nil, fmt.Errorf("tree %d: more than %d leaves in all", i, math.MaxInt32/2)
		}
	}
	m.build(raws)
	return m, nil
}

// splitLines splits the file into lines without their "\n" or "\r\n".
func splitLines(data []byte) []string {
	s := strings.Split(string(data), "\n")
	for i := range s {
		s[i] = strings.TrimSuffix(s[i], "\r")
	}
	return s
}

// sections reads the header's key=value lines up to the first tree, and
// each "Tree=i" block up to "end of trees". What follows (feature
// importances, parameters, pandas_categorical) does not change predictions.
func sections(lines []string) (header map[string]string, trees []map[string]string, err error) {
	header = map[string]string{}
	cur := header
	for n, l := range lines {
		switch {
		case l == "end of trees":
			return header, trees, nil
		case l == "":
		case strings.HasPrefix(l, "Tree="):
			if want := strconv.Itoa(len(trees)); l[len("Tree="):] != want {
				return nil, nil, fmt.Errorf("line %d: %.20q, want Tree=%s", n+2, l, want)
			}
			cur = map[string]string{}
			trees = append(trees, cur)
		default:
			k, v, ok := strings.Cut(l, "=")
			if !ok {
				if len(trees) == 0 {
					// The header holds flag lines such as average_output.
					header[l] = ""
					continue
				}
				return nil, nil, fmt.Errorf("line %d: %.40q in tree %d is not key=value", n+2, l, len(trees)-1)
			}
			if _, dup := cur[k]; dup {
				return nil, nil, fmt.Errorf("line %d: %s given twice", n+2, k)
			}
			cur[k] = v
		}
	}
	return nil, nil, fmt.Errorf(`truncated: no "end of trees" line after %d trees`, len(trees))
}

func (m *Model) readHeader(h map[string]string, trees int) error {
	intKey := func(k string) (int, error) {
		v, ok := h[k]
		if !ok {
			return 0, fmt.Errorf("header: no %s line", k)
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, fmt.Errorf("header: %s=%.20q is not an integer", k, v)
		}
		return n, nil
	}
	// LightGBM 2.x and 3.x wrote v2 and v3 with the same lines for
	// numerical splits; the fixtures are v4.
	if v := h["version"]; v != "v4" && v != "v3" && v != "v2" {
		return fmt.Errorf("header: version=%.20q: %w (want v2, v3 or v4)", v, ErrUnsupported)
	}
	numClass, err := intKey("num_class")
	if err != nil {
		return err
	}
	perIter, err := intKey("num_tree_per_iteration")
	if err != nil {
		return err
	}
	if numClass != 1 || perIter != 1 {
		return fmt.Errorf("num_class=%d, num_tree_per_iteration=%d: multiclass models are %w; serving needs one output", numClass, perIter, ErrUnsupported)
	}
	maxIdx, err := intKey("max_feature_idx")
	if err != nil {
		return err
	}
	if maxIdx < 0 || maxIdx >= maxFeatures {
		return fmt.Errorf("header: max_feature_idx=%d, want 0 to %d", maxIdx, maxFeatures-1)
	}
	m.numFeature = maxIdx + 1
	if _, rf := h["average_output"]; rf {
		return fmt.Errorf("average_output (a random forest): %w", ErrUnsupported)
	}
	if err := m.readObjective(h["objective"]); err != nil {
		return err
	}
	if v, ok := h["feature_names"]; ok {
		m.featureNames = strings.Fields(v)
		if len(m.featureNames) != m.numFeature {
			return fmt.Errorf("header: %d feature_names, but max_feature_idx=%d says %d features", len(m.featureNames), maxIdx, m.numFeature)
		}
	}
	// tree_sizes lists every tree's length in bytes: a file cut at a tree
	// boundary has fewer trees than it lists.
	if v, ok := h["tree_sizes"]; ok {
		if n := len(strings.Fields(v)); n != trees {
			return fmt.Errorf("truncated or corrupt: tree_sizes lists %d trees, the file has %d", n, trees)
		}
	}
	return nil
}

// readObjective accepts "regression" and "binary sigmoid:S", the two whose
// output transform the package implements.
func (m *Model) readObjective(s string) error {
	f := strings.Fields(s)
	if len(f) == 0 {
		return fmt.Errorf("header: no objective (a custom objective?): %w", ErrUnsupported)
	}
	m.objective = s
	switch f[0] {
	case "regression":
		if len(f) > 1 {
			// "sqrt" (reg_sqrt) squares the output back.
			return fmt.Errorf("objective %.40q: %w (only plain regression)", s, ErrUnsupported)
		}
		return nil
	case "binary":
		for _, kv := range f[1:] {
			if v, ok := strings.CutPrefix(kv, "sigmoid:"); ok {
				sg, err := strconv.ParseFloat(v, 64)
				if err != nil || !(sg > 0) || math.IsInf(sg, 0) {
					return fmt.Errorf("objective %.40q: sigmoid must be a positive number", s)
				}
				m.sigmoid = sg
			}
		}
		if m.sigmoid == 0 {
			return fmt.Errorf("objective %.40q: no sigmoid:S", s)
		}
		return nil
	}
	return fmt.Errorf("objective %.40q: %w (want regression or binary)", s, ErrUnsupported)
}

// looksLikeJSON tells, for the error message only, that the file may be
// an xgboost model (JSON, or UBJSON, which also opens with '{').
func looksLikeJSON(data []byte) bool {
	t := bytes.TrimLeft(data, " \t\r\n")
	return len(t) > 0 && t[0] == '{'
}
