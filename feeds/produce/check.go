package produce

import (
	"math"

	"github.com/tickstream/tickstream/tick"
)

// The input contract's event-time range, [2000-01-01, 2200-01-01) in Unix ms
// (tick's decoder rejects anything outside it).
const (
	minTS = 946_684_800_000
	maxTS = 7_258_118_400_000
)

// Check reports whether t satisfies the input contract the engine enforces
// on decode and in its clean operator (symbol form, ts range, finite
// positive price, finite non-negative volume, bid and ask), so a feed never
// produces a record the engine would dead-letter. The error is a
// *tick.DecodeError with the reason the engine would give.
func Check(t *tick.Tick) error {
	switch {
	case !validSymbol(t.Symbol):
		return &tick.DecodeError{Reason: tick.BadSymbol, Field: "symbol", Detail: "empty, longer than 32 or outside [A-Za-z0-9.^=_-]"}
	case t.TS < minTS || t.TS >= maxTS:
		return &tick.DecodeError{Reason: tick.BadTimestamp, Field: "ts", Detail: "missing or outside [2000, 2200)"}
	case !(t.Price > 0) || math.IsInf(t.Price, 0):
		return &tick.DecodeError{Reason: tick.BadPrice, Field: "price", Detail: "missing, not positive or not finite"}
	case !(t.Volume >= 0) || math.IsInf(t.Volume, 0):
		return &tick.DecodeError{Reason: tick.BadVolume, Field: "volume", Detail: "negative or not finite"}
	case !(t.Bid >= 0) || math.IsInf(t.Bid, 0) || !(t.Ask >= 0) || math.IsInf(t.Ask, 0):
		return &tick.DecodeError{Reason: tick.BadQuote, Field: "bid/ask", Detail: "negative or not finite"}
	}
	return nil
}

// validSymbol is the input contract's symbol rule, by bytes: no allocation.
func validSymbol(s string) bool {
	if len(s) == 0 || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' ||
			c == '.' || c == '^' || c == '=' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
