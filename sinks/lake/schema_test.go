package lake

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"text/tabwriter"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/format"

	"github.com/tickstream/tickstream/models"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// writeSample commits one flush of all four tables and returns the files.
func writeSample(t *testing.T, compression string) (*LocalStore, []File, []RawRow, []ProcessedRow, []AlertRow, []models.PredictionRow) {
	t.Helper()
	store := newTestStore(t)
	w, err := NewPartitionWriter(store, Options{Topic: testTopic, Partition: testPartition, Compression: compression, SpoolDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	raw, proc, alerts, preds := genRaw(3000, 0, t0), genProcessed(3000, 0, t0), genAlerts(20, 0, t0), genPredictions(2000, 0, t0)
	feed(w, raw, proc, alerts)
	feedPredictions(w, preds)
	files, err := w.Flush(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return store, files, raw, proc, alerts, preds
}

// firstFile returns the first committed file of a table.
func firstFile(t *testing.T, files []File, table string) File {
	t.Helper()
	for _, f := range files {
		if f.Table == table {
			return f
		}
	}
	t.Fatalf("no %s file", table)
	return File{}
}

var convertedNames = map[deprecated.ConvertedType]string{
	deprecated.UTF8: "UTF8", deprecated.Date: "DATE",
	deprecated.TimeMillis: "TIME_MILLIS", deprecated.TimeMicros: "TIME_MICROS",
	deprecated.TimestampMillis: "TIMESTAMP_MILLIS", deprecated.TimestampMicros: "TIMESTAMP_MICROS",
	deprecated.Int8: "INT_8", deprecated.Int16: "INT_16", deprecated.Int32: "INT_32", deprecated.Int64: "INT_64",
}

// describeFooter prints a file's schema as its footer records it: every
// schema element, then the first row group's column chunks.
func describeFooter(f *parquet.File) string {
	var sb strings.Builder
	md := f.Metadata()
	tw := tabwriter.NewWriter(&sb, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "root %s\n", md.Schema[0].Name)
	fmt.Fprintln(tw, "column\ttype\trepetition\tlogical\tconverted")
	for _, e := range md.Schema[1:] {
		typ, rep, conv := "group", "", ""
		if v, ok := e.Type.Get(); ok {
			typ = v.String()
		}
		if v, ok := e.RepetitionType.Get(); ok {
			rep = v.String()
		}
		if v, ok := e.ConvertedType.Get(); ok {
			conv = convertedNames[v]
			if conv == "" {
				conv = fmt.Sprintf("converted(%d)", v)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.Name, typ, rep, e.LogicalType.String(), conv)
	}
	fmt.Fprintln(tw, "\nchunk path\tcodec\tencodings")
	for _, c := range md.RowGroups[0].Columns {
		var encs []string
		for _, e := range c.MetaData.Encoding {
			encs = append(encs, e.String())
		}
		slices.Sort(encs)
		fmt.Fprintf(tw, "%s\t%s\t%s\n", strings.Join(c.MetaData.PathInSchema, "."), c.MetaData.Codec, strings.Join(encs, ","))
	}
	_ = tw.Flush()
	// tabwriter pads empty last cells; golden files keep no trailing blanks.
	lines := strings.Split(sb.String(), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n")
}

func TestSchemaGolden(t *testing.T) {
	store, files, _, _, _, _ := writeSample(t, "zstd")
	for _, table := range []string{TableRaw, TableProcessed, TableAlerts, TablePredictions} {
		got := describeFooter(openParquet(t, store, firstFile(t, files, table).Key))
		path := filepath.Join("testdata", table+".schema.golden")
		if *update {
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -update to create it)", err)
		}
		if got != string(want) {
			t.Errorf("%s schema changed; if intended, run go test -update\ngot:\n%s\nwant:\n%s", table, got, want)
		}
	}
}

// TestSchemaForAthena checks what Athena needs, from the written footers,
// for both codecs: INT64 TIMESTAMP(MILLIS, UTC) with the legacy converted
// type on every timestamp column, no INT96 or NANOS anywhere, the optional
// columns exactly those that may be NULL, dictionaries on the low-cardinality
// strings, and path_in_schema naming each column.
func TestSchemaForAthena(t *testing.T) {
	type spec struct {
		timestamps, optional, dict []string
	}
	specs := map[string]spec{
		TableRaw:         {[]string{"kafka_ts", "ts"}, []string{"ask", "bid", "ts"}, []string{"reject_reason", "symbol"}},
		TableProcessed:   {[]string{"ts"}, []string{"ask", "bid", "ma_time"}, []string{"symbol"}},
		TableAlerts:      {[]string{"ts"}, nil, []string{"kind", "rule", "symbol"}},
		TablePredictions: {[]string{"ts"}, nil, []string{"horizon", "model", "model_version", "symbol"}},
	}
	for _, compression := range []string{"zstd", "snappy"} {
		wantCodec := map[string]format.CompressionCodec{"zstd": format.Zstd, "snappy": format.Snappy}[compression]
		store, files, _, _, _, _ := writeSample(t, compression)
		for table, want := range specs {
			key := firstFile(t, files, table).Key
			md := openParquet(t, store, key).Metadata()
			var timestamps, optional []string
			for _, e := range md.Schema[1:] {
				if typ, _ := e.Type.Get(); typ == format.Int96 {
					t.Errorf("%s: %s is INT96", key, e.Name)
				}
				if rep, _ := e.RepetitionType.Get(); rep == format.Optional {
					optional = append(optional, e.Name)
				}
				ts, ok := e.LogicalType.Value.(*format.TimestampType)
				if !ok {
					continue
				}
				timestamps = append(timestamps, e.Name)
				typ, _ := e.Type.Get()
				conv, hasConv := e.ConvertedType.Get()
				_, millis := ts.Unit.Value.(*format.MilliSeconds)
				if typ != format.Int64 || !millis || !ts.IsAdjustedToUTC || !hasConv || conv != deprecated.TimestampMillis {
					t.Errorf("%s: %s is %s %s converted=%v/%v; want INT64 TIMESTAMP(MILLIS, isAdjustedToUTC=true), TIMESTAMP_MILLIS",
						key, e.Name, typ, ts, hasConv, conv)
				}
			}
			slices.Sort(timestamps)
			slices.Sort(optional)
			if !slices.Equal(timestamps, want.timestamps) {
				t.Errorf("%s: timestamp columns %v, want %v", key, timestamps, want.timestamps)
			}
			if !slices.Equal(optional, want.optional) {
				t.Errorf("%s: optional columns %v, want %v", key, optional, want.optional)
			}

			leaves := md.Schema[1:]
			for _, rg := range md.RowGroups {
				for i, c := range rg.Columns {
					name := strings.Join(c.MetaData.PathInSchema, ".")
					if name != leaves[i].Name {
						t.Errorf("%s: chunk %d path_in_schema %q, schema says %q", key, i, name, leaves[i].Name)
					}
					if c.MetaData.Codec != wantCodec {
						t.Errorf("%s: %s compressed with %s, want %s", key, name, c.MetaData.Codec, wantCodec)
					}
					if slices.Contains(want.dict, name) && !slices.Contains(c.MetaData.Encoding, format.RLEDictionary) &&
						!slices.Contains(c.MetaData.Encoding, format.PlainDictionary) {
						t.Errorf("%s: %s not dictionary-encoded: %v", key, name, c.MetaData.Encoding)
					}
				}
			}
		}
	}
}
