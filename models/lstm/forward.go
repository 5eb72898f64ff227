package lstm

import (
	"fmt"

	"gonum.org/v1/gonum/blas/gonum"
)

// Workspace is the scratch memory of a forward pass for up to Batch
// sequences: per layer the hidden state, cell state and gate
// pre-activations of every sequence in the batch. Make one per goroutine
// (per partition task) and reuse it: then a forward pass allocates nothing.
type Workspace struct {
	batch int
	h, c  [][]float32 // per layer, batch × hid
	gates [][]float32 // per layer, batch × 4·hid
}

// NewWorkspace returns scratch memory for batches of up to batch sequences.
func (m *Model) NewWorkspace(batch int) *Workspace {
	batch = max(batch, 1)
	ws := &Workspace{batch: batch}
	for _, l := range m.layers {
		ws.h = append(ws.h, make([]float32, batch*l.hid))
		ws.c = append(ws.c, make([]float32, batch*l.hid))
		ws.gates = append(ws.gates, make([]float32, batch*4*l.hid))
	}
	return ws
}

// Batch is the largest batch the workspace serves.
func (ws *Workspace) Batch() int { return ws.batch }

func (m *Model) checkWS(ws *Workspace, batch int) error {
	if ws == nil || len(ws.h) != len(m.layers) {
		return fmt.Errorf("lstm: workspace not made by this model's NewWorkspace")
	}
	for i, l := range m.layers {
		if len(ws.h[i]) != ws.batch*l.hid {
			return fmt.Errorf("lstm: workspace not made by this model's NewWorkspace")
		}
	}
	if batch > ws.batch {
		return fmt.Errorf("lstm: batch of %d exceeds the workspace's %d", batch, ws.batch)
	}
	return nil
}

// Predict runs one sequence of steps inputs (steps × InputSize values, oldest
// first) from a zero state and writes the head's OutputSize outputs for the
// last step into out: Keras' semantics for a (1, steps, features) input.
func (m *Model) Predict(ws *Workspace, seq []float32, steps int, out []float32) error {
	return m.PredictBatch(ws, seq, 1, steps, out)
}

// PredictBatch runs batch sequences, stored one after another (batch × steps
// × InputSize), each from a zero state, and writes batch × OutputSize
// outputs. Each step is one matrix product per layer for the whole batch,
// which is where batching pays: the weights are read once per step, not
// once per sequence.
func (m *Model) PredictBatch(ws *Workspace, seqs []float32, batch, steps int, out []float32) error {
	if err := m.checkWS(ws, batch); err != nil {
		return err
	}
	in := m.InputSize()
	if batch < 0 || steps <= 0 || len(seqs) < batch*steps*in {
		return fmt.Errorf("lstm: %d sequences of %d steps need %d inputs, got %d", batch, steps, batch*steps*in, len(seqs))
	}
	if len(out) < batch*m.head.out {
		return fmt.Errorf("lstm: %d sequences need %d outputs, got room for %d", batch, batch*m.head.out, len(out))
	}
	for i, l := range m.layers {
		clear(ws.h[i][:batch*l.hid])
		clear(ws.c[i][:batch*l.hid])
	}
	for t := range steps {
		m.step(ws, seqs[t*in:], steps*in, batch)
	}
	m.headOut(ws, batch, out)
	return nil
}

// State is the carried state of one sequence in stateful mode: h and c of
// every layer.
type State struct {
	h, c  [][]float32
	steps int64
}

// NewState returns a zero state.
func (m *Model) NewState() *State {
	s := &State{}
	for _, l := range m.layers {
		s.h = append(s.h, make([]float32, l.hid))
		s.c = append(s.c, make([]float32, l.hid))
	}
	return s
}

// Reset returns the state to zero, as at the start of a sequence.
func (s *State) Reset() {
	for i := range s.h {
		clear(s.h[i])
		clear(s.c[i])
	}
	s.steps = 0
}

// Steps is how many inputs the state has taken since it was made or reset.
func (s *State) Steps() int64 { return s.steps }

// Step advances each of len(states) sequences by one input (x holds one
// InputSize row per state) and writes each one's head output into out
// (OutputSize per state). Fed a sequence from a zero state, the output after
// its last step equals Predict on the whole sequence.
func (m *Model) Step(ws *Workspace, states []*State, x, out []float32) error {
	batch := len(states)
	if err := m.checkWS(ws, batch); err != nil {
		return err
	}
	in := m.InputSize()
	if len(x) < batch*in {
		return fmt.Errorf("lstm: %d states need %d inputs, got %d", batch, batch*in, len(x))
	}
	if len(out) < batch*m.head.out {
		return fmt.Errorf("lstm: %d states need %d outputs, got room for %d", batch, batch*m.head.out, len(out))
	}
	for b, s := range states {
		if s == nil || len(s.h) != len(m.layers) || len(s.h[0]) != m.layers[0].hid {
			return fmt.Errorf("lstm: state %d not made by this model's NewState", b)
		}
	}
	for i, l := range m.layers {
		for b, s := range states {
			copy(ws.h[i][b*l.hid:(b+1)*l.hid], s.h[i])
			copy(ws.c[i][b*l.hid:(b+1)*l.hid], s.c[i])
		}
	}
	m.step(ws, x, in, batch)
	for i, l := range m.layers {
		for b, s := range states {
			copy(s.h[i], ws.h[i][b*l.hid:(b+1)*l.hid])
			copy(s.c[i], ws.c[i][b*l.hid:(b+1)*l.hid])
			if i == 0 {
				s.steps++
			}
		}
	}
	m.headOut(ws, batch, out)
	return nil
}

// step advances every layer by one time step for batch sequences; x holds
// the first layer's input of sequence b at x[b·ldx:].
func (m *Model) step(ws *Workspace, x []float32, ldx, batch int) {
	for i := range m.layers {
		l := &m.layers[i]
		g, h, c := ws.gates[i], ws.h[i], ws.c[i]
		g4 := 4 * l.hid
		for b := range batch {
			copy(g[b*g4:(b+1)*g4], l.b)
		}
		if i == 0 {
			accumulate(g, g4, x, ldx, batch, l.in, l.wx)
		} else {
			prev := m.layers[i-1].hid
			accumulate(g, g4, ws.h[i-1], prev, batch, l.in, l.wx)
		}
		accumulate(g, g4, h, l.hid, batch, l.hid, l.wh)
		for b := range batch {
			l.cell(g[b*g4:(b+1)*g4], h[b*l.hid:(b+1)*l.hid], c[b*l.hid:(b+1)*l.hid])
		}
	}
}

// cell applies the gates: c = f⊙c + i⊙g, h = o⊙tanh(c).
func (l *layer) cell(g, h, c []float32) {
	n := l.hid
	ig, fg, cg, og := g[:n], g[n:2*n], g[2*n:3*n], g[3*n:4*n]
	l.gate.apply(ig)
	l.gate.apply(fg)
	actTanh.apply(cg)
	l.gate.apply(og)
	for j := range n {
		c[j] = fg[j]*c[j] + ig[j]*cg[j]
		h[j] = og[j] * tanh(c[j])
	}
}

// blas is gonum's pure-Go BLAS; its float32 axpy has an SSE kernel on
// amd64. It is called per row rather than through Sgemm because Sgemm
// spreads products of this size over goroutines, which allocates and would
// compete with the other partition tasks for the cores.
var blas gonum.Implementation

// accumulate adds a·w to the batch rows of dst: dst[b] (ldd apart, n = len
// of a w row wide) += Σ_k a[b·lda + k] · w[k]. A zero input skips its row
// of w, which is exact for finite weights and makes the first step (h = 0)
// and imputed inputs cheap.
func accumulate(dst []float32, ldd int, a []float32, lda, batch, k int, w []float32) {
	for b := range batch {
		d := dst[b*ldd : b*ldd+ldd]
		row := a[b*lda : b*lda+k]
		for p, alpha := range row {
			if alpha != 0 {
				blas.Saxpy(ldd, alpha, w[p*ldd:(p+1)*ldd], 1, d, 1)
			}
		}
	}
}

// headOut writes the dense head's output for each sequence of the batch.
func (m *Model) headOut(ws *Workspace, batch int, out []float32) {
	hd := &m.head
	h := ws.h[len(ws.h)-1]
	for b := range batch {
		o := out[b*hd.out : (b+1)*hd.out]
		copy(o, hd.b)
		hb := h[b*hd.in : (b+1)*hd.in]
		for j := range hd.out {
			var s float32
			for k, x := range hb {
				s += x * hd.w[k*hd.out+j]
			}
			o[j] += s
		}
		hd.act.apply(o)
	}
}
