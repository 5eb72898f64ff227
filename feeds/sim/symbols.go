package sim

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
)

// SetSymbols changes the simulated symbols from the next round on, which is
// the round about to start when called between rounds. It is how a running
// feed follows a config reload. A symbol kept goes on exactly where it was
// (price, regimes, planned events), in its new place in the round; a new
// symbol starts as New would have started it, its first events planted
// after a warm-up counted from its first tick; a removed one stops. At the
// change a kept symbol that moves in the round has one gap between ticks
// shorter or longer than the step, by less than a step. Like
// Next, it must be called from the goroutine that calls Next.
func (s *Sim) SetSymbols(names []string) error {
	if err := checkSymbols(names); err != nil {
		return err
	}
	s.pending = append([]string(nil), names...)
	if s.pos == 0 {
		s.applySymbols()
	}
	return nil
}

// applySymbols installs s.pending; it runs between two rounds.
func (s *Sim) applySymbols() {
	names := s.pending
	s.pending = nil
	at := make(map[string]int, len(s.syms))
	for i := range s.syms {
		at[s.syms[i].name] = i
	}
	syms := make([]symbol, len(names))
	for i, name := range names {
		if j, ok := at[name]; ok {
			syms[i] = s.syms[j]
			continue
		}
		y := &syms[i]
		y.init(name, symbolRand(s.cfg.Seed, name), make([]uint32, volWindow))
		if s.ticks > 0 {
			// The clock is fixed already (begin ran): plan the new symbol's
			// events from this round, as begin plans them from round 0.
			y.begin(&s.p)
			y.spike = shiftRound(y.spike, s.round)
			y.fall = shiftRound(y.fall, s.round)
		}
	}
	s.syms, s.names = syms, names
	if s.ticks > 0 {
		// Spread the next rounds over the new number of symbols. A kept
		// symbol whose place in the round moves has one gap off the step by
		// less than a step (its ticks stay strictly increasing: its tick of
		// the last round came before that round's end); the guard's slack
		// of two seconds and a step covers it.
		s.offs = make([]int64, len(syms))
		for j := range s.offs {
			s.offs[j] = int64(math.Floor(float64(j) * s.stepMS / float64(len(syms))))
		}
	}
}

func shiftRound(r, by int64) int64 {
	if r == never {
		return never
	}
	return r + by
}

// checkSymbols: a round needs at least one symbol, each named once.
func checkSymbols(names []string) error {
	if len(names) == 0 {
		return errors.New("sim: no symbols")
	}
	seen := make(map[string]bool, len(names))
	for i, name := range names {
		if name == "" {
			return fmt.Errorf("sim: symbol %d is empty", i)
		}
		if seen[name] {
			return fmt.Errorf("sim: symbol %q listed twice", name)
		}
		seen[name] = true
	}
	return nil
}

// symbolRand is a symbol's own random source: a function of the seed and
// its name only, so a symbol's series does not depend on which others are
// simulated with it, nor on when it was added.
func symbolRand(seed int64, name string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(name))
	return rand.New(rand.NewPCG(uint64(seed), h.Sum64()))
}
