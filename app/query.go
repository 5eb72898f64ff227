package app

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/tickstream/tickstream/config"
	"github.com/tickstream/tickstream/query"
)

// QueryFlags declares `tickstream query`'s flags and returns the command:
// one SELECT over a view per lake table (raw, processed, alerts, predictions), the SQL given
// as the argument after the flags, or "-" to read it from stdin.
func QueryFlags(fs *flag.FlagSet) func(context.Context, *config.Config) error {
	format := fs.String("format", "table", "output: table (aligned), csv, or json (one object per line)")
	limit := fs.Int("limit", 1000, "print at most this many rows (0 = all)")
	lakeURL := fs.String("lake", "", "local lake directory or file:// URL (default lake.url)")
	return func(ctx context.Context, cfg *config.Config) error {
		args := fs.Args()
		if len(args) != 1 {
			return fmt.Errorf("want one SQL argument after the flags (or - to read it from stdin), got %d", len(args))
		}
		url := cfg.Lake.URL
		if *lakeURL != "" {
			url = *lakeURL
		}
		return runQuery(ctx, url, args[0], *format, *limit, os.Stdin, os.Stdout, os.Stderr)
	}
}

// runQuery is the command with its streams passed in, for tests.
func runQuery(ctx context.Context, lakeURL, sql, format string, limit int, stdin io.Reader, stdout, stderr io.Writer) error {
	if sql == "-" {
		b, err := io.ReadAll(stdin)
		if err != nil {
			return fmt.Errorf("read SQL from stdin: %w", err)
		}
		sql = string(b)
	}
	if strings.TrimSpace(sql) == "" {
		return errors.New("empty SQL")
	}
	if limit < 0 {
		return fmt.Errorf("--limit %d: want 0 (all) or more", limit)
	}
	out := bufio.NewWriterSize(stdout, 64<<10)
	w, err := query.NewWriter(format, out)
	if err != nil {
		return fmt.Errorf("--format: %w", err)
	}
	db, err := query.Open(ctx, lakeURL)
	if err != nil {
		return err
	}
	defer db.Close()
	sum, err := db.Query(ctx, sql, limit, w)
	if ferr := out.Flush(); err == nil && ferr != nil {
		err = fmt.Errorf("write output: %w", ferr)
	}
	if err != nil {
		return err
	}
	// The table says so in its footer; CSV and JSON must stay clean data.
	if sum.Truncated && format != "table" {
		fmt.Fprintf(stderr, "tickstream query: printed the first %d rows; --limit 0 prints all\n", sum.Rows)
	}
	return nil
}
