package operators

import "github.com/tickstream/tickstream/tick"

// anomaly judges each accepted tick against the symbol's rules, using the
// windows the moving average has just updated (it must run after it), and
// raises at most one alert per kind.
//
// Conditions (the Result flags) are evaluated on every tick once the window
// before it holds warmup_ticks ticks (and at least one, so a spike has a mean
// to compare with):
//   - volume spike: volume ≥ spike_factor × mean volume of the window before
//     the tick, and volume ≥ spike_min_volume;
//   - price drop: price ≤ (1 − drop_from_max_pct/100) × the window's maximum
//     ("from_max"), or price ≤ (1 − drop_return_pct/100) × the price of the
//     newest tick in the window at least drop_return_window older ("return").
//
// An alert is an event, not a state: it fires when a condition turns from
// false to true, and only if cooldown of event time has passed since the
// last alert of that kind for the symbol. A price that stays down raises one
// alert, however long it stays there.
type anomaly struct{}

var _ Operator = (*anomaly)(nil)

func (a *anomaly) Process(st *State, t *tick.Tick, _ int64, out *Result) {
	r := &st.rules
	warm := out.countBefore >= r.warmup

	spike := false
	var spikeAt float64
	if warm {
		spikeAt = max(r.spikeFactor*out.volumeBefore, r.spikeMin)
		spike = t.Volume >= spikeAt
	}
	out.VolumeSpike = spike
	if st.spike.fire(spike, t.TS, r.cooldown) {
		out.Alerts = append(out.Alerts, Alert{
			Symbol: st.symbol, Kind: VolumeSpike, TS: t.TS, Rule: RuleFactor,
			Observed: t.Volume, Threshold: spikeAt, Reference: out.volumeBefore,
		})
	}

	drop, rule, dropAt, ref := false, "", 0.0, 0.0
	if warm && r.maxFactor > 0 {
		ref = st.count.maxPrice()
		dropAt = r.maxFactor * ref
		drop, rule = t.Price <= dropAt, RuleFromMax
	}
	if warm && !drop && r.returnFactor > 0 {
		if past, ok := st.count.pastPrice(t.TS, r.returnWindow); ok {
			ref = past
			dropAt = r.returnFactor * ref
			drop, rule = t.Price <= dropAt, RuleReturn
		}
	}
	out.PriceDrop = drop
	if st.drop.fire(drop, t.TS, r.cooldown) {
		out.Alerts = append(out.Alerts, Alert{
			Symbol: st.symbol, Kind: PriceDrop, TS: t.TS, Rule: rule,
			Observed: t.Price, Threshold: dropAt, Reference: ref,
		})
	}
}

// edge turns a per-tick condition into events for one (symbol, kind).
type edge struct {
	active  bool  // the condition held on the previous accepted tick
	alerted bool  // an alert was raised, at last
	last    int64 // event time of the last alert, ms
}

// fire records cond for a tick at ts and reports whether it raises an alert:
// a rising edge at least cooldown after the previous alert.
func (e *edge) fire(cond bool, ts, cooldown int64) bool {
	rising := cond && !e.active
	e.active = cond
	if !rising || (e.alerted && !notAfter(e.last, ts, cooldown)) {
		return false
	}
	e.alerted, e.last = true, ts
	return true
}
