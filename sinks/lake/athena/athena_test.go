package athena

import (
	"bufio"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func TestDDLGolden(t *testing.T) {
	got, err := DDL(Options{Location: "s3://my-bucket/tickstream/lake", Database: "tickstream", Compression: "zstd"})
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "athena.ddl.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("DDL differs from %s (run go test -update):\n%s", golden, got)
	}
}

// TestColumnsMatchFiles checks the DDL's columns against the schemas the
// lake package's own golden files record from real file footers, through a
// mapping written out here: a column added to a row type without a DDL
// update, or a type Athena would misread, fails.
func TestColumnsMatchFiles(t *testing.T) {
	athenaType := map[string]string{ // "physical logical" from the footer
		"BYTE_ARRAY STRING":  "string",
		"DOUBLE ":            "double",
		"BOOLEAN ":           "boolean",
		"INT32 INT(32,true)": "int",
		"INT64 INT(64,true)": "bigint",
		"INT64 TIMESTAMP(isAdjustedToUTC=true,unit=MILLIS)": "timestamp",
	}
	ts, err := Tables()
	if err != nil {
		t.Fatal(err)
	}
	// Every table the lake package records a schema for has DDL, and only those.
	goldens, err := filepath.Glob(filepath.Join("..", "testdata", "*.schema.golden"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tb := range ts {
		names = append(names, tb.Name+".schema.golden")
	}
	for _, g := range goldens {
		if !slices.Contains(names, filepath.Base(g)) {
			t.Errorf("%s has no table here", g)
		}
	}
	if len(goldens) != len(ts) {
		t.Errorf("%d tables, %d schema golden files", len(ts), len(goldens))
	}
	for _, tb := range ts {
		f, err := os.Open(filepath.Join("..", "testdata", tb.Name+".schema.golden"))
		if err != nil {
			t.Fatal(err)
		}
		var want []Column
		sc := bufio.NewScanner(f)
		sc.Scan() // "root RawRow"
		sc.Scan() // header
		for sc.Scan() && sc.Text() != "" {
			fields := strings.Fields(sc.Text())
			logical := ""
			if len(fields) > 3 {
				logical = fields[3]
			}
			typ, ok := athenaType[fields[1]+" "+logical]
			if !ok {
				t.Fatalf("%s: column %s: no expected Athena type for %s %s", tb.Name, fields[0], fields[1], logical)
			}
			want = append(want, Column{Name: fields[0], Type: typ})
		}
		f.Close()
		if len(want) == 0 {
			t.Fatalf("%s: no columns read from the schema golden file", tb.Name)
		}
		if len(tb.Columns) != len(want) {
			t.Fatalf("%s: %d columns, the files have %d: %v", tb.Name, len(tb.Columns), len(want), tb.Columns)
		}
		for i := range want {
			if tb.Columns[i] != want[i] {
				t.Errorf("%s column %d: %v, the files say %v", tb.Name, i, tb.Columns[i], want[i])
			}
		}
	}
}

func TestDDLShape(t *testing.T) {
	ddl, err := DDL(Options{Location: "s3://b/p/", Database: "ticks"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"CREATE DATABASE IF NOT EXISTS `ticks`;",
		"CREATE EXTERNAL TABLE IF NOT EXISTS `ticks`.`raw` (",
		"CREATE EXTERNAL TABLE IF NOT EXISTS `ticks`.`processed` (",
		"CREATE EXTERNAL TABLE IF NOT EXISTS `ticks`.`alerts` (",
		"CREATE EXTERNAL TABLE IF NOT EXISTS `ticks`.`predictions` (",
		"PARTITIONED BY (`date` string, `hour` string)",
		"LOCATION 's3://b/p/alerts/'",
		"'storage.location.template'='s3://b/p/processed/date=${date}/hour=${hour}/'",
		"'parquet.compression'='ZSTD'",
	} {
		if !strings.Contains(ddl, want) {
			t.Errorf("DDL lacks %q", want)
		}
	}
	if n := strings.Count(ddl, ";\n"); n != 5 {
		t.Errorf("%d statements, want 5", n)
	}
	// Every column line backticks its name.
	col := regexp.MustCompile("(?m)^  [^'].*$")
	for _, line := range col.FindAllString(ddl, -1) {
		if !regexp.MustCompile("^  `[a-z_]+` [a-z]+,?$").MatchString(line) {
			t.Errorf("column line %q: want  `name` type", line)
		}
	}
}

func TestDDLBadInput(t *testing.T) {
	f := func(o Options, wantErr string) {
		t.Helper()
		_, err := DDL(o)
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("DDL(%+v) error = %v, want one containing %q", o, err, wantErr)
		}
	}
	ok := Options{Location: "s3://b/p", Database: "tickstream"}
	with := func(change func(*Options)) Options { o := ok; change(&o); return o }
	f(with(func(o *Options) { o.Location = "./data" }), "want s3://")
	f(with(func(o *Options) { o.Location = "file:///data" }), "want s3://")
	f(with(func(o *Options) { o.Location = "s3://" }), "no bucket")
	f(with(func(o *Options) { o.Location = "s3:///p" }), "no bucket")
	f(with(func(o *Options) { o.Location = "s3://b/it's" }), "quote")
	f(with(func(o *Options) { o.Location = "s3://b/${date}" }), "${")
	f(with(func(o *Options) { o.Location = "s3://b//p" }), "empty path segment")
	f(with(func(o *Options) { o.Database = "" }), "empty")
	f(with(func(o *Options) { o.Database = "Tick" }), "only a-z")
	f(with(func(o *Options) { o.Database = "a-b" }), "only a-z")
	f(with(func(o *Options) { o.Database = "x`y" }), "only a-z")
	f(with(func(o *Options) { o.Database = strings.Repeat("a", 256) }), "255")
	f(with(func(o *Options) { o.Compression = "gzip" }), "want zstd or snappy")
}

func TestDDLLocationForms(t *testing.T) {
	f := func(loc, wantLocation string) {
		t.Helper()
		ddl, err := DDL(Options{Location: loc, Database: "d", Compression: "snappy"})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(ddl, "LOCATION '"+wantLocation+"'") {
			t.Errorf("DDL for %q lacks LOCATION '%s'", loc, wantLocation)
		}
		if !strings.Contains(ddl, "'parquet.compression'='SNAPPY'") {
			t.Errorf("DDL for %q: compression not SNAPPY", loc)
		}
	}
	f("s3://bucket", "s3://bucket/raw/")
	f("s3://bucket/", "s3://bucket/raw/")
	f("s3://bucket/a/b", "s3://bucket/a/b/raw/")
	f("s3://bucket/a/b/", "s3://bucket/a/b/raw/")
}

// The examples must stay portable: no DuckDB-only syntax, and "date" (an
// Athena reserved word) always double-quoted.
func TestExamplesPortable(t *testing.T) {
	ex, err := Examples()
	if err != nil {
		t.Fatal(err)
	}
	if len(ex) != 3 {
		t.Fatalf("%d examples, want 3", len(ex))
	}
	bareDate := regexp.MustCompile(`(^|[^"])\bdate\b([^"]|$)`)
	for _, e := range ex {
		body := regexp.MustCompile(`(?m)^--.*$`).ReplaceAllString(e.SQL, "")
		if e.Title == "" || !strings.Contains(body, "SELECT") {
			t.Errorf("%s: title %q, body %q", e.Name, e.Title, body)
		}
		for _, bad := range []string{"::", "`", "arg_min", "arg_max", ";"} {
			if strings.Contains(body, bad) {
				t.Errorf("%s uses %q, which Athena does not accept", e.Name, bad)
			}
		}
		if m := bareDate.FindString(strings.ReplaceAll(body, "date_trunc", "")); m != "" {
			t.Errorf("%s: unquoted date in %q", e.Name, m)
		}
	}
}
