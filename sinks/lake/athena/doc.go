// Package athena describes tickstream's lake in SQL: the CREATE EXTERNAL
// TABLE statements that let Amazon Athena (engine v3) query the lake's
// tables (raw, processed, alerts, predictions) in place, the column list of
// each table as SQL types, and the example queries the README shows.
//
// Columns are derived from the Parquet schema of the lake's row types, the
// same schema the writer puts in every file, so the DDL cannot drift from
// the files. Partitions are found by partition projection, so no MSCK
// REPAIR TABLE or Glue crawler is needed.
//
// The package must not talk to AWS or open the lake: it only prints SQL.
package athena
