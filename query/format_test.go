package query

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tickstream/tickstream/sinks/lake"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// writeSmallLake writes a few hand-picked rows: a NULL bid, booleans, a
// rejected record whose payload has a comma, quotes, a tab, a newline and
// non-ASCII text, and one whose payload is longer than a table cell.
func writeSmallLake(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "lake")
	store, err := lake.NewLocalStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	w, err := lake.NewPartitionWriter(store, lake.Options{Topic: "ticks", Partition: 1, SpoolDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ts := time.Date(2026, 11, 24, 14, 31, 7, 250e6, time.UTC).UnixMilli()
	w.Processed(&lake.ProcessedRow{Symbol: "AAPL", TS: ts, Price: 189.42, Volume: 1200, Bid: 189.41, Ask: 189.43,
		MA: 189.1, MAVolume: 1000.5, MACount: 300, VolumeSpike: false, KafkaOffset: 10})
	w.Processed(&lake.ProcessedRow{Symbol: "BRK.B", TS: ts + 1000, Price: 0.0001, Volume: 25e6,
		MA: 412.3333333333333, MAVolume: 1, MACount: 1, MATime: 412.5, VolumeSpike: true, PriceDrop: true, KafkaOffset: 11})
	w.Raw(&lake.RawRow{Symbol: "AAPL", TS: ts, Price: 189.42, Volume: 1200, Bid: 189.41, Ask: 189.43, KafkaOffset: 10, KafkaTS: ts})
	w.Raw(&lake.RawRow{KafkaOffset: 12, KafkaTS: ts + 2000, RejectReason: "malformed_json",
		Error: `invalid character '}' looking for "value"`, Payload: "{\"symbol\":\"Zoë\",\n\t\"price\": 1,5}"})
	w.Raw(&lake.RawRow{KafkaOffset: 13, KafkaTS: ts + 3000, RejectReason: "too_large",
		Error: "record of 5000 bytes", Payload: strings.Repeat("0123456789", 12)})
	if _, err := w.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestFormatsGolden(t *testing.T) {
	db := openLake(t, writeSmallLake(t))
	queries := map[string]string{
		"processed": `SELECT symbol, ts, price, volume, bid, ma, ma_count, ma_time, volume_spike, price_drop, "date", "hour" FROM processed ORDER BY ts`,
		"raw":       `SELECT kafka_offset, ts, kafka_ts, symbol, reject_reason, error, payload FROM raw ORDER BY kafka_offset`,
		"types": `SELECT [1, 2] AS list, {'a': 1, 'b': 'x'} AS struct, 1.5::DECIMAL(4,2) AS dec, NULL AS nothing,
			'NaN'::DOUBLE AS nan, 1e300 * 10 AS big_double, DATE '2026-11-24' AS day, INTERVAL 90 MINUTE AS iv,
			12345678901234567890::HUGEINT AS huge, TIMESTAMP '2026-11-24 14:00:00.123456' AS naive,
			'<&>'::BLOB AS blob, 1 AS dup, 2 AS dup`,
	}
	for name, sql := range queries {
		for _, format := range Formats {
			var out bytes.Buffer
			w, err := NewWriter(format, &out)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Query(context.Background(), sql, 0, w); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			golden := filepath.Join("testdata", name+"."+format+".golden")
			if *update {
				if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if want := mustRead(t, golden); !bytes.Equal(out.Bytes(), want) {
				t.Errorf("%s differs (go test -update to accept):\n%s", golden, out.Bytes())
			}
			checkParses(t, format, out.Bytes())
		}
	}
}

// checkParses reads CSV and JSON output back with the standard library.
func checkParses(t *testing.T, format string, out []byte) {
	t.Helper()
	switch format {
	case "csv":
		recs, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
		if err != nil || len(recs) < 2 {
			t.Errorf("csv does not read back: %v (%d records)", err, len(recs))
		}
	case "json":
		for _, line := range bytes.Split(bytes.TrimSuffix(out, []byte("\n")), []byte("\n")) {
			var m map[string]any
			if err := json.Unmarshal(line, &m); err != nil {
				t.Errorf("json line %s: %v", line, err)
			}
		}
	}
}

// The payload survives CSV and JSON byte for byte.
func TestPayloadRoundTrip(t *testing.T) {
	db := openLake(t, writeSmallLake(t))
	const sql = `SELECT payload FROM raw WHERE kafka_offset = 12`
	want := "{\"symbol\":\"Zoë\",\n\t\"price\": 1,5}"
	var c, j bytes.Buffer
	for format, buf := range map[string]*bytes.Buffer{"csv": &c, "json": &j} {
		w, _ := NewWriter(format, buf)
		if _, err := db.Query(context.Background(), sql, 0, w); err != nil {
			t.Fatal(err)
		}
	}
	recs, err := csv.NewReader(&c).ReadAll()
	if err != nil || len(recs) != 2 || recs[1][0] != want {
		t.Errorf("csv payload %q (%v), want %q", recs, err, want)
	}
	var m struct{ Payload string }
	if err := json.Unmarshal(j.Bytes(), &m); err != nil || m.Payload != want {
		t.Errorf("json payload %q (%v), want %q", m.Payload, err, want)
	}
}

func TestTableTruncatedFooter(t *testing.T) {
	db := openLake(t, writeSmallLake(t))
	var out bytes.Buffer
	w, _ := NewWriter("table", &out)
	if _, err := db.Query(context.Background(), "SELECT kafka_offset FROM raw ORDER BY 1", 2, w); err != nil {
		t.Fatal(err)
	}
	want := "kafka_offset\n------------\n          10\n          12\n(first 2 rows; the row limit left out the rest)\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
	if _, err := NewWriter("xml", &out); err == nil || !strings.Contains(err.Error(), "table, csv, json") {
		t.Errorf("NewWriter(xml) error %v", err)
	}
}
