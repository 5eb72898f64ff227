package engine

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tickstream/tickstream/models"
)

// recordView keeps what the live view was handed, in buffers grown once.
type recordView struct {
	quotes []Quote
	preds  []models.PredictionRow
	calls  int
}

func (v *recordView) Quotes(_ int32, qs []Quote) { v.quotes = append(v.quotes[:0], qs...); v.calls++ }
func (v *recordView) Predictions(_ int32, rows []models.PredictionRow) {
	v.preds = append(v.preds[:0], rows...)
}

// liveRecords are n ticks of AAPL and MSFT in an uneven order, so a batch
// of 16 holds several ticks of a symbol, and some batches no MSFT.
func liveRecords(n int) []*kgo.Record {
	recs := make([]*kgo.Record, n)
	ts0 := time.Date(2026, 11, 24, 14, 0, 0, 0, time.UTC).UnixMilli()
	for i := range recs {
		sym := "AAPL"
		if i%40 < 4 {
			sym = "MSFT"
		}
		ts := ts0 + int64(i)*200
		price := 100 + float64(i%23)*0.05
		recs[i] = &kgo.Record{
			Key:       []byte(sym),
			Value:     fmt.Appendf(nil, `{"symbol":%q,"ts":%d,"price":%g,"volume":%d,"bid":%g,"ask":%g}`, sym, ts, price, 900+i%7*40, price-0.01, price+0.01),
			Offset:    int64(i),
			Timestamp: time.UnixMilli(ts),
		}
	}
	return recs
}

// TestLiveViewLatestPerSymbol: after each batch the view gets, once, the
// latest tick of each symbol the batch touched, with the moving average
// over the last moving_average.ticks prices (recomputed here naively), and
// publishing allocates nothing.
func TestLiveViewLatestPerSymbol(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	tk := newHandleTask(t, false)
	v := &recordView{quotes: make([]Quote, 0, 8)}
	tk.e.live = v
	recs := liveRecords(16 * 40)
	window := tk.set.cfg.Average.Ticks
	prices := map[string][]float64{}
	next := 0
	batch := func() {
		tk.process(recs[next : next+16])
		next += 16
	}
	for b := 0; b < 10; b++ {
		start, calls := next, v.calls
		batch()
		if v.calls != calls+1 {
			t.Fatalf("batch %d: %d Quotes calls, want 1", b, v.calls-calls)
		}
		want := map[string]*kgo.Record{}
		var order []string
		for _, r := range recs[start:next] {
			sym := string(r.Key)
			if want[sym] == nil {
				order = append(order, sym)
			}
			want[sym] = r
		}
		if len(v.quotes) != len(order) {
			t.Fatalf("batch %d: %d quotes, want %d (%v)", b, len(v.quotes), len(order), order)
		}
		for _, r := range recs[start:next] {
			var p float64
			fmt.Sscanf(strings.SplitN(string(r.Value), `"price":`, 2)[1], "%g", &p)
			prices[string(r.Key)] = append(prices[string(r.Key)], p)
		}
		for i, q := range v.quotes {
			r := want[order[i]]
			ps := prices[order[i]]
			ps = ps[max(0, len(ps)-window):]
			var sum float64
			for _, p := range ps {
				sum += p
			}
			if q.Symbol != order[i] || q.TS != r.Timestamp.UnixMilli() || !strings.Contains(string(r.Value),
				fmt.Sprintf(`"price":%g,"volume":%g,"bid":%g,"ask":%g}`, q.Price, q.Volume, q.Bid, q.Ask)) {
				t.Errorf("batch %d: quote %+v, want the tick %s", b, q, r.Value)
			}
			if ma := sum / float64(len(ps)); abs(q.MA-ma) > 1e-9 {
				t.Errorf("batch %d: %s MA %v, want %v", b, q.Symbol, q.MA, ma)
			}
		}
	}
	if a := testing.AllocsPerRun(20, batch); a != 0 {
		t.Errorf("%v allocations per batch of 16 ticks with a live view", a)
	}
	if got := tk.status.next.Load(); got != int64(next) {
		t.Errorf("status next offset %d, want %d", got, next)
	}
}

// TestLiveViewPredictions: the batch's prediction rows reach the view.
func TestLiveViewPredictions(t *testing.T) {
	tk := newHandleTask(t, true)
	v := &recordView{}
	tk.e.live = v
	recs := liveRecords(16 * 12)
	for i, r := range recs {
		tk.handle(r)
		if i%16 == 15 {
			tk.flushPredictions(t)
			tk.publishLive()
		}
	}
	if len(tk.prows) == 0 || len(v.preds) != len(tk.prows) || v.preds[0] != tk.prows[0] {
		t.Fatalf("view got %d predictions, the batch made %d", len(v.preds), len(tk.prows))
	}
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

// TestHealth: the readiness checks and partition lag before Run and with
// a partition retrying a lake write.
func TestHealth(t *testing.T) {
	tk := newHandleTask(t, false)
	e := tk.e
	if err := e.Consuming(); err == nil || !strings.Contains(err.Error(), "not started") {
		t.Errorf("Consuming before Run: %v", err)
	}
	if err := e.LakeWritable(); err != nil {
		t.Errorf("LakeWritable with no failure: %v", err)
	}
	e.health.lakeFailing.Add(2)
	if err := e.LakeWritable(); err == nil || !strings.Contains(err.Error(), "2 partition(s)") {
		t.Errorf("LakeWritable with 2 failing: %v", err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers("127.0.0.1:1"), kgo.ConsumerGroup("g"), kgo.ConsumeTopics("t"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	e.health.client.Store(cl) // never joins: nothing listens there
	if err := e.Consuming(); err == nil || !strings.Contains(err.Error(), `not a member of consumer group "tickstream" yet`) {
		t.Errorf("Consuming before joining: %v", err)
	}
	e.health.stopped.Store(true)
	if err := e.Consuming(); err == nil || !strings.Contains(err.Error(), "stopped") {
		t.Errorf("Consuming after Run: %v", err)
	}

	e.health.track(tk)
	f := func(next, hw, lag int64) {
		t.Helper()
		tk.status.next.Store(next)
		tk.status.hw.Store(hw)
		ps := e.Partitions()
		if len(ps) != 1 || ps[0].Partition != tk.partition || ps[0].Lag() != lag {
			t.Errorf("next %d, hw %d: %+v lag %d, want %d", next, hw, ps, ps[0].Lag(), lag)
		}
	}
	f(-1, -1, -1)
	f(-1, 10, -1)
	f(7, 10, 3)
	f(10, 10, 0)
	f(11, 10, 0) // a fetch older than the processing: not negative
	e.health.untrack(tk.partition)
	if ps := e.Partitions(); len(ps) != 0 {
		t.Errorf("after untrack: %+v", ps)
	}
}
