// Package feedtest holds what the feed packages' tests share: an in-process
// Kafka (kfake) with the ticks topic, a producer on it, and a consumer that
// reads the topic back as decoded ticks. It is for tests only.
package feedtest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tickstream/tickstream/feeds/produce"
	"github.com/tickstream/tickstream/tick"
)

// Topic is the ticks topic of Cluster.
const Topic = "ticks"

// Cluster starts kfake with Topic (6 partitions) and returns it with an
// idempotent producing client; both close with the test.
func Cluster(t testing.TB) (*kfake.Cluster, *kgo.Client) {
	t.Helper()
	return ClusterN(t, 6)
}

// ClusterN is Cluster with that many partitions; with one, the topic keeps
// the order of everything produced.
func ClusterN(t testing.TB, partitions int32) (*kfake.Cluster, *kgo.Client) {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(partitions, Topic))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ProducerLinger(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return c, cl
}

// Producer returns a produce.Producer on a fresh Cluster.
func Producer(t testing.TB) (*kfake.Cluster, *produce.Producer) {
	t.Helper()
	return ProducerN(t, 6)
}

// ProducerN is Producer on a ClusterN.
func ProducerN(t testing.TB, partitions int32) (*kfake.Cluster, *produce.Producer) {
	t.Helper()
	c, cl := ClusterN(t, partitions)
	p, err := produce.New(cl, Topic)
	if err != nil {
		t.Fatal(err)
	}
	return c, p
}

// Record is one consumed record, decoded.
type Record struct {
	Tick  tick.Tick
	Stale bool   // the stale header was set
	Key   string // the record key
	// RecordTS is the record timestamp in Unix ms.
	RecordTS  int64
	Partition int32
	Offset    int64
}

// jsonTick reads the input contract with encoding/json, independently of
// package tick's decoder.
type jsonTick struct {
	Symbol string   `json:"symbol"`
	TS     *int64   `json:"ts"`
	Price  *float64 `json:"price"`
	Volume *float64 `json:"volume"`
	Bid    float64  `json:"bid"`
	Ask    float64  `json:"ask"`
}

// Consume reads everything in Topic up to its end offsets at the call,
// decoding each value with encoding/json; a value missing ts, price or
// volume fails the test. Records come in offset order per partition.
func Consume(t testing.TB, c *kfake.Cluster) []Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumeTopics(Topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, Topic)
	if err != nil {
		t.Fatal(err)
	}
	total := int64(0)
	ends.Each(func(o kadm.ListedOffset) { total += o.Offset })
	var out []Record
	for int64(len(out)) < total {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of %d records: %v", len(out), total, ctx.Err())
		}
		fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", topic, p, err) })
		fs.EachRecord(func(r *kgo.Record) {
			var jt jsonTick
			if err := json.Unmarshal(r.Value, &jt); err != nil {
				t.Fatalf("record %s: %v", r.Value, err)
			}
			if jt.TS == nil || jt.Price == nil || jt.Volume == nil {
				t.Fatalf("record without ts, price or volume: %s", r.Value)
			}
			rec := Record{
				Tick:      tick.Tick{Symbol: jt.Symbol, TS: *jt.TS, Price: *jt.Price, Volume: *jt.Volume, Bid: jt.Bid, Ask: jt.Ask},
				Key:       string(r.Key),
				RecordTS:  r.Timestamp.UnixMilli(),
				Partition: r.Partition,
				Offset:    r.Offset,
			}
			for _, h := range r.Headers {
				if h.Key == produce.StaleHeader && string(h.Value) == "true" {
					rec.Stale = true
				}
			}
			out = append(out, rec)
		})
	}
	return out
}

// BySymbol groups records by symbol, keeping their order, and fails the
// test if a record's key is not its symbol.
func BySymbol(t testing.TB, rs []Record) map[string][]Record {
	t.Helper()
	m := map[string][]Record{}
	for _, r := range rs {
		if r.Key != r.Tick.Symbol {
			t.Fatalf("record key %q, symbol %q", r.Key, r.Tick.Symbol)
		}
		m[r.Tick.Symbol] = append(m[r.Tick.Symbol], r)
	}
	return m
}
