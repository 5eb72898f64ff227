package query

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// Column is one result column: its name and DuckDB type (e.g. "VARCHAR",
// "DOUBLE", "TIMESTAMPTZ").
type Column struct {
	Name string
	Type string
}

// Writer receives a result: Header once, Row per row, End once. Row's
// values are DuckDB's Go values (nil for NULL, string, float64, int64,
// time.Time, bool, …); the slice is reused, so copy what must outlive the
// call.
type Writer interface {
	Header(cols []Column) error
	Row(vals []driver.Value) error
	// End is called after the last row; truncated says rows were left out
	// because the limit was reached.
	End(truncated bool) error
}

// Summary says how much of a result was written.
type Summary struct {
	Rows      int
	Truncated bool // more rows existed than the limit let through
}

// errNotSelect is what every statement but a single SELECT gets.
var errNotSelect = errors.New("only a single SELECT runs here; the lake is read-only (COPY, ATTACH, SET, PRAGMA, INSTALL, CREATE … are refused)")

// Query runs one SELECT statement and writes at most limit rows of its
// result to out (limit 0: all). DESCRIBE, SUMMARIZE and SHOW, which DuckDB
// parses as SELECTs, run too. Anything else is refused before DuckDB
// prepares it: preparing is not harmless (EXPORT DATABASE creates its
// directory then).
func (d *DB) Query(ctx context.Context, sql string, limit int, out Writer) (Summary, error) {
	var sum Summary
	if d.conn == nil {
		return sum, errors.New("query: DB is closed")
	}
	if limit < 0 {
		return sum, fmt.Errorf("negative row limit %d", limit)
	}
	if strings.TrimSpace(sql) == "" {
		return sum, errors.New("empty SQL")
	}
	tables, err := d.parse(ctx, sql)
	if err != nil {
		return sum, err
	}
	// Prepare, unlike PrepareContext, refuses more than one statement
	// instead of executing all but the last.
	st, err := d.conn.Prepare(sql)
	if err != nil {
		return sum, d.explain(ctx, err, tables)
	}
	stmt := st.(*duckdb.Stmt)
	defer stmt.Close()
	if typ, err := stmt.StatementType(); err != nil || typ != duckdb.STATEMENT_TYPE_SELECT {
		return sum, errNotSelect // the parser said SELECT; belt and braces
	}
	if stmt.NumInput() != 0 {
		return sum, errors.New("the SQL has parameters ($1, ?), which the command line cannot bind")
	}

	rs, err := stmt.QueryContext(ctx, nil)
	if err != nil {
		return sum, d.explain(ctx, err, tables)
	}
	defer rs.Close()
	names := rs.Columns()
	cols := make([]Column, len(names))
	typed, _ := rs.(driver.RowsColumnTypeDatabaseTypeName)
	for i, n := range names {
		cols[i].Name = n
		if typed != nil {
			cols[i].Type = typed.ColumnTypeDatabaseTypeName(i)
		}
	}
	if err := out.Header(cols); err != nil {
		return sum, err
	}
	vals := make([]driver.Value, len(cols))
	for {
		err := rs.Next(vals)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return sum, d.explain(ctx, err, tables)
		}
		if limit > 0 && sum.Rows == limit {
			sum.Truncated = true
			break
		}
		if err := out.Row(vals); err != nil {
			return sum, err
		}
		sum.Rows++
	}
	return sum, out.End(sum.Truncated)
}

// parse checks, with DuckDB's parser alone (json_serialize_sql serializes
// SELECT statements only), that sql is exactly one SELECT, and returns the
// lake tables it names.
func (d *DB) parse(ctx context.Context, sql string) ([]string, error) {
	if strings.ContainsRune(sql, 0) {
		return nil, errors.New("NUL byte in SQL")
	}
	// json_serialize_sql takes a constant only: the SQL goes in as a
	// string literal, which quote makes safe (no backslash escapes in
	// DuckDB's standard strings).
	rs, err := d.conn.QueryContext(ctx, "SELECT CAST(json_serialize_sql("+quote(sql)+") AS VARCHAR)", nil)
	if err != nil {
		return nil, fmt.Errorf("query: parse: %w", oneLine(err))
	}
	defer rs.Close()
	v := make([]driver.Value, 1)
	if err := rs.Next(v); err != nil {
		return nil, fmt.Errorf("query: parse: %w", oneLine(err))
	}
	s, _ := v[0].(string)
	var p struct {
		Error        bool              `json:"error"`
		ErrorType    string            `json:"error_type"`
		ErrorMessage string            `json:"error_message"`
		Statements   []json.RawMessage `json:"statements"`
	}
	if err := json.Unmarshal([]byte(s), &p); err != nil {
		return nil, fmt.Errorf("query: parse: %w", err)
	}
	switch {
	case p.Error && p.ErrorType == "parser":
		return nil, lineError{fmt.Errorf("Parser Error: %s", p.ErrorMessage)}
	case p.Error:
		return nil, errNotSelect
	case len(p.Statements) != 1:
		return nil, errors.New("one SELECT statement at a time")
	}
	var tree any
	if err := json.Unmarshal(p.Statements[0], &tree); err != nil {
		return nil, fmt.Errorf("query: parse: %w", err)
	}
	var tables []string
	walkTables(tree, func(name string) {
		if _, ok := d.files[name]; ok && !slices.Contains(tables, name) {
			tables = append(tables, name)
		}
	})
	return tables, nil
}

// walkTables calls fn with the name of every base table the parse tree
// refers to (CTE names too; the caller keeps the lake's).
func walkTables(n any, fn func(string)) {
	switch x := n.(type) {
	case map[string]any:
		if x["type"] == "BASE_TABLE" {
			if name, ok := x["table_name"].(string); ok {
				fn(name)
			}
		}
		for _, v := range x {
			walkTables(v, fn)
		}
	case []any:
		for _, v := range x {
			walkTables(v, fn)
		}
	}
}

// lineError is an error shown by its first line only: DuckDB appends the
// query with a caret, which does not fit a one-line command-line error.
type lineError struct{ err error }

func (e lineError) Error() string {
	msg := strings.TrimSpace(e.err.Error())
	first, _, _ := strings.Cut(msg, "\n")
	return strings.TrimSpace(first)
}

func (e lineError) Unwrap() error { return e.err }

func oneLine(err error) error {
	if err == nil {
		return nil
	}
	return lineError{err}
}
