package engine

import (
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tickstream/tickstream/operators"
)

// TestStatsAlertsByKindAndModelTiming runs ticks with volume spikes and
// price drops through a task: the per-kind counters equal a tally of the
// alerts the pipeline returned tick by tick, and sum to Alerts; every model
// that predicts in batches is timed once per batch, the stateful one never.
func TestStatsAlertsByKindAndModelTiming(t *testing.T) {
	tk := newHandleTask(t, true)
	ts0 := time.Date(2026, 11, 24, 14, 0, 0, 0, time.UTC).UnixMilli()
	want := map[operators.AlertKind]int64{}
	timed := map[string]uint64{} // batches in which each model made a row
	const n, batch = 4000, 50
	for i := range n {
		sym := []string{"AAPL", "MSFT"}[i%2]
		ts := ts0 + int64(i/2)*1000
		price, volume := 100+float64(i%23)*0.05, 900+i%7*40
		switch {
		case i%200 < 2:
			volume *= 100
		case i%300 < 2:
			price /= 2
		}
		tk.handle(&kgo.Record{
			Key:       []byte(sym),
			Value:     fmt.Appendf(nil, `{"symbol":%q,"ts":%d,"price":%g,"volume":%d}`, sym, ts, price, volume),
			Offset:    int64(i),
			Timestamp: time.UnixMilli(ts),
		})
		for _, a := range tk.res.Alerts {
			want[a.Kind]++
		}
		if i%batch == batch-1 {
			tk.flushPredictions(t)
			tk.e.Stats.add(&tk.counts)
			made := map[string]bool{}
			for _, r := range tk.prows {
				made[r.Model] = true
			}
			for m := range made {
				timed[m]++
			}
		}
	}
	s := &tk.e.Stats
	if want[operators.VolumeSpike] == 0 || want[operators.PriceDrop] == 0 {
		t.Fatalf("the stream raised %v: want both kinds", want)
	}
	var sum int64
	for k := range len(s.AlertsByKind) {
		kind := operators.AlertKind(k)
		if got := s.AlertsOf(kind); got != want[kind] {
			t.Errorf("AlertsOf(%s) = %d, want %d", kind, got, want[kind])
		}
		sum += s.AlertsOf(kind)
	}
	if sum != s.Alerts.Load() {
		t.Errorf("alerts by kind sum to %d, Alerts = %d", sum, s.Alerts.Load())
	}

	// Slots: xgb (rows), win (windowed LSTM), sf (stateful LSTM, which
	// predicts too but steps per tick, untimed).
	timed["sf"] = 0
	if len(s.ModelSeconds) != tk.e.reg.Len() {
		t.Fatalf("%d model histograms for %d models", len(s.ModelSeconds), tk.e.reg.Len())
	}
	for i := range s.ModelSeconds {
		name := tk.e.reg.Spec(i).Name
		if _, _, got := s.ModelSeconds[i].Snapshot(); got != timed[name] {
			t.Errorf("model %s timed %d times, want %d (batches it predicted in)", name, got, timed[name])
		}
	}
	if timed["xgb"] == 0 || timed["win"] == 0 {
		t.Errorf("batches with predictions %v: want xgb and win in some", timed)
	}
}
