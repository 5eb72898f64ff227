//go:build race

package lake

// raceEnabled: the race detector drops sync.Pool items, so allocation
// budgets do not hold under it.
const raceEnabled = true
