package engine

import (
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/zap"

	"github.com/tickstream/tickstream/models"
	"github.com/tickstream/tickstream/operators"
)

// symState is one symbol's state in its partition's task: the operators'
// and, with predictions on, the models' (features, cadence, carried LSTM
// state). One map lookup per tick finds both; both are checkpointed
// together.
type symState struct {
	op   *operators.State
	pred *models.Symbol // nil: predictions off
	live int32          // 1 + index of its quote in the task's live batch; 0: none (liveview.go)
}

// newPredictor returns a partition's predictor, timing its models into
// Stats.ModelSeconds (settings hold only what the config says).
func (e *Engine) newPredictor(o models.PredictorOptions) *models.Predictor {
	o.Timer = &e.Stats
	return models.NewPredictor(e.reg, o)
}

// newSymState returns the empty state of a symbol. Recovery calls it before
// the task's goroutine starts; afterwards only that goroutine does.
func (t *task) newSymState(sym string) *symState {
	st := &symState{op: t.pipe.NewState(sym)}
	if t.pred != nil {
		st.pred = t.pred.NewSymbol(sym)
	}
	return st
}

// predict runs every model over the ticks of the batch just processed that
// came due, and hands the rows to the lake writer and the live stream. It
// runs before the batch can be sealed, so a tick and its predictions are
// always committed together.
func (t *task) predict() {
	if t.pred == nil {
		return
	}
	rows, err := t.pred.Flush(t.prows[:0])
	t.prows = rows
	if err != nil {
		// A model that validated at load failing now is a bug in it or in
		// us; the other models' rows are still written.
		t.counts.predErrors++
		if t.predWarn.allow(time.Now()) {
			t.log.Error("prediction failed; the other models' rows are written", zap.Error(err),
				zap.Int64("suppressed_since_last", t.predWarn.suppressed()))
		}
	}
	if len(rows) == 0 {
		return
	}
	t.counts.predictions += int64(len(rows))
	// A record and its bytes belong to the producer until acknowledged, so
	// they cannot be reused; they are allocated once per batch (two
	// allocations however many rows), never per row or per tick.
	recs := make([]kgo.Record, len(rows))
	buf := make([]byte, 0, len(rows)*(160+len(rows[0].ModelVersion)))
	for i := range rows {
		r := &rows[i]
		t.w.Prediction(r)
		k := len(buf)
		buf = append(buf, r.Symbol...)
		v := len(buf)
		buf = models.AppendJSON(buf, r)
		recs[i] = kgo.Record{Topic: t.e.predTopic, Key: buf[k:v:v], Value: buf[v:len(buf):len(buf)]}
		t.e.prod.Produce(nil, &recs[i], t.e.predProduced)
	}
}

// onPredictionProduced counts failed prediction records and logs at most
// one every 10 s: a broker outage fails thousands. It runs on the
// producer's goroutines.
func (e *Engine) onPredictionProduced(_ *kgo.Record, err error) {
	if err == nil {
		return
	}
	n := e.Stats.PredictionErrors.Add(1)
	now := time.Now().UnixMilli()
	if last := e.predErrAt.Load(); now-last >= 10_000 && e.predErrAt.CompareAndSwap(last, now) {
		e.log.Error("prediction produce failed; the lake's predictions table still has the row",
			zap.String("topic", e.predTopic), zap.Error(err), zap.Int64("prediction_errors", n))
	}
}
