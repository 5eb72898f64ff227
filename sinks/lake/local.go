package lake

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// LocalStore is a BlobStore over a directory: key "a/b/c" is the file
// <dir>/a/b/c. It is what lake.url = ./data uses, and what query engines
// (DuckDB, pyarrow) read directly.
type LocalStore struct {
	dir string // absolute
}

var _ BlobStore = (*LocalStore)(nil)

// NewLocalStore returns a store rooted at dir, creating dir if needed.
func NewLocalStore(dir string) (*LocalStore, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("local lake %q: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("local lake: %w", err)
	}
	return &LocalStore{dir: abs}, nil
}

// Dir returns the absolute root directory of the store.
func (s *LocalStore) Dir() string { return s.dir }

func (s *LocalStore) path(key string) string {
	return filepath.Join(s.dir, filepath.FromSlash(key))
}

// Put writes body to a temporary file in the key's directory, fsyncs it,
// renames it over the key and fsyncs the directory, so the object appears
// whole or not at all and survives a crash once Put returns. Temporary names
// start with '.', which Hive, Athena, DuckDB and List all skip.
func (s *LocalStore) Put(ctx context.Context, key string, body io.ReadSeeker, size int64) (err error) {
	if err := CheckKey(key); err != nil {
		return fmt.Errorf("put: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	final := s.path(key)
	dir := filepath.Dir(final)
	if err := s.mkdirs(dir); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	if _, err := body.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("put %s: rewind body: %w", key, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(final)+".*.tmp")
	if err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	// With an *os.File body this copies in the kernel (copy_file_range).
	if n, err := io.CopyN(tmp, body, size); err != nil {
		return fmt.Errorf("put %s: copied %d of %d bytes: %w", key, n, size, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("put %s: fsync: %w", key, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	return nil
}

// mkdirs is os.MkdirAll that also fsyncs the parent of every directory it
// creates, so a committed object's path survives a crash, not only its data.
func (s *LocalStore) mkdirs(dir string) error {
	if fi, err := os.Stat(dir); err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("%s: an object of that name exists", dir)
		}
		return nil
	}
	if dir == s.dir {
		return fmt.Errorf("lake root %s is gone", dir)
	}
	parent := filepath.Dir(dir)
	if err := s.mkdirs(parent); err != nil {
		return err
	}
	// Another partition writer may create the same hour directory now.
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return syncDir(parent)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		_ = d.Close()
		return fmt.Errorf("fsync %s: %w", dir, err)
	}
	return d.Close()
}

// Get opens the object under key.
func (s *LocalStore) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := CheckKey(key); err != nil {
		return nil, fmt.Errorf("get: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	f, err := os.Open(s.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("get %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	if fi, err := f.Stat(); err != nil || fi.IsDir() {
		_ = f.Close()
		return nil, fmt.Errorf("get %s: %w", key, ErrNotFound)
	}
	return f, nil
}

// List returns the sorted keys starting with prefix. It walks only the
// deepest directory the prefix names, and skips in-progress uploads.
func (s *LocalStore) List(ctx context.Context, prefix string) ([]string, error) {
	if err := checkPrefix(prefix); err != nil {
		return nil, err
	}
	start := s.dir
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		start = s.path(prefix[:i])
	}
	var keys []string
	err := filepath.WalkDir(start, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == start && errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if path == start {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() || !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(s.dir, path)
		if err != nil {
			return err
		}
		if key := filepath.ToSlash(rel); strings.HasPrefix(key, prefix) {
			keys = append(keys, key)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %q: %w", prefix, err)
	}
	// Byte order, as S3 lists: a walk puts "a/b" before "a-c".
	slices.Sort(keys)
	return keys, nil
}

// Delete removes the object under key. Directories are left in place: another
// writer may be about to put into them.
func (s *LocalStore) Delete(ctx context.Context, key string) error {
	if err := CheckKey(key); err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	p := s.path(key)
	if fi, err := os.Lstat(p); err == nil && fi.IsDir() {
		return nil
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	return nil
}
