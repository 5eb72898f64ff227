package replay

import (
	"errors"
	"sync/atomic"

	"github.com/tickstream/tickstream/tick"
)

// stream yields ticks, in event-time order or nearly so.
type stream interface {
	next(t *tick.Tick) (bool, error)
	close() error
}

// seqTick orders ticks by event time, then by the order they were read, so
// equal times keep their recorded order and every run is the same.
type seqTick struct {
	t   tick.Tick
	seq int64
}

func (a *seqTick) less(b *seqTick) bool {
	return a.t.TS < b.t.TS || a.t.TS == b.t.TS && a.seq < b.seq
}

// tickHeap is a binary min-heap of seqTicks. It is written out rather than
// built on container/heap, whose interface{} Push and Pop would allocate
// twice per tick.
type tickHeap []seqTick

func (h *tickHeap) push(x seqTick) {
	*h = append(*h, x)
	h.up(len(*h) - 1)
}

// pop removes the least element into *dst.
func (h *tickHeap) pop(dst *seqTick) {
	old := *h
	n := len(old) - 1
	*dst = old[0]
	old[0] = old[n]
	*h = old[:n]
	h.down(0)
}

func (h tickHeap) up(i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if !h[i].less(&h[parent]) {
			return
		}
		h[i], h[parent] = h[parent], h[i]
		i = parent
	}
}

func (h tickHeap) down(i int) {
	for {
		least, l, r := i, 2*i+1, 2*i+2
		if l < len(h) && h[l].less(&h[least]) {
			least = l
		}
		if r < len(h) && h[r].less(&h[least]) {
			least = r
		}
		if least == i {
			return
		}
		h[i], h[least] = h[least], h[i]
		i = least
	}
}

// window sorts a nearly ordered stream: it holds up to size ticks and
// always gives out the earliest. A tick more than size rows late still
// comes out, right away, and is counted in late.
type window struct {
	src     stream
	size    int
	h       tickHeap
	seq     int64
	done    bool
	lastOut int64
	late    *atomic.Int64
	in      seqTick // scratch: a local handed to src.next would escape
}

func newWindow(src stream, size int, late *atomic.Int64) *window {
	return &window{src: src, size: max(size, 1), h: make(tickHeap, 0, max(size, 1)), late: late, lastOut: -1 << 63}
}

func (w *window) next(t *tick.Tick) (bool, error) {
	for !w.done && len(w.h) < w.size {
		in := &w.in
		ok, err := w.src.next(&in.t)
		if err != nil {
			return false, err
		}
		if !ok {
			w.done = true
			break
		}
		in.seq = w.seq
		w.seq++
		w.h.push(*in)
	}
	if len(w.h) == 0 {
		return false, nil
	}
	out := &w.in
	w.h.pop(out)
	*t = out.t
	if t.TS < w.lastOut {
		w.late.Add(1)
	} else {
		w.lastOut = t.TS
	}
	return true, nil
}

func (w *window) close() error { return w.src.close() }

// merge is a k-way merge of ordered streams by event time; ties go to the
// stream listed first. It holds one tick per stream.
type merge struct {
	srcs  []stream
	heads tickHeap // seq is the stream's index
}

func newMerge(srcs []stream) (*merge, error) {
	m := &merge{srcs: srcs}
	for i, s := range srcs {
		var st seqTick
		ok, err := s.next(&st.t)
		if err != nil {
			return nil, err
		}
		if ok {
			st.seq = int64(i)
			m.heads = append(m.heads, st)
		}
	}
	for i := len(m.heads)/2 - 1; i >= 0; i-- {
		m.heads.down(i)
	}
	return m, nil
}

func (m *merge) next(t *tick.Tick) (bool, error) {
	if len(m.heads) == 0 {
		return false, nil
	}
	top := &m.heads[0]
	*t = top.t
	ok, err := m.srcs[top.seq].next(&top.t)
	if err != nil {
		return false, err
	}
	if ok {
		m.heads.down(0)
	} else {
		var gone seqTick
		m.heads.pop(&gone)
	}
	return true, nil
}

func (m *merge) close() error {
	var errs []error
	for _, s := range m.srcs {
		errs = append(errs, s.close())
	}
	return errors.Join(errs...)
}
