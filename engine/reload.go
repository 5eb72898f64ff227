package engine

import (
	"fmt"
	"slices"
	"time"

	"go.uber.org/zap"

	"github.com/tickstream/tickstream/config"
	"github.com/tickstream/tickstream/models"
	"github.com/tickstream/tickstream/operators"
	"github.com/tickstream/tickstream/tick"
)

// Live config reload. The engine publishes each new config as a settings
// value and closes the previous one's changed channel; every task waits on
// the channel of the settings it runs in its select loop, so it notices
// between two batches, loads the newest settings and moves its symbols'
// state over (task.applySettings). Nothing is locked and nothing is checked
// per tick: a task only ever reads settings it took itself.

// settings are what a reload can change for the tasks: the live keys of
// config.LiveKeys, ready to use. Immutable once published.
type settings struct {
	cfg     *config.Config // only its live keys are read
	pipe    *operators.Pipeline
	symbols []string
	pred    models.PredictorOptions
	// changed is closed when newer settings are published.
	changed chan struct{}
}

func newSettings(cfg *config.Config, pipe *operators.Pipeline) *settings {
	return &settings{
		cfg:     cfg,
		pipe:    pipe,
		symbols: cfg.AllSymbols(),
		pred:    models.PredictorOptions{Every: cfg.Models.Cadence},
		changed: make(chan struct{}),
	}
}

// Reload hands the live keys of cfg (config.LiveKeys: symbols, clean,
// moving_average, anomaly, lake.flush_interval, models.cadence) to every
// partition task, present and future; the other keys keep the values the
// engine was made with. cfg must be loaded and validated (config.Load) and
// is the engine's from then on. Tasks switch between two batches, shortly
// after Reload returns; an error means cfg was refused and nothing changed.
//
// What each task does with the new settings: ticks of a symbol no longer
// configured are rejected as unknown_symbol and its state is dropped, so
// the next checkpoint no longer holds it (its rows already written go out
// with the next seal); a new symbol gets fresh state at its first tick; the
// other symbols keep their state under the new thresholds, except that a
// change of moving_average or clean.allowed_lateness, which decide what the
// state holds, restarts every symbol's windows (as a restart with such a
// change would: see task.restore).
func (e *Engine) Reload(cfg *config.Config) error {
	pipe, err := operators.New(cfg)
	if err != nil {
		return fmt.Errorf("operators: %w", err)
	}
	e.reloadMu.Lock()
	defer e.reloadMu.Unlock()
	old := e.current.Swap(newSettings(cfg, pipe))
	close(old.changed)
	return nil
}

// applySettings moves the task to the newest settings. It runs in the
// task's goroutine between batches, when no tick is half processed and
// the predictor has flushed.
func (t *task) applySettings(flushEvery *time.Ticker) {
	old, next := t.set, t.e.current.Load()
	t.set, t.pipe = next, next.pipe
	// A new symbol needs to be interned (else each of its ticks would
	// allocate) and max_record_bytes may have changed: a decoder is cheap.
	t.dec = tick.NewDecoder(next.symbols, next.cfg.Clean.MaxRecordBytes)
	if d := next.cfg.Lake.FlushInterval; d != old.cfg.Lake.FlushInterval {
		flushEvery.Reset(d)
	}
	newPred := t.pred
	if t.pred != nil && next.pred.Every != old.pred.Every {
		newPred = t.e.newPredictor(next.pred)
	}

	var dropped, restarted, predRestarted []string
	var buf []byte
	for sym, st := range t.states {
		if t.pipe.Admit(sym) != tick.OK {
			delete(t.states, sym)
			dropped = append(dropped, sym)
			continue
		}
		// Through the checkpoint encoding: the restored state takes the new
		// thresholds, and refuses a changed window shape.
		var err error
		if buf, err = st.op.AppendBinary(buf[:0]); err != nil {
			t.e.fail(fmt.Errorf("BUG: partition %d: encode state of %s: %w", t.partition, sym, err))
			return
		}
		st.op = t.pipe.NewState(sym)
		if st.op.UnmarshalBinary(buf) != nil {
			restarted = append(restarted, sym)
		}
		if newPred != t.pred {
			if buf, err = st.pred.AppendBinary(buf[:0]); err != nil {
				t.e.fail(fmt.Errorf("BUG: partition %d: encode model state of %s: %w", t.partition, sym, err))
				return
			}
			st.pred = newPred.NewSymbol(sym)
			if st.pred.UnmarshalBinary(buf) != nil {
				predRestarted = append(predRestarted, sym)
			}
		}
	}
	t.pred = newPred
	if len(restarted) > 0 {
		t.log.Warn("config reload: moving_average or clean.allowed_lateness changed; these symbols' windows start afresh",
			zap.Int("symbols", len(restarted)))
	}
	if len(predRestarted) > 0 {
		t.log.Warn("config reload: these symbols' model input state did not carry over; their predictions resume after the warm-up",
			zap.Int("symbols", len(predRestarted)))
	}
	slices.Sort(dropped)
	t.log.Debug("partition switched to the reloaded config", zap.Strings("state_dropped", dropped), zap.Int("symbols_kept", len(t.states)))
}
