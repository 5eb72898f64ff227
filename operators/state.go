package operators

// State is everything the pipeline remembers about one symbol. It is made by
// Pipeline.NewState, owned by one goroutine, and holds only plain values and
// slices it owns, so MarshalBinary can checkpoint it exactly.
type State struct {
	symbol string
	rules  rules // from config, resolved once; not part of a checkpoint
	shape  shape // the config the state was built for; a checkpoint must match it

	// seen and newest are the symbol's event-time frontier: the newest TS
	// accepted so far. Clean advances it; the windows measure from it.
	seen   bool
	newest int64

	dedup ring[int64] // accepted TS in [newest − lateness, newest], sorted (clean.go)
	count countWindow // last N accepted ticks (ma.go)
	time  timeWindow  // the time-based window; empty when it is off (ma.go)
	spike edge        // alert edges and cooldowns (anomaly.go)
	drop  edge
}

// shape is the part of the config that decides what a State holds.
type shape struct {
	ticks    int   // moving_average.ticks
	window   int64 // moving_average.window, ms
	lateness int64 // clean.allowed_lateness, ms
}

func newState(symbol string, r rules, sh shape) *State {
	st := &State{
		symbol: symbol,
		rules:  r,
		shape:  sh,
		dedup:  newRing[int64](16),
		count:  newCountWindow(sh.ticks),
	}
	if sh.window > 0 {
		st.time = timeWindow{samples: newRing[point](64)}
	}
	return st
}

// Symbol returns the symbol the state belongs to.
func (st *State) Symbol() string { return st.symbol }

// notAfter reports ts ≤ ref − d for d ≥ 0, without overflow for any int64
// ts and ref (event times come from the feed and may be absurd).
func notAfter(ts, ref, d int64) bool {
	return ts <= ref && uint64(ref)-uint64(ts) >= uint64(d)
}
