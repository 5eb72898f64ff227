package operators

// ring is a double-ended queue over a power-of-two slice. The windows keep
// samples in it sorted by event time: an in-order tick appends at the back in
// O(1); the rare out-of-order tick is inserted by shifting the few samples
// newer than it. A ring grows by doubling, so a window that only grows to its
// working size allocates a handful of times in its life and never per tick.
type ring[T any] struct {
	buf  []T
	head int
	n    int
}

func newRing[T any](capacity int) ring[T] {
	c := 1
	for c < capacity {
		c <<= 1
	}
	return ring[T]{buf: make([]T, c)}
}

// at returns the i-th element from the front; 0 ≤ i < n.
func (r *ring[T]) at(i int) *T { return &r.buf[(r.head+i)&(len(r.buf)-1)] }

func (r *ring[T]) grow() {
	nb := make([]T, max(2*len(r.buf), 8))
	for i := 0; i < r.n; i++ {
		nb[i] = *r.at(i)
	}
	r.buf, r.head = nb, 0
}

func (r *ring[T]) pushBack(v T) {
	if r.n == len(r.buf) {
		r.grow()
	}
	*r.at(r.n) = v
	r.n++
}

func (r *ring[T]) popFront() {
	r.head = (r.head + 1) & (len(r.buf) - 1)
	r.n--
}

func (r *ring[T]) popBack() { r.n-- }

// insert puts v at position i (0 ≤ i ≤ n), shifting the elements after it.
func (r *ring[T]) insert(i int, v T) {
	if r.n == len(r.buf) {
		r.grow()
	}
	for j := r.n; j > i; j-- {
		*r.at(j) = *r.at(j - 1)
	}
	*r.at(i) = v
	r.n++
}

// remove deletes position i, shifting the elements before it.
func (r *ring[T]) remove(i int) {
	for j := i; j > 0; j-- {
		*r.at(j) = *r.at(j - 1)
	}
	r.popFront()
}

func (r *ring[T]) reset() { r.head, r.n = 0, 0 }
