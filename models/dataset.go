package models

import (
	"fmt"
	"math"
	"time"

	"github.com/tickstream/tickstream/config"
	"github.com/tickstream/tickstream/feeds/sim"
	"github.com/tickstream/tickstream/operators"
	"github.com/tickstream/tickstream/tick"
)

// SimSpec says which simulated market a training set is made from. The
// simulator is deterministic, so a SimSpec names one exact tick stream;
// it is written into the dump's meta.json, and the tests replay it to check
// that the Go features still equal the ones the fixture models were
// trained on.
type SimSpec struct {
	Symbols        int       `json:"symbols"`          // the first N of config.Default's symbols (with synthetic ones)
	TicksPerSymbol int       `json:"ticks_per_symbol"` // rounds of the simulator
	Seed           int64     `json:"seed"`
	Start          time.Time `json:"start"`
	Rate           float64   `json:"rate"` // updates per second per symbol
	Steps          int       `json:"steps"`
}

// SimTick is what Simulate reports for each accepted tick.
type SimTick struct {
	Symbol int   // index into the symbol list
	Seq    int64 // accepted ticks of this symbol before this one
	Tick   *tick.Tick
	Result *operators.Result
	F      *Features
}

// Simulate runs spec's market through the default operator pipeline and a
// Features state per symbol — the serving path minus Kafka — and calls fn
// for every accepted tick, in stream order. The pointers in SimTick are
// valid during the call only. It returns the symbol names.
func Simulate(spec SimSpec, fn func(*SimTick)) ([]string, error) {
	cfg := config.Default()
	all := cfg.AllSymbols()
	if spec.Symbols <= 0 || spec.Symbols > len(all) {
		return nil, fmt.Errorf("symbols %d: want 1..%d", spec.Symbols, len(all))
	}
	cfg.Symbols, cfg.SyntheticSymbols = all[:spec.Symbols], 0
	cfg.Simulator.Seed, cfg.Simulator.Rate = spec.Seed, spec.Rate
	pipe, err := operators.New(cfg)
	if err != nil {
		return nil, err
	}
	s, err := sim.New(cfg.Symbols, cfg.Simulator, spec.Start)
	if err != nil {
		return nil, err
	}
	index := make(map[string]int, len(cfg.Symbols))
	states := make([]*operators.State, len(cfg.Symbols))
	feats := make([]*Features, len(cfg.Symbols))
	for i, name := range cfg.Symbols {
		index[name] = i
		states[i] = pipe.NewState(name)
		feats[i] = NewFeatures(spec.Steps)
	}
	var t tick.Tick
	var res operators.Result
	st := SimTick{Tick: &t, Result: &res}
	for range spec.TicksPerSymbol * len(cfg.Symbols) {
		s.Next(&t)
		i := index[t.Symbol]
		// The record timestamp is the event time: the simulator's clock.
		pipe.Process(states[i], &t, t.TS, &res)
		if res.Reject != tick.OK {
			continue
		}
		f := feats[i]
		st.Symbol, st.Seq, st.F = i, f.Count(), f
		f.Update(&t, &res)
		fn(&st)
	}
	return cfg.Symbols, nil
}

// FutureReturns labels each row with the log return from its price to the
// price of the first later row of the same symbol at least horizon ms
// later; NaN where the data ends first. Rows must be in stream order (per
// symbol by time).
func FutureReturns(symbol []int32, ts []int64, price []float64, horizon int64) []float32 {
	out := make([]float32, len(ts))
	bySym := map[int32][]int{}
	for i, s := range symbol {
		bySym[s] = append(bySym[s], i)
	}
	for _, rows := range bySym {
		j := 0
		for k, i := range rows {
			j = max(j, k+1)
			for j < len(rows) && ts[rows[j]] < ts[i]+horizon {
				j++
			}
			if j == len(rows) {
				out[i] = float32(math.NaN())
				continue
			}
			out[i] = float32(math.Log(price[rows[j]] / price[i]))
		}
	}
	return out
}
