package sim_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/tickstream/tickstream/config"
	"github.com/tickstream/tickstream/feeds/sim"
	"github.com/tickstream/tickstream/tick"
)

// TestSetSymbols: after SetSymbols([B, C]) on a Sim of [A, B], rounds hold B
// and C; B's series goes on exactly as in a Sim that never changed; C's
// planted events come after a warm-up counted from its first tick; every
// symbol's ticks stay one step apart (±1 ms) except across the change; a
// call mid-round takes effect at the next round.
func TestSetSymbols(t *testing.T) {
	cfg := config.Simulator{Seed: 7, Rate: 1, SpikeEvery: 10 * time.Minute, DropEvery: 20 * time.Minute}
	start := time.Date(2026, 11, 24, 14, 0, 0, 0, time.UTC)
	s, err := sim.New([]string{"A", "B"}, cfg, start)
	if err != nil {
		t.Fatal(err)
	}
	twin, err := sim.New([]string{"A", "B"}, cfg, start)
	if err != nil {
		t.Fatal(err)
	}
	const before, after = 1000, 8000 // rounds
	got := run(t, s, 2*before+1)     // one tick into round `before`
	if err := s.SetSymbols([]string{"B", "C"}); err != nil {
		t.Fatal(err)
	}
	got = append(got, run(t, s, 1+2*after)...) // B ends round `before`
	ref := run(t, twin, 2*(before+1+after))

	var order []string
	for _, tk := range got[2*before+2:][:4] {
		order = append(order, tk.Symbol)
	}
	if !slices.Equal(order, []string{"B", "C", "B", "C"}) {
		t.Fatalf("rounds after the change: %v, want B C B C", order)
	}
	bySym := func(ts []tick.Tick) map[string][]tick.Tick {
		m := map[string][]tick.Tick{}
		for _, tk := range ts {
			m[tk.Symbol] = append(m[tk.Symbol], tk)
		}
		return m
	}
	g, r := bySym(got), bySym(ref)
	if len(g["A"]) != before+1 || len(g["C"]) != after {
		t.Fatalf("A made %d ticks, C %d; want %d and %d", len(g["A"]), len(g["C"]), before+1, after)
	}
	for i, tk := range g["B"] {
		w := r["B"][i]
		if tk.Price != w.Price || tk.Volume != w.Volume {
			t.Fatalf("B tick %d: price %v volume %v, unchanged Sim %v %v", i, tk.Price, tk.Volume, w.Price, w.Volume)
		}
	}
	// The change moves B from second to first place in the round: that one
	// gap is shorter, by less than a step.
	change := start.UnixMilli() + (before+1)*1000
	for sym, ts := range g {
		for i := 1; i < len(ts); i++ {
			d := ts[i].TS - ts[i-1].TS
			if ts[i-1].TS < change && ts[i].TS >= change {
				if d <= 0 || d >= 2000 {
					t.Fatalf("%s ticks %d and %d are %d ms apart across the change", sym, i-1, i, d)
				}
				continue
			}
			if d < 999 || d > 1001 {
				t.Fatalf("%s ticks %d and %d are %d ms apart", sym, i-1, i, d)
			}
		}
	}
	// C's warm-up: the simulator's own (300 ticks and a minute) at least.
	firstC, n := g["C"][0].TS, 0
	for _, e := range s.Planted() {
		if e.Symbol == "C" {
			n++
			if e.TS < firstC+300_000 {
				t.Errorf("C's %s planted at %v, %v after its first tick", e.Kind, time.UnixMilli(e.TS).UTC(), time.Duration(e.TS-firstC)*time.Millisecond)
			}
		}
	}
	if n == 0 {
		t.Error("C got no planted events in 8000 rounds")
	}

	for _, bad := range [][]string{nil, {"B", ""}, {"B", "B"}} {
		if err := s.SetSymbols(bad); err == nil {
			t.Errorf("SetSymbols(%q) succeeded", bad)
		}
	}
}

// TestProducerFollowsSymbols: a list sent on Producer.Symbols takes over
// from the next round, with record keys for the new symbol.
func TestProducerFollowsSymbols(t *testing.T) {
	c, cl := newCluster(t)
	s, err := sim.New([]string{"A", "B"}, config.Simulator{Seed: 1}, time.Date(2026, 1, 5, 15, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	syms := make(chan []string, 1)
	p := &sim.Producer{Client: cl, Topic: topic, Symbols: syms}
	if n, err := p.Run(context.Background(), s, 0, 10); err != nil || n != 10 {
		t.Fatalf("Run = %d, %v", n, err)
	}
	syms <- []string{"B", "C", "D"}
	if n, err := p.Run(context.Background(), s, 0, 9); err != nil || n != 9 {
		t.Fatalf("Run = %d, %v", n, err)
	}
	count := map[string]int{}
	for _, r := range consume(t, c, 19) {
		var jt jsonTick
		if err := json.Unmarshal(r.Value, &jt); err != nil {
			t.Fatal(err)
		}
		if string(r.Key) != jt.Symbol {
			t.Fatalf("key %q, symbol %q", r.Key, jt.Symbol)
		}
		count[jt.Symbol]++
	}
	if want := map[string]int{"A": 5, "B": 8, "C": 3, "D": 3}; !mapsEqual(count, want) {
		t.Fatalf("ticks per symbol %v, want %v", count, want)
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
