package lstm

import "fmt"

// Workspace is the scratch memory of a forward pass for up to Batch
// sequences: per layer each sequence's input row [x, h] (so one product
// gives the gates) and cell state, and the gate pre-activations of one
// block of rows. Make one per goroutine (per partition task) and reuse it:
// then a forward pass allocates nothing.
type Workspace struct {
	batch int
	rows  int         // batch rounded up to the vector kernel's row tile
	xh    [][]float32 // per layer, rows × (in + hid): the layer's input, then its h
	c     [][]float32 // per layer, rows × hid
	gates []float32   // block rows × the widest layer's padded 4·hid
	block int         // rows taken through all the steps together
}

// NewWorkspace returns scratch memory for batches of up to batch sequences.
func (m *Model) NewWorkspace(batch int) *Workspace {
	batch = max(batch, 1)
	ws := &Workspace{batch: batch, rows: roundUp(batch, tileRows)}
	ws.block = min(m.blockRows(), ws.rows)
	ldg := 0
	for _, l := range m.layers {
		ws.xh = append(ws.xh, make([]float32, ws.rows*(l.in+l.hid)))
		ws.c = append(ws.c, make([]float32, ws.rows*l.hid))
		ldg = max(ldg, l.panels*panelCols)
	}
	ws.gates = make([]float32, ws.block*ldg)
	return ws
}

// blockRows is how many sequences a windowed pass takes through all its
// steps before the next ones: enough rows that a weight panel read into
// L1 serves many of them, few enough that their inputs (about 24 KiB)
// stay there beside it.
func (m *Model) blockRows() int {
	k := 0
	for _, l := range m.layers {
		k = max(k, l.in+l.hid)
	}
	return min(max(24<<10/(4*k)/tileRows, 1), 16) * tileRows
}

// Batch is the largest batch the workspace serves.
func (ws *Workspace) Batch() int { return ws.batch }

func (m *Model) checkWS(ws *Workspace, batch int) error {
	if ws == nil || len(ws.xh) != len(m.layers) {
		return fmt.Errorf("lstm: workspace not made by this model's NewWorkspace")
	}
	ldg := 0
	for i, l := range m.layers {
		if len(ws.xh[i]) != ws.rows*(l.in+l.hid) || len(ws.c[i]) != ws.rows*l.hid {
			return fmt.Errorf("lstm: workspace not made by this model's NewWorkspace")
		}
		ldg = max(ldg, l.panels*panelCols)
	}
	if ws.block%tileRows != 0 || ws.block > ws.rows || len(ws.gates) < ws.block*ldg {
		return fmt.Errorf("lstm: workspace not made by this model's NewWorkspace")
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
// outputs. Sequences go through in blocks of Workspace rows; each step of
// a block is one matrix product per layer ([x, h] · [wx; wh]), which is
// where batching pays: the weights are read once per block and step, not
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
	// Block by block, each block of sequences through all the steps: its
	// rows stay in L1 and only the weights stream from L2.
	first := &m.layers[0]
	k0 := first.in + first.hid
	for r0 := 0; r0 < batch; r0 += ws.block {
		n := min(ws.block, batch-r0)
		for i, l := range m.layers {
			k := l.in + l.hid
			clear(ws.xh[i][r0*k : (r0+n)*k])
			clear(ws.c[i][r0*l.hid : (r0+n)*l.hid])
		}
		for t := range steps {
			for r := r0; r < r0+n; r++ {
				copy(ws.xh[0][r*k0:r*k0+in], seqs[(r*steps+t)*in:])
			}
			m.stepRows(ws, r0, n)
		}
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
		k := l.in + l.hid
		for b, s := range states {
			copy(ws.xh[i][b*k+l.in:(b+1)*k], s.h[i])
			copy(ws.c[i][b*l.hid:(b+1)*l.hid], s.c[i])
		}
	}
	first := &m.layers[0]
	k0 := first.in + first.hid
	for b := range batch {
		copy(ws.xh[0][b*k0:b*k0+in], x[b*in:(b+1)*in])
	}
	for r0 := 0; r0 < batch; r0 += ws.block {
		m.stepRows(ws, r0, min(ws.block, batch-r0))
	}
	for i, l := range m.layers {
		k := l.in + l.hid
		for b, s := range states {
			copy(s.h[i], ws.xh[i][b*k+l.in:(b+1)*k])
			copy(s.c[i], ws.c[i][b*l.hid:(b+1)*l.hid])
			if i == 0 {
				s.steps++
			}
		}
	}
	m.headOut(ws, batch, out)
	return nil
}

// stepRows advances rows r0..r0+n of every layer by one time step; the
// first layer's input columns hold the step's x. r0 is a multiple of the
// row tile, and the vector kernel also computes the spare rows up to the
// next multiple (their results are never read).
func (m *Model) stepRows(ws *Workspace, r0, n int) {
	for i := range m.layers {
		l := &m.layers[i]
		k := l.in + l.hid
		xh := ws.xh[i]
		if i > 0 {
			p := &m.layers[i-1]
			pk := p.in + p.hid
			prev := ws.xh[i-1]
			for r := r0; r < r0+n; r++ {
				copy(xh[r*k:r*k+l.in], prev[r*pk+p.in:(r+1)*pk])
			}
		}
		ldg := l.panels * panelCols
		l.gates(xh[r0*k:], k, n, ws.gates, ldg)
		l.cells(ws.gates, ldg, ws.c[i][r0*l.hid:], xh[r0*k+l.in:], k, n)
	}
}

// headOut writes the dense head's output for each sequence of the batch.
func (m *Model) headOut(ws *Workspace, batch int, out []float32) {
	hd := &m.head
	last := &m.layers[len(m.layers)-1]
	k := last.in + last.hid
	xh := ws.xh[len(ws.xh)-1]
	for b := range batch {
		o := out[b*hd.out : (b+1)*hd.out]
		copy(o, hd.b)
		hb := xh[b*k+last.in : (b+1)*k]
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
