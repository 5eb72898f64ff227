// Package query runs SQL over a local copy of tickstream's lake with DuckDB
// (linked in through cgo, with its Parquet reader: nothing is downloaded).
//
// Open registers one view per lake table (raw, processed, alerts,
// predictions) over the table's committed Parquet files with Hive
// partitioning, so "date" and "hour" are columns (strings, as in Athena).
// In-progress uploads (names starting with '.') and files outside
// date=…/hour=… folders are not part of a table. A table with no files yet
// is an empty view with the right columns.
//
// The connection is read-only and confined to the lake: only single SELECT
// statements run (no COPY, ATTACH, INSTALL, LOAD, SET, CREATE …), file
// access outside the lake directory is disabled, extensions are neither
// installed nor loaded, and the configuration is locked before any user SQL
// runs. Errors are DuckDB's, on one line; a corrupt or truncated Parquet file
// is named in the error.
//
// The package must not write to the lake or read anything outside it, and
// must not reach the network: an s3:// lake is refused with a hint (query it
// with Athena, or sync it to a local directory first).
package query
