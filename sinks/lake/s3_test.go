package lake

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go/middleware"

	"github.com/tickstream/tickstream/config"
)

// hermeticAWS makes the AWS default chain see only what the test sets: no
// profile files, no instance metadata (a test must never reach IMDS), and
// static keys for the fake server.
func hermeticAWS(t *testing.T) {
	t.Helper()
	for k, v := range map[string]string{
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_CONFIG_FILE":             "/nonexistent/aws-config",
		"AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
		"AWS_PROFILE":                 "",
		"AWS_REGION":                  "",
		"AWS_DEFAULT_REGION":          "",
		"AWS_MAX_ATTEMPTS":            "",
		"AWS_ENDPOINT_URL":            "",
		"AWS_ENDPOINT_URL_S3":         "",
		"AWS_ACCESS_KEY_ID":           "test-key",
		"AWS_SECRET_ACCESS_KEY":       "test-secret",
		"AWS_SESSION_TOKEN":           "",
	} {
		t.Setenv(k, v)
	}
}

func TestParseS3URL(t *testing.T) {
	f := func(url, wantBucket, wantPrefix, wantErr string) {
		t.Helper()
		b, p, err := parseS3URL(url)
		if wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), wantErr) {
				t.Errorf("parseS3URL(%q) error = %v, want one containing %q", url, err, wantErr)
			}
			return
		}
		if err != nil || b != wantBucket || p != wantPrefix {
			t.Errorf("parseS3URL(%q) = %q, %q, %v; want %q, %q", url, b, p, err, wantBucket, wantPrefix)
		}
	}
	f("s3://lake", "lake", "", "")
	f("s3://lake/", "lake", "", "")
	f("s3://my.lake-01/ticks", "my.lake-01", "ticks/", "")
	f("s3://lake/a/b/", "lake", "a/b/", "")
	f("s3://lake//a/b", "", "", "empty segment")
	f("s3://lake/a//", "", "", "empty segment")
	f("s3://lake/a/.hidden", "", "", "starts with '.'")
	f("s3://lake/a/../b", "", "", "starts with '.'")
	f("s3://Lake/x", "", "", "bucket")
	f("s3://la/x", "", "", "3 to 63")
	f("s3://"+strings.Repeat("a", 64), "", "", "3 to 63")
	f("s3://-lake", "", "", "starting and ending")
	f("s3://lake-", "", "", "starting and ending")
	f("s3://la..ke", "", "", `".."`)
	f("s3://lake_1", "", "", "a-z")
	f("s3://user@lake/x", "", "", "a-z")
	f("s3://lake:9000/x", "", "", "a-z")
	f("s3://lake/x?versionId=1", "", "", "query")
	f("s3://", "", "", "3 to 63")
	f("file:///lake", "", "", "want s3://")
}

// TestOpenS3 opens s3:// URLs without any server: Open must not send a
// request (that happens on first use) and must find a region or say how to
// set one.
func TestOpenS3(t *testing.T) {
	hermeticAWS(t)
	ctx := context.Background()
	f := func(l config.Lake, wantURL, wantErr string) {
		t.Helper()
		s, err := Open(ctx, l)
		if wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), wantErr) {
				t.Errorf("Open(%+v) error = %v, want one containing %q", l, err, wantErr)
			}
			if s != nil {
				t.Errorf("Open(%q) returned a store with its error", l.URL)
			}
			return
		}
		if err != nil {
			t.Fatalf("Open(%+v): %v", l, err)
		}
		ss, ok := s.(*S3Store)
		if !ok || ss.URL() != wantURL {
			t.Errorf("Open(%+v) = %#v, want an S3Store at %s", l, s, wantURL)
		}
	}
	endpoint := config.LakeS3{Endpoint: "http://127.0.0.1:1", PathStyle: true}
	f(config.Lake{URL: "s3://lake/ticks", S3: endpoint}, "s3://lake/ticks/", "")
	f(config.Lake{URL: "s3://lake", S3: endpoint}, "s3://lake/", "")
	f(config.Lake{URL: "s3://lake/x", S3: config.LakeS3{Region: "eu-west-1"}}, "s3://lake/x/", "")
	f(config.Lake{URL: "s3://lake/x"}, "", "set lake.s3.region or AWS_REGION")
	f(config.Lake{URL: "s3://lake/x", S3: config.LakeS3{Endpoint: "http://h", PartSize: 1 << 20}}, "", "below S3's minimum")
	f(config.Lake{URL: "s3://LAKE/x", S3: endpoint}, "", "bucket")
	t.Setenv("AWS_REGION", "ap-south-1")
	f(config.Lake{URL: "s3://lake/x"}, "s3://lake/x/", "")
}

// fakeS3 is the smallest S3 that the store's single-part calls need:
// path-style PutObject, GetObject, DeleteObject and ListObjectsV2 over a
// map. It checks nothing of the signature: the integration tests against a
// real S3-compatible server do that.
type fakeS3 struct {
	mu      sync.Mutex
	objects map[string][]byte // "bucket/key"
	failN   atomic.Int32      // answer this many requests 500 InternalError
}

func (f *fakeS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.failN.Add(-1) >= 0 {
		s3Error(w, http.StatusInternalServerError, "InternalError")
		return
	}
	path := strings.TrimPrefix(r.URL.Path, "/")
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case r.Method == http.MethodGet && !strings.Contains(path, "/") && r.URL.Query().Get("list-type") == "2":
		f.list(w, path, r)
	case r.Method == http.MethodPut:
		if r.Header.Get("Content-Encoding") == "aws-chunked" {
			s3Error(w, http.StatusNotImplemented, "NotImplemented") // the fake does not decode chunks
			return
		}
		b, err := io.ReadAll(r.Body)
		if err != nil {
			s3Error(w, http.StatusBadRequest, "IncompleteBody")
			return
		}
		f.objects[path] = b
	case r.Method == http.MethodGet:
		b, ok := f.objects[path]
		if !ok {
			s3Error(w, http.StatusNotFound, "NoSuchKey")
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		_, _ = w.Write(b)
	case r.Method == http.MethodDelete:
		delete(f.objects, path)
		w.WriteHeader(http.StatusNoContent)
	default:
		s3Error(w, http.StatusNotImplemented, "NotImplemented")
	}
}

// list answers ListObjectsV2, with the continuation token being the last
// key of the previous page.
func (f *fakeS3) list(w http.ResponseWriter, bucket string, r *http.Request) {
	q := r.URL.Query()
	prefix, after := q.Get("prefix"), q.Get("continuation-token")
	limit, err := strconv.Atoi(q.Get("max-keys"))
	if err != nil || limit <= 0 {
		limit = 1000
	}
	var keys []string
	for k := range f.objects {
		if key, ok := strings.CutPrefix(k, bucket+"/"); ok && strings.HasPrefix(key, prefix) && key > after {
			keys = append(keys, key)
		}
	}
	sort.Strings(keys)
	type content struct{ Key string }
	res := struct {
		XMLName               xml.Name `xml:"ListBucketResult"`
		Name, Prefix          string
		KeyCount              int
		IsTruncated           bool
		NextContinuationToken string `xml:",omitempty"`
		Contents              []content
	}{Name: bucket, Prefix: prefix}
	if len(keys) > limit {
		keys = keys[:limit]
		res.IsTruncated, res.NextContinuationToken = true, keys[limit-1]
	}
	for _, k := range keys {
		res.Contents = append(res.Contents, content{k})
	}
	res.KeyCount = len(keys)
	w.Header().Set("Content-Type", "application/xml")
	_ = xml.NewEncoder(w).Encode(res)
}

func s3Error(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<Error><Code>%s</Code><Message>fake</Message></Error>", code)
}

// opCounter counts attempts per S3 operation, retries included: it sits at
// the end of the finalize step, after the retry loop.
type opCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *opCounter) apiOption(stack *middleware.Stack) error {
	return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("countAttempts",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			c.mu.Lock()
			if c.n == nil {
				c.n = map[string]int{}
			}
			c.n[awsmiddleware.GetOperationName(ctx)]++
			c.mu.Unlock()
			return next.HandleFinalize(ctx, in)
		}), middleware.After)
}

// take returns the counts so far and starts again from zero.
func (c *opCounter) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.n
	c.n = nil
	if n == nil {
		n = map[string]int{}
	}
	return n
}

func newFakeS3Store(t *testing.T, url string, o S3Options) (*S3Store, *fakeS3, *opCounter) {
	t.Helper()
	hermeticAWS(t)
	fake := &fakeS3{objects: map[string][]byte{}}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	var ops opCounter
	o.Endpoint, o.PathStyle = srv.URL, true
	o.apiOptions = append(o.apiOptions, ops.apiOption)
	s, err := NewS3Store(context.Background(), url, o)
	if err != nil {
		t.Fatal(err)
	}
	return s, fake, &ops
}

// TestS3StoreKeys checks the mapping between store keys and object names
// under the URL's prefix, paginated listing and not-found, on the fake.
func TestS3StoreKeys(t *testing.T) {
	ctx := context.Background()
	s, fake, _ := newFakeS3Store(t, "s3://lake/some/prefix", S3Options{listPage: 3})
	keys := []string{"raw/a", "raw/b/c", "raw-x", "processed/d", "r", "raw/e"}
	for _, k := range keys {
		put(t, s, k, "body of "+k)
	}
	// Foreign objects: beside the prefix, and names no key can have.
	fake.objects["lake/some/prefixed"] = nil
	fake.objects["lake/other/raw/a"] = nil
	fake.objects["lake/some/prefix/raw/"] = nil
	fake.objects["lake/some/prefix/raw//z"] = nil
	fake.objects["lake/some/prefix/raw/.tmp"] = nil

	for _, k := range keys {
		if _, ok := fake.objects["lake/some/prefix/"+k]; !ok {
			t.Errorf("key %q not stored as lake/some/prefix/%s", k, k)
		}
		if got := string(getObject(t, s, k)); got != "body of "+k {
			t.Errorf("Get(%q) = %q", k, got)
		}
	}
	for _, prefix := range []string{"", "r", "raw", "raw/", "raw/b", "processed/", "none/"} {
		got, err := s.List(ctx, prefix)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, k := range keys {
			if strings.HasPrefix(k, prefix) {
				want = append(want, k)
			}
		}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("List(%q) = %q, want %q", prefix, got, want)
		}
	}
	if _, err := s.Get(ctx, "raw/missing"); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "s3://lake/some/prefix/raw/missing") {
		t.Errorf("Get(missing) = %v, want ErrNotFound naming the object", err)
	}
	if err := s.Delete(ctx, "raw/a"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "raw/a"); err != nil {
		t.Errorf("Delete of a missing key: %v", err)
	}
	if _, err := s.Get(ctx, "raw/a"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after Delete = %v, want ErrNotFound", err)
	}
	for _, bad := range []string{"", "/abs", "a//b", ".x", "a/../b"} {
		if err := s.Put(ctx, bad, strings.NewReader("x"), 1); err == nil {
			t.Errorf("Put(%q) succeeded", bad)
		}
		if _, err := s.Get(ctx, bad); err == nil || errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%q) = %v, want an invalid-key error", bad, err)
		}
	}
}

// TestS3StoreRetries: failures the SDK deems retryable are retried up to
// MaxAttempts in all; one more and Put fails, naming the object.
func TestS3StoreRetries(t *testing.T) {
	ctx := context.Background()
	const attempts = 4
	s, fake, ops := newFakeS3Store(t, "s3://lake/p", S3Options{MaxAttempts: attempts, MaxBackoff: time.Millisecond})

	fake.failN.Store(attempts - 1)
	put(t, s, "k", "v")
	if n := ops.take()["PutObject"]; n != attempts {
		t.Errorf("PutObject attempts = %d, want %d", n, attempts)
	}
	if got := string(fake.objects["lake/p/k"]); got != "v" {
		t.Errorf("stored %q after retries, want %q", got, "v")
	}

	fake.failN.Store(attempts)
	err := s.Put(ctx, "k2", strings.NewReader("v"), 1)
	var maxErr *retry.MaxAttemptsError
	if !errors.As(err, &maxErr) || maxErr.Attempt != attempts {
		t.Errorf("Put after %d failures = %v, want a MaxAttemptsError after %d attempts", attempts, err, attempts)
	}
	for _, want := range []string{"s3 put s3://lake/p/k2", "InternalError", "retryable"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Put error %q does not contain %q", err, want)
		}
	}
	if n := ops.take()["PutObject"]; n != attempts {
		t.Errorf("PutObject attempts = %d, want %d", n, attempts)
	}
	if _, ok := fake.objects["lake/p/k2"]; ok {
		t.Error("object stored although every attempt failed")
	}
}

// TestS3PutBody: Put sends exactly size bytes from the start of the body,
// however far it was read, and refuses a body of another length unless it
// can cut it (io.ReaderAt).
func TestS3PutBody(t *testing.T) {
	ctx := context.Background()
	s, fake, _ := newFakeS3Store(t, "s3://lake", S3Options{})
	r := strings.NewReader("0123456789")
	_, _ = r.Seek(7, io.SeekStart)
	if err := s.Put(ctx, "cut", r, 4); err != nil {
		t.Fatal(err)
	}
	if got := string(fake.objects["lake/cut"]); got != "0123" {
		t.Errorf("stored %q, want %q", got, "0123")
	}
	type seekOnly struct{ io.ReadSeeker } // hides ReadAt
	if err := s.Put(ctx, "whole", seekOnly{strings.NewReader("abc")}, 3); err != nil {
		t.Fatal(err)
	}
	if got := string(fake.objects["lake/whole"]); got != "abc" {
		t.Errorf("stored %q, want %q", got, "abc")
	}
	if err := s.Put(ctx, "short", seekOnly{strings.NewReader("abc")}, 4); err == nil || !strings.Contains(err.Error(), "body has 3 bytes, want 4") {
		t.Errorf("Put with a short body = %v", err)
	}
}

// TestS3PutsBounded: however many writers flush at once, at most s3MaxPuts
// uploads run, which is what bounds the store's buffer memory.
func TestS3PutsBounded(t *testing.T) {
	ctx := context.Background()
	hermeticAWS(t)
	fake := &fakeS3{objects: map[string][]byte{}}
	var inFlight, most atomic.Int32
	release := make(chan struct{})
	gated := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			n := inFlight.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			<-release
			defer inFlight.Add(-1)
		}
		fake.ServeHTTP(w, r)
	})
	srv := httptest.NewServer(gated)
	defer srv.Close()
	s, err := NewS3Store(ctx, "s3://lake", S3Options{Endpoint: srv.URL, PathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	const writers = 3 * s3MaxPuts
	errs := make(chan error, writers)
	for i := range writers {
		go func() {
			errs <- s.Put(ctx, fmt.Sprintf("k%d", i), strings.NewReader("v"), 1)
		}()
	}
	// Wait until the uploads allowed are all in the server, give the rest
	// time to (wrongly) join them, then let everything finish.
	for inFlight.Load() < s3MaxPuts {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	close(release)
	for range writers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if m := most.Load(); m != s3MaxPuts {
		t.Errorf("%d uploads ran at once, want %d", m, s3MaxPuts)
	}
	if len(fake.objects) != writers {
		t.Errorf("%d objects stored, want %d", len(fake.objects), writers)
	}
}
