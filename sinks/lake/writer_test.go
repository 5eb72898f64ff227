package lake

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/parquet-go/parquet-go/format"
)

func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	store := newTestStore(t)
	w, spool := newTestWriter(t, store)
	w.enc.rowGroupBytes = 16 << 10 // several row groups per file

	var allKeys []string
	multiGroup := false
	// The second round reuses the first round's encoders and writes new
	// files next to the first round's, in the same hour folders.
	for round, start := range []int64{t0, t0 + 20*60_000} {
		off := int64(round) * 1_000_000
		raw := genRaw(5000, off, start)
		proc := genProcessed(4500, off, start)
		alerts := genAlerts(45, off, start)
		preds := genPredictions(3000, off, start)
		feed(w, raw, proc, alerts)
		feedPredictions(w, preds)
		if got, want := w.Rows(), len(raw)+len(proc)+len(alerts)+len(preds); got != want {
			t.Errorf("Rows() = %d, want %d", got, want)
		}

		files, err := w.Flush(ctx)
		if err != nil {
			t.Fatal(err)
		}
		rg, pg, ag, prg := rawGroups(raw), processedGroups(proc), alertGroups(alerts), predictionGroups(preds)
		// Raw spans 4 hours: 2 by event time, 2 more by the Kafka time
		// of the records that did not decode.
		if len(rg) != 4 || len(pg) != 2 || len(ag) != 2 || len(prg) != 2 {
			t.Fatalf("test data should span 4 raw, 2 processed, 2 alert and 2 prediction hours, spans %d, %d, %d, %d",
				len(rg), len(pg), len(ag), len(prg))
		}
		checkTable(t, store, files, TableRaw, rg)
		checkTable(t, store, files, TableProcessed, pg)
		checkTable(t, store, files, TableAlerts, ag)
		checkTable(t, store, files, TablePredictions, prg)

		var keys []string
		for _, f := range files {
			keys = append(keys, f.Key)
		}
		// Put order: raw, processed, alerts, predictions; hours ascending
		// within each, which for these keys is byte order within a table.
		var wantOrder []string
		for _, table := range []string{TableRaw, TableProcessed, TableAlerts, TablePredictions} {
			var k []string
			for _, key := range keys {
				if strings.HasPrefix(key, table+"/") {
					k = append(k, key)
				}
			}
			slices.Sort(k)
			wantOrder = append(wantOrder, k...)
		}
		if !slices.Equal(keys, wantOrder) {
			t.Errorf("files in order\n%v\nwant\n%v", keys, wantOrder)
		}

		allKeys = append(allKeys, keys...)
		slices.Sort(allKeys)
		listed, err := store.List(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(listed, allKeys) {
			t.Errorf("store holds\n%v\nwant\n%v", listed, allKeys)
		}

		// NULLs, counted from the footer statistics against the input.
		for _, g := range rg {
			f := openParquet(t, store, g.key)
			multiGroup = multiGroup || len(f.RowGroups()) > 1
			for col, pred := range map[string]func(*RawRow) bool{
				"ts":  func(r *RawRow) bool { return r.TS == 0 },
				"bid": func(r *RawRow) bool { return r.Bid == 0 },
				"ask": func(r *RawRow) bool { return r.Ask == 0 },
			} {
				if got, want := nullCount(t, f, col), count(g.rows, pred); got != want {
					t.Errorf("%s: %d NULL %s, want %d", g.key, got, col, want)
				}
			}
		}
		for _, g := range pg {
			f := openParquet(t, store, g.key)
			if got, want := nullCount(t, f, "ma_time"), count(g.rows, func(r *ProcessedRow) bool { return r.MATime == 0 }); got != want || want == 0 {
				t.Errorf("%s: %d NULL ma_time, want %d (> 0)", g.key, got, want)
			}
		}

		if w.Rows() != 0 || w.Size() != 0 {
			t.Errorf("after Flush: Rows %d, Size %d; want 0, 0", w.Rows(), w.Size())
		}
		if left := spoolFiles(t, spool); len(left) != 0 {
			t.Errorf("spool files left after Flush: %v", left)
		}
	}
	if !multiGroup {
		t.Error("no file had more than one row group; the row-group bound was not exercised")
	}
}

func TestKeyFormat(t *testing.T) {
	f := func(table string, ms int64, topic string, part int32, lo, hi int64, want string) {
		t.Helper()
		if got := string(appendKey(nil, table, hourOf(ms), topic, part, lo, hi)); got != want {
			t.Errorf("key = %s\n want %s", got, want)
		}
	}
	f("raw", t0, "ticks", 0, 0, 5, "raw/date=2023-12-31/hour=23/ticks+0+00000000000000000000-00000000000000000005.parquet")
	f("alerts", t0+30*60_000, "t.x_y-z", 11, 1234567, 9223372036854775807,
		"alerts/date=2024-01-01/hour=00/t.x_y-z+11+00000000000001234567-09223372036854775807.parquet")
	// Times no Hive folder can hold land in the first hour of 1970.
	f("raw", -5, "ticks", 1, 7, 7, "raw/date=1970-01-01/hour=00/ticks+1+00000000000000000007-00000000000000000007.parquet")
	f("raw", 1<<62, "ticks", 1, -1, 7, "raw/date=1970-01-01/hour=00/ticks+1+00000000000000000000-00000000000000000007.parquet")
}

func TestFlushNothing(t *testing.T) {
	store := newTestStore(t)
	w, _ := newTestWriter(t, store)
	files, err := w.Flush(context.Background())
	if err != nil || len(files) != 0 {
		t.Fatalf("Flush() = %v, %v; want no files, nil", files, err)
	}
	if keys, _ := store.List(context.Background(), ""); len(keys) != 0 {
		t.Errorf("store holds %v", keys)
	}
}

func TestCloseDiscards(t *testing.T) {
	store := newTestStore(t)
	w, spool := newTestWriter(t, store)
	feed(w, genRaw(5000, 0, t0), genProcessed(5000, 0, t0), genAlerts(10, 0, t0))
	if len(spoolFiles(t, spool)) == 0 {
		t.Fatal("no spool file after 5000 rows; the test does not exercise discarding them")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if left := spoolFiles(t, spool); len(left) != 0 {
		t.Errorf("spool files left after Close: %v", left)
	}
	w.Raw(&genRaw(1, 0, t0)[0]) // ignored, must not panic
	if _, err := w.Flush(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Flush after Close: %v, want ErrClosed", err)
	}
	if keys, _ := store.List(context.Background(), ""); len(keys) != 0 {
		t.Errorf("store holds %v after Close", keys)
	}
}

// failingStore fails the puts whose 1-based number is in fail.
type failingStore struct {
	BlobStore
	mu   sync.Mutex
	puts int
	fail map[int]bool
}

func (s *failingStore) Put(ctx context.Context, key string, body io.ReadSeeker, size int64) error {
	s.mu.Lock()
	s.puts++
	fail := s.fail[s.puts]
	s.mu.Unlock()
	if fail {
		return errors.New("injected put failure")
	}
	return s.BlobStore.Put(ctx, key, body, size)
}

func TestFlushRetriesFailedPuts(t *testing.T) {
	ctx := context.Background()
	raw, proc, alerts := genRaw(3000, 0, t0), genProcessed(3000, 0, t0), genAlerts(30, 0, t0)

	// The reference: the same rows through a store that never fails.
	refStore := newTestStore(t)
	ref, _ := newTestWriter(t, refStore)
	feed(ref, raw, proc, alerts)
	want, err := ref.Flush(ctx)
	if err != nil {
		t.Fatal(err)
	}

	store := &failingStore{BlobStore: newTestStore(t), fail: map[int]bool{3: true}}
	w, spool := newTestWriter(t, store)
	feed(w, raw, proc, alerts)
	if files, err := w.Flush(ctx); err == nil || !strings.Contains(err.Error(), "injected") {
		t.Fatalf("Flush with a failing put = %v, %v; want the put's error", files, err)
	}
	if keys, _ := store.List(ctx, ""); len(keys) != 2 {
		t.Errorf("after 2 good puts and a failed one the store holds %v", keys)
	}
	if w.Size() == 0 || w.Rows() == 0 {
		t.Error("after a failed Flush, Size and Rows should still count the uncommitted files")
	}
	got, err := w.Flush(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("files after retry\n%v\nwant (as without failure)\n%v", got, want)
	}
	for _, f := range want {
		if string(getObject(t, store, f.Key)) != string(getObject(t, refStore, f.Key)) {
			t.Errorf("%s differs from the reference file", f.Key)
		}
	}
	if left := spoolFiles(t, spool); len(left) != 0 {
		t.Errorf("spool files left: %v", left)
	}
}

func TestSizeAndFull(t *testing.T) {
	store := newTestStore(t)
	w, err := NewPartitionWriter(store, Options{Topic: testTopic, SpoolDir: t.TempDir(), FlushBytes: 3 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	raw := genRaw(20000, 0, t0)
	var peak int64
	for i := range raw {
		w.Raw(&raw[i])
		peak = max(peak, w.Size())
		if i == 0 && w.Size() <= 0 {
			t.Fatalf("Size() = %d after a row", w.Size())
		}
	}
	// 20000 raw rows at 720 ms span four hours: four open files, each
	// charged openBucketBytes, which alone passes FlushBytes.
	if !w.Full() {
		t.Errorf("Full() = false at Size %d, FlushBytes %d", w.Size(), w.o.FlushBytes)
	}
	files, err := w.Flush(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var committed int64
	for _, f := range files {
		committed += f.Bytes
	}
	if w.Full() || w.Size() != 0 {
		t.Errorf("after Flush: Full %v, Size %d", w.Full(), w.Size())
	}
	if committed == 0 || committed > peak {
		t.Errorf("committed %d bytes; Size peaked at %d and should bound it", committed, peak)
	}
}

func TestOptions(t *testing.T) {
	f := func(o Options, wantErr string) {
		t.Helper()
		if o.SpoolDir == "" {
			o.SpoolDir = t.TempDir()
		}
		w, err := NewPartitionWriter(newTestStore(t), o)
		if w != nil {
			defer w.Close()
		}
		switch {
		case wantErr == "" && err != nil:
			t.Errorf("%+v: %v", o, err)
		case wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr)):
			t.Errorf("%+v: error %v, want one containing %q", o, err, wantErr)
		}
	}
	f(Options{Topic: "ticks"}, "")
	f(Options{Topic: "ticks", Compression: "snappy", Partition: 5}, "")
	f(Options{Topic: "ticks", Compression: "gzip"}, `compression "gzip"`)
	f(Options{Topic: ""}, "invalid topic")
	f(Options{Topic: "a/b"}, "invalid topic")
	f(Options{Topic: "a+b"}, "invalid topic")
	f(Options{Topic: ".."}, "invalid topic")
	f(Options{Topic: "ticks", Partition: -1}, "negative partition")
	f(Options{Topic: "ticks", FlushBytes: -1}, "negative flush bytes")
}

func TestAppendAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	w, _ := newTestWriter(t, newTestStore(t))
	// One batch of rows within one hour, so every run encodes one full batch.
	raw := genRaw(batchRows, 0, t0-29*60_000)
	proc := genProcessed(batchRows, 0, t0-29*60_000)
	for _, r := range raw {
		if r.TS != 0 && hourOf(r.TS) != hourOf(raw[0].TS) {
			t.Fatal("BUG: test rows cross an hour")
		}
	}
	run := func(rows int) func() {
		return func() {
			for i := range rows {
				w.Raw(&raw[i])
				w.Processed(&proc[i])
			}
		}
	}
	run(batchRows)() // open the files, spool and encoders
	if _, err := w.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}

	// Appending without encoding, into buckets reused from the last flush:
	// AllocsPerRun runs twice, and 2 x (batchRows/2 - 1) rows fill no batch.
	if n := testing.AllocsPerRun(1, run(batchRows/2-1)); n != 0 {
		t.Errorf("appending rows: %v allocs, want 0", n)
	}

	// With encoding: parquet-go allocates when it cuts a page (statistics,
	// page buffers), a few times per thousands of rows.
	perRun := testing.AllocsPerRun(50, run(batchRows))
	perRow := perRun / (2 * batchRows)
	t.Logf("%.1f allocs per %d rows encoded (%.4f per row)", perRun, 2*batchRows, perRow)
	if perRow > 0.01 {
		t.Errorf("%.4f allocs per row with encoding, want < 0.01", perRow)
	}
}

// TestMemoryBounded writes many rows into one file without flushing: the
// encoded data must go to the spool file, not accumulate on the heap.
func TestMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 2 M rows")
	}
	w, spool := newTestWriter(t, newTestStore(t))
	w.enc.rowGroupBytes = 1 << 20
	sym, price, vol := benchTicks()
	rows := make([]RawRow, benchRing)
	for i := range rows {
		rows[i] = RawRow{Symbol: sym[i], Price: price[i], Volume: vol[i], Bid: price[i] - 0.01, Ask: price[i] + 0.01}
	}
	write := func(from, to int) {
		for i := from; i < to; i++ {
			r := &rows[i%benchRing]
			r.TS, r.KafkaOffset = t0-29*60_000+int64(i)/1000, int64(i) // one hour
			w.Raw(r)
		}
	}
	heap := func() uint64 {
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	write(0, 200_000) // past the first row groups: buffers at full size
	before := heap()
	write(200_000, 2_000_000)
	grown := int64(heap()) - int64(before)

	var spooled int64
	for _, name := range spoolFiles(t, spool) {
		fi, err := os.Stat(filepath.Join(spool, name))
		if err != nil {
			t.Fatal(err)
		}
		spooled += fi.Size()
	}
	t.Logf("heap grew %d KiB over 1.8 M rows; %d KiB spooled", grown>>10, spooled>>10)
	// 1.8 M rows encode to ~20 MiB; held in memory they would show here.
	if spooled < 10<<20 || grown > 4<<20 {
		t.Errorf("heap grew %d bytes and %d bytes were spooled; want the data on disk", grown, spooled)
	}
}

// TestDictionaryFallback gives the error column more distinct values than
// the dictionary limit: the column must fall back to PLAIN and read back.
func TestDictionaryFallback(t *testing.T) {
	store := newTestStore(t)
	w, _ := newTestWriter(t, store)
	// The limit is checked when a page is cut, every 64 Ki dictionary
	// indexes: 150 k distinct 64-byte values pass it after the first page.
	raw := genRaw(150_000, 0, t0)
	for i := range raw {
		raw[i].TS = t0 - 29*60_000 // one hour, one file
		raw[i].KafkaTS = raw[i].TS // rejected rows are partitioned by it
		raw[i].Error = fmt.Sprintf("%064d", i)
	}
	feed(w, raw, nil, nil)
	files, err := w.Flush(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	checkTable(t, store, files, TableRaw, rawGroups(raw))
	md := openParquet(t, store, files[0].Key).Metadata()
	// Count data pages by encoding: some dictionary-encoded, then PLAIN.
	pages := map[format.Encoding]int32{}
	for _, c := range md.RowGroups[0].Columns {
		if c.MetaData.PathInSchema[0] != "error" {
			continue
		}
		for _, st := range c.MetaData.EncodingStats {
			if st.PageType == format.DataPage {
				pages[st.Encoding] += st.Count
			}
		}
	}
	if pages[format.Plain] == 0 || pages[format.RLEDictionary] == 0 {
		t.Errorf("error column data pages by encoding %v: want dictionary pages, then PLAIN after the 1 MiB limit", pages)
	}
}

// TestNewWriterSweepsStaleSpool: files a crashed writer of the same
// partition left in the spool are removed; other partitions' are not.
func TestNewWriterSweepsStaleSpool(t *testing.T) {
	spool := t.TempDir()
	mine := []string{"ticks-3-raw-123.parquet", "ticks-3-processed-9.parquet", "ticks-3-alerts-1.parquet", "ticks-3-predictions-7.parquet"}
	others := []string{"ticks-30-raw-1.parquet", "ticks-1-3-raw-1.parquet", "other-3-raw-1.parquet", "notes.txt"}
	for _, n := range append(append([]string{}, mine...), others...) {
		if err := os.WriteFile(filepath.Join(spool, n), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := NewPartitionWriter(newTestStore(t), Options{Topic: "ticks", Partition: 3, SpoolDir: spool}); err != nil {
		t.Fatal(err)
	}
	for _, n := range mine {
		if _, err := os.Stat(filepath.Join(spool, n)); !os.IsNotExist(err) {
			t.Errorf("%s was not swept", n)
		}
	}
	for _, n := range others {
		if _, err := os.Stat(filepath.Join(spool, n)); err != nil {
			t.Errorf("%s was removed: %v", n, err)
		}
	}
}
