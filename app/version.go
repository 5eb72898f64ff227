package app

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/tickstream/tickstream/sinks/dashboard"
)

// Set at link time by scripts/release.sh:
//
//	-ldflags "-X github.com/tickstream/tickstream/app.Version=v1.2.3 -X github.com/tickstream/tickstream/app.Commit=abc…"
//
// Without them, Commit falls back to the VCS stamp Go embeds (absent with
// -buildvcs=false, as on machines that set it in GOFLAGS).
var (
	Version = "dev"
	Commit  = ""
)

// BuildInfo is what `tickstream version` prints.
type BuildInfo struct {
	Version, Commit, Go, Platform string
	Modified, CGO                 bool
	Features                      []string
}

// features maps a build feature to the module whose presence in the binary
// means it is compiled in. Packages inside one module (msk-iam is
// franz-go's sasl/aws, models is ours) ride with their module.
var features = []struct{ name, module string }{
	{"kafka", "github.com/twmb/franz-go"},
	{"msk-iam", "github.com/aws/aws-sdk-go-v2/config"},
	{"s3", "github.com/aws/aws-sdk-go-v2/service/s3"},
	{"sns", "github.com/aws/aws-sdk-go-v2/service/sns"},
	{"duckdb", "github.com/duckdb/duckdb-go/v2"},
	{"metrics", "github.com/prometheus/client_golang"},
	{"models", ""}, // pure Go, always linked: xgboost, lightgbm, lstm, linear
}

// ReadBuild gathers the version, commit, toolchain and features of the
// running binary.
func ReadBuild() BuildInfo {
	b := BuildInfo{Version: Version, Commit: Commit, Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	mods := map[string]bool{}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			mods[d.Path] = true
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if b.Commit == "" {
					b.Commit = s.Value
				}
			case "vcs.modified":
				b.Modified = s.Value == "true"
			case "CGO_ENABLED":
				b.CGO = s.Value == "1"
			}
		}
		if b.Version == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			b.Version = bi.Main.Version // go install …@v1.2.3
		}
	}
	b.Features = featuresOf(mods)
	// The page is embedded only if `make ui` ran before the build.
	if dashboard.AssetsBuilt() {
		b.Features = append(b.Features, "dashboard")
	} else {
		b.Features = append(b.Features, "dashboard (API only: page not built, run make ui)")
	}
	return b
}

// featuresOf lists the features whose modules are in mods.
func featuresOf(mods map[string]bool) []string {
	var fs []string
	for _, f := range features {
		if f.module == "" || mods[f.module] {
			fs = append(fs, f.name)
		}
	}
	return fs
}

// PrintVersion writes `tickstream version`'s output.
func PrintVersion(w io.Writer) error {
	b := ReadBuild()
	commit := b.Commit
	if commit == "" {
		commit = "unknown (built without -ldflags -X …app.Commit or VCS stamping)"
	} else if b.Modified {
		commit += " (modified)"
	}
	_, err := fmt.Fprintf(w, "tickstream %s\ncommit:   %s\ngo:       %s %s (cgo %v)\nfeatures: %s\n",
		b.Version, commit, b.Go, b.Platform, b.CGO, strings.Join(b.Features, ", "))
	return err
}
