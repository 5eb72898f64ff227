package sim_test

// This file checks the simulator's promise with a detector written from the
// rules alone, by brute force over each window, sharing no code with the
// generator: every planted event meets the default anomaly rules, and no
// tick outside a planted event's [TS, Until] meets them.
//
// The default rules, and the reading the checker gives them where the words
// leave room, always the one least favourable to the generator:
//
//   - volume spike: volume ≥ 5 × the mean volume of the last 300 ticks (and
//     ≥ 1000), once the window holds 30 ticks. For false positives the mean
//     leaves the current tick out (a lower mean), the 1000 floor is ignored
//     and no warm-up applies. For planted spikes the mean includes the
//     current tick (a higher mean) and the floor and warm-up apply.
//   - drop from max: price ≥ 5 % below the maximum of the last 300 ticks.
//     For false positives the window is the 300 ticks before the current one
//     plus the current one; for planted drops, the 300 ticks ending at it.
//   - 60-s return: price ≥ 3 % below its level 60 s earlier. For false
//     positives "its level" is the highest price of any tick in the last 60 s
//     plus one step; for planted drops it is the last tick at or before
//     ts − 60 s.
//
// A planted event "owns" the ticks of its symbol with TS ≤ ts ≤ Until for its
// own kind: the spike tick itself, or for a drop the ticks until those before
// the bottom have left both windows. The checker also verifies that Until is
// no later than that, and that events of a kind are spaced by more than the
// window and the 60-s cooldown.

import (
	"fmt"
	"math"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tickstream/tickstream/config"
	"github.com/tickstream/tickstream/feeds/sim"
	"github.com/tickstream/tickstream/tick"
)

const (
	ruleWindow   = 300
	ruleFactor   = 5.0
	ruleMinVol   = 1000.0
	ruleWarmup   = 30
	ruleFromMax  = 0.05
	ruleReturn   = 0.03
	ruleReturnMS = 60000
	ruleCooldown = 60000
)

// series is one symbol's ticks in order.
type series struct {
	ts            []int64
	price, volume []float64
	events        []sim.Event
}

func symbolNames(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("SYN%04d", i+1)
	}
	return out
}

func TestPlantedAndNothingElse(t *testing.T) {
	tuesday := time.Date(2024, 1, 2, 13, 30, 0, 0, time.UTC)
	f := func(name string, symbols int, rate float64, dur time.Duration, start time.Time, spike, drop time.Duration) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			if testing.Short() {
				symbols = max(symbols/10, 5)
			}
			checkGroundTruth(t, symbols, rate, dur, start, spike, drop)
		})
	}
	// The brief's size: 1000 symbols × 2 h at 1 Hz, through the pre-market
	// ramp and the open.
	f("1Hz", 1000, 1, 2*time.Hour, tuesday, 10*time.Minute, 15*time.Minute)
	// 10 Hz: the 60-s return window (600 ticks) is longer than 300 ticks.
	f("10Hz", 100, 10, 20*time.Minute, tuesday.Add(45*time.Minute), 3*time.Minute, 4*time.Minute)
	// A step that is not a whole number of milliseconds.
	f("3Hz", 100, 3, 30*time.Minute, tuesday.Add(50*time.Minute), 5*time.Minute, 5*time.Minute)
	// One tick per 20 s: 300 ticks span 100 minutes of the intraday profile,
	// over a weekend and two opens, where only the guard keeps noise quiet.
	f("slow", 100, 0.05, 80*time.Hour, time.Date(2024, 1, 5, 12, 0, 0, 0, time.UTC), 2*time.Hour, 3*time.Hour)
	// Rate 0 steps 1 s; nothing planted, so nothing may fire at all.
	f("quiet", 200, 0, time.Hour, tuesday.Add(20*time.Minute), 0, 0)
}

func checkGroundTruth(t *testing.T, symbols int, rate float64, dur time.Duration, start time.Time, spikeEvery, dropEvery time.Duration) {
	cfg := config.Simulator{Rate: rate, Seed: 42, SpikeEvery: spikeEvery, DropEvery: dropEvery}
	g := generate(t, symbols, cfg, start, dur)
	problems, spikes, drops, owned := g.check()
	planted := g.planted
	sort.Strings(problems)
	for i, p := range problems {
		if i == 20 {
			t.Errorf("… and %d more", len(problems)-20)
			break
		}
		t.Error(p)
	}
	if len(planted) != spikes+drops {
		t.Errorf("planted %d events, checked %d", len(planted), spikes+drops)
	}
	// Roughly as many events as asked for: the spacing rules can only thin
	// them, and not below a quarter of the naive count.
	expect := func(every time.Duration) float64 {
		if every == 0 {
			return 0
		}
		return float64(symbols) * float64(dur) / float64(every)
	}
	for _, c := range []struct {
		kind       string
		got        int
		every      time.Duration
		wantAtMost float64
	}{{"spikes", spikes, spikeEvery, expect(spikeEvery)}, {"drops", drops, dropEvery, expect(dropEvery)}} {
		if c.every == 0 && c.got != 0 || float64(c.got) > c.wantAtMost || float64(c.got) < c.wantAtMost/4 {
			t.Errorf("%d %s planted, want between %.0f and %.0f", c.got, c.kind, c.wantAtMost/4, c.wantAtMost)
		}
	}
	pc, vc, damped, reg := sim.Stats(g.sim)
	ticks := float64(len(g.all) * len(g.all[0].ts))
	t.Logf("%.0f ticks, %d spikes, %d drops, %d ticks owned by drops; damped down moves %.3f%%; clamps: price %d (%.4f%%), volume %d (%.4f%%); regimes calm/normal/stressed %.1f/%.1f/%.1f%%",
		ticks, spikes, drops, owned, 100*float64(damped)/ticks, pc, 100*float64(pc)/ticks, vc, 100*float64(vc)/ticks,
		100*float64(reg[0])/ticks, 100*float64(reg[1])/ticks, 100*float64(reg[2])/ticks)
}

// generated is a run of the simulator split by symbol.
type generated struct {
	sim      *sim.Sim
	names    []string
	all      []series
	planted  []sim.Event
	stepCeil int64 // the longest gap between two ticks of a symbol, ms
}

// generate runs a simulator for dur of event time and checks the shape of
// every tick and the clock on the way.
func generate(t *testing.T, symbols int, cfg config.Simulator, start time.Time, dur time.Duration) *generated {
	t.Helper()
	names := symbolNames(symbols)
	s, err := sim.New(names, cfg, start)
	if err != nil {
		t.Fatal(err)
	}
	stepMS := 1000.0
	if cfg.Rate > 0 {
		stepMS = 1000 / cfg.Rate
	}
	rounds := int(float64(dur.Milliseconds()) / stepMS)

	g := &generated{sim: s, names: names, all: make([]series, symbols)}
	bySym := make(map[string]*series, symbols)
	for i, n := range names {
		g.all[i] = series{ts: make([]int64, 0, rounds), price: make([]float64, 0, rounds), volume: make([]float64, 0, rounds)}
		bySym[n] = &g.all[i]
	}
	var tk tick.Tick
	for r := range rounds {
		// The documented clock: round r covers [start + r·step, start +
		// (r+1)·step), symbols in order, spread over it.
		lo := start.UnixMilli() + int64(math.Floor(float64(r)*stepMS))
		hi := start.UnixMilli() + int64(math.Floor(float64(r+1)*stepMS))
		prev := lo
		for j := range names {
			s.Next(&tk)
			if tk.Symbol != names[j] {
				t.Fatalf("round %d position %d: symbol %q, want %q", r, j, tk.Symbol, names[j])
			}
			if tk.TS < prev || tk.TS >= hi {
				t.Fatalf("round %d position %d: ts %d outside [%d, %d) or before the previous symbol's", r, j, tk.TS, prev, hi)
			}
			prev = tk.TS
			checkShape(t, &tk)
			sr := bySym[tk.Symbol]
			sr.ts = append(sr.ts, tk.TS)
			sr.price = append(sr.price, tk.Price)
			sr.volume = append(sr.volume, tk.Volume)
		}
	}
	g.planted = s.Planted()
	for _, e := range g.planted {
		sr, ok := bySym[e.Symbol]
		if !ok {
			t.Fatalf("event for unknown symbol: %+v", e)
		}
		sr.events = append(sr.events, e)
	}
	for i := range g.all {
		for k := 1; k < len(g.all[i].ts); k++ {
			g.stepCeil = max(g.stepCeil, g.all[i].ts[k]-g.all[i].ts[k-1])
		}
	}
	return g
}

// check runs checkSeries over every symbol, on all cores.
func (g *generated) check() (problems []string, spikes, drops, owned int) {
	var mu sync.Mutex
	work := make(chan int)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := range work {
				p, sp, dr, ow := checkSeries(g.names[i], &g.all[i], g.stepCeil)
				mu.Lock()
				problems = append(problems, p...)
				spikes += sp
				drops += dr
				owned += ow
				mu.Unlock()
			}
		})
	}
	for i := range g.all {
		work <- i
	}
	close(work)
	wg.Wait()
	sort.Strings(problems)
	return problems, spikes, drops, owned
}

// checkShape checks what any tick must be: cents, whole volumes, a quote
// around the price.
func checkShape(t *testing.T, tk *tick.Tick) {
	cents := func(x float64) bool { return x > 0 && math.Abs(x*100-math.Round(x*100)) < 1e-6 }
	if !cents(tk.Price) || !cents(tk.Bid) || !cents(tk.Ask) || !(tk.Bid <= tk.Price && tk.Price <= tk.Ask && tk.Bid < tk.Ask) {
		t.Fatalf("bad prices: %+v", tk)
	}
	if tk.Volume < 0 || tk.Volume != math.Trunc(tk.Volume) {
		t.Fatalf("bad volume: %+v", tk)
	}
}

// checkSeries runs the naive detector over one symbol and returns what is
// wrong, the number of spikes and drops checked and of ticks owned by drops.
func checkSeries(name string, sr *series, stepCeil int64) (problems []string, spikes, drops, owned int) {
	bad := func(format string, args ...any) {
		problems = append(problems, name+": "+fmt.Sprintf(format, args...))
	}
	at := func(ts int64) int {
		i := sort.Search(len(sr.ts), func(i int) bool { return sr.ts[i] >= ts })
		if i == len(sr.ts) || sr.ts[i] != ts {
			return -1
		}
		return i
	}
	n := len(sr.ts)
	ownedBy := map[string][]bool{sim.KindVolumeSpike: make([]bool, n), sim.KindPriceDrop: make([]bool, n)}
	last := map[string]*sim.Event{}
	for k := range sr.events {
		e := &sr.events[k]
		i := at(e.TS)
		if i < 0 {
			bad("event %+v has no tick at its TS", *e)
			continue
		}
		if e.Until < e.TS {
			bad("event %+v ends before it starts", *e)
		}
		// Spacing: more than a window and the cooldown after the previous
		// event of the kind is over.
		if p := last[e.Kind]; p != nil {
			endIdx := sort.Search(n, func(j int) bool { return sr.ts[j] > p.Until }) - 1
			if e.TS-p.Until <= ruleCooldown || i-endIdx <= ruleWindow {
				bad("%s at %d follows the previous one (TS %d, Until %d) too closely", e.Kind, e.TS, p.TS, p.Until)
			}
			if e.TS <= p.TS {
				bad("%s events out of order", e.Kind)
			}
		}
		last[e.Kind] = e
		for j := i; j < n && sr.ts[j] <= e.Until; j++ {
			ownedBy[e.Kind][j] = true
		}
		switch e.Kind {
		case sim.KindVolumeSpike:
			spikes++
			if e.Until != e.TS {
				bad("spike %+v should own only its tick", *e)
			}
			if !plantedSpike(sr, i) {
				bad("planted spike at %d (tick %d, volume %.0f) does not meet the rule", e.TS, i, sr.volume[i])
			}
			// The promised size: 15× the typical (mean) volume.
			if sum := sumVolume(sr, max(0, i-ruleWindow), i); sr.volume[i] < 15*sum/float64(min(i, ruleWindow)) {
				bad("planted spike at %d is under 15× the mean volume", e.TS)
			}
		case sim.KindPriceDrop:
			drops++
			if !plantedDropFromMax(sr, i) {
				bad("planted drop at %d (tick %d, price %.2f) is not 5%% below the 300-tick max", e.TS, i, sr.price[i])
			}
			if ok, found := plantedReturn(sr, i); found && !ok {
				bad("planted drop at %d (tick %d) is not a 3%% fall over 60 s", e.TS, i)
			}
			// The promised shape: 8 % or more below the last price before
			// it within 4 ticks.
			low := sr.price[i]
			for j := i; j < min(n, i+4); j++ {
				low = min(low, sr.price[j])
			}
			if i+4 <= n && low > 0.92*sr.price[i-1] {
				bad("planted drop at %d falls only to %.2f from %.2f", e.TS, low, sr.price[i-1])
			}
			// Until is not generous: a drop lasts at most 4 ticks, so the
			// ticks before its bottom are gone from both windows 300 ticks
			// after the bottom and 60 s plus a step after the tick before it.
			limit := int64(math.MaxInt64)
			if i+3+ruleWindow-1 < n {
				limit = max(sr.ts[i+3+ruleWindow-1], sr.ts[i+2]+ruleReturnMS+stepCeil)
			}
			if e.Until > limit {
				bad("drop at %d owns until %d, later than %d", e.TS, e.Until, limit)
			}
		default:
			bad("unknown kind %q", e.Kind)
		}
	}
	for j := range n {
		if ownedBy[sim.KindPriceDrop][j] {
			owned++
		}
		if !ownedBy[sim.KindVolumeSpike][j] && spikeFP(sr, j) {
			bad("unplanted volume spike at tick %d (ts %d, volume %.0f)", j, sr.ts[j], sr.volume[j])
		}
		if !ownedBy[sim.KindPriceDrop][j] {
			if dropFP(sr, j) {
				bad("unplanted drop from max at tick %d (ts %d, price %.2f)", j, sr.ts[j], sr.price[j])
			}
			if returnFP(sr, j, stepCeil) {
				bad("unplanted 60-s fall at tick %d (ts %d, price %.2f)", j, sr.ts[j], sr.price[j])
			}
		}
	}
	return problems, spikes, drops, owned
}

// sumVolume adds the volumes of ticks [from, to).
func sumVolume(sr *series, from, to int) float64 {
	sum := 0.0
	for j := from; j < to; j++ {
		sum += sr.volume[j]
	}
	return sum
}

// spikeFP: volume ≥ 5 × the mean of up to 300 earlier ticks.
func spikeFP(sr *series, i int) bool {
	from := max(0, i-ruleWindow)
	if from == i {
		return false
	}
	return sr.volume[i] >= ruleFactor*sumVolume(sr, from, i)/float64(i-from)
}

// plantedSpike: warm, ≥ 1000 and ≥ 5 × the mean of the 300 ticks ending at i.
func plantedSpike(sr *series, i int) bool {
	from := max(0, i-ruleWindow+1)
	if i+1-from < ruleWarmup {
		return false
	}
	return sr.volume[i] >= ruleMinVol && sr.volume[i] >= ruleFactor*sumVolume(sr, from, i+1)/float64(i+1-from)
}

// dropFP: price ≥ 5 % under the max of the 300 earlier ticks and itself.
func dropFP(sr *series, i int) bool {
	hi := 0.0
	for j := max(0, i-ruleWindow); j <= i; j++ {
		hi = max(hi, sr.price[j])
	}
	return sr.price[i] <= (1-ruleFromMax)*hi
}

// plantedDropFromMax: warm and ≥ 5 % under the max of the 300 ticks ending
// at i.
func plantedDropFromMax(sr *series, i int) bool {
	from := max(0, i-ruleWindow+1)
	if i+1-from < ruleWarmup {
		return false
	}
	hi := 0.0
	for j := from; j <= i; j++ {
		hi = max(hi, sr.price[j])
	}
	return sr.price[i] <= (1-ruleFromMax)*hi
}

// returnFP: price ≥ 3 % under any tick of the last 60 s plus a step.
func returnFP(sr *series, i int, stepCeil int64) bool {
	for j := i - 1; j >= 0 && sr.ts[j] >= sr.ts[i]-ruleReturnMS-stepCeil; j-- {
		if sr.price[i] <= (1-ruleReturn)*sr.price[j] {
			return true
		}
	}
	return false
}

// plantedReturn: price ≥ 3 % under the last tick at or before ts − 60 s;
// found is false when there is none.
func plantedReturn(sr *series, i int) (ok, found bool) {
	for j := i - 1; j >= 0; j-- {
		if sr.ts[j] <= sr.ts[i]-ruleReturnMS {
			return sr.price[i] <= (1-ruleReturn)*sr.price[j], true
		}
	}
	return false, false
}

// TestCheckerCatches makes sure the checker above can fail: each mutation of
// a clean run must be reported.
func TestCheckerCatches(t *testing.T) {
	cfg := config.Simulator{Rate: 1, Seed: 7, SpikeEvery: 8 * time.Minute, DropEvery: 10 * time.Minute}
	g := generate(t, 10, cfg, time.Date(2024, 1, 2, 15, 0, 0, 0, time.UTC), 40*time.Minute)
	// A symbol with at least two spikes and a drop.
	var base *series
	for i := range g.all {
		var sp, dr int
		for _, e := range g.all[i].events {
			if e.Kind == sim.KindVolumeSpike {
				sp++
			} else {
				dr++
			}
		}
		if sp >= 2 && dr >= 1 {
			base = &g.all[i]
			break
		}
	}
	if base == nil {
		t.Fatal("no symbol with two spikes and a drop; change the seed")
	}
	first := func(sr *series, kind string) (int, int) { // event index, tick index
		for k, e := range sr.events {
			if e.Kind == kind {
				return k, sort.Search(len(sr.ts), func(i int) bool { return sr.ts[i] >= e.TS })
			}
		}
		panic("BUG: no event of kind " + kind)
	}
	// highest is the largest volume of up to 300 ticks before i: 5× it is
	// surely a spike.
	highest := func(sr *series, i int) float64 {
		hi := 0.0
		for j := max(0, i-300); j < i; j++ {
			hi = max(hi, sr.volume[j])
		}
		return hi
	}
	f := func(name, want string, mutate func(sr *series)) {
		t.Helper()
		sr := series{
			ts:     append([]int64(nil), base.ts...),
			price:  append([]float64(nil), base.price...),
			volume: append([]float64(nil), base.volume...),
			events: append([]sim.Event(nil), base.events...),
		}
		mutate(&sr)
		problems, _, _, _ := checkSeries("X", &sr, g.stepCeil)
		if want == "" {
			if len(problems) > 0 {
				t.Errorf("%s: unexpected problems %q", name, problems)
			}
			return
		}
		for _, p := range problems {
			if strings.Contains(p, want) {
				return
			}
		}
		t.Errorf("%s: no problem containing %q in %q", name, want, problems)
	}
	f("clean", "", func(sr *series) {})
	f("forgotten spike", "unplanted volume spike", func(sr *series) {
		k, _ := first(sr, sim.KindVolumeSpike)
		sr.events = append(sr.events[:k], sr.events[k+1:]...)
	})
	f("forgotten drop", "unplanted drop from max", func(sr *series) {
		k, _ := first(sr, sim.KindPriceDrop)
		sr.events = append(sr.events[:k], sr.events[k+1:]...)
	})
	f("noise spike", "unplanted volume spike", func(sr *series) { sr.volume[200] = 5 * highest(sr, 200) })
	f("noise drop", "unplanted drop from max", func(sr *series) { sr.price[200] *= 0.94 })
	f("noise fall", "unplanted 60-s fall", func(sr *series) { sr.price[200] = 0.97 * sr.price[170] })
	f("weak spike", "does not meet the rule", func(sr *series) {
		_, i := first(sr, sim.KindVolumeSpike)
		for j := i - 299; j < i; j++ {
			sr.volume[j] = sr.volume[i] / 4
		}
	})
	f("weak drop", "not 5% below", func(sr *series) {
		_, i := first(sr, sim.KindPriceDrop)
		sr.price[i] = sr.price[i-1]
	})
	f("slow drop", "not a 3% fall", func(sr *series) {
		_, i := first(sr, sim.KindPriceDrop)
		for j := i - 60; j < i; j++ {
			sr.price[j] = sr.price[i] / 0.98
		}
	})
	f("long until", "owns until", func(sr *series) {
		k, _ := first(sr, sim.KindPriceDrop)
		sr.events[k].Until += 10 * 60 * 1000
	})
	f("crowded", "too closely", func(sr *series) {
		k, _ := first(sr, sim.KindVolumeSpike)
		sr.events = append(sr.events[:k+1], sr.events[k:]...)
	})
	f("off the clock", "no tick at its TS", func(sr *series) {
		k, _ := first(sr, sim.KindVolumeSpike)
		sr.events[k].TS++
		sr.events[k].Until++
	})
}
