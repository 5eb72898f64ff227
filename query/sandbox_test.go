package query

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tickstream/tickstream/sinks/lake"
)

// TestSandbox runs what a query must not be able to do: read or list files
// outside the lake, write anywhere (inside the lake included), attach
// databases, install or load extensions, change settings or the views.
// Each must fail, leave no file behind, and the views must still answer.
func TestSandbox(t *testing.T) {
	l := copySimLake(t)
	db := openLake(t, l.dir)
	outside := t.TempDir()
	// A real Parquet file outside the lake: reading it must fail for the
	// access rule, not for its format.
	someFile := filepath.Join(l.dir, filepath.FromSlash(l.files[0].Key))
	if err := os.WriteFile(filepath.Join(outside, "copy.parquet"), mustRead(t, someFile), 0o644); err != nil {
		t.Fatal(err)
	}
	// A database export an IMPORT DATABASE would run, inside the lake.
	evil := filepath.Join(l.dir, "evil")
	if err := os.MkdirAll(evil, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(evil, "schema.sql"), []byte("COPY (SELECT 1) TO '"+filepath.Join(l.dir, "pwned.csv")+"';\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(evil, "load.sql"), nil, 0o644); err != nil {
		t.Fatal(err)
	}

	r := strings.NewReplacer("LAKE", l.dir, "OUT", outside)
	f := func(sql, wantErr string) {
		t.Helper()
		sql = r.Replace(sql)
		var c collect
		_, err := db.Query(context.Background(), sql, 0, &c)
		if err == nil {
			t.Errorf("%s: ran, returned %v", sql, c.rows)
			return
		}
		if !strings.Contains(err.Error(), wantErr) {
			t.Errorf("%s: error %q, want one containing %q", sql, err, wantErr)
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error spans lines: %q", sql, err)
		}
	}
	const denied, notSelect = "Permission Error", "only a single SELECT runs here"
	f(`SELECT * FROM read_csv('/etc/passwd')`, denied)
	f(`SELECT * FROM read_text('/etc/hostname')`, denied)
	f(`SELECT * FROM read_blob('/proc/self/environ')`, denied)
	f(`SELECT * FROM glob('/etc/*')`, denied)
	f(`SELECT count(*) FROM read_parquet('OUT/copy.parquet')`, denied)
	f(`SELECT * FROM read_csv('LAKE/../../../../etc/passwd')`, denied)
	f(`SELECT * FROM query('COPY (SELECT 1) TO ''LAKE/q.csv''')`, "single SELECT")
	f(`COPY (SELECT 1) TO 'OUT/x.csv'`, "")
	f(`COPY (SELECT 1) TO 'LAKE/x.csv'`, notSelect)
	f(`COPY processed TO 'LAKE/y.parquet'`, notSelect)
	f(`EXPORT DATABASE 'LAKE/export'`, notSelect)
	f(`IMPORT DATABASE 'LAKE/evil'`, "")
	f(`SELECT 1; COPY (SELECT 1) TO 'LAKE/z.csv'`, notSelect)
	f(`SELECT 1; SELECT 2`, "one SELECT statement at a time")
	f(`ATTACH ':memory:' AS m`, notSelect)
	f(`ATTACH 'OUT/new.duckdb' AS m`, "")
	f(`INSTALL httpfs`, notSelect)
	f(`LOAD httpfs`, notSelect)
	f(`LOAD 'OUT/x.duckdb_extension'`, notSelect)
	f(`SET enable_external_access = true`, notSelect)
	f(`RESET allowed_directories`, notSelect)
	f(`PRAGMA enable_profiling`, notSelect)
	f(`CREATE TABLE t AS SELECT 1`, notSelect)
	f(`CREATE OR REPLACE VIEW processed AS SELECT 1 AS x`, notSelect)
	f(`DROP VIEW processed`, notSelect)
	f(`EXPLAIN ANALYZE COPY (SELECT 1) TO 'LAKE/e.csv'`, notSelect)
	f(`CALL pragma_version()`, notSelect)
	f(`SELECT $1`, "parameters")
	f(`   `, "empty")

	for _, name := range []string{"pwned.csv", "x.csv", "y.parquet", "z.csv", "q.csv", "e.csv", "export"} {
		if _, err := os.Stat(filepath.Join(l.dir, name)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s exists in the lake after the sandbox test (err %v)", name, err)
		}
	}
	for _, name := range []string{"x.csv", "new.duckdb"} {
		if _, err := os.Stat(filepath.Join(outside, name)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s exists outside the lake after the sandbox test (err %v)", name, err)
		}
	}
	got := run(t, db, `SELECT count(*) FROM processed`)
	if got.rows[0][0] != int64(len(l.proc)) {
		t.Errorf("processed has %v rows after the sandbox test, want %d", got.rows[0][0], len(l.proc))
	}
	// Reading the lake's own files directly is allowed: that is the point.
	got = run(t, db, `SELECT count(*) FROM read_parquet('`+someFile+`')`)
	if got.rows[0][0] != l.files[0].Rows {
		t.Errorf("direct read of %s: %v rows, want %d", someFile, got.rows[0][0], l.files[0].Rows)
	}
}

// TestSkipsInFlightAndStrayFiles puts what a reader must ignore into the
// lake: an upload in progress (a name starting with '.'), a hidden folder,
// and Parquet files outside the date=/hour= layout, all of them garbage.
func TestSkipsInFlightAndStrayFiles(t *testing.T) {
	l := copySimLake(t)
	hour := filepath.Dir(filepath.Join(l.dir, filepath.FromSlash(l.files[0].Key)))
	table := filepath.Dir(filepath.Dir(hour))
	garbage := []byte("PAR1 not really parquet PAR1")
	for _, p := range []string{
		filepath.Join(hour, ".ticks+0+00000000000000000000-00000000000000000009.parquet"),
		filepath.Join(hour, ".ticks+0+00000000000000000000-00000000000000000009.parquet.123.tmp"),
		filepath.Join(table, ".spool", "date=2026-11-24", "hour=00", "x.parquet"),
		filepath.Join(table, "stray.parquet"),
		filepath.Join(table, "date=2026-11-24", "y.parquet"),
		filepath.Join(hour, "notes.txt"),
	} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, garbage, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	db := openLake(t, l.dir)
	for table, n := range map[string]int{"raw": len(l.raw), "processed": len(l.proc), "alerts": len(l.alerts), "predictions": len(l.preds)} {
		got := run(t, db, "SELECT count(*), sum(kafka_offset) FROM "+table)
		if got.rows[0][0] != int64(n) {
			t.Errorf("%s: %v rows, want %d", table, got.rows[0][0], n)
		}
	}
}

// The search for a broken file finds none in a sound lake: both of its
// checks run on every file without error.
func TestFindBrokenSoundLake(t *testing.T) {
	l := sharedSimLake(t)
	db := openLake(t, l.dir)
	bad, err := db.findBroken(context.Background(), []string{"raw", "processed", "alerts", "predictions"})
	if bad != "" || err != nil {
		t.Errorf("findBroken = %q, %v on a sound lake", bad, err)
	}
}

// TestCorruptFile puts a truncated copy of a real file, and one with a
// garbled footer, into the lake, in the middle of a table and as its first
// file (the one DuckDB takes the columns from): the error must name the
// file, on one line, and the other tables must still answer.
func TestCorruptFile(t *testing.T) {
	l := copySimLake(t)
	var src string
	for _, fl := range l.files {
		if fl.Table == lake.TableAlerts {
			src = filepath.Join(l.dir, filepath.FromSlash(fl.Key))
		}
	}
	body := mustRead(t, src)
	garbled := append([]byte(nil), body...)
	for i := len(garbled) - 200; i < len(garbled)-8; i++ {
		garbled[i] ^= 0x5a
	}
	header := append([]byte(nil), body...) // the first page header: only a full read finds it
	for i := 100; i < 164; i++ {
		header[i] ^= 0x5a
	}
	middle := filepath.Dir(src)
	first := filepath.Join(l.dir, "alerts", "date=2000-01-01", "hour=00")
	const full, count = "SELECT symbol, sum(observed) FROM alerts GROUP BY symbol", "SELECT count(*) FROM alerts"
	f := func(dir, name string, data []byte, queries ...string) {
		t.Helper()
		bad := filepath.Join(dir, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(bad, data, 0o644); err != nil {
			t.Fatal(err)
		}
		defer os.Remove(bad)
		db := openLake(t, l.dir)
		for _, sql := range queries {
			_, err := db.Query(context.Background(), sql, 0, &collect{})
			if err == nil {
				t.Fatalf("%s: %s over a corrupt file succeeded", bad, sql)
			}
			if !strings.Contains(err.Error(), bad) || strings.Contains(err.Error(), "\n") {
				t.Errorf("%s: error %q does not name the file on one line", bad, err)
			}
		}
		if n := run(t, db, "SELECT count(*) FROM processed").rows[0][0]; n != int64(len(l.proc)) {
			t.Errorf("%s: processed has %v rows, want %d", bad, n, len(l.proc))
		}
	}
	for _, dir := range []string{middle, first} {
		f(dir, "ticks+9+00000000000000000000-00000000000000000001.parquet", body[:len(body)/2], full, count)
		f(dir, "ticks+9+00000000000000000002-00000000000000000003.parquet", body[:3], full, count)
		f(dir, "ticks+9+00000000000000000004-00000000000000000005.parquet", garbled, full, count)
	}
	// count(*) reads footers only, so it does not notice a broken page.
	f(middle, "ticks+9+00000000000000000006-00000000000000000007.parquet", header, full)
}
