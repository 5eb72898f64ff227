package lightgbm_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tickstream/tickstream/models/lightgbm"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testdata, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// edit returns data with the first match of the multi-line pattern re
// replaced by repl (with $1… expanded).
func edit(t testing.TB, data []byte, re, repl string) []byte {
	t.Helper()
	r := regexp.MustCompile("(?m)" + re)
	loc := r.FindSubmatchIndex(data)
	if loc == nil {
		t.Fatalf("fixture has no %q", re)
	}
	out := append([]byte(nil), data[:loc[0]]...)
	out = r.Expand(out, []byte(repl), data, loc)
	return append(out, data[loc[1]:]...)
}

// Every bad file is refused with an error naming the file and the problem.
func TestLoadRefuses(t *testing.T) {
	dir := t.TempDir()
	f := func(name string, data []byte, want ...string) {
		t.Helper()
		path := filepath.Join(dir, name+".txt")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := lightgbm.Load(path)
		if err == nil {
			t.Errorf("%s: loaded", name)
			return
		}
		for _, w := range append(want, path) {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q, want it to contain %q", name, err, w)
			}
		}
	}
	reg := readFixture(t, "lightgbm/reg.txt")
	stump := readFixture(t, "lightgbm/stump.txt")
	end := strings.Index(string(reg), "\nTree=99\n")

	// Not this format.
	f("empty", nil, "not a LightGBM text model")
	f("xgboost", readFixture(t, "xgboost/reg_logistic.json"), "not a LightGBM text model", "xgboost model")
	f("safetensors", readFixture(t, "lstm/torch_60x5_64.safetensors"), "not a LightGBM text model")
	f("version", edit(t, reg, `^version=v4$`, "version=v9"), "version", "unsupported")

	// Truncated.
	f("half", reg[:len(reg)/2], "truncated")
	f("header only", reg[:strings.Index(string(reg), "Tree=0")], "truncated")
	f("cut mid-line", reg[:strings.Index(string(reg), "leaf_value=")+30], "truncated")
	f("one tree less", append(reg[:end+1:end+1], "end of trees\n"...), "tree_sizes lists 100 trees, the file has 99")
	f("cut leaf line", edit(t, stump, `^leaf_value=.*$`, "leaf_value="), "tree 0", "leaf_value has 0 values, want 1")

	// Numbers that are not.
	f("nan leaf", edit(t, reg, `^(leaf_value=)\S+`, "${1}nan"), "tree 0: leaf 0 has value NaN")
	f("inf leaf", edit(t, reg, `^(leaf_value=\S+ )\S+`, "${1}-inf"), "tree 0: leaf 1 has value -Inf")
	f("nan threshold", edit(t, reg, `^(threshold=)\S+`, "${1}nan"), "tree 0: node 0 has threshold NaN")
	f("word leaf", edit(t, stump, `^(leaf_value=)\S+`, "${1}zero"), `leaf_value value 0: "zero" is not a number`)

	// Features.
	f("names", edit(t, reg, `^(feature_names=)\S+ `, "$1"), "12 feature_names", "13 features")
	f("feature range", edit(t, reg, `^(split_feature=)\S+`, "${1}13"), "tree 0: node 0 splits on feature 13; the model has 13")

	// Structure.
	f("cycle", edit(t, reg, `^(left_child=)\S+`, "${1}0"), "tree 0: node 0: child 0 is out of range or reached twice")
	f("leaf twice", edit(t, reg, `^(right_child=)\S+`, "${1}-5"), "tree 0", "reached twice")
	f("tree order", edit(t, reg, `^Tree=1$`, "Tree=7"), "want Tree=1")
	f("not key=value", edit(t, reg, `^is_linear=0$`, "is_linear"), "not key=value")

	// Valid LightGBM, but not predicted here.
	f("categorical", readFixture(t, "lightgbm/categorical.txt"), "tree 0: node 0: a categorical split on feature 13 (bucket)", "unsupported")
	f("num_cat", edit(t, reg, `^num_cat=0$`, "num_cat=1"), "tree 0: num_cat", "categorical")
	f("multiclass", readFixture(t, "lightgbm/multiclass.txt"), "num_class=3", "multiclass")
	f("missing type 3", edit(t, reg, `^(decision_type=)\S+`, "${1}12"), "tree 0: node 0", "missing type 3")
	f("poisson", edit(t, reg, `^objective=.*$`, "objective=poisson"), `objective "poisson"`, "unsupported")
	f("sqrt", edit(t, reg, `^objective=.*$`, "objective=regression sqrt"), "only plain regression")
	f("no sigmoid", edit(t, reg, `^objective=.*$`, "objective=binary"), "no sigmoid")
	f("custom", edit(t, reg, `^objective=.*\n`, ""), "no objective")
	f("rf", edit(t, reg, `^(tree_sizes=.*)$`, "average_output\n$1"), "random forest")
	f("linear tree", edit(t, reg, `^is_linear=0$`, "is_linear=1"), "tree 0: is_linear", "linear trees")
}

func TestUnsupportedIsSentinel(t *testing.T) {
	for _, file := range []string{"lightgbm/categorical.txt", "lightgbm/multiclass.txt"} {
		if _, err := lightgbm.Parse(readFixture(t, file)); !errors.Is(err, lightgbm.ErrUnsupported) {
			t.Errorf("%s: error %v, want it to wrap ErrUnsupported", file, err)
		}
	}
}

// Windows line ends load to the same model.
func TestCRLF(t *testing.T) {
	data := readFixture(t, "lightgbm/binary.txt")
	a, err := lightgbm.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	b, err := lightgbm.Parse([]byte(strings.ReplaceAll(string(data), "\n", "\r\n")))
	if err != nil {
		t.Fatal(err)
	}
	in := readNPY(t, loadFixtures(t).Inputs)
	n := in.Shape[0]
	x, y := make([]float32, n), make([]float32, n)
	if err := a.PredictBatch(in.F32, n, x); err != nil {
		t.Fatal(err)
	}
	if err := b.PredictBatch(in.F32, n, y); err != nil {
		t.Fatal(err)
	}
	for i := range x {
		if x[i] != y[i] {
			t.Fatalf("row %d: %v with \\r\\n, %v with \\n", i, y[i], x[i])
		}
	}
}

func TestPredictChecksLengths(t *testing.T) {
	m := loadModel(t, "lightgbm/reg.txt")
	f := func(rows, n, out int, want string) {
		t.Helper()
		err := m.PredictBatch(make([]float32, rows), n, make([]float32, out))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%d values, %d rows, room %d: error %v, want %q", rows, n, out, err, want)
		}
	}
	f(12, 1, 1, "1 rows need 13 features, got 12")
	f(26, 2, 1, "2 rows need 2 outputs")
	f(13, -1, 1, "-1 rows")
}

func TestAccessors(t *testing.T) {
	m := loadModel(t, "lightgbm/binary.txt")
	names := m.FeatureNames()
	if m.NumFeature() != 13 || len(names) != 13 || names[0] != "ret_1" || m.NumOutput() != 1 || m.Objective() != "binary sigmoid:0.7" {
		t.Errorf("features %d %v, outputs %d, objective %q", m.NumFeature(), names, m.NumOutput(), m.Objective())
	}
	names[0] = "changed"
	if m.FeatureNames()[0] != "ret_1" {
		t.Error("FeatureNames returned the model's own slice")
	}
}

// wideModel is a model of one single-split tree per feature, each with
// its own missing-value rule, so that an expanded row has more columns
// than the stack scratch holds and a batch takes the pooled path.
func wideModel(features int) []byte {
	var b strings.Builder
	b.WriteString("tree\nversion=v4\nnum_class=1\nnum_tree_per_iteration=1\nlabel_index=0\n")
	fmt.Fprintf(&b, "max_feature_idx=%d\nobjective=binary sigmoid:1\n", features-1)
	for i := range features {
		fmt.Fprintf(&b, "\nTree=%d\nnum_leaves=2\nnum_cat=0\nsplit_feature=%d\nthreshold=%g\n", i, i, float64(i)/float64(features)-0.5)
		fmt.Fprintf(&b, "decision_type=%d\nleft_child=-1\nright_child=-2\nleaf_value=%g %g\nshrinkage=1\n", []int{2, 4, 6, 8, 10}[i%5], float64(i)/10, -float64(i)/7)
	}
	b.WriteString("end of trees\n")
	return []byte(b.String())
}

// The pooled scratch of wide rows gives what the one-row path gives.
func TestWideRowsBatchEqualsRowByRow(t *testing.T) {
	const nf, rows = 40, 166
	m, err := lightgbm.Parse(wideModel(nf))
	if err != nil {
		t.Fatal(err)
	}
	if c := lightgbm.Columns(m); c*64 <= 2048 {
		t.Fatalf("only %d columns: the batch would not use the pool", c)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	in := make([]float32, nf*rows)
	for i := range in {
		switch rng.IntN(4) {
		case 0:
			in[i] = float32(math.NaN())
		case 1:
			in[i] = 0
		default:
			in[i] = float32(rng.Float64() - 0.5)
		}
	}
	batch, one := make([]float32, rows), []float32{0}
	if err := m.PredictBatch(in, rows, batch); err != nil {
		t.Fatal(err)
	}
	for r := range rows {
		if err := m.Predict(in[r*nf:(r+1)*nf], one); err != nil {
			t.Fatal(err)
		}
		if math.Float32bits(one[0]) != math.Float32bits(batch[r]) {
			t.Fatalf("row %d: batch %v, alone %v", r, batch[r], one[0])
		}
	}
}
