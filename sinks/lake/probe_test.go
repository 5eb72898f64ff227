package lake

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestProbe(t *testing.T) {
	dir := t.TempDir()
	s, err := NewLocalStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := Probe(context.Background(), s); err != nil {
		t.Fatalf("probe of a writable directory: %v", err)
	}
	left, _ := s.List(context.Background(), "")
	if len(left) != 0 {
		t.Errorf("probe left %v behind", left)
	}

	if os.Geteuid() == 0 {
		t.Skip("root ignores directory permissions; the read-only case cannot be shown")
	}
	ro := filepath.Join(t.TempDir(), "ro")
	if err := os.MkdirAll(ro, 0o555); err != nil {
		t.Fatal(err)
	}
	s, err = NewLocalStore(ro)
	if err != nil {
		t.Fatal(err)
	}
	if err := Probe(context.Background(), s); err == nil || !strings.Contains(err.Error(), "s3:PutObject") {
		t.Fatalf("read-only lake: error %v should name the failed step", err)
	}
}
