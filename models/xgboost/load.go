package xgboost

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
)

// Model is a loaded booster. It is immutable, so any number of goroutines
// may predict with one Model at once.
type Model struct {
	trees  []tree   // in file order, which is the order their leaves are summed
	splits []split  // complete trees (see split)
	nodes  []node   // sparse trees (see node)
	cols   []column // what a row is expanded into (see columns.go)

	numFeature int
	numGroup   int
	base       []float32 // base margin of each output group
	link       link

	objective    string
	featureNames []string
	attrs        map[string]string
	version      [3]int
}

// maxGroups bounds num_class and num_target, which size per-row buffers.
const maxGroups = 1 << 16

// maxFeatures bounds num_feature, so that a column number fits a uint32.
const maxFeatures = 1 << 24

// ErrUnsupported is wrapped by the errors for models that are valid
// xgboost but outside what the package predicts (categorical splits,
// vector leaves, linear boosters, unknown objectives).
var ErrUnsupported = errors.New("unsupported model")

// Load reads a model file written by Booster.save_model, text JSON or
// UBJSON (told apart by content, not name).
func Load(path string) (*Model, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("xgboost: %w", err)
	}
	m, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("xgboost %s: %w", path, err)
	}
	return m, nil
}

// Parse builds a model from the bytes of a JSON or UBJSON model file.
func Parse(data []byte) (*Model, error) {
	doc, err := parseDocument(data)
	if err != nil {
		return nil, err
	}
	return build(&doc)
}

func parseDocument(data []byte) (value, error) {
	if len(data) == 0 {
		return value{}, errors.New("empty file")
	}
	if isJSON(data) {
		return parseJSON(data)
	}
	if data[0] != '{' {
		return value{}, fmt.Errorf("not an xgboost model: starts with %q, want a JSON or UBJSON object", data[:min(len(data), 8)])
	}
	return parseUBJSON(data)
}

// isJSON tells text JSON from UBJSON: both open with '{', but a UBJSON key
// starts with an integer type marker where JSON has a quote or space.
func isJSON(data []byte) bool {
	t := bytes.TrimLeft(data, " \t\r\n")
	if len(t) == 0 || t[0] != '{' {
		return len(t) > 0 && len(t) < len(data) // leading space: text
	}
	if len(t) == 1 {
		return true
	}
	switch t[1] {
	case '"', ' ', '\t', '\r', '\n', '}':
		return true
	}
	return false
}

func build(doc *value) (*Model, error) {
	m := &Model{}
	if v := doc.get("version"); v != nil {
		if vs, err := v.ints("version"); err == nil {
			for i := range min(len(vs), len(m.version)) {
				m.version[i] = int(vs[i])
			}
		}
	}
	learner, err := doc.path("learner")
	if err != nil {
		return nil, err
	}
	if err := m.readParams(learner); err != nil {
		return nil, err
	}
	booster, err := learner.path("gradient_booster")
	if err != nil {
		return nil, err
	}
	name := ""
	if n := booster.get("name"); n != nil && n.kind == kindString {
		name = n.str
	}
	var trees *value
	var weights []float32
	switch name {
	case "gbtree":
		trees, err = booster.path("model")
	case "dart":
		// DART keeps its trees one level deeper and scales each tree's
		// output by its weight at prediction.
		if trees, err = booster.path("gbtree", "model"); err == nil {
			var w *value
			if w, err = booster.path("weight_drop"); err == nil {
				weights, err = w.floats("weight_drop")
			}
		}
	default:
		return nil, fmt.Errorf("gradient_booster %q: %w (want gbtree or dart)", name, ErrUnsupported)
	}
	if err != nil {
		return nil, fmt.Errorf("learner.gradient_booster: %w", err)
	}
	if err := m.readTrees(trees, weights); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Model) readParams(learner *value) error {
	mp, err := learner.path("learner_model_param")
	if err != nil {
		return fmt.Errorf("learner: %w", err)
	}
	param := func(key string) (int, error) {
		v := mp.get(key)
		if v == nil {
			return 0, nil // older files lack num_target
		}
		s, err := v.text("learner_model_param." + key)
		if err != nil {
			return 0, err
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("learner_model_param.%s %q: want a non-negative integer", key, s)
		}
		return n, nil
	}
	if m.numFeature, err = param("num_feature"); err != nil {
		return err
	}
	if m.numFeature > maxFeatures {
		return fmt.Errorf("learner_model_param: %d features, more than the %d supported", m.numFeature, maxFeatures)
	}
	numClass, err := param("num_class")
	if err != nil {
		return err
	}
	numTarget, err := param("num_target")
	if err != nil {
		return err
	}
	m.numGroup = max(numClass, numTarget, 1)
	if m.numGroup > maxGroups {
		return fmt.Errorf("learner_model_param: %d output groups, more than the %d supported", m.numGroup, maxGroups)
	}

	obj, err := learner.path("objective", "name")
	if err != nil {
		return err
	}
	if m.objective, err = obj.text("objective.name"); err != nil {
		return err
	}
	l, ok := objectives[m.objective]
	if !ok {
		return fmt.Errorf("objective %q: %w", m.objective, ErrUnsupported)
	}
	m.link = l

	bs, err := mp.path("base_score")
	if err != nil {
		return fmt.Errorf("learner_model_param: %w", err)
	}
	s, err := bs.text("learner_model_param.base_score")
	if err != nil {
		return err
	}
	scores, err := parseBaseScore(s, m.numGroup)
	if err != nil {
		return err
	}
	m.base = make([]float32, m.numGroup)
	for g, sc := range scores {
		if m.base[g], err = l.baseMargin(sc); err != nil {
			return err
		}
	}

	if at := learner.get("attributes"); at != nil && at.kind == kindObject {
		m.attrs = make(map[string]string, len(at.obj))
		for _, kv := range at.obj {
			if kv.val.kind == kindString {
				m.attrs[kv.key] = kv.val.str
			}
		}
	}
	if fn := learner.get("feature_names"); fn != nil && fn.kind == kindArray {
		for i := range fn.arr {
			if fn.arr[i].kind == kindString {
				m.featureNames = append(m.featureNames, fn.arr[i].str)
			}
		}
		if len(m.featureNames) != 0 && len(m.featureNames) != m.numFeature {
			return fmt.Errorf("learner.feature_names: %d names for num_feature %d", len(m.featureNames), m.numFeature)
		}
	}
	return nil
}

func (m *Model) readTrees(model *value, weights []float32) error {
	tv, err := model.path("trees")
	if err != nil {
		return err
	}
	if tv.kind != kindArray || tv.arr == nil && tv.len() > 0 {
		return fmt.Errorf("trees: want an array of objects, got a %s", tv.kind)
	}
	n := len(tv.arr)
	if weights != nil && len(weights) != n {
		return fmt.Errorf("weight_drop: %d weights for %d trees", len(weights), n)
	}
	group := make([]int32, n)
	if info := model.get("tree_info"); info != nil {
		g, err := info.ints("tree_info")
		if err != nil {
			return err
		}
		if len(g) != n {
			return fmt.Errorf("tree_info: %d entries for %d trees", len(g), n)
		}
		for i, x := range g {
			if x < 0 || x >= int64(m.numGroup) {
				return fmt.Errorf("tree_info[%d] = %d: outside the %d output groups", i, x, m.numGroup)
			}
			group[i] = int32(x)
		}
	} else if m.numGroup > 1 {
		return errors.New("tree_info: missing, needed with several output groups")
	}
	raw := make([]*rawTree, n)
	for i := range tv.arr {
		w := float32(1)
		if weights != nil {
			w = weights[i]
		}
		if raw[i], err = m.readTree(&tv.arr[i], w); err != nil {
			return fmt.Errorf("trees[%d]: %w", i, err)
		}
	}
	cols := m.numberColumns(raw)
	m.trees = make([]tree, n)
	for i, t := range raw {
		if m.trees[i], err = m.place(t, group[i], cols); err != nil {
			return fmt.Errorf("trees[%d]: %w", i, err)
		}
	}
	return nil
}

// readTree reads and checks one tree. weight scales its leaves (DART).
func (m *Model) readTree(t *value, weight float32) (*rawTree, error) {
	if t.kind != kindObject {
		return nil, fmt.Errorf("want an object, got a %s", t.kind)
	}
	if p := t.get("tree_param"); p != nil {
		if v := p.get("size_leaf_vector"); v != nil && v.kind == kindString && v.str != "0" && v.str != "1" {
			return nil, fmt.Errorf("size_leaf_vector %s: vector-leaf (multi_output_tree) trees: %w", v.str, ErrUnsupported)
		}
	}
	arr := func(key string) (*value, error) {
		v := t.get(key)
		if v == nil {
			return nil, fmt.Errorf("%s: missing", key)
		}
		return v, nil
	}
	var left, right, split, dleft []int64
	var cond []float32
	for _, f := range []struct {
		key string
		dst *[]int64
	}{{"left_children", &left}, {"right_children", &right}, {"split_indices", &split}, {"default_left", &dleft}} {
		v, err := arr(f.key)
		if err != nil {
			return nil, err
		}
		if *f.dst, err = v.ints(f.key); err != nil {
			return nil, err
		}
	}
	v, err := arr("split_conditions")
	if err != nil {
		return nil, err
	}
	if cond, err = v.floats("split_conditions"); err != nil {
		return nil, err
	}
	nn := len(left)
	if nn == 0 {
		return nil, errors.New("no nodes")
	}
	for _, x := range []struct {
		key string
		n   int
	}{{"right_children", len(right)}, {"split_indices", len(split)}, {"default_left", len(dleft)}, {"split_conditions", len(cond)}} {
		if x.n != nn {
			return nil, fmt.Errorf("%s has %d entries, left_children %d", x.key, x.n, nn)
		}
	}
	if st := t.get("split_type"); st != nil {
		types, err := st.ints("split_type")
		if err != nil {
			return nil, err
		}
		for i, k := range types {
			if k != 0 && i < nn && left[i] != -1 {
				return nil, fmt.Errorf("node %d: categorical split: %w", i, ErrUnsupported)
			}
		}
	}

	sh, err := shape(left, right)
	if err != nil {
		return nil, err
	}
	for _, i := range sh.order {
		if left[i] == -1 {
			continue
		}
		if f := split[i]; f < 0 || f >= int64(m.numFeature) {
			return nil, fmt.Errorf("node %d: split feature %d outside num_feature %d", i, f, m.numFeature)
		}
		if math.IsNaN(float64(cond[i])) {
			return nil, fmt.Errorf("node %d: split condition is NaN", i)
		}
	}
	return &rawTree{left: left, right: right, feat: split, defaultLeft: dleft, cond: cond, weight: weight, shape: sh}, nil
}
