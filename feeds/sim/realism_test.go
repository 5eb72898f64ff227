package sim_test

import (
	"math"
	"testing"
	"time"

	"github.com/tickstream/tickstream/config"
	"github.com/tickstream/tickstream/feeds/sim"
	"github.com/tickstream/tickstream/tick"
)

// TestIntradayVolume: volume is U-shaped over the US session and low outside
// it and on weekends.
func TestIntradayVolume(t *testing.T) {
	friday := time.Date(2024, 1, 5, 0, 0, 0, 0, time.UTC)
	names := symbolNames(10)
	s, err := sim.New(names, config.Simulator{Rate: 1, Seed: 5}, friday)
	if err != nil {
		t.Fatal(err)
	}
	type span struct{ from, to time.Duration } // since Friday 00:00
	h := func(hh, mm int) time.Duration { return time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute }
	spans := map[string]span{
		"night":    {h(0, 0), h(13, 0)},
		"open":     {h(14, 30), h(15, 0)},
		"midday":   {h(17, 0), h(19, 0)},
		"close":    {h(20, 30), h(21, 0)},
		"saturday": {h(36, 0), h(44, 0)},
	}
	sum, cnt := map[string]float64{}, map[string]float64{}
	var tk tick.Tick
	for range 48 * 3600 * len(names) {
		s.Next(&tk)
		at := time.UnixMilli(tk.TS).Sub(friday)
		for name, sp := range spans {
			if at >= sp.from && at < sp.to {
				sum[name] += tk.Volume
				cnt[name]++
			}
		}
	}
	mean := func(name string) float64 { return sum[name] / cnt[name] / (sum["midday"] / cnt["midday"]) }
	t.Logf("volume relative to midday: night %.2f, open %.2f, close %.2f, saturday %.2f", mean("night"), mean("open"), mean("close"), mean("saturday"))
	if mean("open") < 1.5 || mean("close") < 1.3 || mean("night") > 0.4 || mean("saturday") > 0.4 {
		t.Error("volume is not U-shaped over the session and low outside it")
	}
}

// TestRegimes: the stressed regime moves prices more and quotes wider than
// the normal one, which does both more than the calm one.
func TestRegimes(t *testing.T) {
	names := symbolNames(50)
	s, err := sim.New(names, config.Simulator{Rate: 1, Seed: 9}, time.Date(2024, 1, 2, 14, 30, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	const horizon = 60 // ticks: returns over a minute, well above the cent
	hist := make([][]float64, len(names))
	same := make([]int, len(names)) // ticks in a row in the current regime
	last := make([]int, len(names))
	var moves, spreads, nm, ns [3]float64
	var tk tick.Tick
	for range 390 * 60 { // the session
		for j := range names {
			s.Next(&tk)
			r := sim.Regime(s, j)
			if r != last[j] {
				same[j], last[j] = 0, r
			}
			same[j]++
			hist[j] = append(hist[j], tk.Price)
			if same[j] > horizon {
				k := len(hist[j]) - 1
				moves[r] += math.Abs(math.Log(hist[j][k] / hist[j][k-horizon]))
				nm[r]++
			}
			spreads[r] += (tk.Ask - tk.Bid) / tk.Price
			ns[r]++
		}
	}
	for r := range moves {
		moves[r] /= nm[r]
		spreads[r] /= ns[r]
	}
	t.Logf("mean |1-min return| calm/normal/stressed: %.2e %.2e %.2e; mean spread (bps): %.2f %.2f %.2f",
		moves[0], moves[1], moves[2], spreads[0]*1e4, spreads[1]*1e4, spreads[2]*1e4)
	if !(moves[1] > 1.4*moves[0] && moves[2] > 2*moves[1]) {
		t.Error("price moves do not grow from calm to normal to stressed")
	}
	if !(spreads[1] > spreads[0] && spreads[2] > 1.5*spreads[1]) {
		t.Error("spreads do not widen from calm to normal to stressed")
	}
}
