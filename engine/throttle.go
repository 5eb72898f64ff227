package engine

import "time"

// throttle lets one log line through per interval and counts the rest, so a
// flood of bad records cannot flood the log. Owned by one goroutine.
type throttle struct {
	every time.Duration
	last  time.Time
	skip  int64
	shown int64
}

func (th *throttle) allow(now time.Time) bool {
	if now.Sub(th.last) < th.every {
		th.skip++
		return false
	}
	th.last = now
	th.shown, th.skip = th.skip, 0
	return true
}

// suppressed is how many lines were held back before the one just allowed.
func (th *throttle) suppressed() int64 { return th.shown }
