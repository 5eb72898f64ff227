package query

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/tickstream/tickstream/sinks/lake"
)

// writeBenchLake writes n processed rows spread over hours hours, one file
// per hour, through the lake's writer.
func writeBenchLake(b *testing.B, n, hours int) string {
	b.Helper()
	dir := filepath.Join(b.TempDir(), "lake")
	store, err := lake.NewLocalStore(dir)
	if err != nil {
		b.Fatal(err)
	}
	w, err := lake.NewPartitionWriter(store, lake.Options{Topic: "ticks", SpoolDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	start := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC).UnixMilli()
	step := int64(hours) * 3_600_000 / int64(n)
	symbols := []string{"AAPL", "MSFT", "NVDA", "TSLA", "AMZN", "GOOGL", "META", "JPM"}
	for i := range n {
		price := 100 + float64(i%1000)/100
		w.Processed(&lake.ProcessedRow{Symbol: symbols[i%len(symbols)], TS: start + int64(i)*step,
			Price: price, Volume: float64(100 + i%50), MA: price, MAVolume: 120, MACount: 300, KafkaOffset: int64(i)})
	}
	if _, err := w.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	return dir
}

// BenchmarkCountAvg is a scan of one column over 1 M rows in 30 files.
func BenchmarkCountAvg(b *testing.B) {
	db := openLake(b, writeBenchLake(b, 1_000_000, 30))
	if n := db.Files("processed"); n != 30 {
		b.Fatalf("%d files, want 30", n)
	}
	b.ReportAllocs()
	for b.Loop() {
		c := run(b, db, "SELECT count(*), avg(price) FROM processed")
		if c.rows[0][0] != int64(1_000_000) {
			b.Fatalf("count %v", c.rows[0][0])
		}
	}
}

// BenchmarkDailyOHLCV is the first example query over the same lake.
func BenchmarkDailyOHLCV(b *testing.B) {
	db := openLake(b, writeBenchLake(b, 1_000_000, 30))
	b.ReportAllocs()
	for b.Loop() {
		run(b, db, `SELECT symbol, "date", min_by(price, ts), max(price), min(price), max_by(price, ts), sum(volume), count(*)
			FROM processed GROUP BY symbol, "date" ORDER BY symbol, "date"`)
	}
}

// BenchmarkOpen is the fixed cost of the command: start DuckDB, list the
// lake, create the views, lock.
func BenchmarkOpen(b *testing.B) {
	dir := writeBenchLake(b, 1_000_000, 30)
	b.ReportAllocs()
	for b.Loop() {
		db, err := Open(context.Background(), dir)
		if err != nil {
			b.Fatal(err)
		}
		_ = db.Close()
	}
}
