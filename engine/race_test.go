//go:build race

package engine

// raceEnabled: the race detector's instrumentation allocates, so the
// allocation budgets are checked only without it.
const raceEnabled = true
