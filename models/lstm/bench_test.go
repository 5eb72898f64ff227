package lstm_test

import (
	"testing"

	"github.com/tickstream/tickstream/models/lstm"
)

// benchSeqs runs the design notes' network (60 × 5 → LSTM(128) → Dense(1))
// on batch sequences per call; 166 is one partition's share of 1000
// symbols over 6 partitions.
func benchSeqs(b *testing.B, batch int) {
	fx := fixtures(b)[0]
	if fx.Name != "keras_60x5_128" {
		b.Fatalf("first fixture is %s", fx.Name)
	}
	m := load(b, fx)
	in := readNPY(b, fx.Inputs)
	n := in.Shape[0]
	per := fx.Steps * m.InputSize()
	seqs := make([]float32, batch*per)
	for i := range batch {
		copy(seqs[i*per:], in.F32[(i%n)*per:(i%n+1)*per])
	}
	ws := m.NewWorkspace(batch)
	out := make([]float32, batch)
	b.ReportAllocs()
	for b.Loop() {
		if err := m.PredictBatch(ws, seqs, batch, fx.Steps, out); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*batch), "µs/seq")
}

func BenchmarkWindowed(b *testing.B) {
	b.Run("single", func(b *testing.B) { benchSeqs(b, 1) })
	b.Run("batch166", func(b *testing.B) { benchSeqs(b, 166) })
}

// BenchmarkStateful166 is one tick's step for 166 symbols.
func BenchmarkStateful166(b *testing.B) {
	fx := fixtures(b)[0]
	m := load(b, fx)
	const batch = 166
	states := make([]*lstm.State, batch)
	for i := range states {
		states[i] = m.NewState()
	}
	in := readNPY(b, fx.Inputs)
	ws := m.NewWorkspace(batch)
	out := make([]float32, batch)
	x := make([]float32, batch*m.InputSize())
	copy(x, in.F32)
	b.ReportAllocs()
	for b.Loop() {
		if err := m.Step(ws, states, x, out); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*batch), "µs/symbol")
}
