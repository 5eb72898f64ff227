// Package npy reads and writes NumPy .npy files of little-endian float32,
// float64, int32 and int64 arrays in C order: the exchange format between
// the Go feature dump, the Python fixture generator and the parity tests.
// It must stay small and dependency-free; it is not a general NumPy reader.
package npy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// Array is a decoded array: exactly one of the data slices is set, by dtype.
type Array struct {
	Shape []int
	F32   []float32
	F64   []float64
	I32   []int32
	I64   []int64
}

// Len is the number of elements.
func (a *Array) Len() int {
	n := 1
	for _, d := range a.Shape {
		n *= d
	}
	return n
}

var magic = []byte("\x93NUMPY")

// Write writes data (a []float32, []float64, []int32 or []int64) with the
// given shape.
func Write(w io.Writer, shape []int, data any) error {
	var descr string
	var n int
	switch d := data.(type) {
	case []float32:
		descr, n = "<f4", len(d)
	case []float64:
		descr, n = "<f8", len(d)
	case []int32:
		descr, n = "<i4", len(d)
	case []int64:
		descr, n = "<i8", len(d)
	default:
		return fmt.Errorf("npy: unsupported data type %T", data)
	}
	want := 1
	dims := make([]string, len(shape))
	for i, s := range shape {
		want *= s
		dims[i] = strconv.Itoa(s)
	}
	if want != n {
		return fmt.Errorf("npy: shape %v holds %d values, got %d", shape, want, n)
	}
	tuple := strings.Join(dims, ", ")
	if len(shape) == 1 {
		tuple += ","
	}
	header := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, tuple)
	// Pad so the data starts at a multiple of 64 bytes, as numpy does.
	total := len(magic) + 2 + 2 + len(header) + 1
	header += strings.Repeat(" ", (64-total%64)%64) + "\n"
	var buf bytes.Buffer
	buf.Write(magic)
	buf.Write([]byte{1, 0})
	binary.Write(&buf, binary.LittleEndian, uint16(len(header)))
	buf.WriteString(header)
	if err := binary.Write(&buf, binary.LittleEndian, data); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// WriteFile is Write to a new file at path.
func WriteFile(path string, shape []int, data any) error {
	var buf bytes.Buffer
	if err := Write(&buf, shape, data); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

var (
	reDescr = regexp.MustCompile(`'descr':\s*'([^']*)'`)
	reOrder = regexp.MustCompile(`'fortran_order':\s*(True|False)`)
	reShape = regexp.MustCompile(`'shape':\s*\(([^)]*)\)`)
)

// Read decodes an .npy file.
func Read(data []byte) (*Array, error) {
	if len(data) < 10 || !bytes.Equal(data[:6], magic) {
		return nil, errors.New("npy: not an .npy file")
	}
	var hlen, off int
	switch data[6] {
	case 1:
		hlen, off = int(binary.LittleEndian.Uint16(data[8:])), 10
	case 2, 3:
		if len(data) < 12 {
			return nil, errors.New("npy: truncated header")
		}
		hlen, off = int(binary.LittleEndian.Uint32(data[8:])), 12
	default:
		return nil, fmt.Errorf("npy: unsupported version %d", data[6])
	}
	if off+hlen > len(data) {
		return nil, errors.New("npy: truncated header")
	}
	header := string(data[off : off+hlen])
	body := data[off+hlen:]
	d, o, s := reDescr.FindStringSubmatch(header), reOrder.FindStringSubmatch(header), reShape.FindStringSubmatch(header)
	if d == nil || o == nil || s == nil {
		return nil, fmt.Errorf("npy: bad header %q", header)
	}
	if o[1] == "True" {
		return nil, errors.New("npy: Fortran order is not supported")
	}
	a := &Array{}
	for _, f := range strings.Split(s[1], ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("npy: bad shape %q", s[1])
		}
		a.Shape = append(a.Shape, n)
	}
	n := a.Len()
	size := map[string]int{"<f4": 4, "<f8": 8, "<i4": 4, "<i8": 8}[d[1]]
	if size == 0 {
		return nil, fmt.Errorf("npy: unsupported dtype %q", d[1])
	}
	if len(body) != n*size {
		return nil, fmt.Errorf("npy: %d data bytes for shape %v of %s", len(body), a.Shape, d[1])
	}
	switch d[1] {
	case "<f4":
		a.F32 = make([]float32, n)
		for i := range n {
			a.F32[i] = math.Float32frombits(binary.LittleEndian.Uint32(body[4*i:]))
		}
	case "<f8":
		a.F64 = make([]float64, n)
		for i := range n {
			a.F64[i] = math.Float64frombits(binary.LittleEndian.Uint64(body[8*i:]))
		}
	case "<i4":
		a.I32 = make([]int32, n)
		for i := range n {
			a.I32[i] = int32(binary.LittleEndian.Uint32(body[4*i:]))
		}
	case "<i8":
		a.I64 = make([]int64, n)
		for i := range n {
			a.I64[i] = int64(binary.LittleEndian.Uint64(body[8*i:]))
		}
	}
	return a, nil
}

// ReadFile is Read of the file at path.
func ReadFile(path string) (*Array, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	a, err := Read(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return a, nil
}
