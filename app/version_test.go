package app

import (
	"bytes"
	"runtime"
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	oldV, oldC := Version, Commit
	t.Cleanup(func() { Version, Commit = oldV, oldC })
	Version, Commit = "v9.8.7", "0123abc"
	var out bytes.Buffer
	if err := PrintVersion(&out); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{"tickstream v9.8.7\n", "commit:   0123abc", runtime.Version(), runtime.GOOS + "/" + runtime.GOARCH} {
		if !strings.Contains(s, want) {
			t.Errorf("version output lacks %q:\n%s", want, s)
		}
	}
	// A test binary's build info lists no dependencies, so features are
	// checked on module sets; main_test's built binary covers the rest.
	f := func(mods []string, want string) {
		t.Helper()
		set := map[string]bool{}
		for _, m := range mods {
			set[m] = true
		}
		if got := strings.Join(featuresOf(set), ","); got != want {
			t.Errorf("features of %v = %s, want %s", mods, got, want)
		}
	}
	f(nil, "models")
	f([]string{"github.com/twmb/franz-go", "github.com/duckdb/duckdb-go/v2"}, "kafka,duckdb,models")
	f([]string{"github.com/prometheus/client_golang"}, "metrics,models")
	f([]string{"github.com/aws/aws-sdk-go-v2/service/sns", "github.com/aws/aws-sdk-go-v2/service/s3", "github.com/aws/aws-sdk-go-v2/config", "example.com/other"}, "msk-iam,s3,sns,models")
}
