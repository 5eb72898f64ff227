// Package tick defines the market-data update that flows through tickstream and
// its wire format on Kafka (the input contract). It must not depend on Kafka,
// the operators or the sinks: everything else depends on it.
package tick

// Tick is one market-data update after decoding.
//
// TS is the event time in Unix milliseconds, UTC. Bid and Ask are 0 when the
// feed did not send them (the lake stores them as NULL). Symbol is interned by
// the Decoder for configured symbols, so holding it costs no allocation.
type Tick struct {
	Symbol string
	TS     int64
	Price  float64
	Volume float64
	Bid    float64
	Ask    float64
}

// Reason says why a record was rejected. The zero value means accepted.
// Reasons are stable strings: they appear in the DLQ header, the raw table
// and metric labels, so never rename one.
type Reason uint8

const (
	OK Reason = iota

	// Decoding: the record is not a tick at all.
	Malformed    // not a JSON object, or broken JSON
	MissingField // symbol, ts, price or volume absent
	BadType      // a field has the wrong JSON type or an unparsable value
	BadTimestamp // ts is neither RFC 3339 nor epoch milliseconds, or out of range
	TooLarge     // record larger than the configured maximum
	KeyMismatch  // Kafka key differs from the symbol field
	BadSymbol    // symbol empty, too long or with characters outside [A-Za-z0-9.^=_-]

	// Validation: a well-formed tick whose values cannot be true.
	BadPrice      // NaN, Inf, zero or negative price
	BadVolume     // negative, NaN or Inf volume
	BadQuote      // bid/ask negative or non-finite
	FutureTS      // event time too far ahead of the record's Kafka timestamp
	UnknownSymbol // symbol not in config.yaml and unknown_symbols is "drop"

	// Stream state: a valid tick that must not be counted again.
	Duplicate // same (symbol, ts) seen already
	Late      // older than the symbol's newest event time minus the allowed lateness

	numReasons
)

var reasonNames = [numReasons]string{
	OK:            "",
	Malformed:     "malformed_json",
	MissingField:  "missing_field",
	BadType:       "bad_type",
	BadTimestamp:  "bad_timestamp",
	TooLarge:      "too_large",
	KeyMismatch:   "key_mismatch",
	BadSymbol:     "bad_symbol",
	BadPrice:      "bad_price",
	BadVolume:     "bad_volume",
	BadQuote:      "bad_quote",
	FutureTS:      "future_timestamp",
	UnknownSymbol: "unknown_symbol",
	Duplicate:     "duplicate",
	Late:          "late",
}

// String returns the stable name of r ("" for OK).
func (r Reason) String() string {
	if r < numReasons {
		return reasonNames[r]
	}
	return "unknown_reason"
}

// DeadLetter reports whether a record rejected for r goes to the dead-letter
// topic. Records that are broken or impossible do; duplicates and late ticks
// are valid data the stream has already accounted for, so they are only
// recorded in the raw table and counted.
func (r Reason) DeadLetter() bool { return r != OK && r < Duplicate }

// Reasons lists every non-OK reason, for metrics that must pre-register labels.
func Reasons() []Reason {
	rs := make([]Reason, 0, numReasons-1)
	for r := Reason(1); r < numReasons; r++ {
		rs = append(rs, r)
	}
	return rs
}
