package config

import "fmt"

// AllSymbols returns Symbols followed by the synthetic symbols SYN0001 …
// (SyntheticSymbols of them), in a new slice the caller may keep.
func (c *Config) AllSymbols() []string {
	all := make([]string, 0, len(c.Symbols)+max(c.SyntheticSymbols, 0))
	all = append(all, c.Symbols...)
	for i := 1; i <= c.SyntheticSymbols; i++ {
		all = append(all, synthetic(i))
	}
	return all
}

// synthetic names the i-th synthetic symbol, counting from 1.
func synthetic(i int) string { return fmt.Sprintf("SYN%04d", i) }

// Embedded reports whether tickstream runs its own in-process broker, which
// it does when no brokers are configured.
func (c *Config) Embedded() bool { return len(c.Kafka.Brokers) == 0 }

// SimulatorOn reports whether the built-in simulator feeds ticks: only when
// feeds.source is sim, and then "on" and "off" say so; "auto" means only
// with the embedded broker, so a real cluster's topic never gets simulated
// ticks unless asked.
func (c *Config) SimulatorOn() bool {
	if c.Feeds.Source != "sim" {
		return false
	}
	switch c.Simulator.Enabled {
	case "on":
		return true
	case "off":
		return false
	}
	return c.Embedded()
}

// For returns the thresholds in force for symbol: the global ones with the
// symbol's overrides, if any, applied field by field.
func (a *Anomaly) For(symbol string) Thresholds {
	t := a.Thresholds
	o, ok := a.Overrides[symbol]
	if !ok {
		return t
	}
	set(&t.WarmupTicks, o.WarmupTicks)
	set(&t.Cooldown, o.Cooldown)
	set(&t.SpikeFactor, o.SpikeFactor)
	set(&t.SpikeMinVolume, o.SpikeMinVolume)
	set(&t.DropFromMaxPct, o.DropFromMaxPct)
	set(&t.DropReturnPct, o.DropReturnPct)
	set(&t.DropReturnWindow, o.DropReturnWindow)
	return t
}

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// FeedSource is the feed `tickstream run` starts: "sim" when SimulatorOn,
// "none" when feeds.source is sim but the simulator is off, else
// feeds.source (yahoo, alphavantage, replay or none).
func (c *Config) FeedSource() string {
	if c.Feeds.Source == "sim" && !c.SimulatorOn() {
		return "none"
	}
	return c.Feeds.Source
}
