package lake_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/tickstream/tickstream/config"
	"github.com/tickstream/tickstream/sinks/lake"
)

func ExamplePartitionWriter() {
	dir, _ := os.MkdirTemp("", "lake-example")
	defer os.RemoveAll(dir)
	store, err := lake.Open(context.Background(), config.Lake{URL: filepath.Join(dir, "lake")})
	if err != nil {
		log.Fatal(err)
	}
	w, err := lake.NewPartitionWriter(store, lake.Options{Topic: "ticks", Partition: 2, SpoolDir: filepath.Join(dir, "spool")})
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close()

	ts := time.Date(2024, 3, 1, 9, 59, 59, 0, time.UTC).UnixMilli()
	for i := range int64(3) { // the third tick falls in the next hour
		row := lake.RawRow{Symbol: "AAPL", TS: ts + i*500, Price: 180.5, Volume: 100, KafkaOffset: 41 + i, KafkaTS: ts + i*500}
		w.Raw(&row)
		w.Processed(&lake.ProcessedRow{Symbol: "AAPL", TS: row.TS, Price: 180.5, Volume: 100, KafkaOffset: row.KafkaOffset})
	}
	files, err := w.Flush(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	for _, f := range files {
		fmt.Println(f.Key, f.Rows)
	}
	// Output:
	// raw/date=2024-03-01/hour=09/ticks+2+00000000000000000041-00000000000000000042.parquet 2
	// raw/date=2024-03-01/hour=10/ticks+2+00000000000000000043-00000000000000000043.parquet 1
	// processed/date=2024-03-01/hour=09/ticks+2+00000000000000000041-00000000000000000042.parquet 2
	// processed/date=2024-03-01/hour=10/ticks+2+00000000000000000043-00000000000000000043.parquet 1
}
