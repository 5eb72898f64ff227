package replay_test

import (
	"context"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tickstream/tickstream/config"
	"github.com/tickstream/tickstream/feeds/feedstats"
	"github.com/tickstream/tickstream/feeds/internal/feedtest"
	"github.com/tickstream/tickstream/feeds/replay"
	"github.com/tickstream/tickstream/feeds/sim"
	"github.com/tickstream/tickstream/sinks/lake"
	"github.com/tickstream/tickstream/tick"
)

// recorded is a sequence to replay: n simulated ticks of 50 symbols (one a
// second each, 20 ms apart, so every event time is distinct) from 13:59,
// crossing an hour.
func recorded(t testing.TB, n int) []tick.Tick {
	t.Helper()
	names := make([]string, 50)
	for i := range names {
		names[i] = fmt.Sprintf("S%02d", i)
	}
	s, err := sim.New(names, config.Simulator{Seed: 7, SpikeEvery: time.Minute, DropEvery: time.Minute},
		time.Date(2025, 11, 25, 13, 59, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	out := make([]tick.Tick, n)
	for i := range out {
		s.Next(&out[i])
	}
	return out
}

func writeCSV(t testing.TB, path string, ts []tick.Tick, rfc3339 bool) {
	t.Helper()
	var b strings.Builder
	b.WriteString("symbol,ts,price,volume,bid,ask\n")
	for _, x := range ts {
		stamp := strconv.FormatInt(x.TS, 10)
		if rfc3339 {
			stamp = time.UnixMilli(x.TS).UTC().Format(time.RFC3339Nano)
		}
		fmt.Fprintf(&b, "%s,%s,%s,%s,%s,%s\n", x.Symbol, stamp, ff(x.Price), ff(x.Volume), ff(x.Bid), ff(x.Ask))
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func ff(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// replayInto runs a Replayer into a one-partition topic and returns what
// the topic holds, in order.
func replayInto(t *testing.T, o replay.Options) ([]tick.Tick, *replay.Replayer) {
	t.Helper()
	c, out := feedtest.ProducerN(t, 1)
	r, err := replay.New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Run(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	if err := out.Flush(0); err != nil {
		t.Fatal(err)
	}
	var got []tick.Tick
	for _, rec := range feedtest.Consume(t, c) {
		if rec.Key != rec.Tick.Symbol || rec.RecordTS != rec.Tick.TS || rec.Stale {
			t.Fatalf("record %+v: key, timestamp or header wrong", rec)
		}
		got = append(got, rec.Tick)
	}
	return got, r
}

func equal(t *testing.T, got, want []tick.Tick) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d ticks, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("tick %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

// byTime is the recorded sequence in event-time order, computed with a
// plain stable sort.
func byTime(ts []tick.Tick) []tick.Tick {
	out := slices.Clone(ts)
	slices.SortStableFunc(out, func(a, b tick.Tick) int { return int(a.TS - b.TS) })
	return out
}

// TestReplayCSV: a recorded sequence comes back from Kafka exactly, with
// either timestamp form.
func TestReplayCSV(t *testing.T) {
	want := recorded(t, 6000)
	for _, rfc := range []bool{false, true} {
		path := filepath.Join(t.TempDir(), "ticks.csv")
		writeCSV(t, path, want, rfc)
		got, r := replayInto(t, replay.Options{From: path})
		equal(t, got, want)
		if r.Stats.Ticks.Load() != int64(len(want)) || r.OutOfOrder.Load() != 0 {
			t.Fatalf("ticks %d, out of order %d", r.Stats.Ticks.Load(), r.OutOfOrder.Load())
		}
	}
}

// TestReplayCSVReorders: rows a little out of order (as a lake partition
// holds them) come out in event-time order; a row later than the window can
// fix comes out anyway and is counted.
func TestReplayCSVReorders(t *testing.T) {
	rec := recorded(t, 3000)
	shuffled := slices.Clone(rec)
	for i := 0; i+3 < len(shuffled); i += 7 {
		shuffled[i], shuffled[i+3] = shuffled[i+3], shuffled[i]
	}
	path := filepath.Join(t.TempDir(), "ticks.csv")
	writeCSV(t, path, shuffled, false)
	got, r := replayInto(t, replay.Options{From: path, Window: 8})
	equal(t, got, byTime(rec))
	if r.OutOfOrder.Load() != 0 {
		t.Fatalf("%d out of order", r.OutOfOrder.Load())
	}

	late := slices.Clone(rec[:100])
	late = append(late[1:], late[0]) // the first tick, 99 rows late
	writeCSV(t, path, late, false)
	got, r = replayInto(t, replay.Options{From: path, Window: 10})
	// It is read last, when 90 ticks are out and 9 wait in the window, and
	// being the earliest it goes out next.
	equal(t, got, slices.Concat(late[:90], late[99:], late[90:99]))
	if r.OutOfOrder.Load() != 1 {
		t.Fatalf("%d out of order, want 1", r.OutOfOrder.Load())
	}
}

// writeLake writes ticks as the engine would: each symbol on a partition by
// hash, offsets rising per partition, neighbouring ticks of a partition
// sometimes swapped (arrival order within the allowed lateness), flushed
// every flushEvery ticks. Every partition also gets rejected raw rows,
// which must never be replayed.
func writeLake(t testing.TB, dir string, ticks []tick.Tick, partitions int, flushEvery int) {
	t.Helper()
	store, err := lake.NewLocalStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	byPart := make([][]tick.Tick, partitions)
	for _, x := range ticks {
		h := fnv.New32a()
		h.Write([]byte(x.Symbol))
		p := int(h.Sum32()) % partitions
		byPart[p] = append(byPart[p], x)
	}
	ctx := context.Background()
	for p, ts := range byPart {
		for i := 5; i+1 < len(ts); i += 11 {
			ts[i], ts[i+1] = ts[i+1], ts[i]
		}
		w, err := lake.NewPartitionWriter(store, lake.Options{Topic: "ticks", Partition: int32(p), SpoolDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		off := int64(0)
		for i, x := range ts {
			w.Raw(&lake.RawRow{Symbol: x.Symbol, TS: x.TS, Price: x.Price, Volume: x.Volume, Bid: x.Bid, Ask: x.Ask,
				KafkaOffset: off, KafkaTS: x.TS})
			w.Processed(&lake.ProcessedRow{Symbol: x.Symbol, TS: x.TS, Price: x.Price, Volume: x.Volume, Bid: x.Bid,
				Ask: x.Ask, MA: x.Price, MAVolume: x.Volume, MACount: 1, KafkaOffset: off})
			off++
			if i%97 == 0 { // a rejected record: not a tick
				w.Raw(&lake.RawRow{Symbol: x.Symbol, TS: x.TS, Price: -1, KafkaOffset: off, KafkaTS: x.TS,
					RejectReason: tick.BadPrice.String(), Error: "price: not positive", Payload: "{}"})
				off++
			}
			if (i+1)%flushEvery == 0 || i == len(ts)-1 {
				if _, err := w.Flush(ctx); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestReplayLake: a recorded sequence written to a lake over several
// partitions, files and hours comes back from Kafka exactly in event-time
// order, from the processed table (the lake root's default) and from the
// raw one (accepted rows only).
func TestReplayLake(t *testing.T) {
	rec := recorded(t, 8000) // 160 s: 13:59 to 14:01:40
	dir := t.TempDir()
	writeLake(t, dir, slices.Clone(rec), 4, 500)
	hours, _ := filepath.Glob(filepath.Join(dir, "processed", "date=*", "hour=*"))
	files, _ := filepath.Glob(filepath.Join(dir, "processed", "date=*", "hour=*", "*.parquet"))
	if len(hours) != 2 || len(files) < 8 {
		t.Fatalf("lake has %d hours and %d files; the test wants 2 and several", len(hours), len(files))
	}
	want := byTime(rec)
	for _, from := range []string{dir, filepath.Join(dir, "raw"), filepath.Join(dir, "processed")} {
		got, r := replayInto(t, replay.Options{From: from, Window: 4})
		equal(t, got, want)
		if r.Stats.Failures[feedstats.BadRow].Load() != 0 || r.OutOfOrder.Load() != 0 {
			t.Fatalf("%s: bad rows %d, out of order %d", from, r.Stats.Failures[feedstats.BadRow].Load(), r.OutOfOrder.Load())
		}
	}
	// One file alone.
	got, _ := replayInto(t, replay.Options{From: files[0]})
	if len(got) == 0 || !slices.IsSortedFunc(got, func(a, b tick.Tick) int { return int(a.TS - b.TS) }) {
		t.Fatalf("one file: %d ticks, sorted %v", len(got), slices.IsSortedFunc(got, func(a, b tick.Tick) int { return int(a.TS - b.TS) }))
	}
}

// TestReplayBadRows: rows that are not valid ticks are counted and skipped;
// only the valid ones reach Kafka, none with a missing price or time.
func TestReplayBadRows(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.csv")
	body := `volume,symbol,price,ts
100,AAPL,189.5,1764081000000
100,AAPL,,1764081001000
100,AAPL,189.6,
100,AAPL,abc,1764081002000
100,AAPL,NaN,1764081003000
100,AAPL,-5,1764081004000
100,AAPL,189.7,2025-11-25 14:30:05
100,AAPL,189.7,1764081005
-1,AAPL,189.7,1764081006000
100,BAD SYM,189.7,1764081007000
100,AAPL
100,"AAPL,189.8,1764081008000
`
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	got, r := replayInto(t, replay.Options{From: path})
	want := []tick.Tick{{Symbol: "AAPL", TS: 1764081000000, Price: 189.5, Volume: 100}}
	equal(t, got, want)
	// Every data line but the first is bad (the broken quote runs to the end).
	if n := r.Stats.Failures[feedstats.BadRow].Load(); n != int64(strings.Count(body, "\n")-2) {
		t.Fatalf("%d bad rows, want %d", n, strings.Count(body, "\n")-2)
	}
}

// TestReplaySpeed: 1x takes the recording's span of wall time, 10x a tenth,
// max no waiting.
func TestReplaySpeed(t *testing.T) {
	ts := make([]tick.Tick, 31)
	for i := range ts {
		ts[i] = tick.Tick{Symbol: "AAPL", TS: 1764081000000 + int64(i)*10, Price: 1, Volume: 1}
	}
	path := filepath.Join(t.TempDir(), "t.csv")
	writeCSV(t, path, ts, false)
	f := func(speed string, lo, hi time.Duration) {
		t.Helper()
		sp, err := replay.ParseSpeed(speed)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		replayInto(t, replay.Options{From: path, Speed: sp})
		// replayInto also consumes; the replay itself is most of it at 1x.
		if el := time.Since(start); el < lo || el > hi {
			t.Errorf("%s: took %v, want between %v and %v", speed, el, lo, hi)
		}
	}
	f("1x", 300*time.Millisecond, 5*time.Second)
	f("0.5x", 600*time.Millisecond, 5*time.Second)
}

func TestParseSpeed(t *testing.T) {
	f := func(in string, want float64, ok bool) {
		t.Helper()
		got, err := replay.ParseSpeed(in)
		if got != want || (err == nil) != ok {
			t.Errorf("ParseSpeed(%q) = %v, %v", in, got, err)
		}
	}
	f("max", 0, true)
	f("1x", 1, true)
	f("10x", 10, true)
	f("0.25x", 0.25, true)
	f("10", 0, false)
	f("0x", 0, false)
	f("-1x", 0, false)
	f("x", 0, false)
	f("NaNx", 0, false)
	f("Infx", 0, false)
	f("fast", 0, false)
}

func TestNewRejects(t *testing.T) {
	dir := t.TempDir()
	noHeader := filepath.Join(dir, "h.csv")
	os.WriteFile(noHeader, []byte("sym,ts,price\nAAPL,1,2\n"), 0o644)
	notParquet := filepath.Join(dir, "x.parquet")
	os.WriteFile(notParquet, []byte("PAR1 not really"), 0o644)
	f := func(from, wantInErr string, atRun bool) {
		t.Helper()
		r, err := replay.New(replay.Options{From: from})
		if err == nil && atRun {
			_, out := feedtest.ProducerN(t, 1)
			err = r.Run(context.Background(), out)
		}
		if err == nil || !strings.Contains(err.Error(), wantInErr) {
			t.Errorf("replay of %s: %v, want an error with %q", from, err, wantInErr)
		}
	}
	f(filepath.Join(dir, "missing.csv"), "no such file", false)
	f(t.TempDir(), "no .parquet files", false)
	f(noHeader, `lacks column "symbol"`, true)
	f(notParquet, "x.parquet", true)
}

// BenchmarkReplayCSV: ticks/s from a CSV file through the sorting window
// into kfake, as fast as possible.
func BenchmarkReplayCSV(b *testing.B) {
	rec := recorded(b, 50_000)
	path := filepath.Join(b.TempDir(), "ticks.csv")
	writeCSV(b, path, rec, false)
	_, out := feedtest.ProducerN(b, 6)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r, err := replay.New(replay.Options{From: path})
		if err != nil {
			b.Fatal(err)
		}
		if err := r.Run(context.Background(), out); err != nil {
			b.Fatal(err)
		}
	}
	if err := out.Flush(time.Minute); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N*len(rec))/b.Elapsed().Seconds(), "ticks/s")
}

// BenchmarkReplayLake: ticks/s from a 4-partition lake (merge of 4 files per
// hour, sorting windows) into kfake, as fast as possible.
func BenchmarkReplayLake(b *testing.B) {
	rec := recorded(b, 50_000)
	dir := b.TempDir()
	writeLake(b, dir, slices.Clone(rec), 4, 1<<30)
	_, out := feedtest.ProducerN(b, 6)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r, err := replay.New(replay.Options{From: dir})
		if err != nil {
			b.Fatal(err)
		}
		if err := r.Run(context.Background(), out); err != nil {
			b.Fatal(err)
		}
	}
	if err := out.Flush(time.Minute); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N*len(rec))/b.Elapsed().Seconds(), "ticks/s")
}
