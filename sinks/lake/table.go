package lake

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"slices"
	"unsafe"

	"github.com/parquet-go/parquet-go"
)

const (
	// batchRows rows are copied into a reused slice and handed to parquet-go
	// together, which costs far less per row than one Write per row.
	batchRows = 2048
	// rowGroupBytes bounds the encoded pages parquet-go holds in memory per
	// open file (it keeps a whole row group before writing it out), so memory
	// stays bounded however long the flush interval is. 8 MiB of compressed
	// ticks is ~350 k rows: large enough for query engines to scan well.
	rowGroupBytes = 8 << 20
	// openBucketBytes is what Size charges for each open file besides its
	// data (batch slice, page buffers, dictionaries). Rows scattered over
	// many hours then trigger flush-on-size before they exhaust memory.
	openBucketBytes = 1 << 20
	// keepFree bounds the idle buckets a table keeps for the next flush.
	keepFree = 4
)

// encoder holds what every table of one PartitionWriter shares.
type encoder struct {
	spoolDir      string
	spoolPrefix   string // "<topic>-<partition>-", for people looking at the spool
	topic         string
	partition     int32
	options       []parquet.WriterOption
	rowGroupBytes int64
}

// bucket is one open file: the rows of one table in one event-time hour.
type bucket[T any] struct {
	hour           int64
	rows           []T // not yet encoded; len < batchRows between calls
	n              int64
	minOff, maxOff int64
	pw             *parquet.GenericWriter[T] // nil until the first batch
	spool          *os.File                  // nil until the first batch
	encoded        int64                     // pw.Size() after the last batch
	groupStart     int64                     // pw.Size() when the row group began
}

// table routes the rows of one table to their hour's bucket.
type table[T any] struct {
	name string
	enc  *encoder
	open []*bucket[T]
	last *bucket[T] // the bucket of the previous row: nearly always the next one's
	free []*bucket[T]
	err  error // first encoding error; the writer is unusable after one
}

// bucket returns the open bucket of hour, opening one if needed. Callers
// try t.last first; this is the slow path.
func (t *table[T]) bucket(hour int64) *bucket[T] {
	for _, b := range t.open {
		if b.hour == hour {
			t.last = b
			return b
		}
	}
	var b *bucket[T]
	if n := len(t.free); n > 0 {
		b, t.free = t.free[n-1], t.free[:n-1]
	} else {
		b = &bucket[T]{rows: make([]T, 0, batchRows)}
	}
	b.hour = hour
	t.open = append(t.open, b)
	t.last = b
	return b
}

// add appends a copy of r to the bucket of ts's hour and returns the copy,
// for the caller to complete before calling added.
func (t *table[T]) add(ts int64, r *T) (*T, *bucket[T]) {
	b := t.last
	if h := hourOf(ts); b == nil || b.hour != h {
		b = t.bucket(h)
	}
	b.rows = append(b.rows, *r)
	return &b.rows[len(b.rows)-1], b
}

// added records the row just appended to b.rows and encodes a full batch.
func (t *table[T]) added(b *bucket[T], offset int64) {
	if b.n == 0 {
		b.minOff, b.maxOff = offset, offset
	} else {
		b.minOff = min(b.minOff, offset)
		b.maxOff = max(b.maxOff, offset)
	}
	b.n++
	if len(b.rows) == cap(b.rows) {
		t.encode(b)
	}
}

// encode hands b's pending rows to its Parquet writer, which writes pages
// to the spool file.
func (t *table[T]) encode(b *bucket[T]) {
	rows := b.rows
	b.rows = b.rows[:0]
	if t.err != nil {
		return
	}
	if b.spool == nil {
		f, err := os.CreateTemp(t.enc.spoolDir, t.enc.spoolPrefix+t.name+"-*.parquet")
		if err != nil {
			t.err = fmt.Errorf("lake %s: open spool file: %w", t.name, err)
			return
		}
		b.spool = f
		// A new writer per file: parquet-go v0.32.0's Reset blanks
		// path_in_schema in every later file, which Athena and Spark
		// reject (parquet-go/parquet-go#602). Schemas are cached, so this
		// costs a few column buffers per file.
		b.pw = parquet.NewGenericWriter[T](f, t.enc.options...)
		b.encoded, b.groupStart = 0, 0
	}
	if _, err := b.pw.Write(rows); err != nil {
		t.err = fmt.Errorf("lake %s: encode to %s: %w", t.name, b.spool.Name(), err)
		return
	}
	b.encoded = b.pw.Size()
	if b.encoded-b.groupStart >= t.enc.rowGroupBytes {
		if err := b.pw.Flush(); err != nil {
			t.err = fmt.Errorf("lake %s: write row group to %s: %w", t.name, b.spool.Name(), err)
			return
		}
		b.encoded = b.pw.Size()
		b.groupStart = b.encoded
	}
}

// closeAll finishes every open file, in hour order, and appends each to
// pending; keybuf is scratch space for building keys.
func (t *table[T]) closeAll(pending []pendingFile, keybuf []byte) ([]pendingFile, []byte) {
	slices.SortFunc(t.open, func(a, b *bucket[T]) int { return cmp.Compare(a.hour, b.hour) })
	for i, b := range t.open {
		if len(b.rows) > 0 {
			t.encode(b)
		}
		if t.err == nil {
			if err := b.pw.Close(); err != nil {
				t.err = fmt.Errorf("lake %s: finish %s: %w", t.name, b.spool.Name(), err)
			}
		}
		var size int64
		if t.err == nil {
			var err error
			if size, err = b.spool.Seek(0, io.SeekEnd); err != nil {
				t.err = fmt.Errorf("lake %s: %w", t.name, err)
			}
		}
		if t.err != nil {
			// Leave the rest open so discard removes their spool files.
			t.open = slices.Delete(t.open, 0, i)
			return pending, keybuf
		}
		keybuf = appendKey(keybuf[:0], t.name, b.hour, t.enc.topic, t.enc.partition, b.minOff, b.maxOff)
		pending = append(pending, pendingFile{
			File: File{
				Key:       string(keybuf),
				Table:     t.name,
				Rows:      b.n,
				Bytes:     size,
				MinOffset: b.minOff,
				MaxOffset: b.maxOff,
			},
			spool: b.spool,
		})
		t.release(b)
	}
	clear(t.open)
	t.open = t.open[:0]
	t.last = nil
	return pending, keybuf
}

// release readies a closed bucket for reuse, keeping its batch slice.
func (t *table[T]) release(b *bucket[T]) {
	clear(b.rows[:cap(b.rows)]) // drop references to payload strings
	b.rows = b.rows[:0]
	b.pw, b.spool = nil, nil
	b.n, b.encoded, b.groupStart = 0, 0, 0
	if len(t.free) < keepFree {
		t.free = append(t.free, b)
	}
}

// discard drops every open bucket and removes its spool file.
func (t *table[T]) discard() error {
	var first error
	for _, b := range t.open {
		if b.spool != nil {
			if err := removeSpool(b.spool); err != nil && first == nil {
				first = err
			}
		}
		t.release(b)
	}
	clear(t.open)
	t.open = t.open[:0]
	t.last = nil
	return first
}

// size estimates the bytes held for this table's open files.
func (t *table[T]) size() int64 {
	var n int64
	rowSize := int64(unsafe.Sizeof(*new(T)))
	for _, b := range t.open {
		n += b.encoded + int64(len(b.rows))*rowSize + openBucketBytes
	}
	return n
}

func removeSpool(f *os.File) error {
	cerr := f.Close()
	if err := os.Remove(f.Name()); err != nil {
		return fmt.Errorf("lake: remove spool file: %w", err)
	}
	if cerr != nil {
		return fmt.Errorf("lake: close spool file: %w", cerr)
	}
	return nil
}
