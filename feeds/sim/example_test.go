package sim_test

import (
	"fmt"
	"log"
	"time"

	"github.com/tickstream/tickstream/config"
	"github.com/tickstream/tickstream/feeds/sim"
	"github.com/tickstream/tickstream/tick"
)

// Two rounds of three symbols at 2 updates/s: each round's 500 ms are shared
// out among the symbols in order. Nothing is planted before a full 300-tick
// window and a minute of history.
func ExampleSim() {
	start := time.Date(2024, 1, 2, 15, 0, 0, 0, time.UTC)
	s, err := sim.New([]string{"AAPL", "MSFT", "SPY"}, config.Simulator{Rate: 2, Seed: 1, SpikeEvery: time.Hour}, start)
	if err != nil {
		log.Fatal(err)
	}
	var t tick.Tick
	for range 6 {
		s.Next(&t)
		fmt.Printf("%-4s +%3d ms  %.2f × %.0f  (%.2f / %.2f)\n", t.Symbol, t.TS-start.UnixMilli(), t.Price, t.Volume, t.Bid, t.Ask)
	}
	fmt.Println(len(s.Planted()), "events planted so far")
	// Output:
	// AAPL +  0 ms  27.47 × 1762  (27.46 / 27.48)
	// MSFT +166 ms  491.16 × 306  (491.01 / 491.31)
	// SPY  +333 ms  403.53 × 1634  (403.43 / 403.63)
	// AAPL +500 ms  27.47 × 2659  (27.46 / 27.48)
	// MSFT +666 ms  491.13 × 235  (490.99 / 491.27)
	// SPY  +833 ms  403.56 × 1606  (403.48 / 403.64)
	// 0 events planted so far
}
