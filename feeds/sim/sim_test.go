package sim_test

import (
	"bytes"
	"crypto/sha256"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/tickstream/tickstream/config"
	"github.com/tickstream/tickstream/feeds/sim"
	"github.com/tickstream/tickstream/tick"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func TestNewErrors(t *testing.T) {
	f := func(symbols []string, cfg config.Simulator) {
		t.Helper()
		if _, err := sim.New(symbols, cfg, time.Unix(0, 0)); err == nil {
			t.Errorf("New(%q, %+v) succeeded", symbols, cfg)
		}
	}
	f(nil, config.Simulator{})
	f([]string{"A", ""}, config.Simulator{})
	f([]string{"A", "B", "A"}, config.Simulator{})
	f([]string{"A"}, config.Simulator{Rate: -1})
	f([]string{"A"}, config.Simulator{Rate: math.NaN()})
	f([]string{"A"}, config.Simulator{Rate: sim.MaxRate + 0.5})
	f([]string{"A"}, config.Simulator{SpikeEvery: -time.Second})
	f([]string{"A"}, config.Simulator{DropEvery: -time.Second})
}

// run makes n ticks and returns them.
func run(t *testing.T, s *sim.Sim, n int) []tick.Tick {
	t.Helper()
	out := make([]tick.Tick, n)
	for i := range out {
		s.Next(&out[i])
	}
	return out
}

func TestDeterministic(t *testing.T) {
	names := symbolNames(100)
	cfg := config.Simulator{Rate: 2, Seed: 11, SpikeEvery: 5 * time.Minute, DropEvery: 7 * time.Minute}
	start := time.Date(2024, 3, 4, 14, 0, 0, 0, time.UTC)
	const n = 300000 // 25 minutes: events of both kinds
	mk := func(cfg config.Simulator) *sim.Sim {
		s, err := sim.New(names, cfg, start)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a, b := mk(cfg), mk(cfg)
	ta, tb := run(t, a, n), run(t, b, n)
	if !slices.Equal(ta, tb) {
		t.Fatal("same seed, different ticks")
	}
	if pa := a.Planted(); len(pa) == 0 || !slices.Equal(pa, b.Planted()) {
		t.Fatalf("same seed: %d planted events, twin %d, or they differ", len(pa), len(b.Planted()))
	}
	cfg.Seed++
	tc := run(t, mk(cfg), n)
	same := 0
	for i := range ta {
		if ta[i].Price == tc[i].Price {
			same++
		}
	}
	if same > n/10 {
		t.Fatalf("another seed repeats %d of %d prices", same, n)
	}
}

func TestSetClock(t *testing.T) {
	s, err := sim.New(symbolNames(4), config.Simulator{Rate: 1}, time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2025, 6, 2, 14, 30, 0, 0, time.UTC)
	if err := s.SetClock(start, 4); err != nil {
		t.Fatal(err)
	}
	if err := s.SetClock(start, -4); err == nil {
		t.Fatal("SetClock took a negative rate")
	}
	ticks := run(t, s, 8)
	// Round 0 at start, symbols 250/4 ms apart; round 1 a step of 250 ms later.
	for i, want := range []int64{0, 62, 125, 187, 250, 312, 375, 437} {
		if got := ticks[i].TS - start.UnixMilli(); got != want {
			t.Errorf("tick %d at +%d ms, want +%d", i, got, want)
		}
	}
	if err := s.SetClock(start, 4); err == nil {
		t.Fatal("SetClock after the first tick succeeded")
	}
}

func TestPlantedIsACopy(t *testing.T) {
	s, err := sim.New(symbolNames(20), config.Simulator{SpikeEvery: time.Minute}, time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	run(t, s, 20*1200)
	p := s.Planted()
	if len(p) == 0 {
		t.Fatal("nothing planted in 20 minutes with a spike a minute")
	}
	p[0].Symbol = "CHANGED"
	if s.Planted()[0].Symbol == "CHANGED" {
		t.Fatal("Planted returned the Sim's own slice")
	}
}

func TestNextAllocs(t *testing.T) {
	s, err := sim.New(symbolNames(1000), config.Simulator{Rate: 1, Seed: 1, SpikeEvery: 10 * time.Minute, DropEvery: 10 * time.Minute}, time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	var tk tick.Tick
	// Past the warm-up, so planting (and its log growing) is part of it.
	for range 1000 * 600 {
		s.Next(&tk)
	}
	if a := testing.AllocsPerRun(200000, func() { s.Next(&tk) }); a != 0 {
		t.Fatalf("Next allocates %v times per tick", a)
	}
}

// TestGolden pins the stream of a fixed seed: a change to the model shows up
// here and must be deliberate (go test -update). The file holds the first
// ticks and planted events in full and a hash of the whole stream.
func TestGolden(t *testing.T) {
	cfg := config.Simulator{Rate: 1, Seed: 2024, SpikeEvery: 4 * time.Minute, DropEvery: 6 * time.Minute}
	s, err := sim.New([]string{"AAPL", "MSFT", "SPY"}, cfg, time.Date(2024, 1, 2, 14, 20, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	h := sha256.New()
	var tk tick.Tick
	const n = 3 * 3600
	for i := range n {
		s.Next(&tk)
		line := fmt.Sprintf("%s %d %.2f %.0f %.2f %.2f\n", tk.Symbol, tk.TS, tk.Price, tk.Volume, tk.Bid, tk.Ask)
		h.Write([]byte(line))
		if i < 30 {
			b.WriteString(line)
		}
	}
	for _, e := range s.Planted() {
		fmt.Fprintf(&b, "%s %s %d %d\n", e.Symbol, e.Kind, e.TS, e.Until)
	}
	fmt.Fprintf(&b, "sha256 of %d ticks: %x\n", n, h.Sum(nil))

	path := filepath.Join("testdata", "golden.txt")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		t.Errorf("stream differs from %s (go test -update if the change is meant):\n%s", path, b.Bytes())
	}
}

func BenchmarkNext(b *testing.B) {
	s, err := sim.New(symbolNames(1000), config.Simulator{Rate: 1, Seed: 1, SpikeEvery: 10 * time.Minute, DropEvery: 15 * time.Minute}, time.Date(2024, 1, 2, 14, 0, 0, 0, time.UTC))
	if err != nil {
		b.Fatal(err)
	}
	var tk tick.Tick
	b.ReportAllocs()
	for b.Loop() {
		s.Next(&tk)
	}
}
