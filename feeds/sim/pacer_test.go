package sim

import (
	"testing"
	"time"
)

// TestPacerRebase: 2 symbols at 20 rounds/s is a tick every 25 ms; after
// tick 10 (due at 250 ms) the run goes on with 8 symbols, a tick every
// 6.25 ms, so tick 18 is due at 300 ms; a second change at tick 18 to 4
// symbols makes tick 22 due at 350 ms.
func TestPacerRebase(t *testing.T) {
	t0 := time.Unix(1000, 0)
	p := newPacer(t0, 20, 2)
	defer p.stop()
	f := func(i int64, want time.Duration) {
		t.Helper()
		if got := p.due(i).Sub(t0); got != want {
			t.Errorf("tick %d due at %v, want %v", i, got, want)
		}
	}
	f(4, 100*time.Millisecond)
	f(10, 250*time.Millisecond)
	p.rebase(10, 8)
	f(10, 250*time.Millisecond)
	f(18, 300*time.Millisecond)
	p.rebase(18, 4)
	f(22, 350*time.Millisecond)
}
