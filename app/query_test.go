package app

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tickstream/tickstream/config"
	"github.com/tickstream/tickstream/internal/testkit"
	"github.com/tickstream/tickstream/sinks/lake"
)

// writeLake commits n processed rows, a second apart, and returns the lake
// directory and the file written.
func writeLake(t *testing.T, n int) (string, string) {
	t.Helper()
	dir, w := testkit.LakeWriter(t)
	ts := time.Date(2026, 11, 24, 15, 0, 0, 0, time.UTC).UnixMilli()
	for i := range n {
		w.Processed(&lake.ProcessedRow{Symbol: "AAPL", TS: ts + int64(i)*1000, Price: float64(100 + i), Volume: 1, KafkaOffset: int64(i)})
	}
	files, err := w.Flush(context.Background())
	if err != nil || len(files) != 1 {
		t.Fatalf("flush: %v, %d files", err, len(files))
	}
	return dir, filepath.Join(dir, filepath.FromSlash(files[0].Key))
}

func TestQueryCommand(t *testing.T) {
	dir, _ := writeLake(t, 5)
	f := func(sql, stdin, format string, limit int, wantOut, wantErrOut string) {
		t.Helper()
		var out, errOut bytes.Buffer
		if err := runQuery(context.Background(), dir, sql, format, limit, strings.NewReader(stdin), &out, &errOut); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		if out.String() != wantOut || errOut.String() != wantErrOut {
			t.Errorf("%s as %s, limit %d:\nstdout %q\nstderr %q\nwant %q and %q", sql, format, limit, out.String(), errOut.String(), wantOut, wantErrOut)
		}
	}
	const q = `SELECT price, "hour" FROM processed ORDER BY ts`
	f(q, "", "csv", 0, "price,hour\n100,15\n101,15\n102,15\n103,15\n104,15\n", "")
	f(q, "", "csv", 2, "price,hour\n100,15\n101,15\n", "tickstream query: printed the first 2 rows; --limit 0 prints all\n")
	f("-", q, "json", 1, `{"price":100,"hour":"15"}`+"\n", "tickstream query: printed the first 1 rows; --limit 0 prints all\n")
	f("-", "SELECT count(*) AS n FROM processed", "table", 1000, "n\n-\n5\n(1 row)\n", "")
	f(q, "", "table", 1, "price  hour\n-----  ----\n  100  15\n(first 1 rows; the row limit left out the rest)\n", "")
}

func TestQueryCommandErrors(t *testing.T) {
	dir, file := writeLake(t, 5)
	f := func(lakeURL, sql, format string, limit int, wantErr string) {
		t.Helper()
		var out bytes.Buffer
		err := runQuery(context.Background(), lakeURL, sql, format, limit, strings.NewReader(""), &out, &out)
		if err == nil || !strings.Contains(err.Error(), wantErr) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s %s: error %v, want one line containing %q", lakeURL, sql, err, wantErr)
		}
	}
	f(dir, "SELECT 1", "xml", 0, "--format: unknown format")
	f(dir, "SELECT 1", "csv", -1, "--limit -1")
	f(dir, "-", "csv", 0, "empty SQL")
	f(dir, "DELETE FROM processed", "csv", 0, "only a single SELECT")
	f("s3://bucket/lake", "SELECT 1", "csv", 0, "Athena")
	f(filepath.Join(dir, "nope"), "SELECT 1", "csv", 0, "does not exist")

	// A truncated file: the message names it.
	body, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, body[:len(body)-20], 0o644); err != nil {
		t.Fatal(err)
	}
	f(dir, "SELECT avg(price) FROM processed", "table", 0, file)
}

func TestAthenaCommand(t *testing.T) {
	f := func(lakeURL, location, wantErr, wantLocation string) {
		t.Helper()
		cfg := config.Default()
		cfg.Lake.URL = lakeURL
		var out bytes.Buffer
		err := printDDL(&out, cfg, location, "ticks")
		if wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), wantErr) {
				t.Errorf("lake %s, --location %q: error %v, want %q", lakeURL, location, err, wantErr)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), "LOCATION '"+wantLocation+"processed/'") || !strings.Contains(out.String(), "`ticks`.`alerts`") {
			t.Errorf("lake %s, --location %q: DDL without LOCATION %s:\n%s", lakeURL, location, wantLocation, out.String())
		}
	}
	f("s3://bucket/lake", "", "", "s3://bucket/lake/")
	f("./data", "s3://other/prefix/", "", "s3://other/prefix/")
	f("s3://bucket/lake", "s3://other", "", "s3://other/")
	f("./data", "", "give --location", "")
	f("./data", "./data", "want s3://", "")
}
