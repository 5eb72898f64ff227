package lstm_test

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tickstream/tickstream/models/lstm"
)

type tensor struct {
	shape []int
	data  []float32
}

// encode writes a safetensors file the way the reference implementation
// does: tensors sorted by name, packed back to back.
func encode(t testing.TB, tensors map[string]tensor, meta map[string]string) []byte {
	t.Helper()
	names := make([]string, 0, len(tensors))
	for n := range tensors {
		names = append(names, n)
	}
	slices.Sort(names)
	header := map[string]any{}
	if meta != nil {
		header["__metadata__"] = meta
	}
	var data []byte
	for _, n := range names {
		begin := len(data)
		for _, x := range tensors[n].data {
			data = binary.LittleEndian.AppendUint32(data, math.Float32bits(x))
		}
		header[n] = map[string]any{"dtype": "F32", "shape": tensors[n].shape, "data_offsets": []int{begin, len(data)}}
	}
	h, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
	return append(append(out, h...), data...)
}

func fill(n int, v float32) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = v * float32(i%7-3)
	}
	return s
}

// kerasTensors is a valid 2→3→1 Keras-layout model.
func kerasTensors() map[string]tensor {
	return map[string]tensor{
		"lstm_0/kernel":           {[]int{2, 12}, fill(24, 0.1)},
		"lstm_0/recurrent_kernel": {[]int{3, 12}, fill(36, 0.05)},
		"lstm_0/bias":             {[]int{12}, fill(12, 0.01)},
		"dense/kernel":            {[]int{3, 1}, fill(3, 0.3)},
		"dense/bias":              {[]int{1}, []float32{0.2}},
	}
}

func TestSafetensorsErrors(t *testing.T) {
	f := func(name string, data []byte, want string) {
		t.Helper()
		_, err := lstm.Parse(data)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want it to contain %q", name, err, want)
		}
	}
	good := encode(t, kerasTensors(), map[string]string{"format": "keras"})
	if _, err := lstm.Parse(good); err != nil {
		t.Fatalf("the valid file: %v", err)
	}

	f("empty", nil, "too short")
	f("header length beyond the file", good[:20], "truncated")
	f("data cut", good[:len(good)-4], "outside the")
	f("huge header length", binary.LittleEndian.AppendUint64(nil, 1<<40), "exceeds")
	f("header not JSON", append(binary.LittleEndian.AppendUint64(nil, 3), "{x}"...), "header")
	f("trailing bytes", append(append([]byte{}, good...), 0, 0, 0, 0), "tensors cover")
	f("no format", encode(t, kerasTensors(), nil), `"format" missing`)
	f("unknown format", encode(t, kerasTensors(), map[string]string{"format": "onnx"}), `"onnx"`)

	raw := func(header string, data int) []byte {
		b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
		return append(append(b, header...), make([]byte, data)...)
	}
	f("unknown dtype", raw(`{"a":{"dtype":"F8","shape":[1],"data_offsets":[0,1]}}`, 1), "unknown dtype")
	f("size mismatch", raw(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, 4), "want 8")
	f("negative shape", raw(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, 4), "bad shape")
	f("overlap", raw(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}}`, 6), "overlaps")
	f("hole", raw(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, 8), "hole")
	f("bad offsets", raw(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}}`, 4), "data_offsets")
	f("metadata not strings", raw(`{"__metadata__":{"a":1}}`, 0), "__metadata__")
}

func TestModelLayoutErrors(t *testing.T) {
	f := func(name string, change func(map[string]tensor, map[string]string), want string) {
		t.Helper()
		ts, meta := kerasTensors(), map[string]string{"format": "keras"}
		change(ts, meta)
		_, err := lstm.Parse(encode(t, ts, meta))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want it to contain %q", name, err, want)
		}
	}
	f("no lstm", func(ts map[string]tensor, _ map[string]string) { delete(ts, "lstm_0/kernel") }, "no tensor lstm_0/kernel")
	f("no recurrent kernel", func(ts map[string]tensor, _ map[string]string) { delete(ts, "lstm_0/recurrent_kernel") }, "recurrent_kernel")
	f("no head", func(ts map[string]tensor, _ map[string]string) { delete(ts, "dense/kernel") }, "dense/kernel")
	f("gates not 4h", func(ts map[string]tensor, _ map[string]string) {
		ts["lstm_0/kernel"] = tensor{[]int{2, 10}, fill(20, 1)}
	}, "want (in, 4h)")
	f("bias size", func(ts map[string]tensor, _ map[string]string) { ts["lstm_0/bias"] = tensor{[]int{4}, fill(4, 1)} }, "lstm_0/bias")
	f("head size", func(ts map[string]tensor, _ map[string]string) { ts["dense/kernel"] = tensor{[]int{4, 1}, fill(4, 1)} }, "head is 4×1")
	f("stacked mismatch", func(ts map[string]tensor, _ map[string]string) {
		ts["lstm_1/kernel"] = tensor{[]int{5, 12}, fill(60, 1)}
		ts["lstm_1/recurrent_kernel"] = tensor{[]int{3, 12}, fill(36, 1)}
	}, "does not match")
	f("NaN weight", func(ts map[string]tensor, _ map[string]string) {
		ts["lstm_0/bias"].data[3] = float32(math.NaN())
	}, "must be finite")
	f("relu activation", func(_ map[string]tensor, m map[string]string) { m["activation"] = "relu" }, "only tanh")
	f("unknown gate", func(_ map[string]tensor, m map[string]string) { m["recurrent_activation"] = "swish" }, "swish")
	f("features count", func(_ map[string]tensor, m map[string]string) { m["features"] = `["a"]` }, "1 names for input size 2")
	f("std zero", func(_ map[string]tensor, m map[string]string) { m["std"] = `[1, 0]` }, "must be positive")
	f("mean not numbers", func(_ map[string]tensor, m map[string]string) { m["mean"] = `["x", 1]` }, "mean")
	f("steps", func(_ map[string]tensor, m map[string]string) { m["steps"] = "-3" }, "steps")

	torch := func(name string, ts map[string]tensor, want string) {
		t.Helper()
		_, err := lstm.Parse(encode(t, ts, map[string]string{"format": "torch"}))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want it to contain %q", name, err, want)
		}
	}
	torch("keras names in a torch file", kerasTensors(), "no tensor lstm.weight_ih_l0")
	torch("bidirectional", map[string]tensor{
		"lstm.weight_ih_l0":         {[]int{12, 2}, fill(24, 1)},
		"lstm.weight_ih_l0_reverse": {[]int{12, 2}, fill(24, 1)},
	}, "bidirectional")
}

// The same weights in both layouts give the same model: the Keras file is
// the PyTorch one transposed, with the bias split in two.
func TestKerasAndTorchLayoutsAgree(t *testing.T) {
	k := kerasTensors()
	tr := func(x tensor) tensor {
		r, c := x.shape[0], x.shape[1]
		out := make([]float32, len(x.data))
		for i := range r {
			for j := range c {
				out[j*r+i] = x.data[i*c+j]
			}
		}
		return tensor{[]int{c, r}, out}
	}
	half := make([]float32, 12)
	for i, b := range k["lstm_0/bias"].data {
		half[i] = b / 2 // exact: a power of two
	}
	torch := map[string]tensor{
		"lstm.weight_ih_l0": tr(k["lstm_0/kernel"]),
		"lstm.weight_hh_l0": tr(k["lstm_0/recurrent_kernel"]),
		"lstm.bias_ih_l0":   {[]int{12}, half},
		"lstm.bias_hh_l0":   {[]int{12}, half},
		"linear.weight":     tr(k["dense/kernel"]),
		"linear.bias":       k["dense/bias"],
	}
	mk, err := lstm.Parse(encode(t, k, map[string]string{"format": "keras"}))
	if err != nil {
		t.Fatal(err)
	}
	mt, err := lstm.Parse(encode(t, torch, map[string]string{"format": "torch"}))
	if err != nil {
		t.Fatal(err)
	}
	seq := fill(2*7, 0.4)
	a, b := make([]float32, 1), make([]float32, 1)
	if err := mk.Predict(mk.NewWorkspace(1), seq, 7, a); err != nil {
		t.Fatal(err)
	}
	if err := mt.Predict(mt.NewWorkspace(1), seq, 7, b); err != nil {
		t.Fatal(err)
	}
	if a[0] != b[0] || a[0] == 0 {
		t.Fatalf("keras layout %v, torch layout %v", a[0], b[0])
	}
}

// Every tensor of the committed fixtures reads back with the shapes the
// package doc promises.
func TestFixtureTensorNames(t *testing.T) {
	for _, fx := range fixtures(t) {
		data, err := os.ReadFile(filepath.Join(testdata, fx.File))
		if err != nil {
			t.Fatal(err)
		}
		st, err := lstm.ParseSafetensors(data)
		if err != nil {
			t.Fatal(err)
		}
		want := "lstm_0/kernel"
		if fx.Format == "torch" {
			want = "lstm.weight_ih_l0"
		}
		if !st.Has(want) {
			t.Errorf("%s: no %s in %v", fx.Name, want, st.Names())
		}
	}
}

// Whatever the bytes, parsing returns a file or an error and never
// panics; a file it accepts reads every tensor it lists.
func FuzzParseSafetensors(f *testing.F) {
	good := encode(f, kerasTensors(), map[string]string{"format": "keras", "steps": "3"})
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add(append(binary.LittleEndian.AppendUint64(nil, 2), "{}"...))
	f.Add(append(binary.LittleEndian.AppendUint64(nil, 60), `{"a":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}}    `+"\x00\x00\x80\x3f"...))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := lstm.ParseSafetensors(data)
		if err != nil {
			return
		}
		for _, n := range st.Names() {
			if _, _, err := st.Float32(n); err != nil && !strings.Contains(err.Error(), "not floating point") {
				t.Fatalf("listed tensor %q does not read: %v", n, err)
			}
		}
		if m, err := lstm.FromSafetensors(st); err == nil {
			ws := m.NewWorkspace(1)
			out := make([]float32, m.OutputSize())
			if err := m.Predict(ws, make([]float32, m.InputSize()), 1, out); err != nil {
				t.Fatal(err)
			}
		}
	})
}
