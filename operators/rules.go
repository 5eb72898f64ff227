package operators

import "github.com/tickstream/tickstream/config"

// rules are one symbol's anomaly thresholds (config.Anomaly.For), resolved
// once in NewState into the form the hot path compares against.
type rules struct {
	warmup       int32 // ticks the window must hold before a tick is judged; ≥ 1
	cooldown     int64 // ms
	spikeFactor  float64
	spikeMin     float64
	maxFactor    float64 // 1 − drop_from_max_pct/100; 0: rule off
	returnFactor float64 // 1 − drop_return_pct/100; 0: rule off
	returnWindow int64   // ms; > 0 when the return rule is on
}

func resolve(th config.Thresholds) rules {
	r := rules{
		warmup:      int32(max(th.WarmupTicks, 1)),
		cooldown:    th.Cooldown.Milliseconds(),
		spikeFactor: th.SpikeFactor,
		spikeMin:    th.SpikeMinVolume,
	}
	if th.DropFromMaxPct > 0 {
		r.maxFactor = 1 - th.DropFromMaxPct/100
	}
	if th.DropReturnPct > 0 && th.DropReturnWindow.Milliseconds() > 0 {
		r.returnFactor = 1 - th.DropReturnPct/100
		r.returnWindow = th.DropReturnWindow.Milliseconds()
	}
	return r
}
