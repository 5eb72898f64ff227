// Package feeds is the home of tickstream's tick sources: the programs that
// put ticks on the Kafka input topic. It holds no code itself; each source or
// shared piece is a subpackage:
//
//   - sim: a deterministic market simulator with planted anomalies, used as
//     the default feed with the embedded broker and as ground truth in tests;
//   - yahoo, alphavantage: market-data providers, polled by poll;
//   - poll: the scheduler every polled provider shares (plan, spread, rate
//     limit, back-off, de-duplication, stale flags);
//   - replay: recorded ticks (CSV or the Parquet lake) in event-time order;
//   - produce: the Kafka end of every real feed, and the last check that a
//     tick keeps the input contract;
//   - feedstats: per-provider counters under their future Prometheus names.
//
// A feed only writes ticks in the input contract of package tick to Kafka;
// it must not depend on the engine, the operators or the sinks (replay reads
// the lake's row types, nothing more).
package feeds
