package xgboost_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tickstream/tickstream/models/internal/testfixture"
	"github.com/tickstream/tickstream/models/xgboost"
)

func benchModel(b *testing.B, file string, batch int) {
	m, err := xgboost.Load(filepath.Join(testdata, file))
	if err != nil {
		b.Fatal(err)
	}
	benchRows(b, m, readNPY(b, loadFixtures(b).Inputs).F32, batch)
}

// benchRows times PredictBatch over rows, batch rows per call, cycling
// through them, and reports the time per row.
func benchRows(b *testing.B, m *xgboost.Model, in []float32, batch int) {
	nf := m.NumFeature()
	rows := len(in) / nf
	out := make([]float32, batch*m.NumOutput())
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

// reg: 100 trees of depth ≤ 6; deep: 120 trees of depth ≤ 10.
func BenchmarkPredictRow(b *testing.B) {
	b.Run("reg", func(b *testing.B) { benchModel(b, "xgboost/reg.json", 1) })
	b.Run("deep", func(b *testing.B) { benchModel(b, "xgboost/deep.ubj", 1) })
}

func BenchmarkPredictBatch166(b *testing.B) {
	b.Run("reg", func(b *testing.B) { benchModel(b, "xgboost/reg.json", 166) })
	b.Run("deep", func(b *testing.B) { benchModel(b, "xgboost/deep.ubj", 166) })
}

// benchDirEnv names the directory `scripts/models/bench_xgb.py --keep DIR`
// wrote: the 500-tree depth-6 model (3 MB, not committed) and the rows the
// script times xgboost's inplace_predict on.
const benchDirEnv = "TICKSTREAM_XGB_BENCH_DIR"

// BenchmarkPredictBatch is the bar, the same model and rows as
// bench_xgb.py: all rows in one call, and one row per call.
func BenchmarkPredictBatch(b *testing.B) {
	dir := os.Getenv(benchDirEnv)
	if dir == "" {
		b.Skipf("set %s to a directory written by scripts/models/bench_xgb.py --keep DIR", benchDirEnv)
	}
	m, err := xgboost.Load(filepath.Join(dir, "gbt_500x6.json"))
	if err != nil {
		b.Fatal(err)
	}
	in := testfixture.NPY(b, filepath.Join(dir, "inputs.npy"))
	rows := in.Shape[0]
	b.Run("500x6/all", func(b *testing.B) { benchRows(b, m, in.F32, rows) })
	b.Run("500x6/one", func(b *testing.B) { benchRows(b, m, in.F32, 1) })
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
