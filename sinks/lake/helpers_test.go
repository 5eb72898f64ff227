package lake

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/tickstream/tickstream/models"
)

const (
	testTopic     = "ticks"
	testPartition = int32(3)
	hourMS        = int64(time.Hour / time.Millisecond)
)

// t0 is half an hour before midnight on New Year's Eve (UTC), so an hour of
// rows crosses both an hour and a date boundary.
var t0 = time.Date(2023, 12, 31, 23, 30, 0, 0, time.UTC).UnixMilli()

var testSymbols = []string{"AAPL", "MSFT", "GOOG", "AMZN", "BRK.B", "^GSPC", "EURUSD=X"}

// genRaw returns n raw rows from offset off, 720 ms apart from start (5000
// rows span an hour). Some did not decode (no event time, a Kafka timestamp
// two hours earlier, the payload kept), some were rejected, some lack a quote.
// KafkaPartition is wrong on purpose: the writer must set it.
func genRaw(n int, off, start int64) []RawRow {
	rng := rand.New(rand.NewPCG(1, uint64(off)))
	rows := make([]RawRow, n)
	for i := range rows {
		r := &rows[i]
		r.Symbol = testSymbols[rng.IntN(len(testSymbols))]
		r.TS = start + int64(i)*720
		r.KafkaTS = r.TS + int64(rng.IntN(50))
		r.KafkaOffset = off + int64(i)
		r.KafkaPartition = 99
		r.Price = 100 + float64(rng.IntN(10000))/100
		r.Volume = float64(1 + rng.IntN(500))
		if i%7 != 0 {
			r.Bid, r.Ask = r.Price-0.01, r.Price+0.01
		}
		switch {
		case i%50 == 3:
			*r = RawRow{
				KafkaOffset:    r.KafkaOffset,
				KafkaPartition: 99,
				KafkaTS:        r.TS - 2*hourMS,
				RejectReason:   "malformed_json",
				Error:          "invalid character '}' looking for beginning of value",
				Payload:        fmt.Sprintf(`{"symbol":"X%d","ts":}`, i),
			}
		case i%30 == 5:
			r.RejectReason, r.Error, r.Price = "bad_price", "price must be positive", -r.Price
		}
	}
	return rows
}

// genProcessed returns n processed rows; every 11th has no time-window
// average (NaN), which must come back as NULL (0).
func genProcessed(n int, off, start int64) []ProcessedRow {
	rng := rand.New(rand.NewPCG(2, uint64(off)))
	rows := make([]ProcessedRow, n)
	for i := range rows {
		r := &rows[i]
		r.Symbol = testSymbols[rng.IntN(len(testSymbols))]
		r.TS = start + int64(i)*900
		r.KafkaOffset = off + int64(i)
		r.KafkaPartition = 99
		r.Price = 100 + float64(rng.IntN(10000))/100
		r.Volume = float64(1 + rng.IntN(500))
		if i%5 != 0 {
			r.Bid, r.Ask = r.Price-0.01, r.Price+0.01
		}
		r.MA = r.Price + rng.Float64() - 0.5
		r.MAVolume = r.Volume * (0.5 + rng.Float64())
		r.MACount = int32(min(i+1, 300))
		r.MATime = r.MA + 0.25
		if i%11 == 0 {
			r.MATime = math.NaN()
		}
		r.VolumeSpike = i%97 == 13
		r.PriceDrop = i%89 == 7
	}
	return rows
}

// genAlerts returns n alerts, one every 90 s of event time.
func genAlerts(n int, off, start int64) []AlertRow {
	rows := make([]AlertRow, n)
	for i := range rows {
		r := &rows[i]
		r.Symbol = testSymbols[i%len(testSymbols)]
		r.TS = start + int64(i)*90_000
		r.KafkaOffset = off + int64(i)*97
		r.KafkaPartition = 99
		if i%2 == 0 {
			r.Kind, r.Rule = "volume_spike", "spike_factor"
			r.Observed, r.Threshold, r.Reference = 9000, 3, 1000
		} else {
			r.Kind, r.Rule = "price_drop", "drop_from_max_pct"
			r.Observed, r.Threshold, r.Reference = 90, 5, 100
		}
	}
	return rows
}

// genPredictions returns n predictions, two models per tick (so two rows
// share an offset), one tick every 1.6 s of event time.
func genPredictions(n int, off, start int64) []models.PredictionRow {
	rng := rand.New(rand.NewPCG(3, uint64(off)))
	rows := make([]models.PredictionRow, n)
	for i := range rows {
		r := &rows[i]
		r.Symbol = testSymbols[(i/2)%len(testSymbols)]
		r.TS = start + int64(i/2)*1600
		r.KafkaOffset = off + int64(i/2)
		r.KafkaPartition = 99
		r.Model, r.ModelVersion = "xgb", "v3-1a2b3c4d"
		if i%2 == 1 {
			r.Model, r.ModelVersion = "lstm", "9f8e7d6c5b4a"
		}
		r.Horizon = "10s"
		r.Value = rng.NormFloat64() * 20
	}
	return rows
}

// feedPredictions gives the predictions to w.
func feedPredictions(w *PartitionWriter, rows []models.PredictionRow) {
	for i := range rows {
		w.Prediction(&rows[i])
	}
}

// feed gives the rows to w interleaved, as the engine would.
func feed(w *PartitionWriter, raw []RawRow, proc []ProcessedRow, alerts []AlertRow) {
	for i := range max(len(raw), len(proc), len(alerts)) {
		if i < len(raw) {
			w.Raw(&raw[i])
		}
		if i < len(proc) {
			w.Processed(&proc[i])
		}
		if i < len(alerts) {
			w.Alert(&alerts[i])
		}
	}
}

func newTestWriter(t testing.TB, store BlobStore) (*PartitionWriter, string) {
	t.Helper()
	spool := t.TempDir()
	w, err := NewPartitionWriter(store, Options{Topic: testTopic, Partition: testPartition, SpoolDir: spool})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close() })
	return w, spool
}

func newTestStore(t testing.TB) *LocalStore {
	t.Helper()
	s, err := NewLocalStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// group is what the test expects in one file, worked out without the
// writer's code: partition folder from time.Format, key from Sprintf.
type group[T any] struct {
	key      string
	rows     []T
	min, max int64
}

func expectGroups[T any](table string, rows []T, when func(*T) int64, offset func(*T) int64, stored func(T) T) []*group[T] {
	byDir := map[string]*group[T]{}
	var dirs []string
	for i := range rows {
		tm := time.UnixMilli(when(&rows[i])).UTC()
		dir := fmt.Sprintf("%s/date=%s/hour=%02d", table, tm.Format("2006-01-02"), tm.Hour())
		g := byDir[dir]
		if g == nil {
			g = &group[T]{key: dir, min: math.MaxInt64, max: math.MinInt64}
			byDir[dir] = g
			dirs = append(dirs, dir)
		}
		g.rows = append(g.rows, stored(rows[i]))
		g.min = min(g.min, offset(&rows[i]))
		g.max = max(g.max, offset(&rows[i]))
	}
	slices.Sort(dirs)
	groups := make([]*group[T], len(dirs))
	for i, dir := range dirs {
		g := byDir[dir]
		g.key = fmt.Sprintf("%s/%s+%d+%020d-%020d.parquet", dir, testTopic, testPartition, g.min, g.max)
		groups[i] = g
	}
	return groups
}

func rawGroups(rows []RawRow) []*group[RawRow] {
	return expectGroups(TableRaw, rows,
		func(r *RawRow) int64 {
			if r.TS != 0 && r.RejectReason == "" {
				return r.TS
			}
			return r.KafkaTS
		},
		func(r *RawRow) int64 { return r.KafkaOffset },
		func(r RawRow) RawRow { r.KafkaPartition = testPartition; return r })
}

func processedGroups(rows []ProcessedRow) []*group[ProcessedRow] {
	return expectGroups(TableProcessed, rows,
		func(r *ProcessedRow) int64 { return r.TS },
		func(r *ProcessedRow) int64 { return r.KafkaOffset },
		func(r ProcessedRow) ProcessedRow {
			r.KafkaPartition = testPartition
			if math.IsNaN(r.MATime) {
				r.MATime = 0
			}
			return r
		})
}

func alertGroups(rows []AlertRow) []*group[AlertRow] {
	return expectGroups(TableAlerts, rows,
		func(r *AlertRow) int64 { return r.TS },
		func(r *AlertRow) int64 { return r.KafkaOffset },
		func(r AlertRow) AlertRow { r.KafkaPartition = testPartition; return r })
}

func predictionGroups(rows []models.PredictionRow) []*group[models.PredictionRow] {
	return expectGroups(TablePredictions, rows,
		func(r *models.PredictionRow) int64 { return r.TS },
		func(r *models.PredictionRow) int64 { return r.KafkaOffset },
		func(r models.PredictionRow) models.PredictionRow { r.KafkaPartition = testPartition; return r })
}

// getObject reads a whole object.
func getObject(t testing.TB, s BlobStore, key string) []byte {
	t.Helper()
	rc, err := s.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// openParquet opens an object with parquet-go's reader.
func openParquet(t testing.TB, s BlobStore, key string) *parquet.File {
	t.Helper()
	b := getObject(t, s, key)
	f, err := parquet.OpenFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("open %s: %v", key, err)
	}
	return f
}

func readRows[T any](t testing.TB, s BlobStore, key string) []T {
	t.Helper()
	b := getObject(t, s, key)
	rows, err := parquet.Read[T](bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return rows
}

// nullCount sums a column's null count over the file's row groups.
func nullCount(t testing.TB, f *parquet.File, column string) int64 {
	t.Helper()
	var n int64
	found := false
	for _, rg := range f.Metadata().RowGroups {
		for _, c := range rg.Columns {
			if strings.Join(c.MetaData.PathInSchema, ".") == column {
				n += c.MetaData.Statistics.NullCount
				found = true
			}
		}
	}
	if !found {
		var paths []string
		for _, rg := range f.Metadata().RowGroups {
			for _, c := range rg.Columns {
				paths = append(paths, strings.Join(c.MetaData.PathInSchema, "."))
			}
		}
		t.Fatalf("no column %q in %q", column, paths)
	}
	return n
}

func count[T any](rows []T, pred func(*T) bool) int64 {
	var n int64
	for i := range rows {
		if pred(&rows[i]) {
			n++
		}
	}
	return n
}

// checkTable compares the files of one table with the expected groups, in
// order, reading every file back.
func checkTable[T comparable](t *testing.T, s BlobStore, files []File, table string, want []*group[T]) {
	t.Helper()
	var got []File
	for _, f := range files {
		if f.Table == table {
			got = append(got, f)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%s: %d files, want %d: %v", table, len(got), len(want), got)
	}
	for i, g := range want {
		f := got[i]
		if f.Key != g.key || f.Rows != int64(len(g.rows)) || f.MinOffset != g.min || f.MaxOffset != g.max {
			t.Errorf("%s file %d = %+v\nwant key %s rows %d offsets %d-%d", table, i, f, g.key, len(g.rows), g.min, g.max)
			continue
		}
		if size := int64(len(getObject(t, s, f.Key))); size != f.Bytes {
			t.Errorf("%s: File.Bytes %d, object has %d", f.Key, f.Bytes, size)
		}
		rows := readRows[T](t, s, f.Key)
		if len(rows) != len(g.rows) {
			t.Errorf("%s: read %d rows, want %d", f.Key, len(rows), len(g.rows))
			continue
		}
		for j := range rows {
			if rows[j] != g.rows[j] {
				t.Errorf("%s row %d:\n got %+v\nwant %+v", f.Key, j, rows[j], g.rows[j])
				break
			}
		}
	}
}

func spoolFiles(t testing.TB, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}
