package query_test

import (
	"context"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/tickstream/tickstream/query"
	"github.com/tickstream/tickstream/sinks/lake"
)

func ExampleDB_Query() {
	dir, _ := os.MkdirTemp("", "query-example")
	defer os.RemoveAll(dir)
	store, _ := lake.NewLocalStore(filepath.Join(dir, "lake"))
	w, _ := lake.NewPartitionWriter(store, lake.Options{Topic: "ticks", SpoolDir: filepath.Join(dir, "spool")})
	defer w.Close()
	ts := time.Date(2026, 11, 24, 14, 30, 0, 0, time.UTC).UnixMilli()
	for i, price := range []float64{189.5, 190.25, 189.75} {
		w.Processed(&lake.ProcessedRow{Symbol: "AAPL", TS: ts + int64(i)*1000, Price: price, Volume: 100, KafkaOffset: int64(i)})
	}
	if _, err := w.Flush(context.Background()); err != nil {
		log.Fatal(err)
	}

	db, err := query.Open(context.Background(), filepath.Join(dir, "lake"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	out, _ := query.NewWriter("table", os.Stdout)
	_, err = db.Query(context.Background(),
		`SELECT symbol, "date", "hour", min_by(price, ts) AS open, max_by(price, ts) AS close, count(*) AS ticks
		 FROM processed GROUP BY ALL`, 0, out)
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// symbol  date        hour   open   close  ticks
	// ------  ----------  ----  -----  ------  -----
	// AAPL    2026-11-24  14    189.5  189.75      3
	// (1 row)
}
