package lake

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"
)

// The tests below need a real S3-compatible server; scripts/s3/test.sh
// starts versitygw and sets these variables (from DIR/env).
const (
	envS3Endpoint = "TICKSTREAM_S3_ENDPOINT"
	envS3Bucket   = "TICKSTREAM_S3_BUCKET"
	envS3Dir      = "TICKSTREAM_S3_DIR" // lets the outage test stop and restart it
)

// integrationStore returns a store on the test server under a prefix of its
// own, emptied when the test ends, and the attempt counter of its requests.
func integrationStore(t testing.TB, o S3Options) (*S3Store, *opCounter) {
	t.Helper()
	endpoint, bucket := os.Getenv(envS3Endpoint), os.Getenv(envS3Bucket)
	if endpoint == "" || bucket == "" {
		t.Skipf("needs an S3-compatible server: run scripts/s3/test.sh (sets %s and %s)", envS3Endpoint, envS3Bucket)
	}
	var ops opCounter
	o.Endpoint, o.PathStyle = endpoint, true
	o.apiOptions = append(o.apiOptions, ops.apiOption)
	url := fmt.Sprintf("s3://%s/it/%s-%d", bucket, t.Name(), time.Now().UnixNano())
	s, err := NewS3Store(context.Background(), url, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		keys, err := s.List(ctx, "")
		if err != nil {
			t.Logf("cleanup: %v", err)
			return
		}
		for _, k := range keys {
			if err := s.Delete(ctx, k); err != nil {
				t.Logf("cleanup: %v", err)
			}
		}
	})
	return s, &ops
}

func TestS3IntegrationRoundTrip(t *testing.T) {
	ctx := context.Background()
	s, _ := integrationStore(t, S3Options{listPage: 2})
	bodies := map[string]string{
		"raw/date=2024-03-01/hour=09/ticks+0+1-2.parquet": "nine",
		"raw/date=2024-03-01/hour=10/ticks+0+3-4.parquet": "ten",
		"raw-x":       "beside raw/",
		"processed/a": strings.Repeat("p", 100_000),
		"alerts/e":    "", // an empty object is an object
	}
	for k, v := range bodies {
		put(t, s, k, v)
	}
	put(t, s, "raw-x", "overwritten")
	bodies["raw-x"] = "overwritten"
	for k, want := range bodies {
		if got := string(getObject(t, s, k)); got != want {
			t.Errorf("Get(%q) = %d bytes %.20q, want %d bytes %.20q", k, len(got), got, len(want), want)
		}
	}
	if _, err := s.Get(ctx, "raw/missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get(missing) = %v, want ErrNotFound", err)
	}

	checkList := func() {
		t.Helper()
		for _, prefix := range []string{"", "r", "raw", "raw/", "raw/date=2024-03-01/hour=1", "alerts/e", "nothing/"} {
			got, err := s.List(ctx, prefix)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for k := range bodies {
				if strings.HasPrefix(k, prefix) {
					want = append(want, k)
				}
			}
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("List(%q) = %q, want %q", prefix, got, want)
			}
		}
	}
	checkList()

	for _, k := range []string{"raw-x", "alerts/e"} {
		if err := s.Delete(ctx, k); err != nil {
			t.Fatal(err)
		}
		delete(bodies, k)
		if _, err := s.Get(ctx, k); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%q) after Delete = %v, want ErrNotFound", k, err)
		}
	}
	if err := s.Delete(ctx, "raw-x"); err != nil {
		t.Errorf("Delete of a missing key: %v", err)
	}
	checkList()
}

// TestS3IntegrationMultipart puts 40 MiB from a file with 16 MiB parts: it
// must go up as one multipart upload of ceil(40/16) parts, come back byte for
// byte, and show on the server as a multipart object.
func TestS3IntegrationMultipart(t *testing.T) {
	ctx := context.Background()
	const partSize, size = 16 << 20, 40 << 20
	s, ops := integrationStore(t, S3Options{PartSize: partSize})

	f, err := os.CreateTemp(t.TempDir(), "body")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rng := rand.NewChaCha8([32]byte{7})
	want := sha256.New()
	if _, err := io.CopyN(io.MultiWriter(f, want), rng, size); err != nil {
		t.Fatal(err)
	}

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	peak := sampleHeap()
	start := time.Now()
	if err := s.Put(ctx, "big/object", f, size); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	t.Logf("put 40 MiB in %v; %d MiB allocated on the way, heap peak +%d MiB",
		took.Round(time.Millisecond), (after.TotalAlloc-before.TotalAlloc)>>20, (int64(peak())-int64(before.HeapAlloc))>>20)

	wantParts := (size + partSize - 1) / partSize
	got := ops.take()
	if want := map[string]int{"CreateMultipartUpload": 1, "UploadPart": wantParts, "CompleteMultipartUpload": 1}; !maps.Equal(got, want) {
		t.Errorf("requests %v, want %v", got, want)
	}
	// S3's ETag of a multipart object ends in -<parts>.
	head, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.prefix + "big/object")})
	if err != nil {
		t.Fatal(err)
	}
	if etag := strings.Trim(aws.ToString(head.ETag), `"`); !strings.HasSuffix(etag, fmt.Sprintf("-%d", wantParts)) {
		t.Errorf("server ETag %q: not a multipart object of %d parts", etag, wantParts)
	}
	if n := aws.ToInt64(head.ContentLength); n != size {
		t.Errorf("server size %d, want %d", n, size)
	}

	rc, err := s.Get(ctx, "big/object")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	h := sha256.New()
	if n, err := io.Copy(h, rc); err != nil || n != size {
		t.Fatalf("read back %d bytes, %v; want %d", n, err, size)
	}
	if !bytes.Equal(h.Sum(nil), want.Sum(nil)) {
		t.Error("object read back differs from what was put")
	}

	// Below the part size: one PutObject.
	ops.take()
	put(t, s, "small", "x")
	if got, want := ops.take(), map[string]int{"PutObject": 1}; !maps.Equal(got, want) {
		t.Errorf("requests for a small object %v, want %v", got, want)
	}
}

// sampleHeap samples the live heap every millisecond until the returned
// function is called, which returns the highest sample.
func sampleHeap() func() uint64 {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	done, peak := make(chan struct{}), make(chan uint64)
	go func() {
		var most uint64
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(sample)
			most = max(most, sample[0].Value.Uint64())
			select {
			case <-done:
				peak <- most
				return
			case <-tick.C:
			}
		}
	}()
	return func() uint64 { close(done); return <-peak }
}

// TestS3IntegrationFlush is the writer's round trip (TestRoundTrip) with S3
// as the store.
func TestS3IntegrationFlush(t *testing.T) {
	ctx := context.Background()
	s, _ := integrationStore(t, S3Options{})
	w, spool := newTestWriter(t, s)
	raw, proc, alerts := genRaw(5000, 0, t0), genProcessed(4500, 0, t0), genAlerts(45, 0, t0)
	feed(w, raw, proc, alerts)
	files, err := w.Flush(ctx)
	if err != nil {
		t.Fatal(err)
	}
	checkTable(t, s, files, TableRaw, rawGroups(raw))
	checkTable(t, s, files, TableProcessed, processedGroups(proc))
	checkTable(t, s, files, TableAlerts, alertGroups(alerts))
	var keys []string
	for _, f := range files {
		keys = append(keys, f.Key)
	}
	slices.Sort(keys)
	listed, err := s.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(listed, keys) {
		t.Errorf("store holds\n%v\nwant\n%v", listed, keys)
	}
	if left := spoolFiles(t, spool); len(left) != 0 {
		t.Errorf("spool files left after Flush: %v", left)
	}
}

// s3Server runs scripts/s3/stop.sh or start.sh on the test server.
func s3Server(t *testing.T, script string) {
	t.Helper()
	cmd := exec.Command(filepath.Join("..", "..", "scripts", "s3", script), "--dir", os.Getenv(envS3Dir))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", script, err, out)
	}
}

// TestS3IntegrationOutage stops the S3 server while a writer keeps flushing
// large files: each Flush fails after exactly MaxAttempts tries with an error
// naming the object, in bounded time, the unsent files wait on disk, not in
// memory, and once the server is back one Flush lands every row.
func TestS3IntegrationOutage(t *testing.T) {
	if os.Getenv(envS3Dir) == "" {
		t.Skipf("needs a server it can stop and restart: run scripts/s3/test.sh (sets %s)", envS3Dir)
	}
	ctx := context.Background()
	const attempts = 3
	s, ops := integrationStore(t, S3Options{PartSize: 5 << 20, MaxAttempts: attempts, MaxBackoff: 200 * time.Millisecond})
	w, spool := newTestWriter(t, s)

	feed(w, genRaw(500, 0, t0), genProcessed(500, 0, t0), nil)
	if _, err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	ops.take()

	s3Server(t, "stop.sh")
	down := true
	t.Cleanup(func() {
		if down { // leave the server up for the tests after this one
			s3Server(t, "start.sh")
		}
	})

	// Each round adds one raw file of ~6 MiB of incompressible payload in
	// an hour of its own: above the part size, so each Put tries a
	// multipart upload. The rows are made again for the final check, not
	// kept: the test must not hold what it measures.
	const rounds, rowsPerRound, payload = 5, 96, 64 << 10
	roundRows := func(round int) []RawRow {
		rows := make([]RawRow, rowsPerRound)
		rng := rand.New(rand.NewPCG(9, uint64(round)))
		for i := range rows {
			b := make([]byte, payload)
			for j := range b {
				b[j] = byte(rng.Uint32())
			}
			rows[i] = RawRow{KafkaOffset: int64(10_000 + round*rowsPerRound + i), KafkaTS: t0 + int64(round+2)*hourMS + int64(i),
				RejectReason: "malformed_json", Error: "invalid character", Payload: string(b)}
		}
		return rows
	}
	firstDir := time.UnixMilli(roundRows(0)[0].KafkaTS).UTC().Format("raw/date=2006-01-02/hour=15/")
	heap := make([]uint64, 0, rounds)
	size := make([]int64, 0, rounds)
	for round := range rounds {
		feed(w, roundRows(round), nil, nil)

		start := time.Now()
		_, err := w.Flush(ctx)
		took := time.Since(start)
		if err == nil {
			t.Fatalf("round %d: Flush succeeded with the server down", round)
		}
		var maxErr *retry.MaxAttemptsError
		if !errors.As(err, &maxErr) || maxErr.Attempt != attempts {
			t.Errorf("round %d: Flush error %v, want a MaxAttemptsError after %d attempts", round, err, attempts)
		}
		// Flush stops at the first failed Put: the oldest unsent file,
		// round 0's.
		for _, want := range []string{"s3 put " + s.URL() + firstDir, "retryable"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("round %d: error %q does not contain %q", round, err, want)
			}
		}
		if got := ops.take(); !maps.Equal(got, map[string]int{"CreateMultipartUpload": attempts}) {
			t.Errorf("round %d: attempts %v, want %d CreateMultipartUpload", round, got, attempts)
		}
		// Backoff is capped at 200 ms: three attempts take well under 2 s.
		if took > 2*time.Second {
			t.Errorf("round %d: failing Flush took %v", round, took)
		}
		var ms runtime.MemStats
		runtime.GC()
		runtime.GC() // a sync.Pool keeps its items through one GC
		runtime.ReadMemStats(&ms)
		heap = append(heap, ms.HeapAlloc)
		size = append(size, w.Size())
		t.Logf("round %d: Flush failed after %v; %d MiB waiting; heap %d MiB", round, took.Round(time.Millisecond), w.Size()>>20, ms.HeapAlloc>>20)
	}
	grown := int64(heap[rounds-1]) - int64(heap[0])
	waiting := size[rounds-1] - size[0]
	if waiting < (rounds-1)*rowsPerRound*payload || grown > 4<<20 {
		t.Errorf("over the outage %d bytes more waited to be sent and the heap grew %d bytes; want them on disk", waiting, grown)
	}

	s3Server(t, "start.sh")
	down = false
	files, err := w.Flush(ctx)
	if err != nil {
		t.Fatalf("Flush after the server came back: %v", err)
	}
	var sent []RawRow
	for round := range rounds {
		sent = append(sent, roundRows(round)...)
	}
	checkTable(t, s, files, TableRaw, rawGroups(sent))
	if len(files) != rounds {
		t.Errorf("Flush committed %d files, want %d", len(files), rounds)
	}
	if left := spoolFiles(t, spool); len(left) != 0 {
		t.Errorf("spool files left after Flush: %v", left)
	}
	if w.Size() != 0 || w.Rows() != 0 {
		t.Errorf("after Flush: Size %d, Rows %d; want 0, 0", w.Size(), w.Rows())
	}
}

// TestS3IntegrationErrors: the usual mistakes fail with the object named and
// a hint at the fix, without using up the retries (they are not transient).
func TestS3IntegrationErrors(t *testing.T) {
	ctx := context.Background()
	s, ops := integrationStore(t, S3Options{})
	f := func(s *S3Store, want string) {
		t.Helper()
		err := s.Put(ctx, "k", strings.NewReader("v"), 1)
		for _, w := range []string{"s3 put " + s.URL() + "k", want} {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("Put error %v, want one containing %q", err, w)
			}
		}
		// versitygw may answer 403 and close before reading the body,
		// which the client sees as a dropped connection and retries once.
		if got := ops.take(); len(got) != 1 || got["PutObject"] < 1 || got["PutObject"] > 2 {
			t.Errorf("attempts %v, want one PutObject, or two", got)
		}
	}
	other := func(url string) *S3Store {
		t.Helper()
		o, err := NewS3Store(ctx, url, S3Options{Endpoint: os.Getenv(envS3Endpoint), PathStyle: true,
			apiOptions: []func(*middleware.Stack) error{ops.apiOption}})
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	f(other("s3://no-such-bucket-"+strconv.FormatInt(time.Now().UnixNano(), 36)+"/p"), "(the bucket does not exist)")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong")
	f(other(s.URL()), "(check the AWS credentials and the bucket policy)")
}

// TestS3IntegrationProbe: the start-up probe passes on a good bucket and, on
// a missing bucket or bad credentials, fails at once naming the bucket, the
// permission it needed and the likely cause.
func TestS3IntegrationProbe(t *testing.T) {
	ctx := context.Background()
	s, _ := integrationStore(t, S3Options{})
	if err := Probe(ctx, s); err != nil {
		t.Fatalf("probe of a good bucket: %v", err)
	}
	open := func(url string) *S3Store {
		t.Helper()
		o, err := NewS3Store(ctx, url, S3Options{Endpoint: os.Getenv(envS3Endpoint), PathStyle: true, MaxAttempts: 1})
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	missing := "no-such-bucket-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	err := Probe(ctx, open("s3://"+missing+"/p"))
	for _, w := range []string{missing, "s3:ListBucket", "the bucket does not exist"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("missing bucket: error %v should contain %q", err, w)
		}
	}
	t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong")
	err = Probe(ctx, open(s.URL()))
	for _, w := range []string{"s3:ListBucket", "check the AWS credentials and the bucket policy"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("bad credentials: error %v should contain %q", err, w)
		}
	}
}

// BenchmarkS3Put uploads lake-sized files to the test server: 2 MiB (one
// PutObject, a typical processed file) and 40 MiB (multipart). Run with
// scripts/s3/test.sh -run '^$' -bench S3Put.
func BenchmarkS3Put(b *testing.B) {
	for _, size := range []int{2 << 20, 40 << 20} {
		b.Run(strconv.Itoa(size>>20)+"MiB", func(b *testing.B) {
			s, _ := integrationStore(b, S3Options{})
			body := make([]byte, size)
			for i := range body {
				body[i] = byte(i * 7)
			}
			b.SetBytes(int64(size))
			b.ResetTimer()
			for i := range b.N {
				if err := s.Put(context.Background(), "bench/"+strconv.Itoa(i), bytes.NewReader(body), int64(size)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
