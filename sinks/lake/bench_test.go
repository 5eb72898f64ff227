package lake

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/tickstream/tickstream/internal/cputime"
)

// countingStore discards what is put and counts the bytes, so benchmarks
// measure encoding, not the disk.
type countingStore struct{ bytes int64 }

func (s *countingStore) Put(_ context.Context, _ string, body io.ReadSeeker, size int64) error {
	if _, err := body.Seek(0, io.SeekStart); err != nil {
		return err
	}
	n, err := io.Copy(io.Discard, body)
	if n != size {
		return fmt.Errorf("read %d of %d bytes: %v", n, size, err)
	}
	s.bytes += n
	return err
}

func (s *countingStore) Get(context.Context, string) (io.ReadCloser, error) {
	return nil, errors.New("not stored")
}
func (s *countingStore) List(context.Context, string) ([]string, error) { return nil, nil }
func (s *countingStore) Delete(context.Context, string) error           { return nil }

const (
	benchRing  = 1 << 16 // distinct rows, longer than a page so pages do not repeat
	benchFlush = 1 << 20 // rows per flush, as a busy partition would see
)

// benchTicks returns a random walk of 1000 symbols priced in cents.
func benchTicks() (sym []string, price, vol []float64) {
	rng := rand.New(rand.NewPCG(7, 7))
	const nsym = 1000
	names := make([]string, nsym)
	last := make([]float64, nsym)
	for i := range names {
		names[i] = fmt.Sprintf("SYN%04d", i)
		last[i] = 10 + rng.Float64()*490
	}
	sym, price, vol = make([]string, benchRing), make([]float64, benchRing), make([]float64, benchRing)
	for i := range sym {
		k := rng.IntN(nsym)
		last[k] = math.Max(0.01, math.Round((last[k]+float64(rng.IntN(21)-10)*0.01)*100)/100)
		sym[i], price[i], vol[i] = names[k], last[k], float64(1+rng.IntN(1000))
	}
	return sym, price, vol
}

// benchWrite feeds b.N rows through write (which sets event time and offset
// from i) and flushes every benchFlush rows and at the end.
func benchWrite(b *testing.B, compression string, write func(w *PartitionWriter, i int)) {
	store := &countingStore{}
	w, err := NewPartitionWriter(store, Options{Topic: testTopic, Compression: compression, SpoolDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cputime.Process()
	for i := range b.N {
		write(w, i)
		if (i+1)%benchFlush == 0 {
			if _, err := w.Flush(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
	if _, err := w.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	cpu := cputime.Process() - cpu0
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	if cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/row")
	}
	b.ReportMetric(float64(store.bytes)/float64(b.N), "B/row")
}

// Four ticks per millisecond of event time: 14.4 M rows per hour file.
func benchTS(i int) int64 { return t0 + int64(i)/4 }

func BenchmarkWriteRaw(b *testing.B) {
	sym, price, vol := benchTicks()
	rows := make([]RawRow, benchRing)
	for i := range rows {
		rows[i] = RawRow{Symbol: sym[i], Price: price[i], Volume: vol[i], Bid: price[i] - 0.01, Ask: price[i] + 0.01}
	}
	for _, c := range []string{"zstd", "snappy"} {
		b.Run(c, func(b *testing.B) {
			benchWrite(b, c, func(w *PartitionWriter, i int) {
				r := &rows[i%benchRing]
				r.TS = benchTS(i)
				r.KafkaTS = r.TS + 3
				r.KafkaOffset = int64(i)
				w.Raw(r)
			})
		})
	}
}

func BenchmarkWriteProcessed(b *testing.B) {
	sym, price, vol := benchTicks()
	rows := make([]ProcessedRow, benchRing)
	for i := range rows {
		rows[i] = ProcessedRow{
			Symbol: sym[i], Price: price[i], Volume: vol[i], Bid: price[i] - 0.01, Ask: price[i] + 0.01,
			MA: price[i] * 1.001, MAVolume: 500.5, MACount: 300, MATime: price[i] * 0.999,
			VolumeSpike: i%5000 == 0, PriceDrop: i%7000 == 0,
		}
	}
	for _, c := range []string{"zstd", "snappy"} {
		b.Run(c, func(b *testing.B) {
			benchWrite(b, c, func(w *PartitionWriter, i int) {
				r := &rows[i%benchRing]
				r.TS = benchTS(i)
				r.KafkaOffset = int64(i)
				w.Processed(r)
			})
		})
	}
}
