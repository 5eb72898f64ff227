package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/tickstream/tickstream/config"
	"github.com/tickstream/tickstream/internal/testkit"
)

// reloadRig runs a reloader on a config file in a temp dir, with an apply
// and a symbol hook that record what they are handed.
type reloadRig struct {
	t    *testing.T
	path string
	hup  chan os.Signal
	logs *observer.ObservedLogs
	sim  chan []string

	mu      sync.Mutex
	applied []*config.Config
	refuse  error
	hooked  [][]string // the lists the onSymbols hook got
}

const reloadBase = "symbols: [AAA, BBB]\nsynthetic_symbols: 0\n"

func newReloadRig(t *testing.T) *reloadRig {
	g := &reloadRig{t: t, path: filepath.Join(t.TempDir(), "config.yaml"), hup: make(chan os.Signal, 1), sim: make(chan []string, 1)}
	g.write(reloadBase)
	base, err := config.Load(g.path)
	if err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zapcore.DebugLevel)
	g.logs = logs
	r, err := newReloader(Reload{Path: g.path, Signal: g.hup}, base, zap.New(core), func(c *config.Config) error {
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.refuse != nil {
			return g.refuse
		}
		g.applied = append(g.applied, c)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	r.simSymbols = g.sim
	r.onSymbols = append(r.onSymbols, func(s []string) {
		g.mu.Lock()
		defer g.mu.Unlock()
		g.hooked = append(g.hooked, s)
	})
	w := r.watch()
	if w == nil {
		t.Fatal("cannot watch the config file")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.loop(ctx, w) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return g
}

// write replaces the file the way editors do: a new file renamed over it.
func (g *reloadRig) write(body string) {
	g.t.Helper()
	tmp := g.path + ".tmp"
	if err := os.WriteFile(tmp, []byte(body), 0o644); err != nil {
		g.t.Fatal(err)
	}
	if err := os.Rename(tmp, g.path); err != nil {
		g.t.Fatal(err)
	}
}

// waitLog waits for the n-th log entry (counting from 1) whose message
// starts with msg, and returns it.
func (g *reloadRig) waitLog(msg string, n int) observer.LoggedEntry {
	g.t.Helper()
	var e []observer.LoggedEntry
	testkit.Eventually(g.t, 10*time.Second, fmt.Sprintf("log %d of %q", n, msg), func() bool {
		e = g.logs.FilterMessageSnippet(msg).All()
		return len(e) >= n
	})
	return e[n-1]
}

func (g *reloadRig) appliedCount() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.applied)
}

func fieldStrings(e observer.LoggedEntry, key string) []string {
	v, _ := e.ContextMap()[key].([]any)
	var out []string
	for _, x := range v {
		out = append(out, fmt.Sprint(x))
	}
	return out
}

// TestReloaderAppliesEdits: a good edit is applied with the changed keys
// and symbols logged, and the simulator gets the new list; restart-only
// keys are reported and the rest still applies.
func TestReloaderAppliesEdits(t *testing.T) {
	g := newReloadRig(t)
	g.write(reloadBase + "symbols: [AAA, CCC]\nanomaly:\n  spike_factor: 3\n")
	// A key twice is a load error: the first edit must be refused...
	e := g.waitLog("config reload refused", 1)
	if err := fmt.Sprint(e.ContextMap()["error"]); !strings.Contains(err, ":3: symbols:") {
		t.Errorf("refusal does not name the line and key: %s", err)
	}
	// ...and the next good one applied.
	g.write("symbols: [AAA, CCC]\nsynthetic_symbols: 0\nanomaly:\n  spike_factor: 3\n")
	e = g.waitLog("config reload applied", 1)
	if got := fieldStrings(e, "keys"); !slices.Equal(got, []string{"symbols", "anomaly.spike_factor"}) {
		t.Errorf("keys %q", got)
	}
	if a, r := fieldStrings(e, "symbols_added"), fieldStrings(e, "symbols_removed"); !slices.Equal(a, []string{"CCC"}) || !slices.Equal(r, []string{"BBB"}) {
		t.Errorf("symbols added %q removed %q", a, r)
	}
	if g.appliedCount() != 1 || g.applied[0].Anomaly.SpikeFactor != 3 {
		t.Fatalf("applied %d configs, want one with spike_factor 3", g.appliedCount())
	}
	select {
	case got := <-g.sim:
		if !slices.Equal(got, []string{"AAA", "CCC"}) {
			t.Errorf("simulator got %q", got)
		}
	default:
		t.Error("the simulator got no symbol list")
	}

	// Restart-only keys: warned about, by name; the live change applies.
	g.write("symbols: [AAA, CCC]\nsynthetic_symbols: 0\nanomaly:\n  spike_factor: 4\nkafka:\n  group: other\nlog:\n  level: debug\n")
	e = g.waitLog("config reload applied", 2)
	if got := fieldStrings(e, "keys"); !slices.Equal(got, []string{"anomaly.spike_factor"}) {
		t.Errorf("keys %q", got)
	}
	w := g.waitLog("config keys changed that need a restart", 1)
	if got := fieldStrings(w, "keys"); !slices.Equal(got, []string{"kafka.group", "log.level"}) {
		t.Errorf("restart keys %q", got)
	}
	if w.Level != zapcore.WarnLevel || len(g.logs.FilterMessageSnippet("need a restart").All()) != 1 {
		t.Errorf("want one warning line for the restart-only keys")
	}
}

// TestReloaderRefusesBadEdits: an unknown key or a value out of range is
// refused with the loader's message (file, line, key); nothing is applied;
// an engine refusal is logged the same way.
func TestReloaderRefusesBadEdits(t *testing.T) {
	g := newReloadRig(t)
	f := func(body, want string, n int) {
		t.Helper()
		g.write(body)
		e := g.waitLog("config reload refused", n)
		if err := fmt.Sprint(e.ContextMap()["error"]); !strings.Contains(err, want) {
			t.Errorf("refusal %q does not contain %q", err, want)
		}
	}
	f(reloadBase+"anomaly:\n  spike_facter: 3\n", `config.yaml:4: anomaly.spike_facter: unknown key (did you mean "spike_factor"?)`, 1)
	f(reloadBase+"anomaly:\n  spike_factor: -1\n", "config.yaml:4: anomaly.spike_factor: must be", 2)
	g.mu.Lock()
	g.refuse = errors.New("operators: no")
	g.mu.Unlock()
	f(reloadBase+"anomaly:\n  spike_factor: 3\n", "operators: no", 3)
	if n := g.appliedCount(); n != 0 {
		t.Fatalf("%d bad configs applied", n)
	}
	if n := len(g.logs.FilterMessage("config reload applied").All()); n != 0 {
		t.Fatalf("%d reloads logged as applied", n)
	}
}

// TestReloaderSIGHUPAndDebounce: a burst of writes is one reload; SIGHUP
// reloads without a file change.
func TestReloaderSIGHUPAndDebounce(t *testing.T) {
	g := newReloadRig(t)
	for i := range 5 {
		g.write(fmt.Sprintf("%sanomaly:\n  spike_factor: %d\n", reloadBase, 6+i))
		time.Sleep(20 * time.Millisecond)
	}
	g.waitLog("config reload applied", 1)
	time.Sleep(3 * debounce)
	if n := g.appliedCount(); n != 1 || g.applied[0].Anomaly.SpikeFactor != 10 {
		t.Fatalf("a burst of 5 writes applied %d times, want once with the last value", n)
	}
	g.hup <- syscall.SIGHUP
	e := g.waitLog("config reloaded: no live setting changed", 1)
	if e.ContextMap()["trigger"] != "SIGHUP" {
		t.Errorf("trigger %v, want SIGHUP", e.ContextMap()["trigger"])
	}
}

// TestReloaderSymbolHooks: the onSymbols hooks get the new list (the
// applied config's AllSymbols) after each applied reload that changed it,
// a reorder included, and never for a refused reload or one that left the
// list alone.
func TestReloaderSymbolHooks(t *testing.T) {
	g := newReloadRig(t)
	hooked := func() [][]string {
		g.mu.Lock()
		defer g.mu.Unlock()
		return slices.Clone(g.hooked)
	}
	g.mu.Lock()
	g.refuse = errors.New("engine: no")
	g.mu.Unlock()
	g.write("symbols: [BBB, AAA, CCC]\nsynthetic_symbols: 2\n")
	g.waitLog("config reload refused", 1)
	if h := hooked(); len(h) != 0 {
		t.Fatalf("a refused reload called the hook with %q", h)
	}
	g.mu.Lock()
	g.refuse = nil
	g.mu.Unlock()

	var want [][]string
	f := func(body string, symbolsChanged bool) {
		t.Helper()
		n := g.appliedCount() + 1
		g.write(body)
		g.waitLog("config reload applied", n)
		if g.appliedCount() != n {
			t.Fatalf("%d configs applied, want %d", g.appliedCount(), n)
		}
		if symbolsChanged {
			g.mu.Lock()
			want = append(want, g.applied[n-1].AllSymbols())
			g.mu.Unlock()
		}
		if h := hooked(); !slices.EqualFunc(h, want, slices.Equal) {
			t.Errorf("after %q the hook got %q, want %q", body, h, want)
		}
	}
	f("symbols: [BBB, AAA, CCC]\nsynthetic_symbols: 2\n", true)
	f("symbols: [BBB, AAA, CCC]\nsynthetic_symbols: 2\nanomaly:\n  spike_factor: 3\n", false)
	f("symbols: [CCC, BBB, AAA]\nsynthetic_symbols: 2\nanomaly:\n  spike_factor: 3\n", true)
	f("symbols: [CCC, BBB, AAA]\nsynthetic_symbols: 1\nanomaly:\n  spike_factor: 3\n", true)
}

func TestSymbolChanges(t *testing.T) {
	f := func(old, next, added, removed []string) {
		t.Helper()
		a, r := symbolChanges(old, next)
		if !slices.Equal(a, added) || !slices.Equal(r, removed) {
			t.Errorf("symbolChanges(%q, %q) = %q, %q", old, next, a, r)
		}
	}
	f(nil, nil, nil, nil)
	f([]string{"A", "B"}, []string{"B", "A"}, nil, nil)
	f([]string{"A", "B"}, []string{"C", "A", "D"}, []string{"C", "D"}, []string{"B"})
}
