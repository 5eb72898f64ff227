package lake

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/tickstream/tickstream/config"
)

// BlobStore is where finished Parquet files are committed: a LocalStore or an
// S3Store.
//
// Keys are slash-separated relative paths (see CheckKey). Put makes an object
// visible atomically: a reader sees the whole new body or what was there
// before, never part of it; after Put returns nil the object is durable. Put
// reads exactly size bytes from the start of body and may seek it (to retry).
// Get of a missing key returns an error matching ErrNotFound; Delete of a
// missing key succeeds. List returns every key that starts with prefix (a
// plain string prefix, not a directory), sorted. Implementations must be safe
// for concurrent use: every partition writer shares one store.
type BlobStore interface {
	Put(ctx context.Context, key string, body io.ReadSeeker, size int64) error
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	List(ctx context.Context, prefix string) ([]string, error)
	Delete(ctx context.Context, key string) error
}

// ErrNotFound is returned (wrapped) by Get when the key holds no object.
var ErrNotFound = errors.New("lake: object not found")

// Open returns the store for the lake of config.yaml: a directory path
// ("./data", "/abs"), a file:// URL ("file:///abs") or an S3 bucket and
// prefix ("s3://bucket/prefix", configured by l.S3). Other schemes fail.
// Opening sends no request; an unreachable store fails the first Put.
func Open(ctx context.Context, l config.Lake) (BlobStore, error) {
	lakeURL := l.URL
	switch {
	case lakeURL == "":
		return nil, errors.New("open lake: url is empty (set lake.url to a directory)")
	case strings.HasPrefix(lakeURL, "s3://"):
		s, err := NewS3Store(ctx, lakeURL, S3Options{
			Endpoint:    l.S3.Endpoint,
			Region:      l.S3.Region,
			PathStyle:   l.S3.PathStyle,
			PartSize:    l.S3.PartSize,
			MaxAttempts: l.S3.MaxAttempts,
		})
		if err != nil {
			return nil, err
		}
		return s, nil
	case strings.HasPrefix(lakeURL, "file://"):
		u, err := url.Parse(lakeURL)
		if err != nil {
			return nil, fmt.Errorf("open lake %q: %w", lakeURL, err)
		}
		if u.Host != "" && u.Host != "localhost" {
			return nil, fmt.Errorf("open lake %q: file URL with host %q (want file:///absolute/path)", lakeURL, u.Host)
		}
		if u.Path == "" {
			return nil, fmt.Errorf("open lake %q: file URL without a path", lakeURL)
		}
		return newStore(u.Path)
	case strings.Contains(lakeURL, "://"):
		return nil, fmt.Errorf("open lake %q: unsupported scheme (want a directory, file:// or s3://)", lakeURL)
	}
	return newStore(lakeURL)
}

// newStore keeps a nil *LocalStore out of the returned interface.
func newStore(dir string) (BlobStore, error) {
	s, err := NewLocalStore(dir)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// CheckKey reports whether key is a valid object key: non-empty, relative,
// slash-separated, with no empty, "." or ".." segment and no segment starting
// with '.' (those names are reserved for in-progress uploads, which query
// engines skip), no backslash and no NUL.
func CheckKey(key string) error {
	if key == "" {
		return errors.New("invalid key: empty")
	}
	if strings.ContainsAny(key, "\\\x00") {
		return fmt.Errorf("invalid key %q: backslash or NUL", key)
	}
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "" {
			return fmt.Errorf("invalid key %q: absolute, or empty segment", key)
		}
		if seg[0] == '.' {
			return fmt.Errorf("invalid key %q: segment %q starts with '.'", key, seg)
		}
	}
	return nil
}

// checkPrefix is CheckKey for List prefixes, which may be empty or end in '/'.
func checkPrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	if err := CheckKey(strings.TrimSuffix(prefix, "/")); err != nil {
		return fmt.Errorf("list prefix: %w", err)
	}
	return nil
}
