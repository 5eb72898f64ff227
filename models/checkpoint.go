package models

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/tickstream/tickstream/models/lstm"
)

// What a checkpoint keeps of a symbol, so predictions after a restore are
// bit for bit those of a run that never stopped: the feature state (the
// histories, running sums and the window ring, as raw float bits), the
// cadence bucket, and each stateful LSTM's carried h and c with the name
// and file hash of the model that made them.
//
// A carried state is not bound to a model at restore: it waits in the
// Symbol until the slot's stateful model first steps it, and is taken only
// if that model is the same file (hash). Otherwise the state restarts over
// the window, exactly as an uninterrupted run does when a reload swaps the
// model.

// encodingVersion leads every encoding; a change of layout bumps it.
const encodingVersion = 1

// savedState is a stateful model's carried state restored from a
// checkpoint and not yet bound to a model.
type savedState struct {
	model, hash string
	state       []byte
}

// AppendBinary appends the feature state to b. It allocates only to grow b.
func (f *Features) AppendBinary(b []byte) ([]byte, error) {
	b = append(b, encodingVersion)
	b = binary.AppendUvarint(b, NumFeatures)
	b = binary.AppendUvarint(b, hist)
	b = binary.AppendUvarint(b, uint64(f.steps))
	b = binary.AppendVarint(b, f.n)
	b = binary.AppendVarint(b, f.prevTS)
	for _, ring := range [...]*[hist]float64{&f.logp, &f.ret, &f.lvol} {
		for _, v := range ring {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
		}
	}
	for _, v := range [...]float64{f.r20, f.q20, f.r60, f.q60, f.v60, f.w60} {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	b = binary.AppendUvarint(b, uint64(f.sinceResum))
	for _, v := range f.cur {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	for _, v := range f.window {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b, nil
}

// MarshalBinary is AppendBinary into a new slice.
func (f *Features) MarshalBinary() ([]byte, error) { return f.AppendBinary(nil) }

// UnmarshalBinary restores a state written by AppendBinary. The window
// length must equal f's (NewFeatures' steps, models.window in config); a
// state of another length or feature set is an error and leaves f as it
// was.
func (f *Features) UnmarshalBinary(data []byte) error {
	r := reader{b: data}
	g, err := r.features(f.steps)
	if err != nil {
		return err
	}
	if len(r.b) != 0 {
		return fmt.Errorf("feature state: %d trailing bytes", len(r.b))
	}
	*f = *g
	return nil
}

// AppendBinary appends the symbol's prediction state to b (see the top of
// this file). The name is not included: the checkpoint keys states by it.
func (s *Symbol) AppendBinary(b []byte) ([]byte, error) {
	b = append(b, encodingVersion)
	b, err := s.F.AppendBinary(b)
	if err != nil {
		return nil, err
	}
	b = binary.AppendVarint(b, s.bucket)
	n := len(s.saved)
	for _, m := range s.stModel {
		if m != nil {
			n++
		}
	}
	b = binary.AppendUvarint(b, uint64(n))
	for i, m := range s.stModel {
		if m == nil {
			continue
		}
		b = appendLenString(b, m.Spec.Name)
		b = appendLenString(b, m.Hash)
		st, err := s.states[i][0].AppendBinary(nil)
		if err != nil {
			return nil, fmt.Errorf("model %s: %w", m.Spec.Name, err)
		}
		b = appendLenBytes(b, st)
	}
	// States restored but not bound yet (the symbol has not ticked since)
	// must survive the next checkpoint too.
	for _, sv := range s.saved {
		b = appendLenString(b, sv.model)
		b = appendLenString(b, sv.hash)
		b = appendLenBytes(b, sv.state)
	}
	return b, nil
}

// MarshalBinary is AppendBinary into a new slice.
func (s *Symbol) MarshalBinary() ([]byte, error) { return s.AppendBinary(nil) }

// UnmarshalBinary restores a state written by AppendBinary into s, which
// must come from NewSymbol of a predictor whose feature window has the
// same length. On error s is left as it was.
func (s *Symbol) UnmarshalBinary(data []byte) error {
	r := reader{b: data}
	if v := r.byte(); r.err == nil && v != encodingVersion {
		return fmt.Errorf("symbol state: encoding version %d, want %d", v, encodingVersion)
	}
	f, err := r.features(s.F.steps)
	if err != nil {
		return err
	}
	bucket := r.varint()
	n := r.uvarint()
	if r.err == nil && n > uint64(len(r.b)) {
		return errors.New("symbol state: truncated")
	}
	var saved []savedState
	for range n {
		sv := savedState{model: string(r.chunk()), hash: string(r.chunk()), state: slices.Clone(r.chunk())}
		if r.err != nil {
			break
		}
		saved = append(saved, sv)
	}
	if r.err != nil {
		return fmt.Errorf("symbol state: %w", r.err)
	}
	if len(r.b) != 0 {
		return fmt.Errorf("symbol state: %d trailing bytes", len(r.b))
	}
	s.F, s.bucket, s.saved = f, bucket, saved
	clear(s.states)
	clear(s.stModel)
	return nil
}

// adopt binds the restored state of slot i's model, if there is one and
// m is the file that made it. The saved entry is consumed either way: a
// state made by another file is stale.
func (s *Symbol) adopt(i int, m *Model) bool {
	for k, sv := range s.saved {
		if sv.model != m.Spec.Name {
			continue
		}
		s.saved = slices.Delete(s.saved, k, k+1)
		if sv.hash != m.Hash {
			return false
		}
		st := m.seq.NewState()
		if st.UnmarshalBinary(sv.state) != nil {
			return false
		}
		s.states[i] = []*lstm.State{st}
		s.stModel[i] = m
		return true
	}
	return false
}

func appendLenBytes(b, v []byte) []byte {
	return append(binary.AppendUvarint(b, uint64(len(v))), v...)
}

func appendLenString(b []byte, v string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(v))), v...)
}

// reader decodes the encodings above; the first problem sticks in err and
// every later read returns zero.
type reader struct {
	b   []byte
	err error
}

var errTruncated = errors.New("truncated")

func (r *reader) take(n int) []byte {
	if r.err != nil || n < 0 || n > len(r.b) {
		r.err = firstErr(r.err, errTruncated)
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

// firstErr keeps the first error a reader met.
func firstErr(have, want error) error {
	if have != nil {
		return have
	}
	return want
}

func (r *reader) byte() byte {
	if v := r.take(1); v != nil {
		return v[0]
	}
	return 0
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, w := binary.Uvarint(r.b)
	if w <= 0 {
		r.err = errTruncated
		return 0
	}
	r.b = r.b[w:]
	return v
}

func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, w := binary.Varint(r.b)
	if w <= 0 {
		r.err = errTruncated
		return 0
	}
	r.b = r.b[w:]
	return v
}

func (r *reader) chunk() []byte {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.err = firstErr(r.err, errTruncated)
		return nil
	}
	return r.take(int(n))
}

func (r *reader) f64() float64 {
	if v := r.take(8); v != nil {
		return math.Float64frombits(binary.LittleEndian.Uint64(v))
	}
	return 0
}

func (r *reader) f32() float32 {
	if v := r.take(4); v != nil {
		return math.Float32frombits(binary.LittleEndian.Uint32(v))
	}
	return 0
}

// features decodes a Features encoding whose window must be steps long.
func (r *reader) features(steps int) (*Features, error) {
	if v := r.byte(); r.err == nil && v != encodingVersion {
		return nil, fmt.Errorf("feature state: encoding version %d, want %d", v, encodingVersion)
	}
	nf, h, st := r.uvarint(), r.uvarint(), r.uvarint()
	if r.err != nil {
		return nil, fmt.Errorf("feature state: %w", r.err)
	}
	if nf != NumFeatures || h != hist {
		return nil, fmt.Errorf("feature state of %d features and %d ticks of history; this build has %d and %d", nf, h, NumFeatures, hist)
	}
	if st != uint64(steps) {
		return nil, fmt.Errorf("feature state keeps a window of %d ticks, models.window is %d", st, steps)
	}
	f := NewFeatures(steps)
	f.n, f.prevTS = r.varint(), r.varint()
	for _, ring := range [...]*[hist]float64{&f.logp, &f.ret, &f.lvol} {
		for k := range ring {
			ring[k] = r.f64()
		}
	}
	for _, v := range [...]*float64{&f.r20, &f.q20, &f.r60, &f.q60, &f.v60, &f.w60} {
		*v = r.f64()
	}
	f.sinceResum = int(r.uvarint())
	for k := range f.cur {
		f.cur[k] = r.f32()
	}
	for k := range f.window {
		f.window[k] = r.f32()
	}
	if r.err != nil {
		return nil, fmt.Errorf("feature state: %w", r.err)
	}
	if f.n < 0 || f.sinceResum >= hist {
		return nil, fmt.Errorf("feature state: %d ticks, %d since the re-sum: corrupt", f.n, f.sinceResum)
	}
	return f, nil
}
