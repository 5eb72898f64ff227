package operators

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tickstream/tickstream/config"
	"github.com/tickstream/tickstream/tick"
)

// benchTicks is a market-like in-order stream for one symbol: a tick a
// second, a random-walk price, random volume.
func benchTicks(n int) []tick.Tick {
	rng := rand.New(rand.NewPCG(1, 1))
	out := make([]tick.Tick, n)
	price := 100.0
	for i := range out {
		price *= 1 + 0.001*rng.NormFloat64()
		out[i] = tick.Tick{Symbol: "AAA", TS: 1_764_000_000_000 + int64(i)*1000, Price: price, Volume: 100 + 900*rng.Float64()}
	}
	return out
}

func perTick(b *testing.B) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/tick")
}

func benchConfig(window time.Duration) *config.Config {
	cfg := config.Default()
	cfg.Average.Window = window
	return cfg
}

// benchStep times one step alone on a stream of in-order ticks. Each tick
// gets a fresh, later TS, so clean never sees a duplicate.
func benchStep(b *testing.B, cfg *config.Config, steps ...func(p *Pipeline) Operator) {
	p := mustNew(b, cfg)
	st := p.NewState("AAA")
	ticks := benchTicks(4096)
	var res Result
	for i := range ticks {
		p.Process(st, &ticks[i], ticks[i].TS, &res)
	}
	shift := int64(len(ticks)) * 1000
	var ops []Operator
	for _, s := range steps {
		ops = append(ops, s(p))
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		tk := &ticks[i&(len(ticks)-1)]
		if i&(len(ticks)-1) == len(ticks)-1 {
			for j := range ticks {
				ticks[j].TS += shift
			}
		}
		i++
		for _, s := range ops {
			s.Process(st, tk, tk.TS, &res)
		}
	}
	perTick(b)
}

func cleanStep(p *Pipeline) Operator   { return &p.clean }
func averageStep(p *Pipeline) Operator { return &p.average }

// The moving average needs clean to advance the frontier: subtract
// BenchmarkClean from its figures.
func BenchmarkClean(b *testing.B)         { benchStep(b, benchConfig(0), cleanStep) }
func BenchmarkMovingAverage(b *testing.B) { benchStep(b, benchConfig(0), cleanStep, averageStep) }
func BenchmarkMovingAverageTimeWindow(b *testing.B) {
	benchStep(b, benchConfig(5*time.Minute), cleanStep, averageStep)
}

// BenchmarkAnomaly times the anomaly step alone against a full window,
// judging ticks at the symbol's newest event time with varying values.
func BenchmarkAnomaly(b *testing.B) {
	p := mustNew(b, benchConfig(0))
	st := p.NewState("AAA")
	ticks := benchTicks(1024)
	var res Result
	for i := range ticks {
		p.Process(st, &ticks[i], ticks[i].TS, &res)
	}
	for i := range ticks {
		ticks[i].TS = st.newest
	}
	res.countBefore, res.volumeBefore = int32(st.count.samples.n), st.count.volume.value()/float64(st.count.samples.n)
	var op Operator = &p.anomaly
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		res.Alerts = res.alertBuf[:0]
		op.Process(st, &ticks[i&1023], st.newest, &res)
		i++
	}
	perTick(b)
}

// benchPipeline runs the whole pipeline over symbols states round-robin,
// the way a partition task interleaves its symbols.
func benchPipeline(b *testing.B, cfg *config.Config, symbols int, want tick.Reason, mod func(i int, t tick.Tick) tick.Tick) {
	p := mustNew(b, cfg)
	states := make([]*State, symbols)
	for i := range states {
		states[i] = p.NewState("AAA")
	}
	base := benchTicks(4096)
	var res Result
	// Warm up until every window has grown to its working size.
	i := 0
	for ; i < 1000*symbols; i++ {
		tk := base[(i/symbols)&4095]
		tk.TS = 1_764_000_000_000 + int64(i/symbols)*1000
		p.Process(states[i%symbols], &tk, tk.TS, &res)
	}
	b.ReportAllocs()
	for b.Loop() {
		tk := base[(i/symbols)&4095]
		tk.TS = 1_764_000_000_000 + int64(i/symbols)*1000
		if mod != nil {
			tk = mod(i, tk)
		}
		p.Process(states[i%symbols], &tk, tk.TS, &res)
		if res.Reject != want {
			b.Fatalf("reject %q, want %q", res.Reject, want)
		}
		i++
	}
	perTick(b)
}

func BenchmarkPipeline(b *testing.B) {
	b.Run("1 symbol", func(b *testing.B) { benchPipeline(b, benchConfig(0), 1, tick.OK, nil) })
	b.Run("1000 symbols", func(b *testing.B) { benchPipeline(b, benchConfig(0), 1000, tick.OK, nil) })
	b.Run("1000 symbols, 5m time window", func(b *testing.B) {
		benchPipeline(b, benchConfig(5*time.Minute), 1000, tick.OK, nil)
	})
	b.Run("1000 symbols, 5m time window, 5% out of order", func(b *testing.B) {
		benchPipeline(b, benchConfig(5*time.Minute), 1000, tick.OK, func(i int, t tick.Tick) tick.Tick {
			if i%20 == 7 {
				t.TS -= 2500
			}
			return t
		})
	})
	b.Run("rejected duplicate", func(b *testing.B) {
		benchPipeline(b, benchConfig(0), 1, tick.Duplicate, func(_ int, t tick.Tick) tick.Tick {
			t.TS = 1_764_000_000_000 + 999*1000 // the last warm-up tick
			return t
		})
	})
	b.Run("rejected bad price", func(b *testing.B) {
		benchPipeline(b, benchConfig(0), 1, tick.BadPrice, func(_ int, t tick.Tick) tick.Tick { t.Price = -1; return t })
	})
}
