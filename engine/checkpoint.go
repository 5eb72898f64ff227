package engine

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/klauspost/compress/zstd"

	"github.com/tickstream/tickstream/sinks/lake"
)

// Exactly-once into the lake (see docs/exactly-once.md). Every batch a
// partition seals covers the offsets [Start, Next) and is committed in the
// lake in four steps, each one object put atomically:
//
//  1. _checkpoints/<topic>/<partition>/<Start>.pending lists the batch's keys;
//  2. the batch's Parquet files;
//  3. _checkpoints/<topic>/<partition>/<Start>.ckpt: Next and the state of
//     every symbol as of Next (operators and, with predictions on, the
//     models' input state) — the commit point;
//  4. the marker and the previous checkpoint are deleted; then the Kafka
//     offset is committed (only a hint: the lake's checkpoint wins).
//
// Recovery, whenever a partition is assigned, trusts the lake: the newest
// .ckpt gives the state and where to resume; every .pending at or past it
// names files of a batch that never committed, which are deleted before the
// records are read again.

const checkpointDir = "_checkpoints"

// checkpointVersion is written into every header. Version 1 held the
// operator state only; version 2 adds each symbol's model input state.
// Both are read: a version 1 checkpoint restores the operators, and the
// symbols' predictions warm up again.
const checkpointVersion = 2

// checkpoint is the header of a .ckpt object; the states follow it.
type checkpoint struct {
	Version   int      `json:"version"`
	Topic     string   `json:"topic"`
	Partition int32    `json:"partition"`
	Start     int64    `json:"start"` // first offset of the batch
	Next      int64    `json:"next"`  // resume here
	Keys      []string `json:"keys"`  // the batch's files
	Symbols   int      `json:"symbols"`
}

// pending is a .pending marker: what a batch is about to put.
type pending struct {
	Start int64    `json:"start"`
	Next  int64    `json:"next"`
	Keys  []string `json:"keys"`
}

func checkpointPrefix(topic string, partition int32) string {
	return checkpointDir + "/" + topic + "/" + strconv.Itoa(int(partition)) + "/"
}

func checkpointKey(topic string, partition int32, start int64, ext string) string {
	return fmt.Sprintf("%s%020d.%s", checkpointPrefix(topic, partition), start, ext)
}

var (
	zenc, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest))
	zdec, _ = zstd.NewReader(nil)
)

// encodedState is one symbol's state as sealed: the operators.State
// encoding and the models.Symbol encoding (empty: predictions off).
type encodedState struct {
	op, model []byte
}

func (st *symState) encode() (encodedState, error) {
	op, err := st.op.AppendBinary(nil)
	if err != nil || st.pred == nil {
		return encodedState{op: op}, err
	}
	model, err := st.pred.AppendBinary(nil)
	return encodedState{op: op, model: model}, err
}

// encodeCheckpoint lays out a .ckpt: a 4-byte big-endian header length, the
// JSON header, then zstd of the states in symbol order, each three
// uvarint-length chunks: the symbol, its operators.State encoding and its
// models.Symbol encoding (empty when predictions are off). Version 1 had
// the first two only.
func encodeCheckpoint(h checkpoint, states map[string]encodedState) ([]byte, error) {
	syms := make([]string, 0, len(states))
	for s := range states {
		syms = append(syms, s)
	}
	sort.Strings(syms)
	h.Version, h.Symbols = checkpointVersion, len(syms)
	var raw []byte
	for _, s := range syms {
		st := states[s]
		raw = appendChunk(raw, []byte(s))
		raw = appendChunk(raw, st.op)
		raw = appendChunk(raw, st.model)
	}
	hdr, err := json.Marshal(h)
	if err != nil {
		return nil, err
	}
	out := binary.BigEndian.AppendUint32(nil, uint32(len(hdr)))
	out = append(out, hdr...)
	return zenc.EncodeAll(raw, out), nil
}

// restored is what a checkpoint's states give back.
type restored struct {
	states map[string]*symState
	// refused: operator state the current config cannot take (a changed
	// window size, say); these symbols start afresh.
	refused []string
	// refusedModels: model input state that does not fit (models.window
	// changed); these symbols keep their operator state and their
	// predictions warm up again.
	refusedModels []string
	// noModelState counts symbols restored without model input state
	// (a version 1 checkpoint, or one written with predictions off).
	noModelState int
}

// decodeCheckpoint restores the states of a .ckpt into fresh ones made by
// fresh (see restored for what happens to states that do not fit).
func decodeCheckpoint(b []byte, fresh func(string) *symState) (h checkpoint, r restored, err error) {
	if len(b) < 4 || int(binary.BigEndian.Uint32(b)) > len(b)-4 {
		return h, r, errors.New("checkpoint truncated")
	}
	n := binary.BigEndian.Uint32(b)
	if err := json.Unmarshal(b[4:4+n], &h); err != nil {
		return h, r, fmt.Errorf("checkpoint header: %w", err)
	}
	if h.Version != 1 && h.Version != checkpointVersion {
		return h, r, fmt.Errorf("checkpoint version %d not supported (this build reads 1 and %d)", h.Version, checkpointVersion)
	}
	raw, err := zdec.DecodeAll(b[4+n:], nil)
	if err != nil {
		return h, r, fmt.Errorf("checkpoint states: %w", err)
	}
	r.states = make(map[string]*symState, h.Symbols)
	for len(raw) > 0 {
		sym, rest, ok := readChunk(raw)
		var op, model []byte
		if ok {
			op, rest, ok = readChunk(rest)
		}
		if ok && h.Version >= 2 {
			model, rest, ok = readChunk(rest)
		}
		if !ok {
			return h, restored{}, errors.New("checkpoint states truncated")
		}
		raw = rest
		st := fresh(string(sym))
		if err := st.op.UnmarshalBinary(op); err != nil {
			r.refused = append(r.refused, string(sym))
			continue
		}
		switch {
		case st.pred == nil:
		case len(model) == 0:
			r.noModelState++
		default:
			// A refused encoding leaves st.pred as fresh made it.
			if err := st.pred.UnmarshalBinary(model); err != nil {
				r.refusedModels = append(r.refusedModels, string(sym))
			}
		}
		r.states[string(sym)] = st
	}
	return h, r, nil
}

func appendChunk(b, chunk []byte) []byte {
	return append(binary.AppendUvarint(b, uint64(len(chunk))), chunk...)
}

func readChunk(b []byte) (chunk, rest []byte, ok bool) {
	n, w := binary.Uvarint(b)
	if w <= 0 || uint64(len(b)-w) < n {
		return nil, nil, false
	}
	return b[w : w+int(n)], b[w+int(n):], true
}

// recovery is what the lake says about a partition.
type recovery struct {
	restored
	found   bool
	next    int64
	removed []string // files of uncommitted batches, deleted
	prev    string   // key of the checkpoint in force, deleted after the next one
}

// recoverPartition reads the partition's checkpoints, deletes the files of
// batches that never committed and returns the state to resume from; fresh
// makes a symbol's empty state.
func recoverPartition(ctx context.Context, store lake.BlobStore, topic string, partition int32, fresh func(string) *symState) (recovery, error) {
	var rec recovery
	prefix := checkpointPrefix(topic, partition)
	keys, err := store.List(ctx, prefix)
	if err != nil {
		return rec, fmt.Errorf("list %s: %w", prefix, err)
	}
	var ckpts, pendings []string
	for _, k := range keys {
		switch path.Ext(k) {
		case ".ckpt":
			ckpts = append(ckpts, k)
		case ".pending":
			pendings = append(pendings, k)
		}
	}
	sort.Strings(ckpts) // zero-padded start offsets: lexical order is offset order
	if len(ckpts) > 0 {
		rec.prev = ckpts[len(ckpts)-1]
		b, err := getAll(ctx, store, rec.prev)
		if err != nil {
			return rec, err
		}
		h, r, err := decodeCheckpoint(b, fresh)
		if err != nil {
			return rec, fmt.Errorf("%s: %w", rec.prev, err)
		}
		rec.found, rec.next, rec.restored = true, h.Next, r
		for _, old := range ckpts[:len(ckpts)-1] {
			if err := store.Delete(ctx, old); err != nil {
				return rec, fmt.Errorf("delete old checkpoint %s: %w", old, err)
			}
		}
	}
	for _, k := range pendings {
		start, _ := strconv.ParseInt(strings.TrimSuffix(path.Base(k), ".pending"), 10, 64)
		if !rec.found || start >= rec.next {
			b, err := getAll(ctx, store, k)
			if err != nil {
				return rec, err
			}
			var p pending
			if err := json.Unmarshal(b, &p); err != nil {
				return rec, fmt.Errorf("%s: %w", k, err)
			}
			for _, f := range p.Keys {
				if err := store.Delete(ctx, f); err != nil {
					return rec, fmt.Errorf("delete uncommitted %s: %w", f, err)
				}
				rec.removed = append(rec.removed, f)
			}
		}
		if err := store.Delete(ctx, k); err != nil {
			return rec, fmt.Errorf("delete marker %s: %w", k, err)
		}
	}
	return rec, nil
}

func getAll(ctx context.Context, store lake.BlobStore, key string) ([]byte, error) {
	r, err := store.Get(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	return b, nil
}

func putBytes(ctx context.Context, store lake.BlobStore, key string, b []byte) error {
	if err := store.Put(ctx, key, bytes.NewReader(b), int64(len(b))); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	return nil
}
