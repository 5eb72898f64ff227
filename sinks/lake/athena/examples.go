package athena

import (
	"embed"
	"fmt"
	"io/fs"
	"strings"
)

//go:embed examples/*.sql
var exampleFiles embed.FS

// Example is one of the README's example queries. The same text runs on
// Athena and, through `tickstream query`, on DuckDB: it sticks to functions
// both have (min_by, max_by, date_trunc, round), double-quotes "date" (a
// reserved word in Athena) and compares the partition keys as strings.
type Example struct {
	Name  string // file name without ".sql", e.g. "1_daily_ohlcv"
	Title string // the first line's comment
	SQL   string // the whole file, comments included
}

// Examples returns the example queries in file-name order.
func Examples() ([]Example, error) {
	files, err := fs.Glob(exampleFiles, "examples/*.sql")
	if err != nil {
		return nil, err
	}
	var ex []Example
	for _, f := range files {
		b, err := exampleFiles.ReadFile(f)
		if err != nil {
			return nil, err
		}
		sql := string(b)
		first, _, _ := strings.Cut(sql, "\n")
		title, ok := strings.CutPrefix(first, "-- ")
		if !ok {
			return nil, fmt.Errorf("example %s: first line must be a -- comment", f)
		}
		ex = append(ex, Example{
			Name:  strings.TrimSuffix(strings.TrimPrefix(f, "examples/"), ".sql"),
			Title: title,
			SQL:   sql,
		})
	}
	return ex, nil
}
