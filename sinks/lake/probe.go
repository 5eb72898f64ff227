package lake

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"
)

// Probe checks at start-up that the lake can do what the engine will ask of
// it — list, put, get and delete under _checkpoints/ — so that a missing
// bucket, a denied permission or a read-only directory is one clear error
// naming what failed, not a retry loop found in the logs an hour later. For
// S3 each step names the IAM action it needs.
func Probe(ctx context.Context, store BlobStore) error {
	host, _ := os.Hostname()
	key := "_checkpoints/probe-" + host + "-" + strconv.Itoa(os.Getpid())
	body := []byte("tickstream lake probe " + time.Now().UTC().Format(time.RFC3339))
	steps := []struct {
		action string // the S3 permission the step needs
		run    func() error
	}{
		{"s3:ListBucket", func() error { _, err := store.List(ctx, "_checkpoints/"); return err }},
		{"s3:PutObject", func() error { return store.Put(ctx, key, bytes.NewReader(body), int64(len(body))) }},
		{"s3:GetObject", func() error {
			r, err := store.Get(ctx, key)
			if err != nil {
				return err
			}
			defer r.Close()
			got, err := io.ReadAll(r)
			if err == nil && !bytes.Equal(got, body) {
				err = fmt.Errorf("read back %d bytes that differ from the %d written", len(got), len(body))
			}
			return err
		}},
		{"s3:DeleteObject", func() error { return store.Delete(ctx, key) }},
	}
	for _, s := range steps {
		if err := s.run(); err != nil {
			return fmt.Errorf("lake is not usable (needs %s, or write access for a directory): %w", s.action, err)
		}
	}
	return nil
}
