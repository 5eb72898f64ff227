// Package feeds is the home of tickstream's tick sources: the programs that
// put ticks on the Kafka input topic. It holds no code itself; each source is
// a subpackage:
//
//   - sim: a deterministic market simulator with planted anomalies, used as
//     the default feed with the embedded broker and as ground truth in tests.
//
// A feed only writes ticks in the input contract of package tick to Kafka;
// it must not depend on the engine, the operators or the sinks.
package feeds
