package models

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"time"

	"github.com/tickstream/tickstream/models/lightgbm"
	"github.com/tickstream/tickstream/models/linear"
	"github.com/tickstream/tickstream/models/lstm"
	"github.com/tickstream/tickstream/models/xgboost"
)

// Model kinds and LSTM serving modes, as named in a Spec.
const (
	KindXGBoost = "xgboost" // Booster.save_model file, JSON or UBJSON
	KindLSTM    = "lstm"    // safetensors from scripts/models/export_{keras,torch}.py
	KindLinear  = "linear"  // models/linear JSON
	// KindLightGBM is a Booster.save_model text file. It stores no horizon,
	// so its Spec must give one.
	KindLightGBM = "lightgbm"

	// ModeWindowed runs the last Steps ticks from a zero state at each
	// prediction: the Keras semantics the model was trained with. The
	// default.
	ModeWindowed = "windowed"
	// ModeStateful steps each symbol's carried h and c once per accepted
	// tick and reads the output at each prediction: a step's cost per tick
	// instead of a window's per prediction. Equal to windowed from a zero
	// state over the same ticks; it drifts from it after Steps ticks, since
	// its memory is then longer than the window.
	ModeStateful = "stateful"
)

// Spec names one model to serve.
type Spec struct {
	Name string // the predictions table's model column; unique
	Kind string // KindXGBoost, KindLSTM, KindLinear or KindLightGBM
	Path string // the model file, watched for changes
	Mode string // LSTM only: ModeWindowed (default) or ModeStateful
	// Horizon, if set, is the horizon the file must store (e.g. "10s"): a
	// file trained for another horizon is refused, at start and on reload.
	// A lightgbm file stores none: its Spec must set one, which is served.
	Horizon string
	// Symbols, if any, are the only symbols the model predicts; empty: all.
	Symbols []string
}

func (s *Spec) check() error {
	if s.Name == "" {
		return errors.New("model without a name")
	}
	if s.Path == "" {
		return fmt.Errorf("model %s: no path", s.Name)
	}
	switch s.Kind {
	case KindXGBoost, KindLinear, KindLightGBM:
		if s.Mode != "" {
			return fmt.Errorf("model %s: mode %q applies to lstm models only", s.Name, s.Mode)
		}
		if s.Kind == KindLightGBM && s.Horizon == "" {
			return fmt.Errorf("model %s: a lightgbm model needs a horizon in its spec: the text file has no place to store one", s.Name)
		}
	case KindLSTM:
		if s.Mode == "" {
			s.Mode = ModeWindowed
		}
		if s.Mode != ModeWindowed && s.Mode != ModeStateful {
			return fmt.Errorf("model %s: mode %q: want %s or %s", s.Name, s.Mode, ModeWindowed, ModeStateful)
		}
	default:
		return fmt.Errorf("model %s: kind %q: want %s, %s, %s or %s", s.Name, s.Kind, KindXGBoost, KindLSTM, KindLinear, KindLightGBM)
	}
	return nil
}

// Model is one loaded, validated model file. It is immutable; the Registry
// replaces it whole when the file changes.
type Model struct {
	Spec    Spec
	Hash    string // sha256 of the file, hex
	Version string // the file's own "version" if it has one, then the hash's first 8 hex digits
	Horizon string // what the prediction is about, e.g. "10s", from the file
	Target  string // e.g. "log_return_bps" or "up", from the file
	Input   *InputSpec

	xgb *xgboost.Model
	seq *lstm.Model
	lin *linear.Model
	gbm *lightgbm.Model
}

// LoadModel reads, parses and validates spec's file. maxSteps is the
// longest LSTM window the feature state keeps.
func LoadModel(spec Spec, maxSteps int) (*Model, error) {
	if err := spec.check(); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(spec.Path)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", spec.Name, err)
	}
	m, err := ParseModel(spec, data, maxSteps)
	if err != nil {
		return nil, fmt.Errorf("model %s (%s): %w", spec.Name, spec.Path, err)
	}
	return m, nil
}

// ParseModel builds a model from file contents and validates it: the
// format parses, the feature names match FeatureNames, there is one output,
// a horizon is stored, and a probe input predicts a finite value.
func ParseModel(spec Spec, data []byte, maxSteps int) (*Model, error) {
	if err := spec.check(); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	m := &Model{Spec: spec, Hash: hex.EncodeToString(sum[:])}
	var version string
	var err error
	switch spec.Kind {
	case KindXGBoost:
		if m.xgb, err = xgboost.Parse(data); err != nil {
			return nil, err
		}
		err = m.checkXGBoost()
		version, m.Horizon, m.Target = m.xgb.Attr("version"), m.xgb.Attr("horizon"), m.xgb.Attr("target")
	case KindLSTM:
		if m.seq, err = lstm.Parse(data); err != nil {
			return nil, err
		}
		err = m.checkLSTM(maxSteps)
		version, m.Horizon, m.Target = m.seq.Meta("version"), m.seq.Meta("horizon"), m.seq.Meta("target")
	case KindLinear:
		if m.lin, err = linear.Parse(data); err != nil {
			return nil, err
		}
		if !slices.Equal(m.lin.Features, FeatureNames[:]) {
			err = fmt.Errorf("features %v, want %v", m.lin.Features, FeatureNames)
		}
		m.Horizon, m.Target = m.lin.Horizon, m.lin.Target
	case KindLightGBM:
		if m.gbm, err = lightgbm.Parse(data); err != nil {
			return nil, err
		}
		err = m.checkLightGBM()
		m.Horizon = spec.Horizon // check made sure there is one
	}
	if err != nil {
		return nil, err
	}
	if m.Horizon == "" {
		return nil, errors.New(`no horizon stored with the model (xgboost: Booster.set_attr(horizon="10s"); lstm: __metadata__ "horizon"; linear: "horizon")`)
	}
	if spec.Horizon != "" && !sameHorizon(spec.Horizon, m.Horizon) {
		return nil, fmt.Errorf("the file's horizon is %q, the configured horizon %q", m.Horizon, spec.Horizon)
	}
	m.Version = m.Hash[:12]
	if version != "" {
		m.Version = version + "-" + m.Hash[:8]
	}
	if err := m.probe(); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Model) checkXGBoost() error {
	if n := m.xgb.NumFeature(); n != NumFeatures {
		return fmt.Errorf("%d features, the feature vector has %d", n, NumFeatures)
	}
	if names := m.xgb.FeatureNames(); len(names) > 0 && !slices.Equal(names, FeatureNames[:]) {
		return fmt.Errorf("trained on features %v, want %v", names, FeatureNames)
	}
	if n := m.xgb.NumOutput(); n != 1 {
		return fmt.Errorf("%d outputs per row (%s); serving needs one", n, m.xgb.Objective())
	}
	return nil
}

// checkLightGBM checks the feature set as checkXGBoost does; LightGBM
// always writes feature_names (Column_0… when training had none, which
// fails here: train with feature_name=FeatureNames).
func (m *Model) checkLightGBM() error {
	if n := m.gbm.NumFeature(); n != NumFeatures {
		return fmt.Errorf("%d features, the feature vector has %d", n, NumFeatures)
	}
	if names := m.gbm.FeatureNames(); len(names) > 0 && !slices.Equal(names, FeatureNames[:]) {
		return fmt.Errorf("trained on features %v, want %v", names, FeatureNames)
	}
	return nil
}

func (m *Model) checkLSTM(maxSteps int) error {
	in := m.seq.Input()
	if len(in.Features) == 0 || len(in.Mean) == 0 || len(in.Std) == 0 || in.Steps == 0 {
		return errors.New(`the file does not say its input: __metadata__ "features", "mean", "std" and "steps" are required (scripts/models export them)`)
	}
	spec, err := NewInputSpec(in.Features, in.Mean, in.Std, in.Steps)
	if err != nil {
		return fmt.Errorf("input: %w", err)
	}
	if spec.Steps > maxSteps {
		return fmt.Errorf("window of %d steps, but the feature state keeps %d", spec.Steps, maxSteps)
	}
	if n := m.seq.OutputSize(); n != 1 {
		return fmt.Errorf("%d outputs; serving needs one", n)
	}
	m.Input = spec
	return nil
}

// sameHorizon compares two horizons as durations when both are ("10s"
// and "10000ms" are one), else as text.
func sameHorizon(a, b string) bool {
	da, errA := time.ParseDuration(a)
	db, errB := time.ParseDuration(b)
	if errA == nil && errB == nil {
		return da == db
	}
	return a == b
}

// probe runs the model once on an input with every value missing (row
// models) or on a zero window (sequence models): the output must be finite.
func (m *Model) probe() error {
	out := []float32{0}
	var err error
	switch {
	case m.xgb != nil, m.lin != nil, m.gbm != nil:
		row := make([]float32, NumFeatures)
		for i := range row {
			row[i] = float32(math.NaN())
		}
		err = m.predictRows(row, 1, out)
	case m.seq != nil:
		w := m.seq.NewWorkspace(1)
		err = m.seq.Predict(w, make([]float32, m.Input.Steps*m.Input.Width()), m.Input.Steps, out)
	}
	if err != nil {
		return fmt.Errorf("probe prediction: %w", err)
	}
	if math.IsNaN(float64(out[0])) || math.IsInf(float64(out[0]), 0) {
		return fmt.Errorf("probe prediction is %v", out[0])
	}
	return nil
}

// rowModel reports whether the model reads one feature vector per
// prediction (xgboost, lightgbm, linear) rather than a window.
func (m *Model) rowModel() bool { return m.seq == nil }

func (m *Model) predictRows(rows []float32, n int, out []float32) error {
	switch {
	case m.xgb != nil:
		return m.xgb.PredictBatch(rows, n, out)
	case m.gbm != nil:
		return m.gbm.PredictBatch(rows, n, out)
	}
	return m.lin.PredictBatch(rows, n, out)
}
