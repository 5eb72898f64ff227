package lake

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tickstream/tickstream/config"
)

func put(t *testing.T, s BlobStore, key, body string) {
	t.Helper()
	if err := s.Put(context.Background(), key, strings.NewReader(body), int64(len(body))); err != nil {
		t.Fatal(err)
	}
}

func TestLocalStorePutGetListDelete(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	keys := []string{
		"raw/date=2024-01-01/hour=00/a.parquet",
		"raw/date=2024-01-01/hour=01/b.parquet",
		"raw-old/x",
		"processed/date=2024-01-01/hour=00/c.parquet",
		"top",
	}
	for _, k := range keys {
		put(t, s, k, "body of "+k)
	}
	for _, k := range keys {
		if got := string(getObject(t, s, k)); got != "body of "+k {
			t.Errorf("Get(%s) = %q", k, got)
		}
		// Keys with '/' are directories on disk.
		if _, err := os.Stat(filepath.Join(s.Dir(), filepath.FromSlash(k))); err != nil {
			t.Errorf("%s is not a file under the root: %v", k, err)
		}
	}

	list := func(prefix string) []string {
		t.Helper()
		got, err := s.List(ctx, prefix)
		if err != nil {
			t.Fatalf("List(%q): %v", prefix, err)
		}
		return got
	}
	f := func(prefix string) {
		t.Helper()
		// Expected: plain string-prefix filter over all keys, byte order.
		var want []string
		for _, k := range keys {
			if strings.HasPrefix(k, prefix) {
				want = append(want, k)
			}
		}
		slices.Sort(want)
		if got := list(prefix); !slices.Equal(got, want) {
			t.Errorf("List(%q) = %q, want %q", prefix, got, want)
		}
	}
	f("")
	f("raw")
	f("raw/")
	f("raw/date=2024-01-01/hour=0")
	f("raw/date=2024-01-01/hour=01/")
	f("processed/date=2024-01-01/hour=00/c.parquet")
	f("to")
	f("nothing/here/")

	if err := s.Delete(ctx, keys[0]); err != nil {
		t.Fatal(err)
	}
	keys = keys[1:]
	f("")
	if _, err := s.Get(ctx, "raw/date=2024-01-01/hour=00/a.parquet"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get of a deleted key: %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, "raw/date=2024-01-01/hour=00/a.parquet"); err != nil {
		t.Errorf("Delete of a missing key: %v, want nil", err)
	}
	if _, err := s.Get(ctx, "raw"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get of a directory: %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, "raw"); err != nil {
		t.Errorf("Delete of a directory: %v, want nil", err)
	}
	f("raw/") // the objects under the directory are still there
}

// watchReader calls check when the copy is half done, then fails or not.
type watchReader struct {
	r     io.ReadSeeker
	read  int
	at    int
	check func()
	fail  bool
}

func (w *watchReader) Read(p []byte) (int, error) {
	if w.read >= w.at && w.check != nil {
		w.check()
		w.check = nil
		if w.fail {
			return 0, errors.New("injected read failure")
		}
	}
	p = p[:min(len(p), 1000)]
	n, err := w.r.Read(p)
	w.read += n
	return n, err
}

func (w *watchReader) Seek(off int64, whence int) (int64, error) { return w.r.Seek(off, whence) }

func TestLocalStorePutIsAtomic(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	const key = "raw/date=2024-01-01/hour=00/f.parquet"
	old := strings.Repeat("o", 5000)
	put(t, s, key, old)

	dir := filepath.Join(s.Dir(), "raw/date=2024-01-01/hour=00")
	newBody := strings.Repeat("n", 10000)
	sawTemp := false
	midway := func() {
		// Mid-copy the key still holds the old object, whole, and the
		// partial one has a name query engines and List skip.
		if got := string(getObject(t, s, key)); got != old {
			t.Errorf("mid-put the key holds %d bytes, not the old object", len(got))
		}
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			if e.Name() != "f.parquet" {
				sawTemp = true
				if c := e.Name()[0]; c != '.' && c != '_' {
					t.Errorf("temporary file %q is visible to query engines", e.Name())
				}
			}
		}
		if keys, _ := s.List(ctx, ""); !slices.Equal(keys, []string{key}) {
			t.Errorf("mid-put List = %q", keys)
		}
	}

	// A put that fails midway leaves the old object and no temporary file.
	err := s.Put(ctx, key, &watchReader{r: strings.NewReader(newBody), at: 5000, check: midway, fail: true}, int64(len(newBody)))
	if err == nil {
		t.Fatal("Put with a failing body succeeded")
	}
	if !sawTemp {
		t.Error("never saw the temporary file; the test checks nothing")
	}
	if got := string(getObject(t, s, key)); got != old {
		t.Error("a failed put changed the object")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("a failed put left files behind: %v", ents)
	}

	// A short body (less than size) fails the same way.
	if err := s.Put(ctx, key, strings.NewReader("short"), 10); err == nil {
		t.Error("Put of 5 bytes declared as 10 succeeded")
	}
	if got := string(getObject(t, s, key)); got != old {
		t.Error("a short put changed the object")
	}

	// A good put replaces the object whole; Put reads the body from its
	// start even if it was read before.
	body := bytes.NewReader([]byte(newBody))
	_, _ = body.Seek(100, io.SeekStart)
	if err := s.Put(ctx, key, &watchReader{r: body, at: 5000, check: midway}, int64(len(newBody))); err != nil {
		t.Fatal(err)
	}
	if got := string(getObject(t, s, key)); got != newBody {
		t.Errorf("after put the key holds %d bytes, want the new %d", len(got), len(newBody))
	}
	if fi, err := os.Stat(filepath.Join(dir, "f.parquet")); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("object mode %v, %v; want 0644 so other users' query engines can read it", fi.Mode(), err)
	}
}

func TestCheckKey(t *testing.T) {
	f := func(key string, ok bool) {
		t.Helper()
		if err := CheckKey(key); (err == nil) != ok {
			t.Errorf("CheckKey(%q) = %v, want ok=%v", key, err, ok)
		}
	}
	f("raw/date=2024-01-01/hour=00/ticks+0+1-2.parquet", true)
	f("a", true)
	f("_SUCCESS", true)
	f("", false)
	f("/abs", false)
	f("a//b", false)
	f("a/", false)
	f("..", false)
	f("a/../b", false)
	f("a/./b", false)
	f(".hidden", false)
	f("a/.tmp", false)
	f(`a\b`, false)
	f("a\x00b", false)

	s := newTestStore(t)
	ctx := context.Background()
	for _, bad := range []string{"../escape", "/etc/passwd", "a/../../b"} {
		if err := s.Put(ctx, bad, strings.NewReader("x"), 1); err == nil {
			t.Errorf("Put(%q) succeeded", bad)
		}
		if _, err := s.Get(ctx, bad); err == nil {
			t.Errorf("Get(%q) succeeded", bad)
		}
		if err := s.Delete(ctx, bad); err == nil {
			t.Errorf("Delete(%q) succeeded", bad)
		}
		if _, err := s.List(ctx, bad); err == nil {
			t.Errorf("List(%q) succeeded", bad)
		}
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(s.Dir()), "escape")); err == nil {
		t.Error("a key escaped the store root")
	}
}

func TestOpen(t *testing.T) {
	tmp := t.TempDir()
	f := func(url, wantDir, wantErr string) {
		t.Helper()
		s, err := Open(context.Background(), config.Lake{URL: url})
		if wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), wantErr) {
				t.Errorf("Open(%q) error = %v, want one containing %q", url, err, wantErr)
			}
			if s != nil {
				t.Errorf("Open(%q) returned a store with its error", url)
			}
			return
		}
		if err != nil {
			t.Fatalf("Open(%q): %v", url, err)
		}
		ls, ok := s.(*LocalStore)
		if !ok || ls.Dir() != wantDir {
			t.Errorf("Open(%q) = %#v, want a LocalStore at %s", url, s, wantDir)
		}
	}
	f(filepath.Join(tmp, "a"), filepath.Join(tmp, "a"), "")
	f("file://"+filepath.Join(tmp, "b"), filepath.Join(tmp, "b"), "")
	f("file://localhost"+filepath.Join(tmp, "c"), filepath.Join(tmp, "c"), "")
	t.Chdir(tmp)
	f("./data", filepath.Join(tmp, "data"), "")
	f("file://host/x", "", "with host")
	f("gs://bucket", "", "unsupported scheme")
	f("", "", "empty")
	f("s3://Bucket/prefix", "", "bucket") // S3 URLs are TestOpenS3's
}
