package engine

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/twmb/franz-go/pkg/sasl"
	saslaws "github.com/twmb/franz-go/pkg/sasl/aws"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tickstream/tickstream/config"
)

// ClientOpts returns the options every tickstream Kafka client shares:
// brokers, client id, TLS and SASL.
func ClientOpts(k *config.Kafka) ([]kgo.Opt, error) {
	opts := []kgo.Opt{
		kgo.SeedBrokers(k.Brokers...),
		kgo.ClientID(k.ClientID),
	}
	if k.TLS.Enabled {
		tc, err := tlsConfig(&k.TLS)
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.DialTLSConfig(tc))
	}
	if m := saslMechanism(&k.SASL); m != nil {
		opts = append(opts, kgo.SASL(m))
	}
	return opts, nil
}

// ProducerOpts are the options of the client that produces ticks, DLQ records
// and alerts: idempotent (the franz-go default), small linger for latency.
func ProducerOpts(k *config.Kafka) ([]kgo.Opt, error) {
	opts, err := ClientOpts(k)
	if err != nil {
		return nil, err
	}
	return append(opts,
		kgo.ProducerLinger(5*time.Millisecond),
		kgo.ProducerBatchCompression(kgo.Lz4Compression(), kgo.NoCompression()),
	), nil
}

// NewProducer is a client built from ProducerOpts.
func NewProducer(k *config.Kafka) (*kgo.Client, error) {
	opts, err := ProducerOpts(k)
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("kafka producer: %w", err)
	}
	return cl, nil
}

func tlsConfig(c *config.KafkaTLS) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: c.ServerName}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("kafka.tls.ca_file: %w", err)
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("kafka.tls.ca_file: %s holds no PEM certificate", c.CAFile)
		}
	}
	if c.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("kafka.tls.cert_file/key_file: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

func saslMechanism(c *config.KafkaSASL) sasl.Mechanism {
	user, pass := c.Username, c.Password.Reveal()
	switch c.Mechanism {
	case "PLAIN":
		return plain.Auth{User: user, Pass: pass}.AsMechanism()
	case "SCRAM-SHA-256":
		return scram.Auth{User: user, Pass: pass}.AsSha256Mechanism()
	case "SCRAM-SHA-512":
		return scram.Auth{User: user, Pass: pass}.AsSha512Mechanism()
	case "AWS_MSK_IAM":
		return saslaws.ManagedStreamingIAM(mskIAMAuth())
	}
	return nil
}

// mskIAMAuth signs with credentials from the AWS default chain (environment,
// shared profile, EC2 instance role via IMDS), loaded once and refreshed by
// the SDK's cache as they rotate.
func mskIAMAuth() func(context.Context) (saslaws.Auth, error) {
	var (
		once  sync.Once
		creds aws.CredentialsProvider
		err   error
	)
	return func(ctx context.Context) (saslaws.Auth, error) {
		once.Do(func() {
			var cfg aws.Config
			cfg, err = awsconfig.LoadDefaultConfig(ctx)
			creds = cfg.Credentials
		})
		if err != nil {
			return saslaws.Auth{}, fmt.Errorf("AWS_MSK_IAM: load AWS credentials: %w", err)
		}
		if creds == nil {
			return saslaws.Auth{}, errors.New("AWS_MSK_IAM: no AWS credentials found (env, profile or instance role)")
		}
		c, err := creds.Retrieve(ctx)
		if err != nil {
			return saslaws.Auth{}, fmt.Errorf("AWS_MSK_IAM: retrieve AWS credentials: %w", err)
		}
		return saslaws.Auth{AccessKey: c.AccessKeyID, SecretKey: c.SecretAccessKey, SessionToken: c.SessionToken, UserAgent: "tickstream"}, nil
	}
}

// Embedded is the in-process broker used when no brokers are configured.
type Embedded struct {
	cluster *kfake.Cluster
}

// StartEmbedded starts a single in-process broker (franz-go's kfake) with the
// configured topics, and extra ones (the predictions topic when models are
// served), and points k.Brokers at it.
func StartEmbedded(k *config.Kafka, extra ...string) (*Embedded, error) {
	c, err := kfake.NewCluster(
		kfake.NumBrokers(1),
		kfake.SeedTopics(int32(k.Partitions), append([]string{k.Topic, k.DLQTopic, k.AlertsTopic}, extra...)...),
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

// EnsureTopics creates the ticks, DLQ and alerts topics, and extra ones (the
// predictions topic when models are served), when missing. A cluster that
// refuses creation gets a clear error saying which topic and why.
func EnsureTopics(ctx context.Context, cl *kgo.Client, k *config.Kafka, extra ...string) error {
	adm := kadm.NewClient(cl)
	topics := append([]string{k.Topic, k.DLQTopic, k.AlertsTopic}, extra...)
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
