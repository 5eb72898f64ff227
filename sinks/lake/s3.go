package lake

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
)

// S3 upload limits. A multipart upload buffers its parts in memory: the
// transfer manager reads the first part whole, then keeps a pool of
// concurrency+1 part buffers, so one Put holds at most about
// (s3PartConcurrency+3) × PartSize. At most s3MaxPuts Puts run at once (the
// others wait), which bounds the store's upload memory at about
// 2 × 5 × 16 MiB = 160 MiB with the default part size, however many
// partitions flush together and however long S3 is away.
const (
	s3PartConcurrency = 2
	s3MaxPuts         = 2
	// s3AbortTimeout gives aborting a failed multipart upload its own
	// deadline, so the parts are cleaned up even when the Put's context is
	// what ended it.
	s3AbortTimeout = 30 * time.Second
)

// S3Options configure an S3Store; lake.s3 in config.yaml maps onto them.
// There are no credentials here: they come from the AWS default chain
// (environment, shared profile, web identity, ECS, EC2 instance role via IMDS).
type S3Options struct {
	// Endpoint is empty for AWS, or the http(s) URL of an S3-compatible store.
	Endpoint string
	// Region is empty to take it from the default chain; with an Endpoint
	// and no region anywhere, us-east-1 (S3-compatible stores accept any).
	Region string
	// PathStyle addresses buckets as endpoint/bucket/key.
	PathStyle bool
	// PartSize: bodies of this size or more are uploaded in parts of this
	// size; 0 means 16 MiB. S3 wants at least 5 MiB.
	PartSize int64
	// MaxAttempts per S3 request, the first included; 0 means 5.
	MaxAttempts int
	// MaxBackoff caps the delay before a retry; 0 means the SDK's 20 s.
	MaxBackoff time.Duration

	// apiOptions are added to every request's middleware stack; tests count
	// requests and attempts with them.
	apiOptions []func(*middleware.Stack) error
	// listPage is the ListObjectsV2 page size; 0 is S3's 1000. Tests make
	// it small to cross pages.
	listPage int32
}

// S3Store is a BlobStore over an S3 bucket and key prefix: key "a/b" of the
// store s3://bucket/lake is the object "lake/a/b".
//
// Put goes through the SDK's transfer manager (one PutObject below PartSize,
// a multipart upload from it); either way the object appears whole when the
// upload completes, never in part. Every request is retried by the SDK's
// standard retryer: up to MaxAttempts tries on throttling, 5xx and connection
// errors, waiting a random time in [0, min(b·2^i, MaxBackoff)) before retry
// i = 0, 1, … where b is 50 ms (1 s after a throttling error), and drawing on
// the client's retry quota (500 tokens, 14 per retry, refunded on success), so
// a long outage stops costing retries instead of multiplying requests. An
// error that outlasts the retries is returned, naming the object; the
// PartitionWriter keeps the file and tries again on its next Flush.
type S3Store struct {
	bucket string
	prefix string // "" or ends in '/'
	client *s3.Client
	tm     *transfermanager.Client
	puts   chan struct{} // semaphore of s3MaxPuts
	page   int32         // S3Options.listPage
}

var _ BlobStore = (*S3Store)(nil)

// NewS3Store returns a store for s3://bucket or s3://bucket/prefix. It loads
// the AWS configuration (region, credential chain) but sends no request:
// credentials are resolved, and the bucket is reached, on first use.
func NewS3Store(ctx context.Context, lakeURL string, o S3Options) (*S3Store, error) {
	bucket, prefix, err := parseS3URL(lakeURL)
	if err != nil {
		return nil, err
	}
	if o.PartSize == 0 {
		o.PartSize = 16 << 20
	}
	if o.PartSize < 5<<20 {
		return nil, fmt.Errorf("s3 lake %s: part size %d is below S3's minimum of 5 MiB", lakeURL, o.PartSize)
	}
	if o.MaxAttempts == 0 {
		o.MaxAttempts = 5
	}
	if o.MaxAttempts < 0 || o.MaxBackoff < 0 {
		return nil, fmt.Errorf("s3 lake %s: negative max attempts or max backoff", lakeURL)
	}
	var load []func(*awsconfig.LoadOptions) error
	if o.Region != "" {
		load = append(load, awsconfig.WithRegion(o.Region))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, load...)
	if err != nil {
		return nil, fmt.Errorf("s3 lake %s: load AWS config: %w", lakeURL, err)
	}
	if cfg.Region == "" {
		if o.Endpoint == "" {
			return nil, fmt.Errorf("s3 lake %s: no AWS region: set lake.s3.region or AWS_REGION", lakeURL)
		}
		cfg.Region = "us-east-1"
	}
	client := s3.NewFromConfig(cfg, func(so *s3.Options) {
		if o.Endpoint != "" {
			so.BaseEndpoint = aws.String(o.Endpoint)
		}
		so.UsePathStyle = o.PathStyle
		// Objects written by other tools may have no checksum to check;
		// the SDK would print a line to stderr for each such Get.
		so.DisableLogOutputChecksumValidationSkipped = true
		// Our retryer, not the environment's: lake.s3.max_attempts is the
		// one setting, whatever AWS_MAX_ATTEMPTS says.
		so.Retryer = retry.NewStandard(func(r *retry.StandardOptions) {
			r.MaxAttempts = o.MaxAttempts
			if o.MaxBackoff > 0 {
				r.MaxBackoff = o.MaxBackoff
			}
		})
		so.APIOptions = append(so.APIOptions, o.apiOptions...)
	})
	tm := transfermanager.New(client, func(to *transfermanager.Options) {
		to.PartSizeBytes = o.PartSize
		to.MultipartUploadThreshold = o.PartSize
		to.Concurrency = s3PartConcurrency
		to.FailTimeout = s3AbortTimeout
	})
	return &S3Store{bucket: bucket, prefix: prefix, client: client, tm: tm,
		puts: make(chan struct{}, s3MaxPuts), page: o.listPage}, nil
}

// URL returns the store's location, s3://bucket/prefix/.
func (s *S3Store) URL() string { return "s3://" + s.bucket + "/" + s.prefix }

// Put uploads size bytes from the start of body under key. The body is read
// through an io.SectionReader when it is an io.ReaderAt (an *os.File is), so
// the SDK can size it and seek it to retry without extra copies.
func (s *S3Store) Put(ctx context.Context, key string, body io.ReadSeeker, size int64) error {
	if err := CheckKey(key); err != nil {
		return fmt.Errorf("s3 put: %w", err)
	}
	var r io.ReadSeeker
	if ra, ok := body.(io.ReaderAt); ok {
		r = io.NewSectionReader(ra, 0, size)
	} else {
		n, err := body.Seek(0, io.SeekEnd)
		if err == nil && n != size {
			err = fmt.Errorf("body has %d bytes, want %d", n, size)
		}
		if err == nil {
			_, err = body.Seek(0, io.SeekStart)
		}
		if err != nil {
			return fmt.Errorf("s3 put %s: %w", s.objectURL(key), err)
		}
		r = body
	}
	select {
	case s.puts <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("s3 put %s: waiting for an upload slot: %w", s.objectURL(key), ctx.Err())
	}
	defer func() { <-s.puts }()
	_, err := s.tm.UploadObject(ctx, &transfermanager.UploadObjectInput{
		Bucket: aws.String(s.bucket),
		Key:    aws.String(s.prefix + key),
		Body:   r,
	})
	if err != nil {
		return s.fail("put", key, err)
	}
	return nil
}

// Get returns the object's body; the caller closes it.
func (s *S3Store) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := CheckKey(key); err != nil {
		return nil, fmt.Errorf("s3 get: %w", err)
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(s.bucket),
		Key:    aws.String(s.prefix + key),
	})
	if err != nil {
		var nsk *types.NoSuchKey
		if errors.As(err, &nsk) || apiCode(err) == "NotFound" {
			return nil, fmt.Errorf("s3 get %s: %w", s.objectURL(key), ErrNotFound)
		}
		return nil, s.fail("get", key, err)
	}
	return out.Body, nil
}

// List returns the sorted keys under the store's prefix that start with
// prefix, one ListObjectsV2 page (up to 1000 keys) per request. Objects whose
// relative name is not a valid key (a console's "folder/" marker, a name
// with an empty or dotted segment) are skipped: Get and Delete could not
// name them.
func (s *S3Store) List(ctx context.Context, prefix string) ([]string, error) {
	if err := checkPrefix(prefix); err != nil {
		return nil, fmt.Errorf("s3 %w", err)
	}
	var keys []string
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{
		Bucket: aws.String(s.bucket),
		Prefix: aws.String(s.prefix + prefix),
	}, func(po *s3.ListObjectsV2PaginatorOptions) {
		po.Limit = s.page
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, s.fail("list", prefix, err)
		}
		for _, o := range page.Contents {
			key, ok := strings.CutPrefix(aws.ToString(o.Key), s.prefix)
			if ok && CheckKey(key) == nil {
				keys = append(keys, key)
			}
		}
	}
	// S3 lists in byte order; some compatible stores do not.
	slices.Sort(keys)
	return keys, nil
}

// Delete removes the object under key; a missing object is not an error.
func (s *S3Store) Delete(ctx context.Context, key string) error {
	if err := CheckKey(key); err != nil {
		return fmt.Errorf("s3 delete: %w", err)
	}
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{
		Bucket: aws.String(s.bucket),
		Key:    aws.String(s.prefix + key),
	})
	if err != nil && apiCode(err) != "NoSuchKey" {
		return s.fail("delete", key, err)
	}
	return nil
}

func (s *S3Store) objectURL(key string) string {
	return "s3://" + s.bucket + "/" + s.prefix + key
}

// fail wraps an SDK error with the operation, the full object URL and, for
// the usual causes, a hint at what to fix.
func (s *S3Store) fail(op, key string, err error) error {
	var hint string
	switch apiCode(err) {
	case "":
		if retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err).Bool() {
			hint = " (S3 endpoint unreachable or failing; retryable)"
		}
	case "NoSuchBucket":
		hint = " (the bucket does not exist)"
	case "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken":
		hint = " (check the AWS credentials and the bucket policy)"
	case "PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException":
		hint = " (the bucket is in another region: set lake.s3.region)"
	case "SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout":
		hint = " (S3 is throttling or failing; retryable)"
	}
	return fmt.Errorf("s3 %s %s: %w%s", op, s.objectURL(key), err, hint)
}

// apiCode returns the S3 error code of err ("NoSuchKey", "SlowDown" …), or
// "" when the request got no S3 error response.
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// parseS3URL splits s3://bucket/some/prefix into the bucket and "some/prefix/".
func parseS3URL(lakeURL string) (bucket, prefix string, err error) {
	rest, ok := strings.CutPrefix(lakeURL, "s3://")
	if !ok {
		return "", "", fmt.Errorf("s3 lake %q: want s3://bucket/prefix", lakeURL)
	}
	if strings.ContainsAny(rest, "?#") {
		return "", "", fmt.Errorf("s3 lake %q: query or fragment in the URL", lakeURL)
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	if err := checkBucket(bucket); err != nil {
		return "", "", fmt.Errorf("s3 lake %q: %w", lakeURL, err)
	}
	// One trailing slash is the usual way to write a prefix; more, or a
	// leading one, would make an empty segment, which CheckKey refuses.
	prefix = strings.TrimSuffix(prefix, "/")
	if prefix == "" {
		return bucket, "", nil
	}
	if err := CheckKey(prefix); err != nil {
		return "", "", fmt.Errorf("s3 lake %q: prefix: %w", lakeURL, err)
	}
	return bucket, prefix + "/", nil
}

// checkBucket applies S3's naming rules for general purpose buckets: 3 to 63
// of a-z 0-9 . -, beginning and ending with a letter or digit, no "..".
func checkBucket(b string) error {
	if len(b) < 3 || len(b) > 63 {
		return fmt.Errorf("bucket %q: want 3 to 63 characters", b)
	}
	for i, c := range []byte(b) {
		alnum := c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		if !alnum && (c != '.' && c != '-' || i == 0 || i == len(b)-1) {
			return fmt.Errorf("bucket %q: want a-z, 0-9, '.' and '-', starting and ending with a letter or digit", b)
		}
	}
	if strings.Contains(b, "..") {
		return fmt.Errorf("bucket %q: \"..\"", b)
	}
	return nil
}
