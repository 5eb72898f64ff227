package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tickstream/tickstream/config"
)

// ClientOpts returns the options every tickstream Kafka client shares:
// brokers and client id (security settings join here).
func ClientOpts(k *config.Kafka) []kgo.Opt {
	return []kgo.Opt{
		kgo.SeedBrokers(k.Brokers...),
		kgo.ClientID(k.ClientID),
	}
}

// ProducerOpts are the options of the client that produces ticks, DLQ records
// and alerts: idempotent (the franz-go default), small linger for latency.
func ProducerOpts(k *config.Kafka) []kgo.Opt {
	return append(ClientOpts(k),
		kgo.ProducerLinger(5*time.Millisecond),
		kgo.ProducerBatchCompression(kgo.Lz4Compression(), kgo.NoCompression()),
	)
}

// Embedded is the in-process broker used when no brokers are configured.
type Embedded struct {
	cluster *kfake.Cluster
}

// StartEmbedded starts a single in-process broker (franz-go's kfake) with the
// configured topics and points k.Brokers at it.
func StartEmbedded(k *config.Kafka) (*Embedded, error) {
	c, err := kfake.NewCluster(
		kfake.NumBrokers(1),
		kfake.SeedTopics(int32(k.Partitions), k.Topic, k.DLQTopic, k.AlertsTopic),
	)
	if err != nil {
		return nil, fmt.Errorf("start embedded kafka: %w", err)
	}
	k.Brokers = c.ListenAddrs()
	return &Embedded{cluster: c}, nil
}

// Addrs are the embedded broker's listen addresses.
func (e *Embedded) Addrs() []string { return e.cluster.ListenAddrs() }

// Close stops the broker.
func (e *Embedded) Close() { e.cluster.Close() }

// EnsureTopics creates the ticks, DLQ and alerts topics when missing. A
// cluster that refuses creation gets a clear error saying which topic and why.
func EnsureTopics(ctx context.Context, cl *kgo.Client, k *config.Kafka) error {
	adm := kadm.NewClient(cl)
	topics := []string{k.Topic, k.DLQTopic, k.AlertsTopic}
	existing, err := adm.ListTopics(ctx, topics...)
	if err != nil {
		return fmt.Errorf("list topics on %v: %w (is the broker reachable?)", k.Brokers, err)
	}
	for _, t := range topics {
		if d, ok := existing[t]; ok && d.Err == nil {
			continue
		}
		resp, err := adm.CreateTopic(ctx, int32(k.Partitions), int16(k.Replication), nil, t)
		if err == nil {
			err = resp.Err
		}
		if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
			return fmt.Errorf("create topic %q (%d partitions, replication %d): %w; create it yourself or allow tickstream to", t, k.Partitions, k.Replication, err)
		}
	}
	return nil
}
