package lstm

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
)

// Model is a loaded LSTM stack with its dense head, in one internal layout
// whichever framework wrote it. It is immutable: goroutines may share it,
// each with its own Workspace.
type Model struct {
	layers []layer
	head   dense
	format string
	meta   map[string]string
	input  Input
}

// layer is one LSTM layer. Gates are in blocks of hid columns in the order
// input, forget, cell candidate, output — Keras' i, f, c, o and PyTorch's
// i, f, g, o, which agree — so gates = x·wx + h·wh + b, row-major:
// wx is in × 4·hid (Keras' kernel; PyTorch's weight_ih transposed), wh is
// hid × 4·hid, b is 4·hid (PyTorch's b_ih + b_hh).
type layer struct {
	in, hid   int
	wx, wh, b []float32
	gate      activation // recurrent activation, on i, f, o

	// w is wx stacked on wh, (in + hid) × 4·hid: the weights of the input
	// row [x, h] the workspace keeps (wx and wh share its memory). wp and
	// bp are w and b packed for the vector kernel (packWeights).
	w      []float32
	wp, bp []float32
	panels int
}

// dense is the head: out = act(h·w + b), w in × out.
type dense struct {
	in, out int
	w, b    []float32
	act     activation
}

// Input is what a model says about its input, from the file's metadata:
// the feature names of its input columns, how each is normalised
// ((x − Mean) / Std; a missing value becomes 0, the mean), and the window
// length it was trained on. All empty when the file does not say.
type Input struct {
	Features  []string
	Mean, Std []float32
	Steps     int
}

// Load reads a safetensors file exported by scripts/models (Keras or
// PyTorch layout; see the package doc for the tensor names).
func Load(path string) (*Model, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("lstm: %w", err)
	}
	m, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("lstm %s: %w", path, err)
	}
	return m, nil
}

// Parse builds a model from the bytes of a safetensors file.
func Parse(data []byte) (*Model, error) {
	st, err := ParseSafetensors(data)
	if err != nil {
		return nil, err
	}
	return FromSafetensors(st)
}

// FromSafetensors builds a model from a parsed file; __metadata__ "format"
// says whose layout the tensors are in.
func FromSafetensors(st *Safetensors) (*Model, error) {
	m := &Model{meta: st.Metadata, format: st.Metadata["format"]}
	var err error
	switch m.format {
	case "keras":
		err = m.fromKeras(st)
	case "torch":
		err = m.fromTorch(st)
	case "":
		return nil, fmt.Errorf(`__metadata__ "format" missing: want "keras" or "torch" (export with scripts/models)`)
	default:
		return nil, fmt.Errorf(`__metadata__ "format" %q: want "keras" or "torch"`, m.format)
	}
	if err != nil {
		return nil, fmt.Errorf("%s layout: %w", m.format, err)
	}
	if m.head.act, err = parseActivation(st.Metadata["head_activation"], "linear", m.kerasMajor()); err != nil {
		return nil, fmt.Errorf("head_activation: %w", err)
	}
	if err := m.readInput(); err != nil {
		return nil, err
	}
	return m, m.checkFinite()
}

func (m *Model) kerasMajor() int {
	v := m.meta["keras_version"]
	major, _, _ := strings.Cut(v, ".")
	n, err := strconv.Atoi(major)
	if err != nil {
		return 3
	}
	return n
}

// fromKeras reads lstm_<l>/kernel (in, 4h), lstm_<l>/recurrent_kernel
// (h, 4h), lstm_<l>/bias (4h, optional: use_bias=False) for l = 0, 1, …
// and dense/kernel (h, out), dense/bias (out). Keras' layouts are the
// internal ones.
func (m *Model) fromKeras(st *Safetensors) error {
	if a := m.meta["activation"]; a != "" && a != "tanh" {
		return fmt.Errorf("activation %q: only tanh is supported", a)
	}
	gate, err := parseActivation(m.meta["recurrent_activation"], "sigmoid", m.kerasMajor())
	if err != nil {
		return fmt.Errorf("recurrent_activation: %w", err)
	}
	for l := 0; st.Has(fmt.Sprintf("lstm_%d/kernel", l)); l++ {
		p := fmt.Sprintf("lstm_%d/", l)
		wx, sx, err := st.Float32(p + "kernel")
		if err != nil {
			return err
		}
		wh, sh, err := st.Float32(p + "recurrent_kernel")
		if err != nil {
			return err
		}
		if len(sx) != 2 || len(sh) != 2 || sx[1]%4 != 0 || sh[0]*4 != sx[1] || sh[1] != sx[1] {
			return fmt.Errorf("%skernel %v and recurrent_kernel %v: want (in, 4h) and (h, 4h)", p, sx, sh)
		}
		hid := sh[0]
		b := make([]float32, 4*hid)
		if st.Has(p + "bias") {
			bias, sb, err := st.Float32(p + "bias")
			if err != nil {
				return err
			}
			if len(sb) != 1 || sb[0] != 4*hid {
				return fmt.Errorf("%sbias %v: want (%d)", p, sb, 4*hid)
			}
			b = bias
		}
		if err := m.addLayer(layer{in: sx[0], hid: hid, wx: wx, wh: wh, b: b, gate: gate}); err != nil {
			return fmt.Errorf("%s: %w", strings.TrimSuffix(p, "/"), err)
		}
	}
	if len(m.layers) == 0 {
		return fmt.Errorf("no tensor lstm_0/kernel (tensors: %v)", st.Names())
	}
	w, sw, err := st.Float32("dense/kernel")
	if err != nil {
		return err
	}
	if len(sw) != 2 {
		return fmt.Errorf("dense/kernel %v: want (h, out)", sw)
	}
	return m.setHead(st, w, sw[0], sw[1], "dense/bias")
}

// fromTorch reads nn.LSTM's lstm.weight_ih_l<l> (4h, in),
// lstm.weight_hh_l<l> (4h, h), lstm.bias_ih_l<l> and lstm.bias_hh_l<l> (4h,
// optional: bias=False) and nn.Linear's linear.weight (out, h) and
// linear.bias (out), transposing the matrices and adding the two biases.
func (m *Model) fromTorch(st *Safetensors) error {
	for _, n := range st.Names() {
		if strings.HasSuffix(n, "_reverse") || strings.Contains(n, "weight_hr_l") {
			return fmt.Errorf("tensor %s: bidirectional or projected LSTMs are not supported", n)
		}
	}
	for l := 0; st.Has(fmt.Sprintf("lstm.weight_ih_l%d", l)); l++ {
		wi, si, err := st.Float32(fmt.Sprintf("lstm.weight_ih_l%d", l))
		if err != nil {
			return err
		}
		wh, sh, err := st.Float32(fmt.Sprintf("lstm.weight_hh_l%d", l))
		if err != nil {
			return err
		}
		if len(si) != 2 || len(sh) != 2 || si[0]%4 != 0 || sh[0] != si[0] || sh[1]*4 != sh[0] {
			return fmt.Errorf("lstm.weight_ih_l%d %v and weight_hh_l%d %v: want (4h, in) and (4h, h)", l, si, l, sh)
		}
		hid := sh[1]
		b := make([]float32, 4*hid)
		for _, name := range []string{"lstm.bias_ih_l%d", "lstm.bias_hh_l%d"} {
			name = fmt.Sprintf(name, l)
			if !st.Has(name) {
				continue
			}
			v, sv, err := st.Float32(name)
			if err != nil {
				return err
			}
			if len(sv) != 1 || sv[0] != 4*hid {
				return fmt.Errorf("%s %v: want (%d)", name, sv, 4*hid)
			}
			for i := range b {
				b[i] += v[i]
			}
		}
		ly := layer{in: si[1], hid: hid, wx: transpose(wi, 4*hid, si[1]), wh: transpose(wh, 4*hid, hid), b: b, gate: actSigmoid}
		if err := m.addLayer(ly); err != nil {
			return fmt.Errorf("layer %d: %w", l, err)
		}
	}
	if len(m.layers) == 0 {
		return fmt.Errorf("no tensor lstm.weight_ih_l0 (tensors: %v)", st.Names())
	}
	w, sw, err := st.Float32("linear.weight")
	if err != nil {
		return err
	}
	if len(sw) != 2 {
		return fmt.Errorf("linear.weight %v: want (out, h)", sw)
	}
	return m.setHead(st, transpose(w, sw[0], sw[1]), sw[1], sw[0], "linear.bias")
}

func (m *Model) addLayer(l layer) error {
	if l.in <= 0 || l.hid <= 0 {
		return fmt.Errorf("empty layer (input %d, units %d)", l.in, l.hid)
	}
	if n := len(m.layers); n > 0 && m.layers[n-1].hid != l.in {
		return fmt.Errorf("input size %d does not match the previous layer's %d units", l.in, m.layers[n-1].hid)
	}
	n := 4 * l.hid
	l.w = make([]float32, (l.in+l.hid)*n)
	copy(l.w, l.wx)
	copy(l.w[l.in*n:], l.wh)
	l.wx, l.wh = l.w[:l.in*n], l.w[l.in*n:]
	l.wp, l.bp, l.panels = packWeights(l.w, l.b, l.in+l.hid, n)
	m.layers = append(m.layers, l)
	return nil
}

func (m *Model) setHead(st *Safetensors, w []float32, in, out int, biasName string) error {
	if last := m.layers[len(m.layers)-1]; in != last.hid || out <= 0 {
		return fmt.Errorf("head is %d×%d, want %d inputs (the last layer's units)", in, out, last.hid)
	}
	b := make([]float32, out)
	if st.Has(biasName) {
		v, sv, err := st.Float32(biasName)
		if err != nil {
			return err
		}
		if len(sv) != 1 || sv[0] != out {
			return fmt.Errorf("%s %v: want (%d)", biasName, sv, out)
		}
		b = v
	}
	m.head = dense{in: in, out: out, w: w, b: b}
	return nil
}

// transpose returns the cols × rows transpose of a rows × cols matrix.
func transpose(a []float32, rows, cols int) []float32 {
	t := make([]float32, len(a))
	for r := range rows {
		for c := range cols {
			t[c*rows+r] = a[r*cols+c]
		}
	}
	return t
}

// readInput parses the optional input description: features (a JSON array
// of names), mean and std (JSON arrays of numbers, one per feature) and
// steps.
func (m *Model) readInput() error {
	in := &m.input
	if s := m.meta["features"]; s != "" {
		if err := json.Unmarshal([]byte(s), &in.Features); err != nil {
			return fmt.Errorf(`__metadata__ "features": want a JSON array of names: %w`, err)
		}
		if len(in.Features) != m.InputSize() {
			return fmt.Errorf(`__metadata__ "features": %d names for input size %d`, len(in.Features), m.InputSize())
		}
	}
	for _, f := range []struct {
		key string
		dst *[]float32
	}{{"mean", &in.Mean}, {"std", &in.Std}} {
		s := m.meta[f.key]
		if s == "" {
			continue
		}
		var nums []json.Number
		if err := json.Unmarshal([]byte(s), &nums); err != nil {
			return fmt.Errorf(`__metadata__ %q: want a JSON array of numbers: %w`, f.key, err)
		}
		if len(nums) != m.InputSize() {
			return fmt.Errorf(`__metadata__ %q: %d values for input size %d`, f.key, len(nums), m.InputSize())
		}
		for _, n := range nums {
			// Parsed to float32 directly: the exporter writes each float32's
			// shortest text, which maps back to the same bits only this way.
			x, err := strconv.ParseFloat(n.String(), 32)
			if err != nil {
				return fmt.Errorf(`__metadata__ %q: %w`, f.key, err)
			}
			*f.dst = append(*f.dst, float32(x))
		}
	}
	for i, s := range in.Std {
		if !(s > 0) || math.IsInf(float64(s), 0) {
			return fmt.Errorf(`__metadata__ "std"[%d] = %v: must be positive and finite`, i, s)
		}
	}
	if s := m.meta["steps"]; s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			return fmt.Errorf(`__metadata__ "steps" %q: want a positive integer`, s)
		}
		in.Steps = n
	}
	return nil
}

// checkFinite refuses weights with NaN or Inf, which would poison every
// prediction (and make skipping zero inputs in the products change results).
func (m *Model) checkFinite() error {
	check := func(name string, v []float32) error {
		for i, x := range v {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return fmt.Errorf("%s[%d] = %v: weights must be finite", name, i, x)
			}
		}
		return nil
	}
	for l, ly := range m.layers {
		for _, t := range []struct {
			n string
			v []float32
		}{{"wx", ly.wx}, {"wh", ly.wh}, {"b", ly.b}} {
			if err := check(fmt.Sprintf("layer %d %s", l, t.n), t.v); err != nil {
				return err
			}
		}
	}
	if err := check("head weight", m.head.w); err != nil {
		return err
	}
	return check("head bias", m.head.b)
}

// InputSize is the number of features per step.
func (m *Model) InputSize() int { return m.layers[0].in }

// OutputSize is the number of head outputs.
func (m *Model) OutputSize() int { return m.head.out }

// Units returns the units of each layer.
func (m *Model) Units() []int {
	u := make([]int, len(m.layers))
	for i, l := range m.layers {
		u[i] = l.hid
	}
	return u
}

// Format is "keras" or "torch": whose layout the file was in.
func (m *Model) Format() string { return m.format }

// Input is the input description stored with the model.
func (m *Model) Input() Input { return m.input }

// Meta returns a metadata value ("" if absent).
func (m *Model) Meta(key string) string { return m.meta[key] }
