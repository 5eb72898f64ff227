package lstm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// AppendBinary appends the state as bytes: the layer count, then each
// layer's width, h and c (float32 bits, little-endian), then the step
// count. A stateful sequence saved and restored carries on bit for bit.
func (s *State) AppendBinary(b []byte) ([]byte, error) {
	b = binary.AppendUvarint(b, uint64(len(s.h)))
	for i := range s.h {
		b = binary.AppendUvarint(b, uint64(len(s.h[i])))
		for _, v := range s.h[i] {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		}
		for _, v := range s.c[i] {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		}
	}
	return binary.AppendVarint(b, s.steps), nil
}

// MarshalBinary is AppendBinary into a new slice.
func (s *State) MarshalBinary() ([]byte, error) { return s.AppendBinary(nil) }

// UnmarshalBinary restores a state written by AppendBinary into s, which
// must come from NewState of a model with the same layer widths; a state of
// another shape is an error and leaves s unchanged.
func (s *State) UnmarshalBinary(data []byte) error {
	n, w := binary.Uvarint(data)
	if w <= 0 {
		return errors.New("lstm state: truncated")
	}
	if n != uint64(len(s.h)) {
		return fmt.Errorf("lstm state: %d layers saved, the model has %d", n, len(s.h))
	}
	data = data[w:]
	// Check the whole encoding before writing into s.
	rest := data
	for i := range s.h {
		hid, w := binary.Uvarint(rest)
		if w <= 0 {
			return errors.New("lstm state: truncated")
		}
		if hid != uint64(len(s.h[i])) {
			return fmt.Errorf("lstm state: layer %d has %d units saved, the model has %d", i, hid, len(s.h[i]))
		}
		if uint64(len(rest)-w) < 8*hid {
			return errors.New("lstm state: truncated")
		}
		rest = rest[w+8*int(hid):]
	}
	steps, w := binary.Varint(rest)
	if w <= 0 || len(rest) != w || steps < 0 {
		return errors.New("lstm state: bad step count or trailing bytes")
	}
	for i := range s.h {
		_, w := binary.Uvarint(data)
		data = data[w:]
		for _, dst := range [2][]float32{s.h[i], s.c[i]} {
			for k := range dst {
				dst[k] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*k:]))
			}
			data = data[4*len(dst):]
		}
	}
	s.steps = steps
	return nil
}
