// Package replay produces recorded ticks into Kafka in event-time order, at
// their original pace, faster, or as fast as possible: for backtests and
// demos.
//
// Sources are a CSV file (header, then symbol,ts,price,volume[,bid,ask]) or
// the Parquet lake: a lake root (its processed table, else its raw one), a
// table directory (raw: accepted rows only; processed), or single Parquet
// files. Lake files are read in event-time hours (the lake's
// date=/hour= folders hold exactly an hour's rows each), and within an hour
// all files are merged with a k-way merge, so memory holds one batch per
// open file, not the lake. Within one file rows are in offset order, which
// is event-time order up to the engine's allowed lateness; a small sorting
// window per file (Options.Window rows) puts such rows back in order, and a
// row later than the window can fix is produced anyway and counted.
//
// Every row is checked against the input contract (produce.Check): a row
// that breaks it is counted, logged (throttled, truncated) and skipped,
// never produced. It must not change what it replays: no re-timing, no
// de-duplication, no filtering beyond that check (and the raw table's
// rejected rows, which were never ticks).
package replay
