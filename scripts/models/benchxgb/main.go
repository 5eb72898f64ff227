// Command benchxgb times the Go xgboost predictor on a model and rows that
// scripts/models/bench_xgb.py wrote, one goroutine, so the script can set
// it beside xgboost's own single-threaded inplace_predict. It first checks
// that its outputs are xgboost's bits (expected.npy) and prints JSON:
//
//	go run ./scripts/models/benchxgb -dir DIR -model gbt_500x6.json
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/tickstream/tickstream/models/npy"
	"github.com/tickstream/tickstream/models/xgboost"
)

func main() {
	dir := flag.String("dir", "", "the directory bench_xgb.py wrote")
	model := flag.String("model", "gbt_500x6.json", "the model file in -dir")
	repeat := flag.Int("repeat", 5, "runs of each measure; the fastest counts")
	flag.Parse()
	if err := run(*dir, *model, *repeat); err != nil {
		fmt.Fprintln(os.Stderr, "benchxgb:", err)
		os.Exit(1)
	}
}

func run(dir, model string, repeat int) error {
	m, err := xgboost.Load(filepath.Join(dir, model))
	if err != nil {
		return err
	}
	in, err := npy.ReadFile(filepath.Join(dir, "inputs.npy"))
	if err != nil {
		return err
	}
	want, err := npy.ReadFile(filepath.Join(dir, "expected.npy"))
	if err != nil {
		return err
	}
	if len(in.Shape) != 2 || in.Shape[1] != m.NumFeature() || in.F32 == nil || want.F32 == nil {
		return fmt.Errorf("inputs.npy: shape %v, want float32 rows × %d", in.Shape, m.NumFeature())
	}
	n, nf := in.Shape[0], in.Shape[1]
	rows, out := in.F32, make([]float32, n)
	if err := m.PredictBatch(rows, n, out); err != nil {
		return err
	}
	// The model is a regression, so the outputs are margins: xgboost's
	// bits, or the timing is of something else.
	maxDiff, differ := 0.0, 0
	for i, v := range out {
		maxDiff = math.Max(maxDiff, math.Abs(float64(v)-float64(want.F32[i])))
		if math.Float32bits(v) != math.Float32bits(want.F32[i]) {
			differ++
		}
	}
	if differ > 0 {
		return fmt.Errorf("%d of %d outputs differ from xgboost's (max abs diff %g)", differ, n, maxDiff)
	}
	oneRow := best(repeat, func() {
		for r := range n {
			_ = m.Predict(rows[r*nf:(r+1)*nf], out[r:r+1])
		}
	})
	batched := best(repeat, func() { _ = m.PredictBatch(rows, n, out) })
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"trees": m.NumTrees(), "rows": n, "max_abs_diff": maxDiff, "rows_differ": differ,
		"one_row_ns": float64(oneRow.Nanoseconds()) / float64(n),
		"batched_ns": float64(batched.Nanoseconds()) / float64(n),
	})
}

// best is the fastest of repeat runs of fn: the least disturbed one.
func best(repeat int, fn func()) time.Duration {
	b := time.Duration(math.MaxInt64)
	for range max(repeat, 1) {
		t0 := time.Now()
		fn()
		b = min(b, time.Since(t0))
	}
	return b
}
