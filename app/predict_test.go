package app

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/tickstream/tickstream/config"
	"github.com/tickstream/tickstream/engine"
	"github.com/tickstream/tickstream/feeds/sim"
	"github.com/tickstream/tickstream/internal/testkit"
	"github.com/tickstream/tickstream/models"
	"github.com/tickstream/tickstream/sinks/lake"
	"github.com/tickstream/tickstream/tick"
)

var predictStart = time.Date(2026, 11, 24, 14, 0, 0, 0, time.UTC)

const (
	lstmFixture = "../models/testdata/lstm/keras_20x5_16x8_hard.safetensors"
	lgbFixture  = "../models/testdata/lightgbm/reg.txt"
)

func predictTestConfig(syms ...string) *config.Config {
	cfg := config.Default()
	cfg.Symbols, cfg.SyntheticSymbols = syms, 0
	cfg.Kafka.Partitions = 2
	cfg.Lake.FlushInterval = time.Second
	return cfg
}

// simTicks is the simulator's first n ticks, the ones sim.Producer sends.
func simTicks(t *testing.T, cfg *config.Config, n int) []tick.Tick {
	t.Helper()
	s, err := sim.New(cfg.AllSymbols(), cfg.Simulator, predictStart)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]tick.Tick, n)
	for i := range out {
		s.Next(&out[i])
	}
	return out
}

// writeTicksCSV writes ticks in the replay CSV format, floats exactly.
func writeTicksCSV(t *testing.T, path string, ticks []tick.Tick) {
	t.Helper()
	var b strings.Builder
	b.WriteString("symbol,ts,price,volume,bid,ask\n")
	for _, k := range ticks {
		fmt.Fprintf(&b, "%s,%d,%s,%s,%s,%s\n", k.Symbol, k.TS, fmtFloat(k.Price), fmtFloat(k.Volume), fmtQuote(k.Bid), fmtQuote(k.Ask))
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

type symTS struct {
	sym string
	ts  int64
}

// readScoredCSV reads predict's CSV output: the predictions by tick, and
// the number of rows.
func readScoredCSV(t *testing.T, out []byte) (map[symTS]float64, int) {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if h := strings.Join(recs[0], ","); h != "symbol,ts,price,volume,bid,ask,prediction" {
		t.Fatalf("header %q", h)
	}
	got := map[symTS]float64{}
	for _, r := range recs[1:] {
		if r[6] == "" {
			continue
		}
		ts, err1 := strconv.ParseInt(r[1], 10, 64)
		v, err2 := strconv.ParseFloat(r[6], 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("bad output row %q", r)
		}
		got[symTS{r[0], ts}] = v
	}
	return got, len(recs) - 1
}

func runPredict(t *testing.T, cfg *config.Config, o PredictOptions) []byte {
	t.Helper()
	var out, errOut bytes.Buffer
	if err := Predict(context.Background(), cfg, o, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestPredictEqualsEngine: `tickstream predict` on a CSV of the
// simulator's ticks gives, for every model and to the bit, the predictions
// an engine consuming the same ticks from Kafka writes to the lake, at the
// same ticks (the cadence and warm-up included), and nothing elsewhere.
func TestPredictEqualsEngine(t *testing.T) {
	if testing.Short() {
		t.Skip("runs an engine over the in-process broker; skipped in -short mode")
	}
	cfg := predictTestConfig("AAPL", "MSFT", "NVDA", "KO", "XOM")
	cfg.Models.Cadence = 2 * time.Second
	const n = 5 * 200
	dir := t.TempDir()
	input := filepath.Join(dir, "ticks.csv")
	writeTicksCSV(t, input, simTicks(t, cfg, n))

	specs := []models.Spec{
		{Name: "xgb", Kind: models.KindXGBoost, Path: modelFixture},
		{Name: "win", Kind: models.KindLSTM, Path: lstmFixture},
		{Name: "sf", Kind: models.KindLSTM, Path: lstmFixture, Mode: models.ModeStateful},
		{Name: "lgb", Kind: models.KindLightGBM, Path: lgbFixture, Horizon: "10s"},
	}
	reg, err := models.NewRegistry(specs, cfg.Models.Window, nil)
	if err != nil {
		t.Fatal(err)
	}
	emb, err := engine.StartEmbedded(&cfg.Kafka, cfg.Models.Topic)
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close()
	prod, err := engine.NewProducer(&cfg.Kafka)
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	s, err := sim.New(cfg.AllSymbols(), cfg.Simulator, predictStart)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := (&sim.Producer{Client: prod, Topic: cfg.Kafka.Topic}).Run(ctx, s, 0, n); err != nil {
		t.Fatal(err)
	}
	lakeDir := t.TempDir()
	store, err := lake.NewLocalStore(lakeDir)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(cfg, engine.Deps{Store: store, Producer: prod, SpoolDir: t.TempDir(), Models: reg})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- eng.Run(runCtx) }()
	testkit.Eventually(t, time.Minute, "the engine to process every tick", func() bool { return eng.Stats.Records.Load() >= n })
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	want := map[string]map[symTS]float64{}
	for _, r := range testkit.ReadTable[models.PredictionRow](t, lakeDir, lake.TablePredictions) {
		if want[r.Model] == nil {
			want[r.Model] = map[symTS]float64{}
		}
		want[r.Model][symTS{r.Symbol, r.TS}] = r.Value
	}
	for _, spec := range specs {
		got, rows := readScoredCSV(t, runPredict(t, cfg, PredictOptions{Model: spec.Path, Mode: spec.Mode, Horizon: spec.Horizon, Input: input}))
		w := want[spec.Name]
		if rows != n || len(w) == 0 || len(got) != len(w) {
			t.Fatalf("%s: %d output rows for %d ticks; %d predictions, the engine wrote %d", spec.Name, rows, n, len(got), len(w))
		}
		for k, v := range w {
			if g, ok := got[k]; !ok || math.Float64bits(g) != math.Float64bits(v) {
				t.Fatalf("%s %s@%d: predict gives %v (present %v), the engine %v", spec.Name, k.sym, k.ts, g, ok, v)
			}
		}
	}
}

// TestPredictGolden: the CSV output of a small input, and the same ticks
// from a lake processed file written as Parquet carry the same predictions.
func TestPredictGolden(t *testing.T) {
	cfg := predictTestConfig("AAPL", "MSFT")
	dir := t.TempDir()
	ticks := simTicks(t, cfg, 2*80)
	input := filepath.Join(dir, "ticks.csv")
	writeTicksCSV(t, input, ticks)
	out := runPredict(t, cfg, PredictOptions{Model: modelFixture, Input: input})
	golden := filepath.Join("testdata", "predict.golden.csv")
	if *update {
		if err := os.WriteFile(golden, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, want) {
		t.Errorf("output differs from %s (go test ./app -run TestPredictGolden -update to accept):\n%s", golden, out)
	}
	csvPreds, rows := readScoredCSV(t, out)
	if rows != len(ticks) || len(csvPreds) != 2*(80-models.Warmup+1) {
		t.Fatalf("%d rows, %d predictions; want %d rows, one prediction per warm tick", rows, len(csvPreds), len(ticks))
	}

	// The same ticks as a lake processed file, scored into Parquet.
	pin, pout := filepath.Join(dir, "in.parquet"), filepath.Join(dir, "out.parquet")
	proc := make([]lake.ProcessedRow, len(ticks))
	for i, k := range ticks {
		proc[i] = lake.ProcessedRow{Symbol: k.Symbol, TS: k.TS, Price: k.Price, Volume: k.Volume, Bid: k.Bid, Ask: k.Ask}
	}
	if err := parquet.WriteFile(pin, proc); err != nil {
		t.Fatal(err)
	}
	runPredict(t, cfg, PredictOptions{Model: modelFixture, Kind: models.KindXGBoost, Input: pin, Output: pout})
	scored, err := parquet.ReadFile[ScoredRow](pout)
	if err != nil {
		t.Fatal(err)
	}
	if len(scored) != len(ticks) {
		t.Fatalf("Parquet output: %d rows, want %d", len(scored), len(ticks))
	}
	for i, r := range scored {
		v, ok := csvPreds[symTS{r.Symbol, r.TS}]
		if r.Symbol != ticks[i].Symbol || r.TS != ticks[i].TS || ok != (r.Prediction != nil) || (ok && *r.Prediction != v) {
			t.Fatalf("Parquet row %d %+v: the CSV run gives %v (present %v)", i, r, v, ok)
		}
	}
}

func TestPredictErrors(t *testing.T) {
	dir := t.TempDir()
	cfg := predictTestConfig("AAPL")
	f := func(name, model, kind, body, wantErr string) {
		t.Helper()
		input := filepath.Join(dir, name)
		if err := os.WriteFile(input, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		err := Predict(context.Background(), cfg, PredictOptions{Model: model, Kind: kind, Input: input}, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("%s: error %v, want one containing %q", name, err, wantErr)
		}
	}
	good := "symbol,ts,price,volume\nAAPL,1,10,5\n"
	f("nohead.csv", modelFixture, "", "symbol,ts,price\nAAPL,1,10\n", "lacks one of symbol,ts,price,volume")
	f("badts.csv", modelFixture, "", "symbol,ts,price,volume\nAAPL,yesterday,10,5\n", "badts.csv:2: ts")
	f("badnum.csv", modelFixture, "", "symbol,ts,price,volume\nAAPL,1,ten,5\n", `price "ten" is not a number`)
	f("twice.csv", modelFixture, "", "symbol,ts,price,volume,prediction\n", "already has a prediction column")
	f("kind.csv", lstmFixture, "linear", good, "keras_20x5_16x8_hard.safetensors")
	f("missing.csv", filepath.Join(dir, "none.json"), "", good, "none.json")
	f("notparquet.parquet", modelFixture, "", good, "notparquet.parquet")
	f("nohorizon.csv", lgbFixture, "", good, "horizon")
}

func TestModelKind(t *testing.T) {
	dir := t.TempDir()
	f := func(path, want string) {
		t.Helper()
		got, err := ModelKind(path)
		if want == "" {
			if err == nil {
				t.Errorf("%s: kind %q, want an error", path, got)
			}
			return
		}
		if err != nil || got != want {
			t.Errorf("%s: kind %q, %v; want %q", path, got, err, want)
		}
	}
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	f(modelFixture, models.KindXGBoost)
	f("../models/testdata/xgboost/deep.ubj", models.KindXGBoost)
	f(lstmFixture, models.KindLSTM)
	f(write("lin.json", `{"format":"tickstream-linear/1","features":[]}`), models.KindLinear)
	f(write("other.json", `{"format":"onnx"}`), "")
	f(write("model.bin", "\x00\x01"), "")
	f("../models/testdata/lightgbm/reg.txt", models.KindLightGBM)
	f(write("notes.txt", "trees are nice\n"), "")
}
