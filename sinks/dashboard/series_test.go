package dashboard

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/tickstream/tickstream/engine"
)

// TestSeriesRing: each symbol's ring returns its newest `slots` points,
// oldest first, whatever the other symbols do (checked against a plain
// slice per symbol), and ring likewise.
func TestSeriesRing(t *testing.T) {
	type pt struct {
		ts                int64
		price, ma, volume float32
	}
	const symbols, slots = 3, 5
	s := newSeries(symbols, slots)
	naive := make([][]pt, symbols)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 200 {
		k := r.IntN(symbols)
		p := pt{int64(i), float32(r.Float64() * 100), float32(r.Float64() * 100), float32(r.IntN(1000))}
		s.add(k, p.ts, float64(p.price), float64(p.ma), float64(p.volume))
		naive[k] = append(naive[k], p)
		for k := range symbols {
			var got []pt
			s.each(k, func(ts int64, price, ma, volume float32) { got = append(got, pt{ts, price, ma, volume}) })
			want := naive[k][max(0, len(naive[k])-slots):]
			if !slices.Equal(got, want) {
				t.Fatalf("after %d adds, symbol %d: %v, want %v", i+1, k, got, want)
			}
		}
	}
	if got, want := s.bytes(), symbols*slots*seriesBytesPerPoint+symbols*8; got != want {
		t.Errorf("series hold %d bytes, want %d", got, want)
	}

	pr := newRing[predPoint](4)
	var all []predPoint
	for i := range 11 {
		p := predPoint{ts: int64(i), value: float32(i) / 2, model: uint16(i % 3)}
		pr.add(p)
		all = append(all, p)
		var got []predPoint
		pr.oldestFirst(func(p *predPoint) { got = append(got, *p) })
		if want := all[max(0, len(all)-4):]; !slices.Equal(got, want) {
			t.Fatalf("after %d: %v, want %v", i+1, got, want)
		}
	}
}

// TestSeriesSamplesOncePerTick: a push samples a symbol only when it had a
// new tick since the last push, so an alert alone adds no point.
func TestSeriesSamplesOncePerTick(t *testing.T) {
	fx := newFixture(t, nil)
	n := func() int { return int(fx.hub.series.n[0]) } // AAPL
	before := n()
	fx.hub.Publish(&fixAlerts[0], 0, 0)
	fx.srv.pushQuotes(t0.Add(3 * time.Second))
	if n() != before {
		t.Errorf("an alert alone added a point: %d → %d", before, n())
	}
	q := fixQuotes[1][0]
	q.TS += 5000
	fx.hub.Quotes(0, []engine.Quote{q})
	fx.hub.Quotes(0, []engine.Quote{q})
	fx.srv.pushQuotes(t0.Add(4 * time.Second))
	fx.srv.pushQuotes(t0.Add(5 * time.Second))
	if n() != before+1 {
		t.Errorf("one new tick over two pushes: %d → %d points, want +1", before, n())
	}
	old := fixQuotes[0][0] // older than the latest: a late tick is not the latest
	fx.hub.Quotes(0, []engine.Quote{old})
	if ev := fx.hub.quotesEvent(t0.Add(6 * time.Second)); ev != nil {
		t.Errorf("a late tick made a quotes event: %s", ev)
	}
}
