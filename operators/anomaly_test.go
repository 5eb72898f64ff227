package operators

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tickstream/tickstream/config"
	"github.com/tickstream/tickstream/tick"
)

// TestAnomaly feeds one symbol a series and checks, per tick, the condition
// flags ('.' none, 'S' spike, 'D' drop, 'B' both) and the alerts raised
// ("index:kind/rule"). Rules: warmup 3, window 10 ticks, spike 4× mean and
// ≥ 100, drop 10 % from max or 5 % over 5 s, cooldown 10 s; BBB overrides the
// spike factor to 2.
func TestAnomaly(t *testing.T) {
	const t0 = 1_764_000_000_000
	type pt = struct {
		sec           float64 // event time, seconds after t0
		price, volume float64
	}
	f := func(desc, symbol string, mod func(*config.Config), in []pt, wantFlags, wantAlerts string) {
		t.Helper()
		p := mustNew(t, testConfig(func(c *config.Config) {
			c.Average = config.Average{Ticks: 10}
			c.Clean.AllowedLateness = 10 * time.Second
			c.Anomaly.Thresholds = config.Thresholds{
				WarmupTicks: 3, Cooldown: 10 * time.Second, SpikeFactor: 4, SpikeMinVolume: 100,
				DropFromMaxPct: 10, DropReturnPct: 5, DropReturnWindow: 5 * time.Second,
			}
			c.Anomaly.Overrides = map[string]config.ThresholdOverride{"BBB": {SpikeFactor: ptr(2.0)}}
			if mod != nil {
				mod(c)
			}
		}))
		st := p.NewState(symbol)
		var res Result
		var flags strings.Builder
		var alerts []string
		for i, x := range in {
			tk := tick.Tick{Symbol: symbol, TS: t0 + int64(x.sec*1000), Price: x.price, Volume: x.volume}
			p.Process(st, &tk, tk.TS, &res)
			if res.Reject != tick.OK {
				t.Fatalf("%s: tick %d rejected: %q", desc, i, res.Reject)
			}
			flags.WriteByte(".SDB"[b2i(res.VolumeSpike)+2*b2i(res.PriceDrop)])
			for _, a := range res.Alerts {
				alerts = append(alerts, fmt.Sprintf("%d:%s/%s", i, a.Kind, a.Rule))
				observed := tk.Volume
				if a.Kind == PriceDrop {
					observed = tk.Price
				}
				if a.Symbol != symbol || a.TS != tk.TS || a.Observed != observed {
					t.Errorf("%s: alert %+v does not describe tick %+v", desc, a, tk)
				}
			}
		}
		if got := flags.String(); got != wantFlags {
			t.Errorf("%s: flags %s, want %s", desc, got, wantFlags)
		}
		if got := strings.Join(alerts, " "); got != wantAlerts {
			t.Errorf("%s: alerts %q, want %q", desc, got, wantAlerts)
		}
	}
	// flat is n ticks a second apart from second `from`, price 100, volume 200.
	flat := func(from, n int) []pt {
		var out []pt
		for i := range n {
			out = append(out, pt{float64(from + i), 100, 200})
		}
		return out
	}
	seq := func(parts ...[]pt) []pt {
		var out []pt
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	at := func(sec, price, volume float64) []pt { return []pt{{sec, price, volume}} }

	f("first tick", "AAA", nil, at(0, 100, 5000), ".", "")
	f("warming up: no judgement", "AAA", nil, seq(flat(0, 2), at(2, 50, 5000)), "...", "")
	f("warm after warmup ticks", "AAA", nil, seq(flat(0, 3), at(3, 100, 5000)), "...S", "3:volume_spike/factor")
	f("warmup 1: judged from the second tick", "AAA", func(c *config.Config) { c.Anomaly.WarmupTicks = 1 },
		seq(at(0, 100, 200), at(1, 100, 5000)), ".S", "1:volume_spike/factor")
	f("spike uses the mean before the tick", "AAA", nil, seq(flat(0, 10), at(10, 100, 800)), "..........S", "10:volume_spike/factor")
	f("just below the spike factor", "AAA", nil, seq(flat(0, 10), at(10, 100, 799.99)), "...........", "")
	f("spike below the volume floor", "AAA", func(c *config.Config) { c.Anomaly.SpikeMinVolume = 1000 },
		seq(flat(0, 5), at(5, 100, 999)), "......", "")
	f("per-symbol override", "BBB", nil, seq(flat(0, 5), at(5, 100, 400)), ".....S", "5:volume_spike/factor")
	f("no override for others", "AAA", nil, seq(flat(0, 5), at(5, 100, 400)), "......", "")

	f("drop from max", "AAA", nil, seq(flat(0, 4), at(4, 90, 200)), "....D", "4:price_drop/from_max")
	f("just above the drop", "AAA", nil, seq(flat(0, 4), at(4, 90.01, 200)), ".....", "")
	f("drop from max off", "AAA", func(c *config.Config) { c.Anomaly.DropFromMaxPct = 0; c.Anomaly.DropReturnPct = 0 },
		seq(flat(0, 4), at(4, 1, 200)), ".....", "")
	f("spike and drop on one tick", "AAA", nil, seq(flat(0, 4), at(4, 80, 5000)), "....B", "4:volume_spike/factor 4:price_drop/from_max")
	f("max leaves the window", "AAA", func(c *config.Config) { c.Average.Ticks = 3 },
		seq(at(0, 200, 200), flat(1, 3), at(4, 95, 200)), ".....", "")

	f("return over the window", "AAA", nil,
		seq(flat(0, 6), at(6, 98, 200), at(7, 96, 200), at(8, 94.5, 200)), "........D", "8:price_drop/return")
	f("return needs the window to reach back", "AAA", func(c *config.Config) { c.Average.Ticks = 4 },
		seq(flat(0, 6), at(6, 98, 200), at(7, 96, 200), at(8, 94.5, 200)), ".........", "")
	f("return against the newest tick old enough", "AAA", nil,
		seq(flat(0, 3), at(3, 99, 200), at(3.5, 99.5, 200), at(8.5, 94.6, 200), at(8.6, 94.5, 200)), "......D", "6:price_drop/return")
	f("return rule off", "AAA", func(c *config.Config) { c.Anomaly.DropReturnPct = 0 },
		seq(flat(0, 6), at(6, 98, 200), at(7, 96, 200), at(8, 94.5, 200)), ".........", "")

	f("persistent condition: one alert", "AAA", nil,
		seq(flat(0, 4), at(4, 85, 200), at(5, 85, 200), at(30, 85, 200), at(60, 84, 200)), "....DDDD", "4:price_drop/from_max")
	f("second event inside the cooldown", "AAA", nil,
		seq(flat(0, 4), at(4, 85, 200), at(5, 100, 200), at(13.999, 85, 200)), "....D.D", "4:price_drop/from_max")
	f("second event after the cooldown", "AAA", nil,
		seq(flat(0, 4), at(4, 85, 200), at(5, 100, 200), at(14, 85, 200)), "....D.D", "4:price_drop/from_max 6:price_drop/from_max")
	f("condition from inside the cooldown persists past it", "AAA", nil,
		seq(flat(0, 4), at(4, 85, 200), at(5, 100, 200), at(6, 85, 200), at(20, 85, 200)), "....D.DD", "4:price_drop/from_max")
	f("cooldowns are per kind", "AAA", nil,
		seq(flat(0, 4), at(4, 85, 200), at(5, 100, 5000)), "....DS", "4:price_drop/from_max 5:volume_spike/factor")
	f("cooldown 0", "AAA", func(c *config.Config) { c.Anomaly.Cooldown = 0 },
		seq(flat(0, 4), at(4, 100, 5000), at(5, 100, 200), at(5.001, 100, 5000)), "....S.S", "4:volume_spike/factor 6:volume_spike/factor")
	f("out-of-order tick before the last alert", "AAA", nil,
		seq(flat(0, 4), at(4, 100, 5000), at(5, 100, 200), at(3.5, 100, 9000)), "....S.S", "4:volume_spike/factor")
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
