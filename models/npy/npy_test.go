package npy_test

import (
	"bytes"
	"math"
	"slices"
	"testing"

	"github.com/tickstream/tickstream/models/npy"
)

// Written arrays read back, with the header padded to 64 bytes as numpy
// writes it; the expected header is numpy's (np.save of the same array).
func TestRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	data := []float32{1, float32(math.NaN()), -2.5, 3, 4, 5}
	if err := npy.Write(&buf, []int{2, 3}, data); err != nil {
		t.Fatal(err)
	}
	const header = "\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
	if !bytes.HasPrefix(buf.Bytes(), []byte(header)) || (buf.Len()-len(data)*4)%64 != 0 {
		t.Fatalf("header %q", buf.Bytes()[:min(buf.Len(), 128)])
	}
	a, err := npy.Read(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Shape, []int{2, 3}) || a.F32[2] != -2.5 || !math.IsNaN(float64(a.F32[1])) {
		t.Fatalf("read back %+v", a)
	}
	buf.Reset()
	if err := npy.Write(&buf, []int{2}, []int64{-1, 1 << 40}); err != nil {
		t.Fatal(err)
	}
	if a, err = npy.Read(buf.Bytes()); err != nil || a.I64[1] != 1<<40 || !slices.Equal(a.Shape, []int{2}) {
		t.Fatalf("int64: %+v %v", a, err)
	}
	if _, err := npy.Read(buf.Bytes()[:buf.Len()-1]); err == nil {
		t.Error("a truncated file was read")
	}
	if err := npy.Write(&buf, []int{3}, []int32{1}); err == nil {
		t.Error("a shape that does not fit the data was written")
	}
}
