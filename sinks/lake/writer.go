package lake

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"

	"github.com/tickstream/tickstream/models"
)

// Options configure one PartitionWriter.
type Options struct {
	Topic     string // the ticks topic; part of every key
	Partition int32  // the Kafka partition this writer serves
	// Compression is "zstd" (the default) or "snappy".
	Compression string
	// SpoolDir holds files being written; default os.TempDir()/tickstream-spool.
	// It should be on local disk: files are written there, then put whole.
	SpoolDir string
	// FlushBytes is the Size at which Full reports true; 0 never.
	FlushBytes int64
}

// File is one committed object.
type File struct {
	Key   string
	Table string // TableRaw, TableProcessed, TableAlerts or TablePredictions
	Rows  int64
	Bytes int64
	// MinOffset and MaxOffset are the Kafka offsets of the file's rows.
	MinOffset, MaxOffset int64
}

type pendingFile struct {
	File
	spool *os.File // finished Parquet, not yet put
}

// zstdFastest instead of zstd's default level: measured on tick rows, raw
// files come out no larger and processed ones ~13% larger, for 25-40% less
// CPU. The lake encodes two rows per tick, so its speed bounds the pipeline.
var zstdFastest = &zstd.Codec{Level: zstd.SpeedFastest}

// ErrClosed is returned by Flush after Close.
var ErrClosed = errors.New("lake: partition writer closed")

// PartitionWriter turns the rows of one Kafka partition into Parquet files,
// one per table and event-time hour, and commits them on Flush. It is owned
// by one goroutine: no method may be called concurrently.
//
// Raw, Processed, Alert and Prediction copy the row (its strings are shared, not copied)
// and allocate nothing in the steady state. Encoding errors cannot be
// returned per row; they are kept and returned by the next Flush, after which
// the writer is unusable: Close it and replay from the last committed offset.
type PartitionWriter struct {
	store     BlobStore
	o         Options
	enc       encoder
	raw       table[RawRow]
	processed table[ProcessedRow]
	alerts    table[AlertRow]
	preds     table[models.PredictionRow]

	rows   int
	unsent *Batch // left by a Flush whose put failed; the next Flush retries it
	keybuf []byte
	closed bool
}

// NewPartitionWriter returns a writer committing to store.
func NewPartitionWriter(store BlobStore, o Options) (*PartitionWriter, error) {
	if store == nil {
		return nil, errors.New("lake: nil store")
	}
	if err := checkTopic(o.Topic); err != nil {
		return nil, err
	}
	if o.Partition < 0 {
		return nil, fmt.Errorf("lake: negative partition %d", o.Partition)
	}
	var codec parquet.WriterOption
	switch o.Compression {
	case "", "zstd":
		o.Compression = "zstd"
		codec = parquet.Compression(zstdFastest)
	case "snappy":
		codec = parquet.Compression(&parquet.Snappy)
	default:
		return nil, fmt.Errorf("lake: compression %q: want zstd or snappy", o.Compression)
	}
	if o.FlushBytes < 0 {
		return nil, fmt.Errorf("lake: negative flush bytes %d", o.FlushBytes)
	}
	if o.SpoolDir == "" {
		o.SpoolDir = filepath.Join(os.TempDir(), "tickstream-spool")
	}
	if err := os.MkdirAll(o.SpoolDir, 0o700); err != nil {
		return nil, fmt.Errorf("lake: spool dir: %w", err)
	}
	prefix := o.Topic + "-" + strconv.Itoa(int(o.Partition)) + "-"
	if err := sweepSpool(o.SpoolDir, prefix); err != nil {
		return nil, err
	}
	w := &PartitionWriter{store: store, o: o}
	w.enc = encoder{
		spoolDir:    o.SpoolDir,
		spoolPrefix: prefix,
		topic:       o.Topic,
		partition:   o.Partition,
		options: []parquet.WriterOption{
			codec,
			// Version 1 data pages are what every reader handles, Hive's
			// included; v2 gains little for columns this small.
			parquet.DataPageVersion(1),
			// A symbol or error column with unbounded distinct values falls
			// back to plain encoding instead of growing without limit.
			parquet.DictionaryMaxBytes(1 << 20),
		},
		rowGroupBytes: rowGroupBytes,
	}
	w.raw = table[RawRow]{name: TableRaw, enc: &w.enc}
	w.processed = table[ProcessedRow]{name: TableProcessed, enc: &w.enc}
	w.alerts = table[AlertRow]{name: TableAlerts, enc: &w.enc}
	w.preds = table[models.PredictionRow]{name: TablePredictions, enc: &w.enc}
	return w, nil
}

// sweepSpool removes the spool files a crashed writer of the same partition
// left behind: they were never committed, and the partition's records are
// read again from its last checkpoint. Only this partition's tables match, so
// writers of other partitions sharing the directory are left alone.
func sweepSpool(dir, prefix string) error {
	for _, table := range []string{TableRaw, TableProcessed, TableAlerts, TablePredictions} {
		stale, err := filepath.Glob(filepath.Join(dir, prefix+table+"-*.parquet"))
		if err != nil {
			return fmt.Errorf("lake: spool sweep: %w", err)
		}
		for _, f := range stale {
			if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("lake: remove stale spool file: %w", err)
			}
		}
	}
	return nil
}

// checkTopic accepts Kafka's legal topic names, which are also safe in keys.
func checkTopic(topic string) error {
	if topic == "" || len(topic) > 249 || topic == "." || topic == ".." {
		return fmt.Errorf("lake: invalid topic %q", topic)
	}
	for _, c := range []byte(topic) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
		if !ok {
			return fmt.Errorf("lake: invalid topic %q: character %q", topic, c)
		}
	}
	return nil
}

// Raw buffers a row of the raw table, partitioned by its event time when it
// was accepted, else by its Kafka timestamp: a rejected record's event time
// may be the very thing that is wrong (years ahead, say), and it should be
// found beside the records that arrived with it. A row with no usable time at
// all lands in date=1970-01-01/hour=00.
func (w *PartitionWriter) Raw(r *RawRow) {
	if w.closed {
		return
	}
	ts := r.TS
	if !hasTime(ts) || r.RejectReason != "" {
		ts = r.KafkaTS
	}
	row, b := w.raw.add(ts, r)
	row.KafkaPartition = w.o.Partition
	w.raw.added(b, r.KafkaOffset)
	w.rows++
}

// Processed buffers a row of the processed table. A NaN MATime is stored as
// NULL.
func (w *PartitionWriter) Processed(r *ProcessedRow) {
	if w.closed {
		return
	}
	row, b := w.processed.add(r.TS, r)
	row.KafkaPartition = w.o.Partition
	if row.MATime != row.MATime {
		row.MATime = 0
	}
	w.processed.added(b, r.KafkaOffset)
	w.rows++
}

// Alert buffers a row of the alerts table.
func (w *PartitionWriter) Alert(r *AlertRow) {
	if w.closed {
		return
	}
	row, b := w.alerts.add(r.TS, r)
	row.KafkaPartition = w.o.Partition
	w.alerts.added(b, r.KafkaOffset)
	w.rows++
}

// Prediction buffers a row of the predictions table, by the event time of
// the tick it was made at.
func (w *PartitionWriter) Prediction(r *models.PredictionRow) {
	if w.closed {
		return
	}
	row, b := w.preds.add(r.TS, r)
	row.KafkaPartition = w.o.Partition
	w.preds.added(b, r.KafkaOffset)
	w.rows++
}

// Size estimates the bytes buffered and spooled since the last successful
// Flush: encoded Parquet, rows not yet encoded, a fixed charge per open file
// and finished files not yet committed.
func (w *PartitionWriter) Size() int64 {
	n := w.raw.size() + w.processed.size() + w.alerts.size() + w.preds.size()
	if w.unsent != nil {
		n += w.unsent.Bytes()
	}
	return n
}

// Full reports whether Size reached Options.FlushBytes.
func (w *PartitionWriter) Full() bool {
	return w.o.FlushBytes > 0 && w.Size() >= w.o.FlushBytes
}

// Rows returns the number of rows given since the last successful Flush.
func (w *PartitionWriter) Rows() int { return w.rows }

// Seal finishes every open file and hands them over as a Batch to be put
// into the store, so that the upload (slow on S3, an fsync locally) can run
// off the partition's goroutine while new rows go into new files. Rows given
// after Seal belong to the next batch. A writer with no rows seals an empty
// batch.
func (w *PartitionWriter) Seal() (*Batch, error) {
	if w.closed {
		return nil, ErrClosed
	}
	if err := w.encodeErr(); err != nil {
		return nil, err
	}
	b := &Batch{store: w.store}
	b.pending, w.keybuf = w.raw.closeAll(b.pending, w.keybuf)
	b.pending, w.keybuf = w.processed.closeAll(b.pending, w.keybuf)
	b.pending, w.keybuf = w.alerts.closeAll(b.pending, w.keybuf)
	b.pending, w.keybuf = w.preds.closeAll(b.pending, w.keybuf)
	if err := w.encodeErr(); err != nil {
		_ = b.Discard()
		return nil, err
	}
	w.rows = 0
	return b, nil
}

// Flush seals and puts in one step: raw files first, then processed, then
// alerts, then predictions, each table in hour order. It returns the files
// committed since the previous successful Flush; none (nil) when no row was
// given. Only after Flush returns nil may the engine commit Kafka offsets up
// to the last record it handed to the writer.
//
// If a put fails, Flush returns the error and keeps the files not yet put;
// calling Flush again retries them first, then commits any newer rows. Files
// already put stay in the store and are reported by the Flush that succeeds.
func (w *PartitionWriter) Flush(ctx context.Context) ([]File, error) {
	rows := w.rows
	b, err := w.Seal()
	if err != nil {
		return nil, err
	}
	if w.unsent != nil {
		w.unsent.pending = append(w.unsent.pending, b.pending...)
		b = w.unsent
	}
	files, err := b.Put(ctx)
	if err != nil {
		w.unsent = b
		w.rows = rows // still uncommitted
		return nil, err
	}
	w.unsent = nil
	return files, nil
}

// Batch is a set of finished files not yet committed to the store. It is
// owned by one goroutine at a time, which may differ from the writer's.
type Batch struct {
	store   BlobStore
	pending []pendingFile // finished, in put order; kept if a put fails
	done    []File        // put by an earlier, failed call
}

// Empty reports whether the batch has nothing left to put.
func (b *Batch) Empty() bool { return len(b.pending) == 0 && len(b.done) == 0 }

// Keys are the object keys of the files not yet put, in put order.
func (b *Batch) Keys() []string {
	keys := make([]string, len(b.pending))
	for i := range b.pending {
		keys[i] = b.pending[i].Key
	}
	return keys
}

// Bytes is the size of the files not yet put.
func (b *Batch) Bytes() int64 {
	var n int64
	for i := range b.pending {
		n += b.pending[i].Bytes
	}
	return n
}

// Put puts every file into the store in order and returns all files of the
// batch. If a put fails it returns the error and keeps the files not yet put;
// calling Put again resumes with them.
func (b *Batch) Put(ctx context.Context) ([]File, error) {
	for i := range b.pending {
		p := &b.pending[i]
		if err := b.store.Put(ctx, p.Key, p.spool, p.Bytes); err != nil {
			err = fmt.Errorf("lake: commit %s: %w", p.Key, err)
			n := copy(b.pending, b.pending[i:])
			clear(b.pending[n:])
			b.pending = b.pending[:n]
			return nil, err
		}
		b.done = append(b.done, p.File)
		// The object is committed: a spool file left behind wastes disk
		// but loses nothing, so it does not fail the put.
		_ = removeSpool(p.spool)
	}
	b.pending = nil
	files := b.done
	b.done = nil
	return files, nil
}

// Discard removes the spool files of a batch that will not be put.
func (b *Batch) Discard() error {
	var errs []error
	for _, p := range b.pending {
		errs = append(errs, removeSpool(p.spool))
	}
	b.pending, b.done = nil, nil
	return errors.Join(errs...)
}

func (w *PartitionWriter) encodeErr() error {
	return errors.Join(w.raw.err, w.processed.err, w.alerts.err, w.preds.err)
}

// Close discards every row not yet committed and removes the spool files.
// The writer cannot be used afterwards.
func (w *PartitionWriter) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	errs := []error{w.raw.discard(), w.processed.discard(), w.alerts.discard(), w.preds.discard()}
	if w.unsent != nil {
		errs = append(errs, w.unsent.Discard())
		w.unsent = nil
	}
	w.rows = 0
	return errors.Join(errs...)
}
