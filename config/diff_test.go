package config

import (
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestDiff(t *testing.T) {
	f := func(edit func(c *Config), wantLive, wantRestart []string) {
		t.Helper()
		old, new := Default(), Default()
		edit(new)
		live, restart := Diff(old, new)
		if !slices.Equal(live, wantLive) || !slices.Equal(restart, wantRestart) {
			t.Errorf("Diff:\n got live %q restart %q\nwant live %q restart %q", live, restart, wantLive, wantRestart)
		}
		checkAgainstYAML(t, old, new, append(live, restart...))
		if l, r := Diff(new, new.Clone()); len(l)+len(r) != 0 {
			t.Errorf("Diff of a config and its clone: %q %q", l, r)
		}
	}
	f(func(c *Config) {}, nil, nil)
	f(func(c *Config) { c.Symbols = append(c.Symbols, "NEW") }, []string{"symbols"}, nil)
	f(func(c *Config) { c.Symbols = nil; c.SyntheticSymbols = 3 }, []string{"symbols", "synthetic_symbols"}, nil)
	f(func(c *Config) { c.Anomaly.SpikeFactor++; c.Average.Window = time.Minute }, []string{"moving_average.window", "anomaly.spike_factor"}, nil)
	f(func(c *Config) {
		x := 9.0
		c.Anomaly.Overrides = map[string]ThresholdOverride{"NEW": {SpikeFactor: &x}}
	}, []string{"anomaly.overrides.NEW"}, nil)
	f(func(c *Config) { c.Clean.MaxRecordBytes = 10; c.Lake.FlushInterval = time.Hour; c.Lake.FlushBytes = 1 },
		[]string{"clean.max_record_bytes", "lake.flush_interval"}, []string{"lake.flush_bytes"})
	f(func(c *Config) {
		c.Kafka.Brokers = []string{"b:9092"}
		c.Kafka.SASL.Password = "new"
		c.Log.Level = "debug"
		c.Models.Cadence = time.Second
	}, []string{"models.cadence"}, []string{"kafka.brokers", "kafka.sasl.password", "log.level"})
	f(func(c *Config) {
		c.Models.Files = []ModelFile{{Name: "m", Kind: "linear", Path: "m.json"}}
		c.Simulator.Rate = 7
		c.Engine.ShutdownTimeout = time.Hour
	}, nil, []string{"models.files", "simulator.rate", "engine.shutdown_timeout"})
}

// TestDiffOverrides: a change inside one override is that override's key,
// and adding or removing one is the override itself.
func TestDiffOverrides(t *testing.T) {
	setTestEnv(t)
	old, err := Load(filepath.Join("testdata", "overrides.good.yml"))
	if err != nil {
		t.Fatal(err)
	}
	new := old.Clone()
	delete(new.Anomaly.Overrides, "KO")
	d := 2 * time.Minute
	tsla := new.Anomaly.Overrides["TSLA"]
	tsla.Cooldown = &d
	new.Anomaly.Overrides["TSLA"] = tsla
	live, restart := Diff(old, new)
	if want := []string{"anomaly.overrides.KO", "anomaly.overrides.TSLA.cooldown"}; !slices.Equal(live, want) || restart != nil {
		t.Errorf("got live %q restart %q, want live %q", live, restart, want)
	}
	checkAgainstYAML(t, old, new, live)
	if old.Anomaly.Overrides["TSLA"].Cooldown != nil || old.Anomaly.Overrides["KO"].Cooldown == nil {
		t.Error("editing the clone changed the original")
	}
}

// TestDiffGoodFiles: every good test file against the defaults, checked
// against the flattened YAML.
func TestDiffGoodFiles(t *testing.T) {
	setTestEnv(t)
	paths, _ := filepath.Glob(filepath.Join("testdata", "*.good.yml"))
	for _, p := range paths {
		c, err := Load(p)
		if err != nil {
			t.Fatal(err)
		}
		live, restart := Diff(Default(), c)
		checkAgainstYAML(t, Default(), c, append(live, restart...))
		for _, k := range live {
			if !IsLive(k) {
				t.Errorf("%s: %s listed live", p, k)
			}
		}
		for _, k := range restart {
			if IsLive(k) {
				t.Errorf("%s: %s listed restart-only", p, k)
			}
		}
	}
}

// TestLiveKeysExist: each entry of LiveKeys names a key of config.yaml (a
// typo there would silently make a key restart-only).
func TestLiveKeysExist(t *testing.T) {
	flat := flatten(t, Default())
	for _, k := range LiveKeys {
		found := false
		for fk := range flat {
			found = found || fk == k || strings.HasPrefix(fk, k+".")
		}
		if !found {
			t.Errorf("LiveKeys: %s is no key of the config", k)
		}
	}
}

// checkAgainstYAML recomputes the change another way: marshal both
// configs to YAML, flatten mappings into dotted keys (lists whole), and list
// the leaves whose values differ. Diff may name a map entry where the YAML
// has leaves under it, so the two must cover each other: every changed leaf
// is at or under a key of got, and every key of got has a changed leaf at or
// under it.
func checkAgainstYAML(t *testing.T, old, new *Config, got []string) {
	t.Helper()
	a, b := flatten(t, old), flatten(t, new)
	var leaves []string
	for k, v := range a {
		if w, ok := b[k]; !ok || !reflect.DeepEqual(v, w) {
			leaves = append(leaves, k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			leaves = append(leaves, k)
		}
	}
	under := func(leaf, key string) bool { return leaf == key || strings.HasPrefix(leaf, key+".") }
	for _, l := range leaves {
		if !slices.ContainsFunc(got, func(k string) bool { return under(l, k) }) {
			t.Errorf("the flattened YAML changed at %s; Diff says only %q", l, got)
		}
	}
	for _, k := range got {
		if !slices.ContainsFunc(leaves, func(l string) bool { return under(l, k) }) {
			t.Errorf("Diff says %s changed; the flattened YAML changed only at %q", k, leaves)
		}
	}
}

func flatten(t *testing.T, c *Config) map[string]any {
	t.Helper()
	b, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	out := map[string]any{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				walk(join(prefix, k), x)
			}
		case []any:
			if len(v) > 0 {
				out[prefix] = v
			}
		case nil:
			// A nil list or an unset override field: absent.
		default:
			out[prefix] = v
		}
	}
	walk("", m)
	return out
}
