// Package lake writes tickstream's rows to a Hive-partitioned Parquet lake,
//
//	<lake>/<table>/date=YYYY-MM-DD/hour=HH/<topic>+<partition>+<minOffset>-<maxOffset>.parquet
//
// for the raw, processed, alerts and predictions tables, partitioned by the
// event time of each row (UTC), and commits finished files through a small BlobStore: a
// local directory (LocalStore) or an S3 bucket and prefix (S3Store).
//
// One PartitionWriter serves one Kafka partition and is owned by that
// partition's goroutine: it takes no locks. It buffers rows in small reused
// batches, encodes them into spool files on local disk, and on Flush puts each
// finished file into the store whole.
//
// The package must not talk to Kafka, commit offsets or decide when to flush:
// the engine does that, and may commit offsets only after Flush returned nil.
// It must not know how rows are computed either; rows arrive ready to store.
package lake
