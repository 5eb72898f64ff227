package replay

import (
	"slices"
	"sync/atomic"
	"testing"

	"github.com/tickstream/tickstream/tick"
)

// sliceStream yields ticks from a slice, over and over with rising times.
type sliceStream struct {
	ts []tick.Tick
	i  int
}

func (s *sliceStream) next(t *tick.Tick) (bool, error) {
	*t = s.ts[s.i%len(s.ts)]
	t.TS += int64(s.i/len(s.ts)) * 1_000_000
	s.i++
	return true, nil
}
func (s *sliceStream) close() error { return nil }

// TestMergeOrder: k windows merged give every tick once, in event-time
// order, ties in stream order (checked against a stable sort).
func TestMergeOrder(t *testing.T) {
	var late atomic.Int64
	var all []tick.Tick
	var srcs []stream
	for k := range 5 {
		var ts []tick.Tick
		for i := range 200 {
			// Nearly ordered: every fourth pair swapped; times collide across streams.
			ts = append(ts, tick.Tick{Symbol: string(rune('A' + k)), TS: 1_764_081_000_000 + int64(i*10+(i*k)%7), Price: float64(i + 1)})
		}
		for i := 0; i+1 < len(ts); i += 4 {
			ts[i], ts[i+1] = ts[i+1], ts[i]
		}
		all = append(all, ts...)
		srcs = append(srcs, newWindow(&limited{ts: ts}, 3, &late))
	}
	m, err := newMerge(srcs)
	if err != nil {
		t.Fatal(err)
	}
	var got []tick.Tick
	var x tick.Tick
	for {
		ok, err := m.next(&x)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		got = append(got, x)
	}
	// Expected: all ticks by time; equal times by stream (symbol), then by
	// position within the stream's sorted order.
	want := slices.Clone(all)
	slices.SortStableFunc(want, func(a, b tick.Tick) int {
		if a.TS != b.TS {
			return int(a.TS - b.TS)
		}
		return int(a.Symbol[0]) - int(b.Symbol[0])
	})
	if !slices.Equal(got, want) || late.Load() != 0 {
		t.Fatalf("merge gave %d ticks (late %d), want %d in order", len(got), late.Load(), len(want))
	}
}

// limited yields its ticks once.
type limited struct {
	ts []tick.Tick
	i  int
}

func (s *limited) next(t *tick.Tick) (bool, error) {
	if s.i == len(s.ts) {
		return false, nil
	}
	*t = s.ts[s.i]
	s.i++
	return true, nil
}
func (s *limited) close() error { return nil }

// TestMergeAllocs: sorting and merging allocate nothing per tick.
func TestMergeAllocs(t *testing.T) {
	var late atomic.Int64
	var srcs []stream
	for k := range 4 {
		ts := []tick.Tick{{Symbol: "A", TS: int64(k)}, {Symbol: "B", TS: int64(k) + 5}, {Symbol: "C", TS: int64(k) + 3}}
		srcs = append(srcs, newWindow(&sliceStream{ts: ts}, 16, &late))
	}
	m, err := newMerge(srcs)
	if err != nil {
		t.Fatal(err)
	}
	var x tick.Tick
	allocs := testing.AllocsPerRun(10_000, func() {
		if ok, err := m.next(&x); !ok || err != nil {
			t.Fatal(ok, err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per tick", allocs)
	}
}
