package models

import (
	"fmt"
	"slices"
	"time"

	"github.com/tickstream/tickstream/models/lstm"
	"github.com/tickstream/tickstream/operators"
	"github.com/tickstream/tickstream/tick"
)

// Predictor turns one partition's accepted ticks into predictions. The
// partition task owns it (one goroutine, no locks) and a Symbol per symbol
// it sees, calls Observe for every accepted tick and Flush after each batch
// of records; Flush runs every model once over all the predictions that
// came due, so the work is batched across the partition's symbols.
//
// Cadence: with Every = 0 each accepted tick is due, once the symbol is
// warm (Warmup ticks); with Every = d a symbol is due at its first tick in
// each d-long bucket of event time (buckets aligned to the Unix epoch), so
// replays predict at the same ticks. A due tick's inputs are captured at
// Observe, so every due tick gets its prediction even when several ticks of
// one symbol fall in one batch.
//
// A model whose Spec.Symbols is set predicts those symbols only; for the
// others it does no per-tick work (a stateful LSTM is not stepped).
//
// Models are taken from the Registry once per batch (at the first Observe
// after a Flush) and used for the whole batch, so a reload never splits a
// batch between two versions and never makes the task wait.
type Predictor struct {
	reg    *Registry
	every  int64 // ms; 0: every tick
	batch  int
	timer  Timer
	models []*Model // this batch's models, by slot; nil between batches
	open   bool

	due  []dueTick
	rows []float32 // due × NumFeatures, for row models
	// Per slot: the windows of due ticks whose symbol had a full window
	// (windowed LSTM), or the outputs already computed (stateful LSTM), and
	// which due ticks they belong to.
	win   [][]float32
	vals  [][]float32
	which [][]int32

	ws      []*lstm.Workspace // per slot, windowed: made for wsModel
	wsModel []*Model
	step1   []*lstm.Workspace // per slot, stateful: batch of one
	out     []float32
}

type dueTick struct {
	sym    *Symbol
	ts     int64
	offset int64
}

// Symbol is one symbol's prediction state: its features and, for stateful
// models, the carried LSTM state. Make it with NewSymbol; it belongs to the
// partition task, like operators.State.
type Symbol struct {
	Name   string
	F      *Features
	bucket int64 // cadence bucket of the last prediction

	states  [][]*lstm.State // per slot, stateful: one state (a slice for Step)
	stModel []*Model        // the model each state belongs to
	stOut   []float32       // per slot: the latest stateful output
	x       []float32       // scratch: one normalised step
	skip    []bool          // per slot: the model's Spec.Symbols leave this symbol out
	saved   []savedState    // restored from a checkpoint, not yet bound (checkpoint.go)
}

// PredictorOptions configure a Predictor.
type PredictorOptions struct {
	// Every is the cadence: 0 predicts at every accepted tick, d > 0 at
	// most once per d of event time per symbol.
	Every time.Duration
	// Batch bounds the sequences of one LSTM forward pass (default 256).
	Batch int
	// Timer, if set, is told how long each model's batched inference took
	// in a Flush (nil: not timed, no clock read).
	Timer Timer
}

// Timer receives inference latencies (the engine's metrics). An interface,
// not a func, so PredictorOptions stay comparable.
type Timer interface {
	// ObserveModel is called on the predictor's goroutine, once per Flush
	// for each model that predicted something, with the model's registry
	// slot and the time its forward passes took over the whole batch. A
	// stateful LSTM steps at each Observe instead and is not timed: that
	// would cost two clock reads per tick. It must not block.
	ObserveModel(slot int, d time.Duration)
}

// NewPredictor returns a predictor for one partition.
func NewPredictor(reg *Registry, o PredictorOptions) *Predictor {
	n := reg.Len()
	if o.Batch <= 0 {
		o.Batch = 256
	}
	return &Predictor{
		reg: reg, every: o.Every.Milliseconds(), batch: o.Batch, timer: o.Timer,
		models: make([]*Model, n),
		win:    make([][]float32, n), vals: make([][]float32, n), which: make([][]int32, n),
		ws: make([]*lstm.Workspace, n), wsModel: make([]*Model, n), step1: make([]*lstm.Workspace, n),
	}
}

// NewSymbol returns the empty state of a symbol.
func (p *Predictor) NewSymbol(name string) *Symbol {
	n := p.reg.Len()
	s := &Symbol{Name: name, F: NewFeatures(p.reg.MaxSteps()), bucket: -1 << 62,
		states: make([][]*lstm.State, n), stModel: make([]*Model, n), stOut: make([]float32, n),
		skip: make([]bool, n)}
	for i := range n {
		if syms := p.reg.Spec(i).Symbols; len(syms) > 0 {
			s.skip[i] = !slices.Contains(syms, name)
		}
	}
	return s
}

// begin takes this batch's models from the registry.
func (p *Predictor) begin() {
	for i := range p.models {
		p.models[i] = p.reg.Model(i)
	}
	p.open = true
}

// Observe takes an accepted tick of s (r is the pipeline's result for it;
// a rejected tick is ignored) and records a prediction as due if the
// cadence says so. offset is the position of the tick's record in its
// source (the Kafka offset), carried into the tick's rows. It allocates
// nothing once the predictor has seen a batch of this size.
func (p *Predictor) Observe(s *Symbol, t *tick.Tick, r *operators.Result, offset int64) {
	if r.Reject != tick.OK {
		return
	}
	if !p.open {
		p.begin()
	}
	s.F.Update(t, r)
	for i, m := range p.models {
		if m.seq != nil && m.Spec.Mode == ModeStateful && !s.skip[i] {
			p.advance(i, m, s)
		}
	}
	if s.F.Count() < Warmup {
		return
	}
	if p.every > 0 {
		b := floorDiv(t.TS, p.every)
		if b <= s.bucket {
			return
		}
		s.bucket = b
	}
	d := int32(len(p.due))
	p.due = append(p.due, dueTick{sym: s, ts: t.TS, offset: offset})
	p.rows = append(p.rows, s.F.Vector()...)
	for i, m := range p.models {
		switch {
		case m.rowModel(), s.skip[i]:
		case m.Spec.Mode == ModeStateful:
			if s.states[i][0].Steps() >= int64(m.Input.Steps) {
				p.vals[i] = append(p.vals[i], s.stOut[i])
				p.which[i] = append(p.which[i], d)
			}
		default:
			if s.F.Full(m.Input.Steps) {
				n := len(p.win[i])
				p.win[i] = append(p.win[i], make([]float32, m.Input.Steps*m.Input.Width())...)
				m.Input.Window(s.F, p.win[i][n:])
				p.which[i] = append(p.which[i], d)
			}
		}
	}
}

// advance steps s's state for stateful slot i by the newest tick. When the
// slot's model changed since the state was made, the state restarts from
// zero over the window the features still hold, so the new model serves
// at once, from the state windowed mode would have; a state restored from
// a checkpoint is taken instead if this model made it (Symbol.adopt).
func (p *Predictor) advance(i int, m *Model, s *Symbol) {
	if p.step1[i] == nil || p.wsModel[i] != m {
		p.step1[i] = m.seq.NewWorkspace(1)
		p.wsModel[i] = m
	}
	ws := p.step1[i]
	var out [1]float32
	if len(s.x) < m.Input.Width() {
		s.x = make([]float32, m.Input.Width())
	}
	if s.stModel[i] != m && !s.adopt(i, m) {
		s.states[i] = []*lstm.State{m.seq.NewState()}
		s.stModel[i] = m
		for back := min(int64(m.Input.Steps), s.F.Count()) - 1; back >= 1; back-- {
			m.Input.Normalise(s.F.Row(int(back)), s.x)
			_ = m.seq.Step(ws, s.states[i], s.x, out[:])
		}
	}
	m.Input.Normalise(s.F.Vector(), s.x)
	_ = m.seq.Step(ws, s.states[i], s.x, out[:])
	s.stOut[i] = out[0]
}

// Pending is the number of due ticks waiting for Flush.
func (p *Predictor) Pending() int { return len(p.due) }

// Flush predicts every due tick with every model and appends the rows to
// dst: for each model in slot order, its predictions in tick order. A
// sequence model skips ticks whose symbol has fewer ticks than its window.
func (p *Predictor) Flush(dst []PredictionRow) ([]PredictionRow, error) {
	if !p.open {
		return dst, nil
	}
	var err error
	n := len(p.due)
	for i, m := range p.models {
		if n == 0 {
			break
		}
		switch {
		case m.rowModel():
			out := p.outBuf(n)
			start := p.clock()
			if e := m.predictRows(p.rows, n, out); e != nil {
				err = fmt.Errorf("model %s: %w", m.Spec.Name, e)
				continue
			}
			p.observe(i, start)
			for d := range n {
				if !p.due[d].sym.skip[i] {
					dst = append(dst, p.row(m, d, out[d]))
				}
			}
		case m.Spec.Mode == ModeStateful:
			for k, d := range p.which[i] {
				dst = append(dst, p.row(m, int(d), p.vals[i][k]))
			}
		default:
			start := p.clock()
			dst, err = p.flushWindows(i, m, dst, err)
			if len(p.which[i]) > 0 { // no window was full: nothing ran
				p.observe(i, start)
			}
		}
	}
	p.reset()
	return dst, err
}

// clock and observe time a model for the Timer, and do nothing without one.
func (p *Predictor) clock() time.Time {
	if p.timer == nil {
		return time.Time{}
	}
	return time.Now()
}

func (p *Predictor) observe(slot int, start time.Time) {
	if p.timer != nil {
		p.timer.ObserveModel(slot, time.Since(start))
	}
}

func (p *Predictor) flushWindows(i int, m *Model, dst []PredictionRow, err error) ([]PredictionRow, error) {
	if p.ws[i] == nil || p.wsModel[i] != m {
		p.ws[i] = m.seq.NewWorkspace(p.batch)
		p.wsModel[i] = m
	}
	per := m.Input.Steps * m.Input.Width()
	which := p.which[i]
	for lo := 0; lo < len(which); lo += p.batch {
		hi := min(lo+p.batch, len(which))
		out := p.outBuf(hi - lo)
		if e := m.seq.PredictBatch(p.ws[i], p.win[i][lo*per:hi*per], hi-lo, m.Input.Steps, out); e != nil {
			return dst, fmt.Errorf("model %s: %w", m.Spec.Name, e)
		}
		for k := lo; k < hi; k++ {
			dst = append(dst, p.row(m, int(which[k]), out[k-lo]))
		}
	}
	return dst, err
}

func (p *Predictor) outBuf(n int) []float32 {
	if cap(p.out) < n {
		p.out = make([]float32, n)
	}
	return p.out[:n]
}

func (p *Predictor) row(m *Model, d int, v float32) PredictionRow {
	return PredictionRow{Symbol: p.due[d].sym.Name, TS: p.due[d].ts, Model: m.Spec.Name,
		ModelVersion: m.Version, Horizon: m.Horizon, Value: float64(v), KafkaOffset: p.due[d].offset}
}

func (p *Predictor) reset() {
	clear(p.due) // drop the *Symbol references
	p.due, p.rows = p.due[:0], p.rows[:0]
	for i := range p.models {
		p.win[i], p.vals[i], p.which[i] = p.win[i][:0], p.vals[i][:0], p.which[i][:0]
		p.models[i] = nil
	}
	p.open = false
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
