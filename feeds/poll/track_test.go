package poll

import (
	"testing"
	"time"

	"github.com/tickstream/tickstream/tick"
)

func TestTrackApply(t *testing.T) {
	const minute = int64(60_000)
	t0 := time.Date(2025, 11, 25, 14, 30, 0, 0, time.UTC)
	ms := t0.UnixMilli()
	now := t0.Add(10 * time.Minute)
	tr := NewTrack("AAPL")
	step := func(snap Snapshot, want []Out, wantSkips Skips) {
		t.Helper()
		got, sk := tr.Apply(nil, &snap, now, 5*time.Minute)
		if len(got) != len(want) || sk != wantSkips {
			t.Fatalf("Apply = %+v %+v, want %+v %+v", got, sk, want, wantSkips)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("tick %d: got %+v, want %+v", i, got[i], want[i])
			}
		}
	}
	tk := func(ts int64, price, vol float64, stale bool) Out {
		return Out{Tick: tick.Tick{Symbol: "AAPL", TS: ts, Price: price, Volume: vol}, Stale: stale}
	}
	bars := []Bar{{ms, 10, 100}, {ms + minute, 11, 200}, {ms + 2*minute, 12, 300}, {ms + 9*minute, 13, 50}}
	q := Quote{TS: ms + 9*minute + 30_000, Price: 13.5, DayVolume: 1000}

	// Start-up: the finished bars fill in, the forming last one does not;
	// the quote's volume is the day volume less the bars'. Bars older than
	// 5 min before now are stale.
	step(Snapshot{HasQuote: true, Quote: q, Bars: bars},
		[]Out{tk(ms, 10, 100, true), tk(ms+minute, 11, 200, true), tk(ms+2*minute, 12, 300, true),
			tk(q.TS, 13.5, 1000-(100+200+300), false)}, Skips{})
	// The same quote again: a duplicate; the bars are all old now.
	step(Snapshot{HasQuote: true, Quote: q, Bars: bars}, nil, Skips{Duplicates: 1})
	// Same values with a newer time: still a repeat of the last quote.
	q2 := q
	q2.TS += 1000
	step(Snapshot{HasQuote: true, Quote: q2}, nil, Skips{Duplicates: 1})
	// A new price at an older time: not produced.
	q3 := q
	q3.TS, q3.Price = q.TS-1, 14
	step(Snapshot{HasQuote: true, Quote: q3}, nil, Skips{Old: 1})
	// A new quote: volume is the day volume's increase.
	q4 := Quote{TS: q.TS + 2000, Price: 14, DayVolume: 1500, Bid: 13.9, Ask: 14.1}
	want := tk(q4.TS, 14, 1500-1000, false)
	want.Tick.Bid, want.Tick.Ask = 13.9, 14.1
	step(Snapshot{HasQuote: true, Quote: q4}, []Out{want}, Skips{})
	// A new trading day: the day volume starts again.
	q5 := Quote{TS: q.TS + 86_400_000, Price: 15, DayVolume: 40}
	step(Snapshot{HasQuote: true, Quote: q5}, []Out{tk(q5.TS, 15, 40, false)}, Skips{})
	// No day volume (an index): volume 0, and the next delta has no base.
	q6 := Quote{TS: q5.TS + 1000, Price: 16, DayVolume: -1}
	step(Snapshot{HasQuote: true, Quote: q6}, []Out{tk(q6.TS, 16, 0, false)}, Skips{})
	q7 := Quote{TS: q6.TS + 1000, Price: 17, DayVolume: 70}
	step(Snapshot{HasQuote: true, Quote: q7}, []Out{tk(q7.TS, 17, 0, false)}, Skips{})

	// Bars only (intraday series): newer finished bars, each with its volume.
	b := NewTrack("AAPL")
	got, _ := b.Apply(nil, &Snapshot{Bars: bars[:3]}, now, 0)
	if len(got) != 2 || got[0] != tk(ms, 10, 100, false) || got[1] != tk(ms+minute, 11, 200, false) {
		t.Fatalf("bars only: %+v", got)
	}
	got, _ = b.Apply(got[:0], &Snapshot{Bars: bars}, now, 0)
	if len(got) != 1 || got[0] != tk(ms+2*minute, 12, 300, false) {
		t.Fatalf("bars only, second poll: %+v", got)
	}
}

func TestTrackApplyAllocs(t *testing.T) {
	tr := NewTrack("AAPL")
	snap := Snapshot{HasQuote: true, Quote: Quote{TS: 1_764_081_000_000, Price: 1, DayVolume: 1}}
	buf := make([]Out, 0, 4)
	now := time.Now()
	allocs := testing.AllocsPerRun(1000, func() {
		snap.Quote.TS++
		snap.Quote.Price++
		buf, _ = tr.Apply(buf[:0], &snap, now, time.Minute)
	})
	if allocs != 0 || len(buf) != 1 {
		t.Fatalf("%v allocations, %d ticks", allocs, len(buf))
	}
}

func TestPlan(t *testing.T) {
	f := func(n int, l Limits, want time.Duration, bound string) {
		t.Helper()
		p := NewPlan(n, l)
		if p.Period != want || p.Bound != bound {
			t.Errorf("NewPlan(%d, %+v) = %v by %s, want %v by %s", n, l, p.Period, p.Bound, want, bound)
		}
		if p.Period > 0 && p.Rate*p.Period.Seconds() > float64(n)+1e-9 {
			t.Errorf("rate %v over %v is more than %d requests", p.Rate, p.Period, n)
		}
	}
	f(10, Limits{Interval: time.Second}, time.Second, "interval")
	f(10, Limits{Interval: time.Second, RPS: 20}, time.Second, "interval")
	f(1000, Limits{Interval: time.Second, RPS: 10}, 1000*time.Second/10, "rps")
	f(20, Limits{Interval: time.Second, PerMinute: 5, PerDay: 25}, 20*24*time.Hour/25, "requests_per_day")
	f(3, Limits{Interval: time.Second, PerMinute: 5}, 3*time.Minute/5, "requests_per_minute")
	f(7, Limits{Interval: time.Second, RPS: 3}, 2334*time.Millisecond, "rps") // 7/3 s, rounded up to the ms
}

func TestSnip(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		if got := Snip([]byte(in)); got != want {
			t.Errorf("Snip(%q) = %q, want %q", in, got, want)
		}
	}
	long := ""
	for len(long) < SnipBytes+10 {
		long += "abcdefghij"
	}
	f(`{"a":1}`, `{"a":1}`)
	f("line1\nline2\tx\r", "line1 line2 x ")
	f(long, long[:SnipBytes]+"…")
	f(long[:SnipBytes-1]+"é", long[:SnipBytes-1]+"…") // é cut in half is dropped
	f("bad \xff byte", "bad ? byte")
}

func BenchmarkTrackApply(b *testing.B) {
	tr := NewTrack("AAPL")
	snap := Snapshot{HasQuote: true, Quote: Quote{TS: 1_764_081_000_000, Price: 1, DayVolume: 1}}
	buf := make([]Out, 0, 4)
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		snap.Quote.TS++
		snap.Quote.Price++
		snap.Quote.DayVolume++
		buf, _ = tr.Apply(buf[:0], &snap, now, time.Minute)
	}
}
