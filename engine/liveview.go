package engine

import "github.com/tickstream/tickstream/models"

// LiveView receives the latest values of the stream for live displays (the
// dashboard). Each partition task calls it once per batch of records, from
// the task's goroutine, after the batch's predictions are made: Quotes with
// the latest accepted tick of every symbol the batch touched (one per
// symbol), Predictions with the batch's prediction rows (not called when
// there are none). The slices belong to the task and are reused for its
// next batch: copy what is kept (strings may be kept as they are), return
// quickly and never block, or the partition stalls. Calls for different partitions may
// run at the same time.
type LiveView interface {
	Quotes(partition int32, qs []Quote)
	Predictions(partition int32, rows []models.PredictionRow)
}

// Quote is a symbol's latest accepted tick with its count-window moving
// average. TS is event time, Unix ms; Bid and Ask are 0 when not sent.
type Quote struct {
	Symbol        string
	TS            int64
	Price, Volume float64
	Bid, Ask, MA  float64
}

// liveBatch is a task's reused collection of the latest quote per symbol
// touched in the current batch. A symbol's symState.live is 1 + its index
// in qs while the batch runs, 0 otherwise, so collecting a tick costs no
// map lookup and no allocation once qs has grown to the partition's symbols.
type liveBatch struct {
	qs  []Quote
	sts []*symState // whose live index to reset after the batch
}

// touch records the tick just accepted for st as its symbol's latest.
func (t *task) touch(st *symState) {
	b := &t.liveB
	if st.live == 0 {
		b.qs = append(b.qs, Quote{})
		b.sts = append(b.sts, st)
		st.live = int32(len(b.qs))
	}
	b.qs[st.live-1] = Quote{Symbol: t.t.Symbol, TS: t.t.TS, Price: t.t.Price, Volume: t.t.Volume,
		Bid: t.t.Bid, Ask: t.t.Ask, MA: t.res.MA}
}

// publishLive hands the batch's quotes and predictions to the live view and
// resets the batch.
func (t *task) publishLive() {
	b := &t.liveB
	if len(b.qs) > 0 {
		t.e.live.Quotes(t.partition, b.qs)
	}
	if len(t.prows) > 0 {
		t.e.live.Predictions(t.partition, t.prows)
	}
	for _, st := range b.sts {
		st.live = 0
	}
	clear(b.sts) // drop the pointers: a revoked symbol's state must not stay reachable
	b.qs, b.sts = b.qs[:0], b.sts[:0]
}
