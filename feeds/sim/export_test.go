package sim

// Stats exposes the generator's internal counters to the black-box tests:
// how often the hard clamps acted, how many down moves the guard damped and
// how many ticks each regime (calm, normal, stressed) produced.
func Stats(s *Sim) (priceClamps, volumeClamps, damped int64, regimeTicks [3]int64) {
	return s.stats.priceClamps, s.stats.volumeClamps, s.stats.damped, s.stats.regimeTicks
}

// Regime returns the regime (0 calm, 1 normal, 2 stressed) of the symbol at
// position i: after Next, the regime its last tick was made in.
func Regime(s *Sim, i int) int { return int(s.syms[i].regime) }
