package dashboard

// The in-memory series behind the symbol page: per symbol, one point per
// push interval in which it had a new tick, for the last `history`. They
// are preallocated as flat arrays so their memory is fixed and known:
// 8 bytes of time and 3 × 4 bytes of values, 20 bytes a point (float32
// keeps ~7 significant digits, plenty for a chart; exact values are in the
// lake). 1000 symbols × 900 samples (15 m at 1 s) are 18 MB.

// seriesBytesPerPoint is what one sample of one symbol costs.
const seriesBytesPerPoint = 8 + 3*4

// series holds every symbol's ring of points.
type series struct {
	slots int       // points kept per symbol
	ts    []int64   // [symbol*slots + i]
	vals  []float32 // [(symbol*slots + i)*3 + {price, ma, volume}]
	head  []int32   // per symbol: next slot to write
	n     []int32   // per symbol: points held (≤ slots)
}

func newSeries(symbols, slots int) *series {
	return &series{
		slots: slots,
		ts:    make([]int64, symbols*slots),
		vals:  make([]float32, symbols*slots*3),
		head:  make([]int32, symbols),
		n:     make([]int32, symbols),
	}
}

// bytes is the memory the series hold.
func (s *series) bytes() int { return len(s.ts)*8 + len(s.vals)*4 + len(s.head)*8 }

func (s *series) add(sym int, ts int64, price, ma, volume float64) {
	i := sym*s.slots + int(s.head[sym])
	s.ts[i] = ts
	v := s.vals[i*3 : i*3+3]
	v[0], v[1], v[2] = float32(price), float32(ma), float32(volume)
	s.head[sym] = (s.head[sym] + 1) % int32(s.slots)
	if int(s.n[sym]) < s.slots {
		s.n[sym]++
	}
}

// copyRing makes symbol dst's ring a copy of symbol sk's ring in src (of
// the same slots): SetSymbols carrying a kept symbol into a new list.
func (s *series) copyRing(dst int, src *series, sk int) {
	n := s.slots
	copy(s.ts[dst*n:(dst+1)*n], src.ts[sk*n:(sk+1)*n])
	copy(s.vals[dst*n*3:(dst+1)*n*3], src.vals[sk*n*3:(sk+1)*n*3])
	s.head[dst], s.n[dst] = src.head[sk], src.n[sk]
}

// each calls fn with the symbol's points from the oldest.
func (s *series) each(sym int, fn func(ts int64, price, ma, volume float32)) {
	n := int(s.n[sym])
	start := int(s.head[sym]) - n
	if start < 0 {
		start += s.slots
	}
	for k := range n {
		i := sym*s.slots + (start+k)%s.slots
		fn(s.ts[i], s.vals[i*3], s.vals[i*3+1], s.vals[i*3+2])
	}
}

// predPoint is one sampled prediction of one model.
type predPoint struct {
	ts    int64
	value float32
	model uint16 // index in Hub.models
}

// ring keeps the newest len(buf) values added: a symbol's sampled
// predictions (16 bytes a point, allocated on its first prediction) and
// the hub's alert feed.
type ring[T any] struct {
	buf  []T
	head int // next slot to write
	n    int
}

func newRing[T any](size int) ring[T] { return ring[T]{buf: make([]T, size)} }

func (r *ring[T]) add(v T) {
	r.buf[r.head] = v
	r.head = (r.head + 1) % len(r.buf)
	if r.n < len(r.buf) {
		r.n++
	}
}

// at is the k-th newest value, k in [1, n].
func (r *ring[T]) at(k int) *T { return &r.buf[(r.head-k+len(r.buf))%len(r.buf)] }

func (r *ring[T]) oldestFirst(fn func(*T)) {
	for k := r.n; k >= 1; k-- {
		fn(r.at(k))
	}
}

// newestFirst stops when fn returns false.
func (r *ring[T]) newestFirst(fn func(*T) bool) {
	for k := 1; k <= r.n; k++ {
		if !fn(r.at(k)) {
			return
		}
	}
}
