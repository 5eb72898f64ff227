package replay

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/parquet-go/parquet-go"

	"github.com/tickstream/tickstream/sinks/lake"
	"github.com/tickstream/tickstream/tick"
)

// hourGroup is the Parquet files of one event-time hour (the lake's
// date=…/hour=… folder), or of one directory outside a lake layout.
type hourGroup struct {
	key   string // "date=2025-11-25/hour=14": sorts in time order
	files []string
}

// lakeFiles finds the Parquet files under dir, grouped by hour folder, in
// time order. Names starting with "." or "_" are skipped, as Hive-style
// readers skip them (the lake's files in progress).
func lakeFiles(dir string) ([]hourGroup, error) {
	groups := map[string][]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if path != dir && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || !strings.HasSuffix(name, ".parquet") {
			return nil
		}
		rel, err := filepath.Rel(dir, filepath.Dir(path))
		if err != nil {
			return err
		}
		groups[hourKey(filepath.ToSlash(rel))] = append(groups[hourKey(filepath.ToSlash(rel))], path)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("replay: list %s: %w", dir, err)
	}
	out := make([]hourGroup, 0, len(groups))
	for k, fs := range groups {
		slices.Sort(fs)
		out = append(out, hourGroup{key: k, files: fs})
	}
	slices.SortFunc(out, func(a, b hourGroup) int { return strings.Compare(a.key, b.key) })
	return out, nil
}

// hourKey is the date=…/hour=… part of a folder path; "" when it has none,
// which puts all such files into one group.
func hourKey(rel string) string {
	var date, hour string
	for _, part := range strings.Split(rel, "/") {
		switch {
		case strings.HasPrefix(part, "date="):
			date = part
		case strings.HasPrefix(part, "hour="):
			hour = part
		}
	}
	if date == "" {
		return ""
	}
	return date + "/" + hour
}

// tableOf says which lake table a Parquet file holds, by its columns.
func tableOf(pf *parquet.File) (string, error) {
	has := func(col string) bool {
		_, ok := pf.Schema().Lookup(col)
		return ok
	}
	switch {
	case has("reject_reason") && has("price"):
		return lake.TableRaw, nil
	case has("ma") && has("price"):
		return lake.TableProcessed, nil
	}
	return "", errors.New("neither a raw nor a processed table file (no reject_reason or ma column)")
}

// batchRows is how many rows a file stream reads at a time.
const batchRows = 256

// parquetStream reads one raw or processed file.
type parquetStream struct {
	f    *os.File
	name string
	read func(t *tick.Tick) (bool, error)
}

func openParquet(path string) (s *parquetStream, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	defer func() {
		// parquet-go panics on some broken files instead of returning an
		// error; a bad file must not crash a replay.
		if r := recover(); r != nil {
			err = fmt.Errorf("replay %s: unreadable Parquet: %v", path, r)
		}
		if err != nil {
			f.Close()
			s = nil
		}
	}()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("replay %s: %w", path, err)
	}
	table, err := tableOf(pf)
	if err != nil {
		return nil, fmt.Errorf("replay %s: %w", path, err)
	}
	s = &parquetStream{f: f, name: path}
	if table == lake.TableRaw {
		s.read = rows(parquet.NewGenericReader[lake.RawRow](pf), path, func(r *lake.RawRow, t *tick.Tick) bool {
			// Rejected rows were never ticks; accepted ones always have a ts.
			if r.RejectReason != "" || r.TS == 0 {
				return false
			}
			*t = tick.Tick{Symbol: r.Symbol, TS: r.TS, Price: r.Price, Volume: r.Volume, Bid: r.Bid, Ask: r.Ask}
			return true
		})
	} else {
		s.read = rows(parquet.NewGenericReader[lake.ProcessedRow](pf), path, func(r *lake.ProcessedRow, t *tick.Tick) bool {
			*t = tick.Tick{Symbol: r.Symbol, TS: r.TS, Price: r.Price, Volume: r.Volume, Bid: r.Bid, Ask: r.Ask}
			return true
		})
	}
	return s, nil
}

// rows turns a typed reader into a tick iterator over batches of rows;
// keep says whether a row is a tick and fills it.
func rows[T any](r *parquet.GenericReader[T], path string, keep func(*T, *tick.Tick) bool) func(*tick.Tick) (bool, error) {
	buf := make([]T, batchRows)
	var n, i int
	var syms interner
	eof := false
	return func(t *tick.Tick) (ok bool, err error) {
		defer func() {
			if r := recover(); r != nil {
				ok, err = false, fmt.Errorf("replay %s: unreadable Parquet: %v", path, r)
			}
		}()
		for {
			for i < n {
				i++
				if keep(&buf[i-1], t) {
					t.Symbol = syms.intern(t.Symbol)
					return true, nil
				}
			}
			if eof {
				return false, nil
			}
			var err error
			n, err = r.Read(buf)
			i = 0
			if err == io.EOF {
				eof = true
			} else if err != nil {
				return false, fmt.Errorf("replay %s: %w", path, err)
			}
		}
	}
}

func (s *parquetStream) next(t *tick.Tick) (bool, error) { return s.read(t) }
func (s *parquetStream) close() error                    { return s.f.Close() }

// interner keeps one copy of each symbol string. Strings read from Parquet
// may point into the reader's buffers (dictionary pages), which are reused;
// a tick that outlives its batch (in the merge) must own its symbol.
type interner map[string]string

func (in *interner) intern(s string) string {
	if v, ok := (*in)[s]; ok {
		return v
	}
	if *in == nil {
		*in = map[string]string{}
	}
	v := strings.Clone(s)
	(*in)[v] = v
	return v
}
