// Package sim is tickstream's market simulator: a deterministic generator of
// realistic ticks for N symbols with anomalies planted at recorded times, and
// a Producer that writes those ticks to Kafka.
//
// It exists to give the engine a feed whose ground truth is known, so the
// anomaly rules can be tested end to end: every planted event must raise an
// alert under the default thresholds, and nothing else may. It must not
// depend on the engine, the operators or the sinks, and it must not read the
// anomaly configuration: it keeps its noise below the default thresholds
// (see below); tighter per-symbol overrides may fire on noise.
//
// # Clock
//
// Event time is virtual. Ticks come in rounds: each round visits every symbol
// once, in the order given to New (or to SetSymbols, from the next round on).
// Round k starts at start + k·step with step = 1000/Rate ms (1 s when Rate is
// 0), and the symbol at position j of N gets
// ts = roundStart + floor(j·step/N): the round is spread over its interval the
// way the Producer spreads it on the wall clock, so with a paced Producer each
// tick is sent at its own event time. Per symbol, ticks are one step apart
// (±1 ms of rounding when step is not whole; SetSymbols may move one gap).
// Rates above 1000/s are refused:
// two ticks of one symbol would share a millisecond.
//
// # Model
//
// Each symbol's price is a geometric Brownian motion with a drift and a
// volatility drawn from the seed, a weak pull back to its starting level
// (half-life 3 days, so long runs stay in range) and Markov-switching
// volatility regimes: calm ×0.5, normal ×1, stressed ×3. Prices are whole
// cents; bid and ask are a few basis points around the price, wider when
// stressed and outside the session. Volume per tick is an integer: a base
// drawn from the seed times a U-shaped intraday profile over the US session
// (14:30–21:00 UTC on weekdays, fixed UTC, no holidays; a fifth of the midday
// level outside it, with 45-minute ramps), a smoothed regime factor, a slow
// activity factor and bounded per-tick noise. Volume is per update, not per
// second, so it does not depend on Rate.
//
// # Planted anomalies and why noise never fires
//
// Volume spikes put 15–25× the current typical volume (and at least 2000) on
// one tick. Price drops take the price down 6 % on their first tick (below
// both the previous price and every price of the last minute) and 8–12 % in
// all over 2–4 ticks; the price then moves on from the bottom. Each planted
// event is recorded as an Event whose TS is its first anomalous tick and
// whose Until ends the span in which the detector's windows still hold the
// event's ticks. Events of one kind for one symbol are separated by more than
// 300 ticks and 61 s after the previous one's Until, so each is one event.
//
// Noise is kept below the default rules by construction, not by luck. The
// default rules are: volume ≥ 5× the mean volume of the last 300 ticks;
// price ≥ 5 % below the maximum of the last 300 ticks; price ≥ 3 % below its
// level 60 s earlier. A guard tracks, per symbol, the exact sum of the last
// 300 volumes and upper bounds of the maximum price over the last 300 ticks
// and over the last 62 s plus a step. Down moves shrink once the price has
// fallen 40 % of the way to either drop threshold and stop at 80 %; a final
// clamp keeps every unplanted price within 85 % of the way, and caps every
// unplanted volume at 4× the mean of the previous 300 ticks. At 1 update/s
// the damping touches about 0.5 % of down moves and the clamps never act;
// the volume cap matters at low rates, where 300 ticks span hours of the
// intraday profile (0.05/s: 0.6 % of ticks, around the opens).
//
// A planted drop keeps the detector's drop rules true until its Until, so a
// detector that only has a cooldown will alert again each cooldown until
// then (at 1 update/s, Until is 300 s after TS).
package sim
