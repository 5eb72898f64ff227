package lstm

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
)

// Safetensors is a parsed safetensors file: an 8-byte little-endian header
// length N, N bytes of JSON naming each tensor's dtype, shape and byte range
// [begin, end) within the data that follows, and an optional __metadata__
// object of string pairs. Data is little-endian and row-major.
type Safetensors struct {
	Metadata map[string]string
	tensors  map[string]tensorInfo
	data     []byte
}

type tensorInfo struct {
	DType   string  `json:"dtype"`
	Shape   []int64 `json:"shape"`
	Offsets []int64 `json:"data_offsets"`
}

// maxHeader bounds the JSON header, as the reference implementation does
// (100 MB), so a corrupt length cannot ask for a huge read.
const maxHeader = 100 << 20

// dtypeSize is the element size of each dtype the reader can convert to
// float32; other dtypes are listed but cannot be read as weights.
var dtypeSize = map[string]int{
	"F64": 8, "F32": 4, "F16": 2, "BF16": 2,
	"I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1,
}

// ParseSafetensors checks and indexes a safetensors file held in data, which
// it keeps (tensors are read from it on demand).
func ParseSafetensors(data []byte) (*Safetensors, error) {
	if len(data) < 8 {
		return nil, fmt.Errorf("safetensors: %d bytes, too short for the 8-byte header length (truncated file?)", len(data))
	}
	n := binary.LittleEndian.Uint64(data)
	if n > maxHeader {
		return nil, fmt.Errorf("safetensors: header length %d exceeds %d bytes (not a safetensors file?)", n, maxHeader)
	}
	if n > uint64(len(data)-8) {
		return nil, fmt.Errorf("safetensors: header length %d but only %d bytes follow (truncated file?)", n, len(data)-8)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data[8:8+n], &raw); err != nil {
		return nil, fmt.Errorf("safetensors: header: %w", err)
	}
	st := &Safetensors{tensors: make(map[string]tensorInfo, len(raw)), data: data[8+n:]}
	if m, ok := raw["__metadata__"]; ok {
		if err := json.Unmarshal(m, &st.Metadata); err != nil {
			return nil, fmt.Errorf("safetensors: __metadata__ must map strings to strings: %w", err)
		}
		delete(raw, "__metadata__")
	}
	type span struct {
		begin, end int64
		name       string
	}
	spans := make([]span, 0, len(raw))
	for name, msg := range raw {
		var ti tensorInfo
		if err := json.Unmarshal(msg, &ti); err != nil {
			return nil, fmt.Errorf("safetensors: tensor %q: %w", name, err)
		}
		size, ok := dtypeSize[ti.DType]
		if !ok {
			return nil, fmt.Errorf("safetensors: tensor %q: unknown dtype %q", name, ti.DType)
		}
		if len(ti.Offsets) != 2 {
			return nil, fmt.Errorf("safetensors: tensor %q: data_offsets must be [begin, end]", name)
		}
		elems := int64(1)
		for _, d := range ti.Shape {
			if d < 0 || (d > 0 && elems > math.MaxInt32/d) {
				return nil, fmt.Errorf("safetensors: tensor %q: bad shape %v", name, ti.Shape)
			}
			elems *= d
		}
		b, e := ti.Offsets[0], ti.Offsets[1]
		if b < 0 || e < b || e > int64(len(st.data)) {
			return nil, fmt.Errorf("safetensors: tensor %q: data_offsets [%d, %d) outside the %d data bytes (truncated file?)", name, b, e, len(st.data))
		}
		if e-b != elems*int64(size) {
			return nil, fmt.Errorf("safetensors: tensor %q: %d bytes for shape %v of %s (want %d)", name, e-b, ti.Shape, ti.DType, elems*int64(size))
		}
		st.tensors[name] = ti
		spans = append(spans, span{b, e, name})
	}
	// The format forbids holes and overlaps: the tensors tile the data.
	sort.Slice(spans, func(i, j int) bool {
		if spans[i].begin != spans[j].begin {
			return spans[i].begin < spans[j].begin
		}
		return spans[i].end < spans[j].end
	})
	var at int64
	for _, s := range spans {
		if s.begin != at {
			if s.begin < at {
				return nil, fmt.Errorf("safetensors: tensor %q overlaps the one before it", s.name)
			}
			return nil, fmt.Errorf("safetensors: hole in the data before tensor %q", s.name)
		}
		at = s.end
	}
	if at != int64(len(st.data)) {
		return nil, fmt.Errorf("safetensors: %d data bytes, tensors cover %d", len(st.data), at)
	}
	return st, nil
}

// Names lists the tensors, sorted.
func (st *Safetensors) Names() []string {
	names := make([]string, 0, len(st.tensors))
	for n := range st.tensors {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Has reports whether the file holds a tensor of that name.
func (st *Safetensors) Has(name string) bool {
	_, ok := st.tensors[name]
	return ok
}

// Shape returns a tensor's shape.
func (st *Safetensors) Shape(name string) ([]int, error) {
	ti, ok := st.tensors[name]
	if !ok {
		return nil, fmt.Errorf("tensor %q: missing", name)
	}
	shape := make([]int, len(ti.Shape))
	for i, d := range ti.Shape {
		shape[i] = int(d)
	}
	return shape, nil
}

// Float32 returns a floating-point tensor converted to float32 (F32 as is;
// F16, BF16 exactly; F64 rounded) with its shape.
func (st *Safetensors) Float32(name string) ([]float32, []int, error) {
	ti, ok := st.tensors[name]
	if !ok {
		return nil, nil, fmt.Errorf("tensor %q: missing", name)
	}
	shape, _ := st.Shape(name)
	b := st.data[ti.Offsets[0]:ti.Offsets[1]]
	size := dtypeSize[ti.DType]
	out := make([]float32, len(b)/size)
	for i := range out {
		p := b[i*size:]
		switch ti.DType {
		case "F32":
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(p))
		case "F64":
			out[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(p)))
		case "BF16":
			out[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(p)) << 16)
		case "F16":
			out[i] = halfToFloat(binary.LittleEndian.Uint16(p))
		default:
			return nil, nil, fmt.Errorf("tensor %q: dtype %s is not floating point", name, ti.DType)
		}
	}
	return out, shape, nil
}

// halfToFloat converts IEEE 754 binary16 to float32, exactly.
func halfToFloat(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf, NaN
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	case exp != 0:
		return math.Float32frombits(sign | (exp+112)<<23 | frac<<13)
	case frac == 0:
		return math.Float32frombits(sign)
	}
	// Subnormal: frac · 2⁻²⁴.
	f := float32(frac) / (1 << 24)
	if sign != 0 {
		f = -f
	}
	return f
}
