package xgboost_test

import (
	"path/filepath"
	"testing"

	"github.com/tickstream/tickstream/models/xgboost"
)

func benchModel(b *testing.B, file string, batch int) {
	m, err := xgboost.Load(filepath.Join(testdata, file))
	if err != nil {
		b.Fatal(err)
	}
	in := readNPY(b, loadFixtures(b).Inputs)
	nf := m.NumFeature()
	rows := in.Shape[0]
	out := make([]float32, batch*m.NumOutput())
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		r := (i * batch) % (rows - batch)
		if err := m.PredictBatch(in.F32[r*nf:], batch, out); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/row")
}

// reg: 100 trees of depth ≤ 6; deep: 120 trees of depth ≤ 10.
func BenchmarkPredictRow(b *testing.B) {
	b.Run("reg", func(b *testing.B) { benchModel(b, "xgboost/reg.json", 1) })
	b.Run("deep", func(b *testing.B) { benchModel(b, "xgboost/deep.ubj", 1) })
}

func BenchmarkPredictBatch166(b *testing.B) {
	b.Run("reg", func(b *testing.B) { benchModel(b, "xgboost/reg.json", 166) })
	b.Run("deep", func(b *testing.B) { benchModel(b, "xgboost/deep.ubj", 166) })
}

func BenchmarkLoad(b *testing.B) {
	data := readFixtureB(b, "xgboost/reg.json")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := xgboost.Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}
