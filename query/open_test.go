package query

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tickstream/tickstream/internal/testkit"
	"github.com/tickstream/tickstream/sinks/lake"
	"github.com/tickstream/tickstream/sinks/lake/athena"
)

func TestOpenLakeURLs(t *testing.T) {
	dir := t.TempDir()
	lakeDir := filepath.Join(dir, "lake")
	if err := os.Mkdir(lakeDir, 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(lakeDir, link); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	ok := func(url string) {
		t.Helper()
		db, err := Open(context.Background(), url)
		if err != nil {
			t.Fatalf("Open(%q): %v", url, err)
		}
		defer db.Close()
		if db.Dir() != lakeDir {
			t.Errorf("Open(%q).Dir() = %s, want %s", url, db.Dir(), lakeDir)
		}
	}
	bad := func(url, wantErr string) {
		t.Helper()
		db, err := Open(context.Background(), url)
		if err == nil {
			db.Close()
			t.Fatalf("Open(%q) succeeded", url)
		}
		if !strings.Contains(err.Error(), wantErr) {
			t.Errorf("Open(%q) = %q, want an error containing %q", url, err, wantErr)
		}
	}
	ok(lakeDir)
	ok(lakeDir + "/")
	ok("file://" + lakeDir)
	ok("file://localhost" + lakeDir)
	ok(link) // resolved, so DuckDB's directory allowance matches
	bad("", "no lake directory")
	bad("s3://bucket/prefix", "aws s3 sync s3://bucket/prefix ./lake")
	bad("gs://bucket", "unsupported scheme")
	bad("file://host/x", "want file:///absolute/path")
	bad(filepath.Join(dir, "missing"), "does not exist")
	bad(file, "not a directory")
	if _, err := os.Stat(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Error("Open created the missing lake directory")
	}
	if _, err := Open(context.Background(), "s3://b/p"); !errors.Is(err, ErrRemoteLake) {
		t.Errorf("s3 error %v does not match ErrRemoteLake", err)
	}
}

// An empty lake has the three views, empty, with the same columns and
// types as views over real files.
func TestEmptyViewsMatchFileViews(t *testing.T) {
	empty := openLake(t, t.TempDir())
	l := sharedSimLake(t)
	full := openLake(t, l.dir)
	tables, err := athena.Tables()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tables {
		table := tt.Name
		q := "SELECT column_name, column_type FROM (DESCRIBE " + table + ")"
		e, f := run(t, empty, q), run(t, full, q)
		if len(e.rows) == 0 || len(e.rows) != len(f.rows) {
			t.Fatalf("%s: %d columns empty, %d over files", table, len(e.rows), len(f.rows))
		}
		for i := range e.rows {
			if e.rows[i][0] != f.rows[i][0] || e.rows[i][1] != f.rows[i][1] {
				t.Errorf("%s column %d: empty view %v, file view %v", table, i, e.rows[i], f.rows[i])
			}
		}
		if n := run(t, empty, "SELECT count(*) FROM "+table).rows[0][0]; n != int64(0) {
			t.Errorf("%s: empty lake has %v rows", table, n)
		}
	}
}

// Statements DuckDB parses as SELECT run; the session is UTC and locked.
func TestReadOnlyStatementsRun(t *testing.T) {
	l := sharedSimLake(t)
	db := openLake(t, l.dir)
	f := func(sql string, check func(c *collect) bool) {
		t.Helper()
		c := run(t, db, sql)
		if !check(c) {
			t.Errorf("%s: unexpected result %v %v", sql, c.cols, c.rows)
		}
	}
	rows := func(n int) func(*collect) bool { return func(c *collect) bool { return len(c.rows) == n } }
	f("DESCRIBE alerts", rows(11))
	f("SUMMARIZE alerts", rows(11))
	f("SHOW TABLES", rows(4))
	f("FROM processed LIMIT 4", rows(4))
	f("WITH a AS (SELECT symbol FROM alerts) SELECT DISTINCT symbol FROM a ORDER BY 1", func(c *collect) bool { return len(c.rows) > 0 })
	f("SELECT 1;", rows(1))
	f("SELECT current_setting('TimeZone'), current_setting('enable_external_access'), current_setting('lock_configuration')",
		func(c *collect) bool {
			return c.rows[0][0] == "UTC" && c.rows[0][1] == false && c.rows[0][2] == true
		})
	// date_trunc works in UTC: an hour of ts is its folder's hour.
	f(`SELECT count(*) FROM processed WHERE strftime(date_trunc('hour', ts), '%H') <> "hour" OR CAST(ts AS DATE)::VARCHAR <> "date"`,
		func(c *collect) bool { return c.rows[0][0] == int64(0) })
}

func TestLimit(t *testing.T) {
	l := sharedSimLake(t)
	db := openLake(t, l.dir)
	f := func(limit, wantRows int, wantMore bool) {
		t.Helper()
		var c collect
		sum, err := db.Query(context.Background(), "SELECT * FROM alerts ORDER BY ts", limit, &c)
		if err != nil {
			t.Fatal(err)
		}
		if sum.Rows != wantRows || len(c.rows) != wantRows || sum.Truncated != wantMore || c.more != wantMore {
			t.Errorf("limit %d: %+v, %d rows written, truncated %v; want %d rows, truncated %v", limit, sum, len(c.rows), c.more, wantRows, wantMore)
		}
	}
	n := len(l.alerts)
	f(0, n, false)
	f(1, 1, true)
	f(n-1, n-1, true)
	f(n, n, false)
	f(n+1, n, false)
	if _, err := db.Query(context.Background(), "SELECT 1", -1, &collect{}); err == nil {
		t.Error("negative limit accepted")
	}
}

// Errors in the SQL itself come back as DuckDB's message on one line,
// without a search for a broken file.
func TestSQLErrors(t *testing.T) {
	l := sharedSimLake(t)
	db := openLake(t, l.dir)
	f := func(sql, want string) {
		t.Helper()
		start := time.Now()
		_, err := db.Query(context.Background(), sql, 0, &collect{})
		if err == nil || !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %q, want one line starting %q", sql, err, want)
		}
		if el := time.Since(start); el > 2*time.Second {
			t.Errorf("%s: took %v", sql, el)
		}
	}
	f("SELEC 1", `Parser Error: syntax error at or near "SELEC"`)
	f("SELECT nope FROM processed", "Binder Error: Referenced column \"nope\" not found")
	f("SELECT * FROM trades", "Catalog Error: Table with name trades does not exist")
	f("SELECT CAST(symbol AS INTEGER) FROM processed", "Conversion Error")
}

// The lake writer's own File list and the views agree after a second
// flush into an hour that already has files.
func TestFilesPerHour(t *testing.T) {
	dir, w := testkit.LakeWriter(t)
	ts := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC).UnixMilli()
	for i := range int64(10) {
		w.Processed(&lake.ProcessedRow{Symbol: "AAPL", TS: ts + i, Price: float64(i + 1), KafkaOffset: i})
		if i == 4 {
			if _, err := w.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := w.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	db := openLake(t, dir)
	if db.Files("processed") != 2 {
		t.Fatalf("%d processed files, want 2", db.Files("processed"))
	}
	c := run(t, db, `SELECT count(*), sum(price), min("hour"), max("date") FROM processed`)
	if r := c.rows[0]; r[0] != int64(10) || r[1] != 55.0 || r[2] != "09" || r[3] != "2026-11-24" {
		t.Errorf("got %v, want [10 55 09 2026-11-24]", r)
	}
}

// A lake path with a quote in it is quoted right in the views and in the
// directory allowance.
func TestLakePathWithQuote(t *testing.T) {
	src := writeSmallLake(t)
	dir := filepath.Join(t.TempDir(), "it's a \"lake\"")
	if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	db := openLake(t, dir)
	if n := run(t, db, "SELECT count(*) FROM processed").rows[0][0]; n != int64(2) {
		t.Errorf("%v rows, want 2", n)
	}
	if _, err := db.Query(context.Background(), "SELECT * FROM read_csv('/etc/passwd')", 0, &collect{}); err == nil {
		t.Error("sandbox open with a quoted lake path")
	}
}
