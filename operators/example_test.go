package operators_test

import (
	"fmt"

	"github.com/tickstream/tickstream/config"
	"github.com/tickstream/tickstream/operators"
	"github.com/tickstream/tickstream/tick"
)

// A partition task admits the symbol, keeps one State per symbol and one
// Result it reuses for every tick.
func Example() {
	cfg := config.Default()
	cfg.Average.Ticks = 3
	cfg.Anomaly.WarmupTicks = 2
	p, err := operators.New(cfg)
	if err != nil {
		panic(err)
	}
	fmt.Println("ZZZZ:", p.Admit("ZZZZ"))

	st := p.NewState("AAPL")
	var res operators.Result
	const t0 = 1_764_081_067_000
	for i, x := range []struct{ price, volume float64 }{{100, 500}, {102, 700}, {101, 600}, {90, 9000}, {90, 9000}} {
		t := tick.Tick{Symbol: "AAPL", TS: t0 + int64(i)*1000, Price: x.price, Volume: x.volume}
		p.Process(st, &t, t.TS, &res)
		fmt.Printf("price %v: MA %.2f over %d\n", t.Price, res.MA, res.Count)
		for _, a := range res.Alerts {
			fmt.Printf("  alert %s (%s): observed %v, threshold %.2f, reference %.2f\n", a.Kind, a.Rule, a.Observed, a.Threshold, a.Reference)
		}
	}
	t := tick.Tick{Symbol: "AAPL", TS: t0, Price: 100, Volume: 500}
	p.Process(st, &t, t.TS, &res)
	fmt.Println("replayed:", res.Reject)
	// Output:
	// ZZZZ: unknown_symbol
	// price 100: MA 100.00 over 1
	// price 102: MA 101.00 over 2
	// price 101: MA 101.00 over 3
	// price 90: MA 97.67 over 3
	//   alert volume_spike (factor): observed 9000, threshold 3000.00, reference 600.00
	//   alert price_drop (from_max): observed 90, threshold 96.90, reference 102.00
	// price 90: MA 93.67 over 3
	// replayed: duplicate
}
