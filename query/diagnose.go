package query

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// explain makes a failed query's error one line and, when DuckDB failed
// reading data without saying which file (a garbled Parquet footer or page
// header gives only "don't know what type"), finds the file.
func (d *DB) explain(ctx context.Context, err error, tables []string) error {
	var de *duckdb.Error
	if !errors.As(err, &de) || !readFailure(de.Type) || strings.Contains(de.Msg, d.dir) || ctx.Err() != nil {
		return oneLine(err)
	}
	if bad, ferr := d.findBroken(ctx, tables); bad != "" {
		return fmt.Errorf("%s: %w", bad, oneLine(ferr))
	}
	return oneLine(err)
}

// readFailure reports whether an error type can come from reading a bad
// file, as opposed to a mistake in the SQL.
func readFailure(t duckdb.ErrorType) bool {
	switch t {
	case duckdb.ErrorTypeInvalid, duckdb.ErrorTypeInvalidInput, duckdb.ErrorTypeIO,
		duckdb.ErrorTypeSerialization, duckdb.ErrorTypeInternal, duckdb.ErrorTypeNotImplemented,
		duckdb.ErrorTypeUnknownType:
		return true
	}
	return false
}

// findBroken reads the files of tables one at a time, footers first (cheap),
// then every column of every row, and returns the first file that fails
// with its error; "" when all read. It runs only after a query failed.
func (d *DB) findBroken(ctx context.Context, tables []string) (string, error) {
	for _, check := range []string{
		"SELECT count(*) FROM read_parquet($1)",
		"SELECT max(hash(t)) FROM read_parquet($1) t", // hashing the row reads all columns
	} {
		for _, table := range tables {
			for _, f := range d.files[table] {
				if ctx.Err() != nil {
					return "", nil
				}
				rs, err := d.conn.QueryContext(ctx, check, []driver.NamedValue{{Ordinal: 1, Value: f}})
				if err == nil {
					v := make([]driver.Value, 1)
					err = rs.Next(v)
					_ = rs.Close()
				}
				if err != nil {
					return f, err
				}
			}
		}
	}
	return "", nil
}
