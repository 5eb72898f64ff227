// Command dumpfeatures writes the training set the fixture models learn
// from: the simulator run through the operator pipeline and models.Features
// (the serving code), one row per accepted tick, with the future return as
// the label. Training on this dump is what makes Python train on exactly
// the features Go serves.
//
//	go run ./scripts/models/dumpfeatures -out DIR [-symbols 20 -ticks 6000 -seed 7 -horizon 10s]
//
// DIR receives features.npy (float32, rows × models.NumFeatures),
// label.npy (float32 log return over the horizon, NaN at the end of each
// symbol's data), symbol.npy (int32), seq.npy and ts.npy (int64), price.npy
// (float64) and meta.json (feature names, the SimSpec, the horizon).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/tickstream/tickstream/models"
	"github.com/tickstream/tickstream/models/npy"
)

type meta struct {
	FeatureNames []string       `json:"feature_names"`
	Symbols      []string       `json:"symbols"`
	Sim          models.SimSpec `json:"sim"`
	Horizon      string         `json:"horizon"`
	HorizonMS    int64          `json:"horizon_ms"`
	Rows         int            `json:"rows"`
}

func main() {
	out := flag.String("out", "", "output directory (created)")
	symbols := flag.Int("symbols", 20, "symbols to simulate")
	ticks := flag.Int("ticks", 6000, "ticks per symbol")
	seed := flag.Int64("seed", 7, "simulator seed")
	start := flag.String("start", "2024-01-02T13:00:00Z", "event time of the first tick (RFC 3339)")
	rate := flag.Float64("rate", 1, "updates per second per symbol")
	steps := flag.Int("steps", 60, "LSTM window length kept per symbol")
	horizon := flag.Duration("horizon", 10*time.Second, "label: log return over this much event time")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "dumpfeatures: -out is required")
		os.Exit(2)
	}
	if err := run(*out, *symbols, *ticks, *seed, *start, *rate, *steps, *horizon); err != nil {
		fmt.Fprintln(os.Stderr, "dumpfeatures:", err)
		os.Exit(1)
	}
}

func run(dir string, symbols, ticks int, seed int64, start string, rate float64, steps int, horizon time.Duration) error {
	t0, err := time.Parse(time.RFC3339, start)
	if err != nil {
		return fmt.Errorf("-start: %w", err)
	}
	spec := models.SimSpec{Symbols: symbols, TicksPerSymbol: ticks, Seed: seed, Start: t0.UTC(), Rate: rate, Steps: steps}
	var (
		feats []float32
		sym   []int32
		seq   []int64
		ts    []int64
		price []float64
	)
	names, err := models.Simulate(spec, func(s *models.SimTick) {
		feats = append(feats, s.F.Vector()...)
		sym = append(sym, int32(s.Symbol))
		seq = append(seq, s.Seq)
		ts = append(ts, s.Tick.TS)
		price = append(price, s.Tick.Price)
	})
	if err != nil {
		return err
	}
	label := models.FutureReturns(sym, ts, price, horizon.Milliseconds())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	n := len(sym)
	for _, f := range []struct {
		name  string
		shape []int
		data  any
	}{
		{"features.npy", []int{n, models.NumFeatures}, feats},
		{"label.npy", []int{n}, label},
		{"symbol.npy", []int{n}, sym},
		{"seq.npy", []int{n}, seq},
		{"ts.npy", []int{n}, ts},
		{"price.npy", []int{n}, price},
	} {
		if err := npy.WriteFile(filepath.Join(dir, f.name), f.shape, f.data); err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
	}
	m := meta{
		FeatureNames: models.FeatureNames[:], Symbols: names, Sim: spec,
		Horizon: horizon.String(), HorizonMS: horizon.Milliseconds(), Rows: n,
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "meta.json"), append(b, '\n'), 0o644)
}
