package config

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestAllSymbols(t *testing.T) {
	c := Default()
	all := c.AllSymbols()
	if len(all) != 1000 {
		t.Fatalf("default has %d symbols, want the 1000-symbol floor", len(all))
	}
	if !reflect.DeepEqual(all[:len(c.Symbols)], c.Symbols) {
		t.Errorf("AllSymbols does not start with Symbols: %v", all[:len(c.Symbols)])
	}
	seen := map[string]bool{}
	for i, s := range all[len(c.Symbols):] {
		n := strconv.Itoa(i + 1)
		for len(n) < 4 {
			n = "0" + n
		}
		if want := "SYN" + n; s != want {
			t.Errorf("synthetic %d = %q, want %q", i+1, s, want)
		}
	}
	for _, s := range all {
		if seen[s] {
			t.Errorf("%s twice", s)
		}
		seen[s] = true
	}

	all[0] = "CHANGED"
	if c.Symbols[0] == "CHANGED" {
		t.Error("AllSymbols shares its array with Symbols")
	}

	c = &Config{Symbols: []string{"A"}, SyntheticSymbols: 10001}
	if all := c.AllSymbols(); all[10001] != "SYN10001" || len(all) != 10002 {
		t.Errorf("got %d symbols ending %q", len(all), all[len(all)-1])
	}
	c = &Config{SyntheticSymbols: -1}
	if all := c.AllSymbols(); len(all) != 0 {
		t.Errorf("got %v", all)
	}
}

func TestEmbeddedAndSimulatorOn(t *testing.T) {
	f := func(brokers []string, enabled string, embedded, on bool) {
		t.Helper()
		c := Default()
		c.Kafka.Brokers, c.Simulator.Enabled = brokers, enabled
		if c.Embedded() != embedded || c.SimulatorOn() != on {
			t.Errorf("brokers %v, enabled %q: Embedded %v SimulatorOn %v, want %v %v",
				brokers, enabled, c.Embedded(), c.SimulatorOn(), embedded, on)
		}
	}
	f(nil, "auto", true, true)
	f([]string{}, "off", true, false)
	f([]string{"k:9092"}, "auto", false, false)
	f([]string{"k:9092"}, "on", false, true)
	f(nil, "on", true, true)
}

func TestAnomalyFor(t *testing.T) {
	a := Default().Anomaly
	sf, w := 9.5, 7
	cd := 2 * time.Minute
	a.Overrides = map[string]ThresholdOverride{
		"TSLA": {SpikeFactor: &sf, WarmupTicks: &w},
		"KO":   {Cooldown: &cd},
		"AAPL": {},
	}
	f := func(sym string, change func(t *Thresholds)) {
		t.Helper()
		want := Default().Anomaly.Thresholds
		change(&want)
		if got := a.For(sym); got != want {
			t.Errorf("For(%s) = %+v, want %+v", sym, got, want)
		}
	}
	f("TSLA", func(t *Thresholds) { t.SpikeFactor, t.WarmupTicks = 9.5, 7 })
	f("KO", func(t *Thresholds) { t.Cooldown = 2 * time.Minute })
	f("AAPL", func(t *Thresholds) {})
	f("MSFT", func(t *Thresholds) {})

	if n := testing.AllocsPerRun(100, func() { _ = a.For("TSLA") }); n != 0 {
		t.Errorf("For allocates %v times; the anomaly operator may call it per tick", n)
	}
	c := Default()
	if n := testing.AllocsPerRun(100, func() { _ = c.SimulatorOn() }); n != 0 {
		t.Errorf("SimulatorOn allocates %v times", n)
	}
}

func BenchmarkAnomalyFor(b *testing.B) {
	a := Default().Anomaly
	sf := 9.5
	a.Overrides = map[string]ThresholdOverride{"TSLA": {SpikeFactor: &sf}}
	b.ReportAllocs()
	for b.Loop() {
		_ = a.For("TSLA")
	}
}

func TestSecretNeverPrints(t *testing.T) {
	c := Default()
	c.Kafka.SASL = KafkaSASL{Mechanism: "PLAIN", Username: "u", Password: "hunter2-very-secret"}
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		if out := fmt.Sprintf(format, c); strings.Contains(out, "hunter2") {
			t.Errorf("%s prints the password: %s", format, out)
		}
	}
	if c.Kafka.SASL.Password.Reveal() != "hunter2-very-secret" {
		t.Error("Reveal lost the value")
	}
}
