package app

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/tickstream/tickstream/config"
	"github.com/tickstream/tickstream/internal/testkit"
)

const modelFixture = "../models/testdata/xgboost/reg.json"

// A model file that is missing or not a model stops the start with an
// error naming it; no files means predictions off.
func TestLoadModels(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.json")
	if err := os.WriteFile(garbage, []byte(`{"learner":`), 0o644); err != nil {
		t.Fatal(err)
	}
	f := func(files []config.ModelFile, want string) {
		t.Helper()
		cfg := config.Default()
		cfg.Models.Files = files
		reg, topics, err := loadModels(cfg, zap.NewNop())
		switch {
		case want != "":
			if err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "models.files: ") {
				t.Errorf("%v: error %v, want it to name %q", files, err, want)
			}
		case err != nil:
			t.Errorf("%v: %v", files, err)
		case len(files) == 0 && (reg != nil || topics != nil):
			t.Errorf("no files, yet a registry %v and topics %v", reg, topics)
		case len(files) > 0 && (reg == nil || reg.Len() != len(files) || len(topics) != 1 || topics[0] != cfg.Models.Topic):
			t.Errorf("%v: registry %v, topics %v", files, reg, topics)
		}
	}
	f(nil, "")
	f([]config.ModelFile{{Name: "xgb", Kind: "xgboost", Path: modelFixture}}, "")
	missing := filepath.Join(dir, "nope.ubj")
	f([]config.ModelFile{{Name: "xgb", Kind: "xgboost", Path: modelFixture}, {Name: "b", Kind: "xgboost", Path: missing}}, missing)
	f([]config.ModelFile{{Name: "x", Kind: "xgboost", Path: garbage}}, garbage)
	f([]config.ModelFile{{Name: "x", Kind: "xgboost", Path: modelFixture, Horizon: "10s", Symbols: []string{"AAPL"}}}, "")
	f([]config.ModelFile{{Name: "x", Kind: "xgboost", Path: modelFixture, Horizon: "1m"}}, `the file's horizon is "10s", the configured horizon "1m"`)
}

// TestRunServesModels runs `tickstream run` on the embedded broker with a
// model configured: prediction files appear in the lake and messages on
// the predictions topic, which Run created.
func TestRunServesModels(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole pipeline for a few seconds; skipped in -short mode")
	}
	cfg := config.Default()
	cfg.Symbols, cfg.SyntheticSymbols = []string{"AAPL", "MSFT"}, 0
	cfg.Simulator.Rate = 200 // past the 61-tick warm-up in under a second
	cfg.Lake.URL = t.TempDir()
	cfg.Lake.FlushInterval = time.Second
	cfg.Alerts.Log = false
	model, err := filepath.Abs(modelFixture)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Models.Files = []config.ModelFile{{Name: "xgb", Kind: "xgboost", Path: model}}
	cfg.Engine.ShutdownTimeout = 10 * time.Second

	core, logs := observer.New(zap.InfoLevel)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, zap.New(core), Reload{}) }()
	stopped := false
	defer func() {
		cancel()
		if !stopped {
			if err := <-done; err != nil {
				t.Error(err)
			}
		}
	}()

	deadline := time.After(30 * time.Second)
	for countParquet(cfg.Lake.URL, "predictions") == 0 {
		select {
		case err := <-done:
			stopped = true
			t.Fatalf("run stopped: %v", err)
		case <-deadline:
			t.Fatal("no prediction files in the lake after 30 s")
		case <-time.After(50 * time.Millisecond):
		}
	}
	started := logs.FilterMessage("no kafka.brokers configured: started the embedded broker").All()
	if len(started) != 1 {
		t.Fatalf("the embedded broker's start was not logged: %v", started)
	}
	var addrs []string
	for _, a := range started[0].ContextMap()["addr"].([]any) {
		addrs = append(addrs, a.(string))
	}
	rctx, rcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer rcancel()
	n := testkit.ReadTopic(t, rctx, []kgo.Opt{kgo.SeedBrokers(addrs...)}, cfg.Models.Topic, func(r *kgo.Record) {
		if !strings.Contains(string(r.Value), `"model":"xgb"`) {
			t.Errorf("predictions topic: %s", r.Value)
		}
	})
	if n == 0 {
		t.Error("the predictions topic is empty")
	}
	if failed := logs.FilterMessage("prediction produce failed; the lake's predictions table still has the row").Len(); failed != 0 {
		t.Errorf("%d prediction produce failures logged", failed)
	}
}

func countParquet(dir, table string) int {
	n := 0
	err := filepath.WalkDir(filepath.Join(dir, table), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".parquet") && !strings.HasPrefix(d.Name(), ".") {
			n++
		}
		return err
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return 0
	}
	return n
}
