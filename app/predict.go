package app

import (
	"bytes"
	"cmp"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/tickstream/tickstream/config"
	"github.com/tickstream/tickstream/models"
	"github.com/tickstream/tickstream/operators"
	"github.com/tickstream/tickstream/sinks/lake"
	"github.com/tickstream/tickstream/tick"
)

// PredictOptions configure a batch scoring run (`tickstream predict`).
type PredictOptions struct {
	Model string // the model file
	Kind  string // models.Kind*; "" to tell from the file (ModelKind)
	Mode  string // LSTM serving mode; "" for the default
	// Horizon is the model's horizon; lightgbm files store none, so they
	// need one here (as in config.yaml's models.files).
	Horizon string
	Input   string // a replay CSV or a lake raw/processed .parquet file
	Output  string // a .parquet file; "" writes CSV to the stdout of Predict
}

// PredictFlags declares `tickstream predict`'s flags and returns the
// command: score a file of ticks with one model, by the stream's code.
func PredictFlags(fs *flag.FlagSet) func(context.Context, *config.Config) error {
	var o PredictOptions
	fs.StringVar(&o.Model, "model", "", "the model file (required)")
	fs.StringVar(&o.Kind, "kind", "", "xgboost, lightgbm, lstm or linear (default: told from the file)")
	fs.StringVar(&o.Horizon, "horizon", "", "the horizon the model predicts, e.g. 10s: required for lightgbm (its file stores none), checked against the file otherwise")
	fs.StringVar(&o.Mode, "mode", "", "lstm only: windowed (default) or stateful")
	fs.StringVar(&o.Input, "input", "", "ticks: a CSV file with a symbol,ts,price,volume[,bid,ask] header, or a lake raw/processed .parquet file")
	fs.StringVar(&o.Output, "output", "", "a .parquet file to write (default: CSV to stdout)")
	return func(ctx context.Context, cfg *config.Config) error {
		return Predict(ctx, cfg, o, os.Stdout, os.Stderr)
	}
}

// scored is one input row: the tick it holds (if it is one) and, once
// scored, its prediction.
type scored struct {
	t       tick.Tick
	isTick  bool     // false: a raw row that was rejected at ingest
	fields  []string // CSV input: the row as read, written back unchanged
	pred    float64
	hasPred bool
}

// ScoredRow is a row of `tickstream predict`'s Parquet output.
type ScoredRow struct {
	Symbol     string   `parquet:"symbol,dict"`
	TS         int64    `parquet:"ts,timestamp(millisecond:utc),delta"`
	Price      float64  `parquet:"price"`
	Volume     float64  `parquet:"volume"`
	Bid        float64  `parquet:"bid,optional"`
	Ask        float64  `parquet:"ask,optional"`
	Prediction *float64 `parquet:"prediction,optional"` // nil: rejected, warming up, or not due at the cadence
}

// Predict scores o.Input with o.Model and writes one row per input row with
// a prediction column. It runs the ticks exactly as the engine does: per
// symbol in event-time order through the configured operators, then the
// accepted ones through models.Predictor at models.cadence, so the values
// are the ones `tickstream run` writes to the predictions table for the
// same ticks. Rows that get no prediction (rejected by the operators,
// before the warm-up, between two cadence points) have an empty one.
func Predict(ctx context.Context, cfg *config.Config, o PredictOptions, stdout, stderr io.Writer) error {
	if o.Model == "" || o.Input == "" {
		return errors.New("--model and --input are required")
	}
	kind := o.Kind
	if kind == "" {
		var err error
		if kind, err = ModelKind(o.Model); err != nil {
			return err
		}
	}
	name := strings.TrimSuffix(filepath.Base(o.Model), filepath.Ext(o.Model))
	reg, err := models.NewRegistry([]models.Spec{{Name: name, Kind: kind, Path: o.Model, Mode: o.Mode, Horizon: o.Horizon}}, cfg.Models.Window, nil)
	if err != nil {
		return err
	}
	var rows []scored
	var header []string
	if strings.HasSuffix(o.Input, ".parquet") {
		rows, err = readParquetTicks(o.Input)
	} else {
		header, rows, err = readCSVTicks(o.Input)
	}
	if err != nil {
		return err
	}
	rejected, err := score(ctx, cfg, reg, rows)
	if err != nil {
		return err
	}
	if rejected > 0 {
		fmt.Fprintf(stderr, "tickstream predict: %d of %d rows rejected by the operators (no prediction)\n", rejected, len(rows))
	}
	if o.Output != "" {
		return writeScoredParquet(o.Output, rows)
	}
	return writeScoredCSV(stdout, header, rows)
}

// ModelKind tells a model file's kind from its name and content:
// .safetensors is an LSTM, .ubj xgboost, and a JSON file is xgboost if it
// has a "learner", linear if its "format" is models/linear's.
func ModelKind(path string) (string, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".safetensors":
		return models.KindLSTM, nil
	case ".ubj":
		return models.KindXGBoost, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("--model: %w", err)
	}
	// LightGBM's text format (Booster.save_model) opens with the line "tree".
	if bytes.HasPrefix(data, []byte("tree\n")) || bytes.HasPrefix(data, []byte("tree\r\n")) {
		return models.KindLightGBM, nil
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err == nil {
		if _, ok := top["learner"]; ok {
			return models.KindXGBoost, nil
		}
		if f, ok := top["format"]; ok && strings.HasPrefix(strings.Trim(string(f), `"`), "tickstream-linear/") {
			return models.KindLinear, nil
		}
	}
	return "", fmt.Errorf("--model %s: cannot tell the kind of model from the file; pass --kind xgboost|lightgbm|lstm|linear", path)
}

// score runs the ticks through the pipeline and the predictor in the
// engine's order and stores each prediction on its row. It returns how many
// ticks the operators rejected.
func score(ctx context.Context, cfg *config.Config, reg *models.Registry, rows []scored) (rejected int, err error) {
	pipe, err := operators.New(cfg)
	if err != nil {
		return 0, err
	}
	pred := models.NewPredictor(reg, models.PredictorOptions{Every: cfg.Models.Cadence})
	order := make([]int, 0, len(rows))
	for i := range rows {
		if rows[i].isTick {
			order = append(order, i)
		}
	}
	// Per symbol in event-time order, as the stream sees a well-ordered
	// feed; equal times keep the file's order.
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(rows[a].t.TS, rows[b].t.TS) })
	type sym struct {
		op   *operators.State
		pred *models.Symbol
	}
	syms := map[string]*sym{}
	var res operators.Result
	var out []models.PredictionRow
	flush := func() error {
		var err error
		if out, err = pred.Flush(out[:0]); err != nil {
			return err
		}
		for _, p := range out {
			rows[p.KafkaOffset].pred, rows[p.KafkaOffset].hasPred = p.Value, true
		}
		return nil
	}
	for k, i := range order {
		r := &rows[i]
		if pipe.Admit(r.t.Symbol) != tick.OK {
			rejected++
			continue
		}
		s := syms[r.t.Symbol]
		if s == nil {
			s = &sym{op: pipe.NewState(r.t.Symbol), pred: pred.NewSymbol(r.t.Symbol)}
			syms[r.t.Symbol] = s
		}
		t := r.t // Process may adjust the tick; the row is written as read
		// The engine's record time is the producer's stamp: the event time.
		pipe.Process(s.op, &t, t.TS, &res)
		if res.Reject != tick.OK {
			rejected++
			continue
		}
		// The row index stands in for the Kafka offset the engine passes.
		pred.Observe(s.pred, &t, &res, int64(i))
		if pred.Pending() >= 4096 {
			if k%4096 == 0 && ctx.Err() != nil {
				return rejected, ctx.Err()
			}
			if err := flush(); err != nil {
				return rejected, err
			}
		}
	}
	return rejected, flush()
}

// readCSVTicks reads a replay CSV (feeds/replay's format: a header naming
// symbol, ts, price, volume and optionally bid, ask in any order; ts RFC
// 3339 or epoch milliseconds). Unlike a replay, a bad row is an error:
// every row must come back with its prediction.
func readCSVTicks(path string) ([]string, []scored, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("--input: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comment = '#'
	head, err := r.Read()
	if err != nil {
		return nil, nil, fmt.Errorf("--input %s: header: %w", path, err)
	}
	col := [6]int{-1, -1, -1, -1, -1, -1}
	for i, h := range head {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if j := slices.Index(names6[:], h); j >= 0 {
			col[j] = i
		}
		if h == "prediction" {
			return nil, nil, fmt.Errorf("--input %s: already has a prediction column", path)
		}
	}
	if slices.Contains(col[:4], -1) {
		return nil, nil, fmt.Errorf("--input %s: header %q lacks one of symbol,ts,price,volume", path, strings.Join(head, ","))
	}
	var rows []scored
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return head, rows, nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("--input %s: %w", path, err)
		}
		s := scored{fields: rec, isTick: true}
		if why := parseCSVTick(rec, col, &s.t); why != "" {
			line, _ := r.FieldPos(0)
			return nil, nil, fmt.Errorf("--input %s:%d: %s", path, line, why)
		}
		rows = append(rows, s)
	}
}

func parseCSVTick(rec []string, col [6]int, t *tick.Tick) string {
	field := func(j int) string {
		if i := col[j]; i >= 0 && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	t.Symbol = field(0)
	if t.Symbol == "" {
		return "no symbol"
	}
	ts := field(1)
	if ms, err := strconv.ParseInt(ts, 10, 64); err == nil {
		t.TS = ms
	} else if tm, err := time.Parse(time.RFC3339Nano, ts); err == nil {
		t.TS = tm.UnixMilli()
	} else {
		return fmt.Sprintf("ts %q is neither RFC 3339 nor epoch milliseconds", ts)
	}
	for j, dst := range [...]*float64{2: &t.Price, 3: &t.Volume, 4: &t.Bid, 5: &t.Ask} {
		v := field(j)
		if dst == nil || (v == "" && j >= 4) {
			continue // bid and ask may be empty: not quoted
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return fmt.Sprintf("%s %q is not a number", names6[j], v)
		}
		*dst = f
	}
	return ""
}

// names6 are the replay CSV's columns, in the order parseCSVTick indexes them.
var names6 = [6]string{"symbol", "ts", "price", "volume", "bid", "ask"}

// readParquetTicks reads a lake raw or processed file. A raw row rejected
// at ingest is kept (one output row per input row) but is not a tick.
func readParquetTicks(path string) (rows []scored, err error) {
	defer func() {
		// parquet-go panics on some broken files instead of returning an error.
		if r := recover(); r != nil {
			rows, err = nil, fmt.Errorf("--input %s: unreadable Parquet: %v", path, r)
		}
	}()
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--input: %w", err)
	}
	pf, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("--input %s: %w", path, err)
	}
	_, raw := pf.Schema().Lookup("reject_reason")
	_, processed := pf.Schema().Lookup("ma")
	switch {
	case raw:
		rs, err := readAll[lake.RawRow](pf, path)
		for _, r := range rs {
			rows = append(rows, scored{isTick: r.RejectReason == "" && r.TS != 0,
				t: tick.Tick{Symbol: r.Symbol, TS: r.TS, Price: r.Price, Volume: r.Volume, Bid: r.Bid, Ask: r.Ask}})
		}
		return rows, err
	case processed:
		rs, err := readAll[lake.ProcessedRow](pf, path)
		for _, r := range rs {
			rows = append(rows, scored{isTick: true,
				t: tick.Tick{Symbol: r.Symbol, TS: r.TS, Price: r.Price, Volume: r.Volume, Bid: r.Bid, Ask: r.Ask}})
		}
		return rows, err
	}
	return nil, fmt.Errorf("--input %s: neither a lake raw nor a processed file (no reject_reason or ma column)", path)
}

func readAll[T any](pf *parquet.File, path string) ([]T, error) {
	r := parquet.NewGenericReader[T](pf)
	defer r.Close()
	out := make([]T, r.NumRows())
	n, err := r.Read(out)
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("--input %s: %w", path, err)
	}
	return out[:n], nil
}

// writeScoredCSV writes the CSV input's rows as read, or a Parquet input's
// ticks, with the prediction appended ("" where there is none).
func writeScoredCSV(out io.Writer, header []string, rows []scored) error {
	w := csv.NewWriter(out)
	csvInput := header != nil
	if !csvInput {
		header = names6[:]
	}
	if err := w.Write(append(slices.Clip(header), "prediction")); err != nil {
		return err
	}
	rec := make([]string, 0, len(header)+1)
	for i := range rows {
		r := &rows[i]
		rec = rec[:0]
		if csvInput {
			rec = append(rec, r.fields...)
		} else {
			t := &r.t
			rec = append(rec, t.Symbol, time.UnixMilli(t.TS).UTC().Format("2006-01-02T15:04:05.000Z07:00"),
				fmtFloat(t.Price), fmtFloat(t.Volume), fmtQuote(t.Bid), fmtQuote(t.Ask))
		}
		p := ""
		if r.hasPred {
			p = fmtFloat(r.pred)
		}
		if err := w.Write(append(rec, p)); err != nil {
			return err
		}
	}
	w.Flush()
	return w.Error()
}

func fmtFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func fmtQuote(v float64) string {
	if v == 0 {
		return "" // not quoted, as the lake's optional bid/ask
	}
	return fmtFloat(v)
}

// writeScoredParquet writes the rows to path, through a temporary file so
// a failed run leaves no half-written file.
func writeScoredParquet(path string, rows []scored) error {
	out := make([]ScoredRow, len(rows))
	for i := range rows {
		r := &rows[i]
		out[i] = ScoredRow{Symbol: r.t.Symbol, TS: r.t.TS, Price: r.t.Price, Volume: r.t.Volume, Bid: r.t.Bid, Ask: r.t.Ask}
		if r.hasPred {
			out[i].Prediction = &r.pred
		}
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("--output: %w", err)
	}
	w := parquet.NewGenericWriter[ScoredRow](f)
	_, err = w.Write(out)
	if err == nil {
		err = w.Close()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("--output %s: %w", path, err)
	}
	return nil
}
