// Package operators is the per-symbol stream pipeline that a partition task
// runs on every decoded tick: clean (reject impossible, duplicate, late and
// future ticks), moving averages (a count window and an optional time window)
// and anomaly detection (volume spikes and price drops, one alert per event).
//
// All state of one symbol lives in a State owned by the single goroutine of
// the partition task, so nothing here locks, and Process allocates nothing
// per tick. Results depend only on the sequence of ticks and their Kafka
// record timestamps, never on the wall clock, so a replay (or a restore from
// State.MarshalBinary) gives bit-identical output.
//
// The package must not do I/O, log, keep metrics or know about Kafka or the
// lake: it turns a tick into a Result and the engine decides what to write.
package operators
