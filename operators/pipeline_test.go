package operators

import (
	"bytes"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tickstream/tickstream/config"
	"github.com/tickstream/tickstream/tick"
)

var update = flag.Bool("update", false, "rewrite golden files")

func ptr[T any](v T) *T { return &v }

// testConfig is a small config whose windows are short enough for random
// streams to exercise every rule; mod adjusts it.
func testConfig(mod func(*config.Config)) *config.Config {
	cfg := config.Default()
	cfg.Symbols = []string{"AAA", "BBB", "CCC"}
	cfg.SyntheticSymbols = 0
	cfg.Average = config.Average{Ticks: 20, Window: 10 * time.Second}
	cfg.Clean.AllowedLateness = 3 * time.Second
	cfg.Clean.MaxFuture = time.Minute
	cfg.Anomaly.Thresholds = config.Thresholds{
		WarmupTicks: 5, Cooldown: 8 * time.Second,
		SpikeFactor: 4, SpikeMinVolume: 100,
		DropFromMaxPct: 8, DropReturnPct: 5, DropReturnWindow: 5 * time.Second,
	}
	cfg.Anomaly.Overrides = map[string]config.ThresholdOverride{
		"BBB": {SpikeFactor: ptr(2.0), DropReturnWindow: ptr(2 * time.Second), Cooldown: ptr(time.Duration(0))},
	}
	if mod != nil {
		mod(cfg)
	}
	return cfg
}

func mustNew(t testing.TB, cfg *config.Config) *Pipeline {
	t.Helper()
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// runner feeds ticks through a pipeline the way the engine does: Admit, a
// State per symbol made on first use, one reused Result.
type runner struct {
	p      *Pipeline
	states map[string]*State
	res    Result
}

func newRunner(p *Pipeline) *runner { return &runner{p: p, states: map[string]*State{}} }

func (r *runner) process(t *tick.Tick, rec int64) *Result {
	if reason := r.p.Admit(t.Symbol); reason != tick.OK {
		r.res = Result{Reject: reason}
		return &r.res
	}
	st := r.states[t.Symbol]
	if st == nil {
		st = r.p.NewState(t.Symbol)
		r.states[t.Symbol] = st
	}
	r.p.Process(st, t, rec, &r.res)
	return &r.res
}

// TestPipelineMatchesModel runs random streams with every kind of trouble
// through the pipeline and the model and compares every tick's Result.
func TestPipelineMatchesModel(t *testing.T) {
	f := func(name string, n int, mixed bool, mod func(*config.Config), wantRules ...string) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			cfg := testConfig(mod)
			seeds := uint64(3)
			if testing.Short() {
				seeds = 1
			}
			for seed := uint64(1); seed <= seeds; seed++ {
				rng := rand.New(rand.NewPCG(seed, 7))
				in := genStream(rng, streamOpts{
					n: n, symbols: cfg.Symbols, mixed: mixed,
					lateness: ms(cfg.Clean.AllowedLateness), future: ms(cfg.Clean.MaxFuture),
				})
				r, m := newRunner(mustNew(t, cfg)), newModel(cfg)
				var alerts, rejects int
				rules := map[string]int{}
				for i := range in {
					got := r.process(&in[i].t, in[i].rec)
					want := m.process(in[i].t, in[i].rec)
					compare(t, fmt.Sprintf("seed %d tick %d", seed, i), in[i].t, got, want)
					alerts += len(got.Alerts)
					for _, a := range got.Alerts {
						rules[a.Rule]++
					}
					if got.Reject != tick.OK {
						rejects++
					}
				}
				// A stream that raises nothing or rejects nothing would
				// leave whole rules untested.
				if alerts == 0 || rejects == 0 {
					t.Fatalf("seed %d: %d alerts, %d rejects: the stream does not exercise the rules", seed, alerts, rejects)
				}
				for _, r := range wantRules {
					if rules[r] == 0 {
						t.Fatalf("seed %d: no alert by rule %q in %v", seed, r, rules)
					}
				}
			}
		})
	}
	f("default", 6000, false, nil, RuleFactor, RuleFromMax, RuleReturn)
	f("window shorter than lateness", 6000, false, func(c *config.Config) {
		c.Average.Window = 2 * time.Second
		c.Clean.AllowedLateness = 3 * time.Second
	})
	f("two-tick window", 3000, false, func(c *config.Config) {
		c.Average.Ticks = 2
		c.Anomaly.WarmupTicks = 1
		c.Anomaly.Overrides = nil
	})
	f("no time window, no return rule", 6000, false, func(c *config.Config) {
		c.Average.Window = 0
		c.Anomaly.DropReturnPct = 0
		c.Anomaly.Overrides = nil
	})
	f("mixed magnitudes", 6000, true, func(c *config.Config) { c.Average.Ticks = 50 })
	f("long windows, much disorder", 1500, false, func(c *config.Config) {
		c.Average = config.Average{Ticks: 300, Window: 5 * time.Minute}
		c.Clean.AllowedLateness = 10 * time.Second
		c.Anomaly.DropReturnWindow = 30 * time.Second
		c.Anomaly.WarmupTicks = 30
	})
	f("return window shorter than lateness", 4000, false, func(c *config.Config) {
		c.Clean.AllowedLateness = 10 * time.Second
		c.Anomaly.DropReturnWindow = 2 * time.Second
		c.Anomaly.DropFromMaxPct = 0
		c.Anomaly.DropReturnPct = 2
		c.Anomaly.Overrides = nil
	}, RuleReturn)
	f("zero lateness", 3000, false, func(c *config.Config) { c.Clean.AllowedLateness = 0 })
}

func TestAdmit(t *testing.T) {
	f := func(unknown, symbol string, want tick.Reason) {
		t.Helper()
		p := mustNew(t, testConfig(func(c *config.Config) {
			c.Clean.UnknownSymbols = unknown
			c.SyntheticSymbols = 2
			c.Anomaly.Overrides = nil
		}))
		if got := p.Admit(symbol); got != want {
			t.Errorf("unknown_symbols=%s Admit(%q) = %q, want %q", unknown, symbol, got, want)
		}
	}
	f("drop", "AAA", tick.OK)
	f("drop", "SYN0002", tick.OK)
	f("drop", "SYN0003", tick.UnknownSymbol)
	f("drop", "ZZZ", tick.UnknownSymbol)
	f("drop", "aaa", tick.UnknownSymbol)
	f("pass", "ZZZ", tick.OK)
	f("pass", "AAA", tick.OK)
}

// TestNewValidates: New refuses what config.Validate refuses (config tests
// every limit; this checks the wiring) and accepts the defaults.
func TestNewValidates(t *testing.T) {
	f := func(mod func(*config.Config), want string) {
		t.Helper()
		_, err := New(testConfig(mod))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want one containing %q", err, want)
		}
	}
	f(func(c *config.Config) { c.Clean.UnknownSymbols = "keep" }, "clean.unknown_symbols")
	f(func(c *config.Config) { c.Average.Ticks = 0 }, "moving_average.ticks")
	f(func(c *config.Config) { c.Anomaly.WarmupTicks = 21 }, "anomaly.warmup_ticks")
	f(func(c *config.Config) { c.Clean.AllowedLateness = -time.Second }, "clean.allowed_lateness")
	f(func(c *config.Config) {
		c.Anomaly.Overrides["AAA"] = config.ThresholdOverride{DropFromMaxPct: ptr(150.0)}
	}, "anomaly.overrides.AAA.drop_from_max_pct")

	if _, err := New(config.Default()); err != nil {
		t.Errorf("default config: %v", err)
	}
}

// TestProcessDoesNotAllocate checks the per-tick budget on every path:
// accepted in order, accepted out of order, raising alerts, and rejected at
// each stage.
func TestProcessDoesNotAllocate(t *testing.T) {
	p := mustNew(t, testConfig(func(c *config.Config) { c.Average = config.Average{Ticks: 300, Window: 5 * time.Minute} }))
	st := p.NewState("AAA")
	var res Result
	tk := tick.Tick{Symbol: "AAA", TS: 1_000_000, Price: 100, Volume: 500}
	// Warm up: the time window and duplicate memory grow to their working size.
	for i := 0; i < 1000; i++ {
		tk.TS += 1000
		p.Process(st, &tk, tk.TS, &res)
	}
	f := func(name string, next func() tick.Tick, want tick.Reason) {
		t.Helper()
		var in tick.Tick
		allocs := testing.AllocsPerRun(1000, func() {
			in = next()
			p.Process(st, &in, in.TS, &res)
			if res.Reject != want {
				t.Fatalf("%s: reject %q, want %q", name, res.Reject, want)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocs per tick, want 0", name, allocs)
		}
	}
	f("in order", func() tick.Tick { tk.TS += 1000; tk.Price = 100; tk.Volume = 500; return tk }, tick.OK)
	alternate := 0
	f("alerting", func() tick.Tick {
		tk.TS += 70_000
		alternate++
		if alternate%2 == 1 {
			tk.Price, tk.Volume = 50, 1e6 // drop and spike
		} else {
			tk.Price, tk.Volume = 100, 500
		}
		return tk
	}, tick.OK)
	f("out of order", func() tick.Tick { tk.TS += 1000; o := tk; o.TS -= 500; return o }, tick.OK)
	f("duplicate", func() tick.Tick { o := tk; o.TS -= 500; return o }, tick.Duplicate) // the last out-of-order one
	f("late", func() tick.Tick { o := tk; o.TS -= 10_000; return o }, tick.Late)
	f("bad price", func() tick.Tick { o := tk; o.TS++; o.Price = math.NaN(); return o }, tick.BadPrice)
	if res.Alerts == nil || cap(res.Alerts) != 2 {
		t.Errorf("Alerts must be backed by the Result's own array, cap %d", cap(res.Alerts))
	}
}

// TestAlertsGolden pins the alerts of a fixed random stream, so any change
// in detection shows up in review (go test -run Golden -update to accept).
func TestAlertsGolden(t *testing.T) {
	cfg := testConfig(nil)
	rng := rand.New(rand.NewPCG(42, 42))
	in := genStream(rng, streamOpts{n: 3000, symbols: cfg.Symbols, lateness: 3000, future: 60000})
	r := newRunner(mustNew(t, cfg))
	var got bytes.Buffer
	rejects := map[tick.Reason]int{}
	g := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	for i := range in {
		res := r.process(&in[i].t, in[i].rec)
		rejects[res.Reject]++
		for _, a := range res.Alerts {
			fmt.Fprintf(&got, "%d %s %s %s observed=%s threshold=%s reference=%s\n",
				a.TS, a.Symbol, a.Kind, a.Rule, g(a.Observed), g(a.Threshold), g(a.Reference))
		}
	}
	for _, reason := range append([]tick.Reason{tick.OK}, tick.Reasons()...) {
		if n := rejects[reason]; n > 0 {
			name := reason.String()
			if reason == tick.OK {
				name = "accepted"
			}
			fmt.Fprintf(&got, "count %s %d\n", name, n)
		}
	}
	golden := filepath.Join("testdata", "alerts.golden")
	if *update {
		if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("alerts changed (run with -update if intended):\n%s", got.Bytes())
	}
}
