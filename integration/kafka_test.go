package integration_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tickstream/tickstream/config"
	"github.com/tickstream/tickstream/engine"
	"github.com/tickstream/tickstream/feeds/sim"
	"github.com/tickstream/tickstream/internal/testkit"
	"github.com/tickstream/tickstream/sinks/lake"
)

// cluster describes the real cluster the scripts started (scripts/kafka/start.sh
// writes these variables to DIR/env).
type cluster struct {
	brokers  []string
	nodes    int
	dir      string // KAFKA_CLUSTER_DIR, for stopping and restarting nodes
	security string
}

func realCluster(t *testing.T) cluster {
	t.Helper()
	b := os.Getenv("KAFKA_BROKERS")
	if b == "" {
		t.Skip("no real Kafka cluster: run `make test-kafka` (or scripts/kafka/start.sh, then `. DIR/env`) to set KAFKA_BROKERS")
	}
	nodes, _ := strconv.Atoi(os.Getenv("KAFKA_NODES"))
	if nodes == 0 {
		nodes = len(strings.Split(b, ","))
	}
	return cluster{brokers: strings.Split(b, ","), nodes: nodes, dir: os.Getenv("KAFKA_CLUSTER_DIR"), security: os.Getenv("KAFKA_SECURITY")}
}

// configure points cfg at the cluster with topics and a group of its own, so
// tests never see each other's records.
func (c cluster) configure(t *testing.T, cfg *config.Config) {
	id := fmt.Sprintf("%s-%d", strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name())), rand.IntN(1e6))
	k := &cfg.Kafka
	k.Brokers = c.brokers
	k.Topic, k.DLQTopic, k.AlertsTopic, k.Group = "ticks-"+id, "dlq-"+id, "alerts-"+id, "group-"+id
	k.Partitions = 6
	k.Replication = min(3, c.nodes)
	if c.security == "sasl_ssl" {
		k.TLS = config.KafkaTLS{Enabled: true, CAFile: os.Getenv("KAFKA_CA_FILE")}
		k.SASL = config.KafkaSASL{Mechanism: "SCRAM-SHA-512", Username: os.Getenv("KAFKA_SASL_USER"), Password: config.Secret(os.Getenv("KAFKA_SASL_PASSWORD"))}
	}
}

// yaml renders the settings of cfg that the binary tests change.
func yamlFor(cfg *config.Config, lakeDir string, symbols []string) string {
	k := &cfg.Kafka
	sec := ""
	if k.SASL.Mechanism != "" {
		sec = fmt.Sprintf(`
  tls: {enabled: true, ca_file: %q}
  sasl: {mechanism: %s, username: %q, password: "${TICKSTREAM_TEST_KAFKA_PASSWORD}"}`,
			k.TLS.CAFile, k.SASL.Mechanism, k.SASL.Username)
	}
	return fmt.Sprintf(`symbols: [%s]
synthetic_symbols: 0
kafka:
  brokers: [%s]
  topic: %s
  dlq_topic: %s
  alerts_topic: %s
  group: %s
  partitions: %d
  replication: %d%s
lake:
  url: %s
  flush_interval: 1s
simulator:
  enabled: "off"
log:
  format: json
engine:
  shutdown_timeout: 20s
dashboard:
  listen: 127.0.0.1:0
`, strings.Join(symbols, ", "), strings.Join(k.Brokers, ", "), k.Topic, k.DLQTopic, k.AlertsTopic, k.Group,
		k.Partitions, k.Replication, sec, lakeDir)
}

func createTopics(t *testing.T, cfg *config.Config) {
	t.Helper()
	cl := client(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	minISR := strconv.Itoa(min(2, cfg.Kafka.Replication))
	resp, err := kadm.NewClient(cl).CreateTopics(ctx, int32(cfg.Kafka.Partitions), int16(cfg.Kafka.Replication),
		map[string]*string{"min.insync.replicas": &minISR}, cfg.Kafka.Topic, cfg.Kafka.DLQTopic, cfg.Kafka.AlertsTopic)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		t.Fatalf("create topics: %v", err)
	}
}

func client(t *testing.T, cfg *config.Config, extra ...kgo.Opt) *kgo.Client {
	t.Helper()
	opts, err := engine.ClientOpts(&cfg.Kafka)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(append(opts, extra...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// TestKafkaEndToEnd is the engine's end-to-end scenario against the real
// cluster: 6 partitions, replication 3, min.insync.replicas 2.
func TestKafkaEndToEnd(t *testing.T) {
	c := realCluster(t)
	cfg := testkit.EndToEndConfig()
	c.configure(t, cfg)
	createTopics(t, cfg)
	testkit.EndToEnd(t, cfg)
}

var symbols = []string{"AAPL", "MSFT", "AMZN", "GOOGL", "META", "NVDA", "TSLA", "JPM", "V", "JNJ",
	"WMT", "PG", "XOM", "UNH", "HD", "BAC", "KO", "PEP", "DIS", "NFLX"}

// startEngine runs `tickstream run` against the cluster.
func startEngine(t *testing.T, name string, cfg *config.Config, lakeDir string) *testkit.Proc {
	t.Helper()
	path := testkit.WriteFile(t, name+".yaml", yamlFor(cfg, lakeDir, symbols))
	os.Setenv("TICKSTREAM_TEST_KAFKA_PASSWORD", cfg.Kafka.SASL.Password.Reveal())
	p := testkit.Start(t, name, testkit.Binary(t), "run", "--config", path)
	testkit.Eventually(t, 60*time.Second, name+" to be assigned partitions", func() bool {
		return strings.Contains(p.Output(), `"msg":"partitions assigned","partitions":[`) || p.Exited()
	})
	if p.Exited() {
		t.Fatalf("%s exited early: %v", name, p.Wait(0))
	}
	return p
}

// produce runs the simulator into the ticks topic: n ticks, paced at rate
// updates per symbol per second (0: as fast as possible).
func produce(t *testing.T, ctx context.Context, cfg *config.Config, rate float64, n int64) int64 {
	t.Helper()
	cl, err := engine.NewProducer(&cfg.Kafka)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	s, err := sim.New(symbols, cfg.Simulator, time.Date(2026, 11, 24, 14, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	got, err := (&sim.Producer{Client: cl, Topic: cfg.Kafka.Topic}).Run(ctx, s, rate, n)
	if err != nil {
		t.Fatalf("produce: %v (after %d ticks)", err, got)
	}
	return got
}

// lakeOffsets returns how many raw rows each (partition, offset) has.
func lakeOffsets(t *testing.T, lakeDir string) map[[2]int64]int {
	seen := map[[2]int64]int{}
	for _, r := range testkit.ReadTable[lake.RawRow](t, lakeDir, "raw") {
		seen[[2]int64{int64(r.KafkaPartition), r.KafkaOffset}]++
	}
	return seen
}

// checkLake asserts the raw table holds every offset of the topic, and
// returns the number of duplicated rows.
func checkLake(t *testing.T, cfg *config.Config, lakeDir string, produced int64) (dups int) {
	t.Helper()
	testkit.Eventually(t, 90*time.Second, fmt.Sprintf("%d raw rows in the lake", produced), func() bool {
		return int64(len(lakeOffsets(t, lakeDir))) >= produced
	})
	seen := lakeOffsets(t, lakeDir)
	ends, err := kadm.NewClient(client(t, cfg)).ListEndOffsets(context.Background(), cfg.Kafka.Topic)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	ends.Each(func(o kadm.ListedOffset) {
		total += o.Offset
		for off := int64(0); off < o.Offset; off++ {
			if seen[[2]int64{int64(o.Partition), off}] == 0 {
				t.Errorf("partition %d offset %d is missing from the lake", o.Partition, off)
				return
			}
		}
	})
	if total != produced {
		t.Errorf("topic holds %d records, produced %d", total, produced)
	}
	for _, n := range seen {
		dups += n - 1
	}
	return dups
}

// owned replays a process's log of assignments and revocations and returns
// how many partitions it owns now.
func owned(out string) int {
	set := map[string]bool{}
	for _, line := range strings.Split(out, "\n") {
		for msg, add := range map[string]bool{`"msg":"partitions assigned"`: true, `"msg":"partitions revoked: flushing before hand-over"`: false, `"msg":"partitions lost: dropping uncommitted rows, the new owner re-reads them"`: false} {
			i := strings.Index(line, msg+`,"partitions":[`)
			if i < 0 {
				continue
			}
			rest := line[i+len(msg+`,"partitions":[`):]
			j := strings.IndexByte(rest, ']')
			if j <= 0 {
				continue
			}
			for _, p := range strings.Split(rest[:j], ",") {
				set[p] = add
			}
		}
	}
	n := 0
	for _, on := range set {
		if on {
			n++
		}
	}
	return n
}

// startPair runs two instances in one group on fresh topics and a shared
// lake, and waits until both own partitions.
func startPair(t *testing.T) (cfg *config.Config, lakeDir string, a, b *testkit.Proc) {
	t.Helper()
	c := realCluster(t)
	cfg = config.Default()
	c.configure(t, cfg)
	createTopics(t, cfg)
	lakeDir = t.TempDir()
	a = startEngine(t, "a", cfg, lakeDir)
	b = startEngine(t, "b", cfg, lakeDir)
	testkit.Eventually(t, 60*time.Second, "both instances to own partitions", func() bool {
		return owned(a.Output()) > 0 && owned(b.Output()) > 0
	})
	return cfg, lakeDir, a, b
}

// TestKafkaScaleOut: two instances in one group share the partitions and the
// lake holds every record exactly once.
func TestKafkaScaleOut(t *testing.T) {
	cfg, lakeDir, a, b := startPair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	produced := produce(t, ctx, cfg, 0, 20*1800)
	if dups := checkLake(t, cfg, lakeDir, produced); dups != 0 {
		t.Errorf("%d records were written twice", dups)
	}
	for _, p := range []*testkit.Proc{a, b} {
		if err := p.Stop(40 * time.Second); err != nil {
			t.Errorf("%s: %v", p.Name, err)
		}
	}
}

// TestKafkaRebalance: one of two instances stops mid-stream; the other takes
// over its partitions after a clean hand-over, and nothing is lost or doubled.
func TestKafkaRebalance(t *testing.T) {
	cfg, lakeDir, a, b := startPair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	done := make(chan int64, 1)
	go func() { done <- produce(t, ctx, cfg, 10, 20*10*15) }() // 15 s at 200 ticks/s
	time.Sleep(5 * time.Second)
	if err := b.Stop(40 * time.Second); err != nil {
		t.Fatalf("b did not stop cleanly: %v", err)
	}
	testkit.Eventually(t, 60*time.Second, "a to take over all 6 partitions", func() bool {
		return owned(a.Output()) == 6
	})
	produced := <-done
	if dups := checkLake(t, cfg, lakeDir, produced); dups != 0 {
		t.Errorf("%d records were written twice after a clean hand-over", dups)
	}
	if err := a.Stop(40 * time.Second); err != nil {
		t.Errorf("a: %v", err)
	}
}

// TestKafkaBrokerFailure kills the leader of a partition mid-stream; the
// engine keeps consuming after leader election, nothing is lost, and the
// group's lag returns to zero.
func TestKafkaBrokerFailure(t *testing.T) {
	c := realCluster(t)
	if c.dir == "" || c.nodes < 3 {
		t.Skip("needs a 3-node cluster started by scripts/kafka/start.sh (KAFKA_CLUSTER_DIR)")
	}
	cfg := config.Default()
	c.configure(t, cfg)
	createTopics(t, cfg)
	lakeDir := t.TempDir()
	a := startEngine(t, "a", cfg, lakeDir)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	done := make(chan int64, 1)
	go func() { done <- produce(t, ctx, cfg, 10, 20*10*20) }() // 20 s at 200 ticks/s
	time.Sleep(5 * time.Second)

	adm := kadm.NewClient(client(t, cfg))
	md, err := adm.Metadata(ctx, cfg.Kafka.Topic)
	if err != nil {
		t.Fatal(err)
	}
	leader := md.Topics[cfg.Kafka.Topic].Partitions[0].Leader
	t.Logf("killing node %d, leader of partition 0", leader)
	script(t, "stop.sh", "--dir", c.dir, "--node", strconv.Itoa(int(leader)), "--kill")
	restarted := false
	defer func() {
		if !restarted {
			script(t, "start-node.sh", c.dir, strconv.Itoa(int(leader)))
		}
	}()
	produced := <-done
	dups := checkLake(t, cfg, lakeDir, produced)
	t.Logf("%d records, %d written twice (allowed: at-least-once across a broker failure)", produced, dups)
	testkit.Eventually(t, 60*time.Second, "consumer lag back to 0", func() bool {
		lag, err := adm.Lag(ctx, cfg.Kafka.Group)
		if err != nil {
			return false
		}
		l := lag[cfg.Kafka.Group]
		return l.Error() == nil && l.Lag.Total() == 0
	})
	if a.Exited() {
		t.Fatalf("engine exited during the broker failure: %v", a.Wait(0))
	}
	script(t, "start-node.sh", c.dir, strconv.Itoa(int(leader)))
	restarted = true
	if err := a.Stop(40 * time.Second); err != nil {
		t.Errorf("a: %v", err)
	}
}

func script(t *testing.T, name string, args ...string) {
	t.Helper()
	out, err := exec.Command("../scripts/kafka/"+name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("scripts/kafka/%s %v: %v\n%s", name, args, err, out)
	}
}

// TestKafkaCreatesTopics: the DLQ and alerts topics (and the ticks topic) are
// created when missing; a cluster that refuses gets a clear error naming the
// topic.
func TestKafkaCreatesTopics(t *testing.T) {
	c := realCluster(t)
	cfg := config.Default()
	c.configure(t, cfg)
	lakeDir := t.TempDir()
	a := startEngine(t, "a", cfg, lakeDir)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	td, err := kadm.NewClient(client(t, cfg)).ListTopics(ctx, cfg.Kafka.Topic, cfg.Kafka.DLQTopic, cfg.Kafka.AlertsTopic)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{cfg.Kafka.Topic, cfg.Kafka.DLQTopic, cfg.Kafka.AlertsTopic} {
		d, ok := td[name]
		if !ok || d.Err != nil {
			t.Errorf("topic %s not created: %v", name, d.Err)
			continue
		}
		if len(d.Partitions) != cfg.Kafka.Partitions || len(d.Partitions[0].Replicas) != cfg.Kafka.Replication {
			t.Errorf("topic %s: %d partitions × %d replicas, want %d × %d", name,
				len(d.Partitions), len(d.Partitions[0].Replicas), cfg.Kafka.Partitions, cfg.Kafka.Replication)
		}
	}
	if err := a.Stop(40 * time.Second); err != nil {
		t.Errorf("a: %v", err)
	}

	// More replicas than brokers: the cluster refuses, tickstream says why.
	refused := config.Default()
	c.configure(t, refused)
	refused.Kafka.Replication = c.nodes + 2
	path := testkit.WriteFile(t, "refused.yaml", yamlFor(refused, lakeDir, symbols))
	out, err := exec.Command(testkit.Binary(t), "run", "--config", path).CombinedOutput()
	if err == nil {
		t.Fatalf("run succeeded with replication %d on %d brokers", refused.Kafka.Replication, c.nodes)
	}
	if want := fmt.Sprintf("create topic %q", refused.Kafka.Topic); !strings.Contains(string(out), want) {
		t.Errorf("error does not name the topic (%s):\n%s", want, out)
	}
}

// TestKafkaSecured runs the binary against a SASL_SSL cluster with SCRAM and
// the password given through ${ENV}, at debug level, and checks the password
// never reaches the log.
func TestKafkaSecured(t *testing.T) {
	c := realCluster(t)
	if c.security != "sasl_ssl" {
		t.Skip("needs a SASL_SSL cluster: scripts/kafka/start.sh --security sasl_ssl (make test-kafka runs one)")
	}
	cfg := config.Default()
	c.configure(t, cfg)
	createTopics(t, cfg)
	lakeDir := t.TempDir()
	path := testkit.WriteFile(t, "secured.yaml",
		strings.Replace(yamlFor(cfg, lakeDir, symbols), "format: json", "format: json\n  level: debug", 1))
	t.Setenv("TICKSTREAM_TEST_KAFKA_PASSWORD", cfg.Kafka.SASL.Password.Reveal())
	a := testkit.Start(t, "a", testkit.Binary(t), "run", "--config", path)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	produced := produce(t, ctx, cfg, 0, 2000)
	checkLake(t, cfg, lakeDir, produced)
	if err := a.Stop(40 * time.Second); err != nil {
		t.Errorf("a: %v", err)
	}
	if pw := cfg.Kafka.SASL.Password.Reveal(); pw == "" || strings.Contains(a.Output(), pw) {
		t.Errorf("the SASL password is empty or appears in the log")
	}
}

// TestKafkaFeedSurvivesBrokerRestart: `tickstream feed` keeps producing while
// a broker restarts, and the idempotent producer neither loses nor doubles a
// tick.
func TestKafkaFeedSurvivesBrokerRestart(t *testing.T) {
	c := realCluster(t)
	if c.dir == "" || c.nodes < 3 {
		t.Skip("needs a 3-node cluster started by scripts/kafka/start.sh (KAFKA_CLUSTER_DIR)")
	}
	cfg := config.Default()
	c.configure(t, cfg)
	createTopics(t, cfg)
	const n = 20 * 10 * 20 // 20 symbols at 10 Hz for 20 s
	path := testkit.WriteFile(t, "feed.yaml", yamlFor(cfg, t.TempDir(), symbols))
	feed := testkit.Start(t, "feed", testkit.Binary(t), "feed", "--config", path, "--rate", "10", "--limit", strconv.Itoa(n))
	time.Sleep(5 * time.Second)
	script(t, "stop.sh", "--dir", c.dir, "--node", "1")
	time.Sleep(5 * time.Second)
	script(t, "start-node.sh", c.dir, "1")
	if err := feed.Wait(90 * time.Second); err != nil {
		t.Fatalf("feed: %v", err)
	}
	if !strings.Contains(feed.Output(), fmt.Sprintf(`"ticks":%d`, n)) {
		t.Errorf("feed did not report %d ticks produced", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	opts, err := engine.ClientOpts(&cfg.Kafka)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	got := testkit.ReadTopic(t, ctx, opts, cfg.Kafka.Topic, func(r *kgo.Record) { seen[string(r.Value)]++ })
	if got != n || len(seen) != n {
		t.Errorf("topic holds %d records, %d distinct; want %d of each", got, len(seen), n)
	}
}
