package xgboost_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tickstream/tickstream/models/xgboost"
)

// small is a real xgboost file (20 trees of depth 3) that the tests below
// rewrite; the expected outputs are always xgboost's for the unmodified
// file.
const small = "xgboost/reg_logistic.json"

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testdata, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// predictAll returns the model's outputs for the fixture inputs.
func predictAll(t *testing.T, data []byte) []float32 {
	t.Helper()
	m, err := xgboost.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	in := readNPY(t, loadFixtures(t).Inputs)
	rows := in.Shape[0]
	out := make([]float32, rows*m.NumOutput())
	if err := m.PredictBatch(in.F32, rows, out); err != nil {
		t.Fatal(err)
	}
	return out
}

func sameBits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d outputs, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s: output %d = %v, want %v", what, i, got[i], want[i])
		}
	}
}

// Spellings xgboost has used across versions must load to the same model.
func TestVariantsOfTheFormat(t *testing.T) {
	orig := readFixture(t, small)
	want := readNPY(t, "xgboost/reg_logistic.expected.npy").F32
	sameBits(t, "as saved", predictAll(t, orig), want)

	f := func(what string, from *regexp.Regexp, repl string) {
		t.Helper()
		if !from.Match(orig) {
			t.Fatalf("%s: pattern %v not in the fixture", what, from)
		}
		sameBits(t, what, predictAll(t, from.ReplaceAll(orig, []byte(repl))), want)
	}
	// base_score as a scalar string (xgboost ≤ 3.0) rather than "[…]".
	f("scalar base_score", regexp.MustCompile(`"base_score":"\[([^\]]*)\]"`), `"base_score":"$1"`)
	// Non-finite tokens in fields the predictor does not read.
	f("NaN and Infinity tokens", regexp.MustCompile(`"loss_changes":\[[^\]]*\]`), `"loss_changes":[NaN,Infinity,-Infinity]`)
	// Whitespace and pretty-printing.
	f("indented", regexp.MustCompile(`,`), ",\n\t ")

	// default_left as booleans (old files).
	bools := regexp.MustCompile(`"default_left":\[[^\]]*\]`).ReplaceAllFunc(orig, func(s []byte) []byte {
		s = bytes.ReplaceAll(s, []byte("0"), []byte("false"))
		return bytes.ReplaceAll(s, []byte("1"), []byte("true"))
	})
	sameBits(t, "boolean default_left", predictAll(t, bools), want)
}

// The same model in JSON and UBJSON loads to the same predictions.
func TestJSONAndUBJSONAgree(t *testing.T) {
	sameBits(t, "reg.ubj vs reg.json", predictAll(t, readFixture(t, "xgboost/reg.ubj")), predictAll(t, readFixture(t, "xgboost/reg.json")))
}

// edit decodes the fixture, lets fn change it and re-encodes it.
func edit(t *testing.T, fn func(doc map[string]any)) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(readFixture(t, small), &doc); err != nil {
		t.Fatal(err)
	}
	fn(doc)
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func obj(v any, keys ...string) map[string]any {
	m := v.(map[string]any)
	for _, k := range keys {
		m = m[k].(map[string]any)
	}
	return m
}

func firstTree(doc map[string]any) map[string]any {
	trees := obj(doc, "learner", "gradient_booster", "model")["trees"].([]any)
	return trees[0].(map[string]any)
}

func TestLoadErrors(t *testing.T) {
	f := func(name string, data []byte, want string) {
		t.Helper()
		_, err := xgboost.Parse(data)
		if err == nil {
			t.Fatalf("%s: loaded, want an error containing %q", name, want)
		}
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("%s: error %q, want it to contain %q", name, err, want)
		}
	}
	f("empty", nil, "empty file")
	f("not a model", []byte("PK\x03\x04"), "not an xgboost model")
	f("json array", []byte(`[1,2]`), "not an xgboost model")
	f("no learner", []byte(`{"version":[3,2,0]}`), "learner: missing")
	f("bad json", []byte(`{"learner": {"x": tru}}`), "bad literal")
	f("bad number", []byte(`{"learner": {"x": 1.}}`), "bad number")
	f("deep nesting", []byte(strings.Repeat(`{"a":`, 100)), "nested deeper")

	orig := readFixture(t, small)
	for _, n := range []int{1, 100, len(orig) / 2, len(orig) - 1} {
		f("truncated json", orig[:n], "truncated")
	}
	ubj := readFixture(t, "xgboost/reg.ubj")
	for _, n := range []int{2, 30, len(ubj) / 3, len(ubj) - 1} {
		f("truncated ubjson", ubj[:n], "truncated")
	}

	f("unknown objective", edit(t, func(d map[string]any) {
		obj(d, "learner", "objective")["name"] = "reg:mystery"
	}), `objective "reg:mystery": unsupported model`)
	f("linear booster", edit(t, func(d map[string]any) {
		obj(d, "learner", "gradient_booster")["name"] = "gblinear"
	}), "unsupported model")
	f("categorical split", edit(t, func(d map[string]any) {
		firstTree(d)["split_type"].([]any)[0] = 1
	}), "categorical split")
	f("vector leaf", edit(t, func(d map[string]any) {
		obj(firstTree(d), "tree_param")["size_leaf_vector"] = "3"
	}), "vector-leaf")
	f("child out of range", edit(t, func(d map[string]any) {
		firstTree(d)["left_children"].([]any)[0] = 999
	}), "out of range")
	f("cycle", edit(t, func(d map[string]any) {
		tr := firstTree(d)
		tr["left_children"].([]any)[0] = 0
	}), "reached twice")
	f("feature out of range", edit(t, func(d map[string]any) {
		firstTree(d)["split_indices"].([]any)[0] = 13
	}), "outside num_feature 13")
	f("arrays disagree", edit(t, func(d map[string]any) {
		tr := firstTree(d)
		tr["split_conditions"] = tr["split_conditions"].([]any)[1:]
	}), "split_conditions has")
	f("base_score garbage", edit(t, func(d map[string]any) {
		obj(d, "learner", "learner_model_param")["base_score"] = "[half]"
	}), "base_score")
	f("num_feature not a number", edit(t, func(d map[string]any) {
		obj(d, "learner", "learner_model_param")["num_feature"] = "many"
	}), "num_feature")
	f("tree_info short", edit(t, func(d map[string]any) {
		m := obj(d, "learner", "gradient_booster", "model")
		m["tree_info"] = m["tree_info"].([]any)[1:]
	}), "tree_info")
	f("feature names", edit(t, func(d map[string]any) {
		obj(d, "learner")["feature_names"] = []any{"a", "b"}
	}), "2 names for num_feature 13")
}

func TestUnsupportedIsDetectable(t *testing.T) {
	_, err := xgboost.Parse(edit(t, func(d map[string]any) {
		obj(d, "learner", "objective")["name"] = "survival:cox"
	}))
	if !errors.Is(err, xgboost.ErrUnsupported) {
		t.Fatalf("got %v, want ErrUnsupported", err)
	}
}

func TestPredictChecksSizes(t *testing.T) {
	m, err := xgboost.Parse(readFixture(t, small))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Predict(make([]float32, 12), make([]float32, 1)); err == nil {
		t.Error("a short row was accepted")
	}
	if err := m.Predict(make([]float32, 13), nil); err == nil {
		t.Error("a missing output was accepted")
	}
	if err := m.PredictBatch(make([]float32, 13), 2, make([]float32, 2)); err == nil {
		t.Error("a short batch was accepted")
	}
}

// Attributes set with Booster.set_attr (horizon, target) and the training
// feature names come through.
func TestMetadata(t *testing.T) {
	m, err := xgboost.Parse(readFixture(t, "xgboost/reg.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Attr("horizon"); got != "10s" {
		t.Errorf("horizon attribute %q", got)
	}
	if got := m.Attr("target"); got != "log_return_bps" {
		t.Errorf("target attribute %q", got)
	}
	if n := m.FeatureNames(); len(n) != 13 || n[0] != "ret_1" {
		t.Errorf("feature names %v", n)
	}
	if v := m.Version(); v[0] != 3 {
		t.Errorf("version %v", v)
	}
}

func TestPredictAllocatesNothing(t *testing.T) {
	m, err := xgboost.Parse(readFixture(t, "xgboost/deep.ubj"))
	if err != nil {
		t.Fatal(err)
	}
	in := readNPY(t, loadFixtures(t).Inputs)
	out := make([]float32, 64)
	if a := testing.AllocsPerRun(100, func() {
		_ = m.Predict(in.F32[:13], out)
		_ = m.PredictBatch(in.F32, 64, out)
	}); a != 0 {
		t.Errorf("%v allocations per prediction", a)
	}
}
