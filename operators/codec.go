package operators

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Checkpoint format of a State, version 1. Integers are varints, floats
// their IEEE bits little-endian, so a restored State continues bit-for-bit
// where the saved one stopped. Values derived from the samples and the
// config (the return-window and time-window boundaries) are recomputed on
// restore, so changed anomaly thresholds take effect at once; a changed
// window size, time window or lateness changes what the state holds and is
// refused.
const stateVersion = 1

// ErrCheckpoint is wrapped by every UnmarshalBinary error.
var ErrCheckpoint = errors.New("bad operator state checkpoint")

// MarshalBinary encodes st for a checkpoint.
func (st *State) MarshalBinary() ([]byte, error) { return st.AppendBinary(nil) }

// AppendBinary appends the encoding of st to b.
func (st *State) AppendBinary(b []byte) ([]byte, error) {
	b = append(b, stateVersion)
	b = binary.AppendUvarint(b, uint64(len(st.symbol)))
	b = append(b, st.symbol...)
	b = binary.AppendUvarint(b, uint64(st.shape.ticks))
	b = binary.AppendVarint(b, st.shape.window)
	b = binary.AppendVarint(b, st.shape.lateness)

	b = appendBool(b, st.seen)
	b = binary.AppendVarint(b, st.newest)
	b = binary.AppendUvarint(b, uint64(st.dedup.n))
	for i := 0; i < st.dedup.n; i++ {
		b = binary.AppendVarint(b, *st.dedup.at(i))
	}

	c := &st.count
	b = binary.AppendUvarint(b, c.seq)
	b = binary.AppendUvarint(b, uint64(c.sinceResum))
	b = appendSum(b, c.price)
	b = appendSum(b, c.volume)
	b = binary.AppendUvarint(b, uint64(c.samples.n))
	for i := 0; i < c.samples.n; i++ {
		s := c.samples.at(i)
		b = binary.AppendVarint(b, s.ts)
		b = binary.AppendUvarint(b, s.seq)
		b = appendFloat(b, s.price)
		b = appendFloat(b, s.volume)
	}
	b = binary.AppendUvarint(b, uint64(c.peaks.n))
	for i := 0; i < c.peaks.n; i++ {
		b = binary.AppendUvarint(b, c.peaks.at(i).seq)
	}

	w := &st.time
	b = binary.AppendUvarint(b, uint64(w.sinceResum))
	b = appendSum(b, w.price)
	b = binary.AppendUvarint(b, uint64(w.samples.n))
	for i := 0; i < w.samples.n; i++ {
		s := w.samples.at(i)
		b = binary.AppendVarint(b, s.ts)
		b = appendFloat(b, s.price)
	}

	for _, e := range [2]*edge{&st.spike, &st.drop} {
		b = appendBool(b, e.active)
		b = appendBool(b, e.alerted)
		b = binary.AppendVarint(b, e.last)
	}
	return b, nil
}

// UnmarshalBinary restores a checkpoint into st, which must come from
// Pipeline.NewState for the same symbol under a config with the same window
// size, time window and lateness. On error st is unchanged.
func (st *State) UnmarshalBinary(data []byte) error {
	if st.count.samples.buf == nil {
		return fmt.Errorf("%w: restore into a State made by Pipeline.NewState", ErrCheckpoint)
	}
	nst := newState(st.symbol, st.rules, st.shape)
	if err := nst.decode(&reader{b: data}); err != nil {
		return fmt.Errorf("%w for %q: %v", ErrCheckpoint, st.symbol, err)
	}
	*st = *nst
	return nil
}

func (st *State) decode(r *reader) error {
	if v := r.byte(); r.err == nil && v != stateVersion {
		return fmt.Errorf("version %d, want %d", v, stateVersion)
	}
	if sym := r.str(); r.err == nil && sym != st.symbol {
		return fmt.Errorf("checkpoint is of symbol %q", sym)
	}
	ticks, window, lateness := r.uvarint(), r.varint(), r.varint()
	if r.err != nil {
		return r.err
	}
	if got := (shape{ticks: int(min(ticks, math.MaxInt32)), window: window, lateness: lateness}); got != st.shape {
		return fmt.Errorf("checkpoint is for moving_average.ticks=%d, moving_average.window=%dms, clean.allowed_lateness=%dms; config now has %d, %dms, %dms",
			got.ticks, got.window, got.lateness, st.shape.ticks, st.shape.window, st.shape.lateness)
	}

	st.seen = r.bool()
	st.newest = r.varint()
	n := r.length(math.MaxInt)
	for i := 0; i < n && r.err == nil; i++ {
		ts := r.varint()
		if r.err != nil {
			break
		}
		if i > 0 && ts <= *st.dedup.at(i - 1) || ts > st.newest {
			return errors.New("duplicate memory out of order")
		}
		st.dedup.pushBack(ts)
	}

	c := &st.count
	c.seq = r.uvarint()
	c.sinceResum = r.counter(st.shape.ticks)
	c.price, c.volume = r.sum(), r.sum()
	n = r.length(st.shape.ticks)
	if uint64(n) > c.seq {
		return errors.New("count window holds more ticks than arrived")
	}
	held := make([]bool, n) // seq − (c.seq − n) of each sample, to find gaps
	for i := 0; i < n && r.err == nil; i++ {
		s := sample{ts: r.varint(), seq: r.uvarint(), price: r.float(), volume: r.float()}
		if r.err != nil {
			break
		}
		k := s.seq - (c.seq - uint64(n))
		if s.seq >= c.seq || k >= uint64(n) || held[k] {
			return errors.New("count window is not the last ticks that arrived")
		}
		if i > 0 && s.ts <= c.samples.at(i-1).ts || s.ts > st.newest {
			return errors.New("count window out of order")
		}
		held[k] = true
		c.samples.pushBack(s)
	}
	bySeq := make(map[uint64]float64, n)
	for i := 0; i < c.samples.n; i++ {
		bySeq[c.samples.at(i).seq] = c.samples.at(i).price
	}
	n = r.length(c.samples.n)
	for i := 0; i < n && r.err == nil; i++ {
		p := peak{seq: r.uvarint()}
		price, ok := bySeq[p.seq]
		if r.err == nil && (!ok || i > 0 && (p.seq <= c.peaks.at(i-1).seq || price >= c.peaks.at(i-1).price)) {
			return errors.New("rolling maximum inconsistent with the window")
		}
		p.price = price
		c.peaks.pushBack(p)
	}
	if r.err == nil && c.samples.n > 0 && (c.peaks.n == 0 || c.peaks.at(c.peaks.n-1).seq != c.seq-1) {
		return errors.New("rolling maximum does not end at the newest tick")
	}
	if d := st.rules.returnWindow; d > 0 {
		for c.past < c.samples.n && notAfter(c.samples.at(c.past).ts, st.newest, d) {
			c.past++
		}
	}

	w := &st.time
	w.sinceResum = r.counter(math.MaxInt32)
	w.price = r.sum()
	n = r.length(math.MaxInt)
	if n > 0 && st.shape.window == 0 {
		return errors.New("time window samples but the time window is off")
	}
	for i := 0; i < n && r.err == nil; i++ {
		s := point{ts: r.varint(), price: r.float()}
		if r.err != nil {
			break
		}
		if i > 0 && s.ts <= w.samples.at(i-1).ts || s.ts > st.newest {
			return errors.New("time window out of order")
		}
		w.samples.pushBack(s)
	}
	for w.lo < w.samples.n && notAfter(w.samples.at(w.lo).ts, st.newest, st.shape.window) {
		w.lo++
	}

	for _, e := range [2]*edge{&st.spike, &st.drop} {
		e.active, e.alerted, e.last = r.bool(), r.bool(), r.varint()
	}
	if r.err != nil {
		return r.err
	}
	if len(r.b) != 0 {
		return fmt.Errorf("%d bytes after the end", len(r.b))
	}
	return nil
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

func appendFloat(b []byte, f float64) []byte {
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(f))
}

func appendSum(b []byte, k ksum) []byte { return appendFloat(appendFloat(b, k.S), k.C) }

// reader decodes a checkpoint; the first error sticks and later reads
// return zero values.
type reader struct {
	b   []byte
	err error
}

var errShort = errors.New("truncated")

func (r *reader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

func (r *reader) byte() byte {
	if r.err != nil || len(r.b) < 1 {
		r.fail(errShort)
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *reader) bool() bool {
	switch r.byte() {
	case 0:
		return false
	case 1:
		return true
	}
	r.fail(errors.New("bad boolean"))
	return false
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail(errShort)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail(errShort)
		return 0
	}
	r.b = r.b[n:]
	return v
}

// counter reads a count in [0, hi].
func (r *reader) counter(hi int) int {
	v := r.uvarint()
	if v > uint64(hi) {
		r.fail(fmt.Errorf("count %d out of range", v))
		return 0
	}
	return int(v)
}

// length reads the number of items that follow, each at least one byte, so
// a corrupt length fails here instead of making us allocate.
func (r *reader) length(hi int) int {
	v := r.uvarint()
	if v > uint64(hi) || v > uint64(len(r.b)) {
		r.fail(fmt.Errorf("length %d out of range", v))
		return 0
	}
	return int(v)
}

func (r *reader) float() float64 {
	if r.err != nil || len(r.b) < 8 {
		r.fail(errShort)
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(r.b))
	r.b = r.b[8:]
	return v
}

func (r *reader) sum() ksum { return ksum{S: r.float(), C: r.float()} }

func (r *reader) str() string {
	n := r.length(len(r.b))
	if r.err != nil {
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}
