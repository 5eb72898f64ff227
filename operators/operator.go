package operators

import "github.com/tickstream/tickstream/tick"

// Operator is one step of the per-symbol pipeline. Process reads t (the
// caller's, valid only during the call), updates st (owned by the calling
// goroutine, never shared) and fills out. A step that rejects sets out.Reject
// and must leave st untouched; the pipeline then stops for that tick, so a
// rejected tick leaves no trace in any later step's state.
type Operator interface {
	Process(st *State, t *tick.Tick, recordTS int64, out *Result)
}

// Result is what the pipeline says about one tick. The engine keeps one and
// hands it to every Process call, which resets it first.
type Result struct {
	Reject      tick.Reason // OK: accepted, the other fields are valid
	MA          float64     // mean price of the last N accepted ticks, this one included
	MAVolume    float64     // mean volume of the same window
	Count       int32       // ticks in that window (≤ N)
	MATime      float64     // mean price over moving_average.window; NaN when the window is off
	VolumeSpike bool        // the volume-spike condition holds on this tick
	PriceDrop   bool        // the price-drop condition holds on this tick
	// Alerts raised by this tick (at most one per kind). It points into the
	// Result itself, so read it before the next Process call and do not copy
	// the Result while using it.
	Alerts []Alert

	alertBuf [2]Alert

	// Handed from the moving average to the anomaly step: the window as it
	// was before this tick.
	countBefore  int32
	volumeBefore float64 // mean volume before this tick; 0 when the window was empty
}

// AlertKind is what an alert is about.
type AlertKind uint8

const (
	VolumeSpike AlertKind = iota + 1
	PriceDrop
)

// String returns the stable name used in the alerts table and topic.
func (k AlertKind) String() string {
	switch k {
	case VolumeSpike:
		return "volume_spike"
	case PriceDrop:
		return "price_drop"
	}
	return "unknown_kind"
}

// Alert is one detected event.
//
// For a volume spike, Observed is the tick's volume, Reference the mean
// volume of the window before the tick and Threshold the volume it had to
// reach (spike_factor × Reference, or spike_min_volume if that is higher).
// For a price drop, Observed is the price, Reference the rolling maximum
// (Rule "from_max") or the price DropReturnWindow earlier (Rule "return"),
// and Threshold the price at or below which the rule fires.
type Alert struct {
	Symbol    string
	Kind      AlertKind
	TS        int64 // event time of the tick that raised it, Unix ms
	Observed  float64
	Threshold float64
	Reference float64
	Rule      string // "factor", "from_max" or "return"
}

// The rules an alert can name.
const (
	RuleFactor  = "factor"
	RuleFromMax = "from_max"
	RuleReturn  = "return"
)
