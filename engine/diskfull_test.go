package engine_test

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/tickstream/tickstream/engine"
	"github.com/tickstream/tickstream/feeds/sim"
	"github.com/tickstream/tickstream/internal/testkit"
	"github.com/tickstream/tickstream/sinks/lake"
)

// fullDisk is a lake whose puts fail with ENOSPC while full is set.
type fullDisk struct {
	*lake.LocalStore
	full atomic.Bool
}

func (d *fullDisk) Put(ctx context.Context, key string, body io.ReadSeeker, size int64) error {
	if d.full.Load() {
		return fmt.Errorf("write %s: %w", key, syscall.ENOSPC)
	}
	return d.LocalStore.Put(ctx, key, body, size)
}

// TestDiskFullStopsFetching: with the lake's disk full the engine stops
// consuming (the records wait in Kafka), says why in the log, and once space
// returns every record lands exactly once.
func TestDiskFullStopsFetching(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 400,000 records; runs in the full (non -short) suite")
	}
	cfg := testkit.EndToEndConfig()
	// The smallest flush size: every fetch seals a batch, so with the lake
	// refusing puts the partition queues one and then blocks.
	cfg.Lake.FlushBytes = 1 << 20
	emb, err := engine.StartEmbedded(&cfg.Kafka)
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close()
	prod, err := engine.NewProducer(&cfg.Kafka)
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := sim.New(cfg.AllSymbols(), cfg.Simulator, time.Date(2026, 11, 24, 14, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	const n = 400_000
	if _, err := (&sim.Producer{Client: prod, Topic: cfg.Kafka.Topic}).Run(ctx, s, 0, n); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	local, err := lake.NewLocalStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	store := &fullDisk{LocalStore: local}
	store.full.Store(true)
	core, logs := observer.New(zap.ErrorLevel)
	eng, err := engine.New(cfg, engine.Deps{Log: zap.New(core), Store: store, Producer: prod, SpoolDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	rctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	var runErr error
	go func() { defer wg.Done(); runErr = eng.Run(rctx) }()

	// Each partition may fill its queue before it blocks; then the count
	// must stand still, far short of what waits in Kafka.
	var stalled int64
	testkit.Eventually(t, 30*time.Second, "consumption to stop with the disk full", func() bool {
		before := eng.Stats.Records.Load()
		time.Sleep(time.Second)
		stalled = eng.Stats.Records.Load()
		return stalled > 0 && stalled == before
	})
	if stalled >= n/2 {
		t.Fatalf("with the disk full the engine consumed %d of %d records before stopping", stalled, n)
	}
	said := false
	for _, e := range logs.All() {
		if strings.Contains(e.Message, "failed; retrying, offsets not committed") && strings.Contains(fmt.Sprint(e.ContextMap()["error"]), "no space left on device") {
			said = true
		}
	}
	if !said {
		t.Errorf("no error log says the lake is out of space and being retried")
	}
	t.Logf("disk full: consumption stopped at %d of %d records", stalled, n)

	store.full.Store(false)
	testkit.Eventually(t, time.Minute, "every record consumed after space returned", func() bool {
		return eng.Stats.Records.Load() >= n
	})
	stop()
	wg.Wait()
	if runErr != nil {
		t.Fatal(runErr)
	}
	seen := map[[2]int64]bool{}
	for _, r := range testkit.ReadTable[lake.RawRow](t, dir, "raw") {
		k := [2]int64{int64(r.KafkaPartition), r.KafkaOffset}
		if seen[k] {
			t.Fatalf("partition %d offset %d written twice", k[0], k[1])
		}
		seen[k] = true
	}
	if len(seen) != n {
		t.Fatalf("lake holds %d records, want %d", len(seen), n)
	}
}
