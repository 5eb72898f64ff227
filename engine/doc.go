// Package engine runs tickstream's stream: a Kafka consumer group whose
// assigned partitions each get one task, a goroutine that owns the state of
// that partition's symbols, runs the operators (and, when models are served,
// the predictor) on every record and writes the lake. Offsets are committed
// only after the lake holds everything they cover.
//
// The engine does not know where ticks come from (feeds/) nor how rows are
// encoded (sinks/); it wires Kafka to operators to sinks and decides when data
// is durable.
package engine
