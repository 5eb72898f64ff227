// Package models serves tickstream's prediction models inside the stream:
// the per-symbol feature state (Features), the models behind one interface
// (XGBoost and LightGBM trees, LSTM networks, the linear baseline — see the
// subpackages), a Registry that loads, validates and hot-swaps model files,
// a Watcher that reloads them when they change on disk, and a Predictor
// that a partition task uses to turn accepted ticks into PredictionRows at
// a configured cadence, batched across the partition's symbols. A Symbol's
// state (features, cadence, carried LSTM state) encodes to bytes for the
// engine's checkpoint, so predictions after a restore equal those of an
// uninterrupted run (checkpoint.go).
//
// Training and serving share one feature code: scripts/models/dumpfeatures
// writes the training set with Features and Simulate, and the Python
// fixture generator trains on that dump, so a model never sees features
// computed by other code than the one that serves it. The tests replay the
// dump and check the features are still the ones the committed fixture
// models were trained on.
//
// Like operators, the per-tick path (Predictor.Observe) takes no lock and
// allocates nothing once a symbol's state exists; a partition task must
// never wait for a reload, so the Registry swaps whole models through
// atomic pointers and a Predictor picks up a new model at its next Flush.
//
// The package must not know about Kafka, the engine or the lake writer: it
// returns rows, and the engine decides where they go.
package models
