package lightgbm_test

import (
	"testing"

	"github.com/tickstream/tickstream/models/lightgbm"
)

// benchRows times PredictBatch over the fixture inputs, batch rows per
// call, cycling through them, and reports the time per row.
func benchRows(b *testing.B, file string, batch int) {
	m := loadModel(b, file)
	in := readNPY(b, loadFixtures(b).Inputs).F32
	nf := m.NumFeature()
	rows := len(in) / nf
	out := make([]float32, batch)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		r := (i * batch) % (rows - batch + 1)
		if err := m.PredictBatch(in[r*nf:], batch, out); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/row")
}

// reg: 100 trees of 31 leaves; binary: 60 trees of 15 leaves.
func BenchmarkPredictRow(b *testing.B) {
	b.Run("reg", func(b *testing.B) { benchRows(b, "lightgbm/reg.txt", 1) })
	b.Run("binary", func(b *testing.B) { benchRows(b, "lightgbm/binary.txt", 1) })
}

func BenchmarkPredictBatch166(b *testing.B) {
	b.Run("reg", func(b *testing.B) { benchRows(b, "lightgbm/reg.txt", 166) })
	b.Run("binary", func(b *testing.B) { benchRows(b, "lightgbm/binary.txt", 166) })
}

func BenchmarkLoad(b *testing.B) {
	data := readFixture(b, "lightgbm/reg.txt")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := lightgbm.Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}

// One row and a batch allocate nothing: Predict is on the tick path.
func TestPredictAllocatesNothing(t *testing.T) {
	in := readNPY(t, loadFixtures(t).Inputs).F32
	for _, file := range []string{"lightgbm/reg.txt", "lightgbm/binary.txt", "lightgbm/stump.txt"} {
		m := loadModel(t, file)
		out := make([]float32, 166)
		for _, n := range []int{1, 166} {
			if a := testing.AllocsPerRun(100, func() {
				if err := m.PredictBatch(in, n, out); err != nil {
					t.Fatal(err)
				}
			}); a != 0 {
				t.Errorf("%s: %v allocations for %d rows", file, a, n)
			}
		}
	}
}
