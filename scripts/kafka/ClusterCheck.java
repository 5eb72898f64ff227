import java.io.FileInputStream;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * Readiness check for the test clusters that scripts/kafka/start.sh runs: one
 * JVM that polls until the cluster is usable, instead of a loop of tool runs
 * that each pay a JVM start.
 *
 * <p>Ready means: exactly the expected broker ids are registered and unfenced;
 * if --probe-topic is given, a topic with replication factor = broker count can
 * be created; and every partition of every topic (internal ones included) has a
 * leader and a full ISR (unless --skip-isr, for when a node is down on
 * purpose). The probe topic is deleted again. It only reads the
 * cluster otherwise, and never changes existing topics.
 *
 * <p>Usage: ClusterCheck --bootstrap HOST:PORT,... --brokers 1,2,3
 * [--command-config FILE] [--probe-topic NAME] [--skip-isr] [--timeout-ms MS]
 *
 * <p>Exit 0 when ready, 1 on timeout (with the last reason), 2 on bad usage.
 */
public final class ClusterCheck {
  private ClusterCheck() {}

  public static void main(String[] args) throws Exception {
    String bootstrap = null;
    String commandConfig = null;
    String probeTopic = null;
    boolean checkIsr = true;
    Set<Integer> brokers = new TreeSet<>();
    long timeoutMs = 60_000;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.equals("--skip-isr")) {
        checkIsr = false;
        continue;
      }
      if (i + 1 >= args.length) {
        usage("missing value for " + a);
      }
      String v = args[++i];
      switch (a) {
        case "--bootstrap":
          bootstrap = v;
          break;
        case "--command-config":
          commandConfig = v;
          break;
        case "--probe-topic":
          probeTopic = v;
          break;
        case "--timeout-ms":
          timeoutMs = Long.parseLong(v);
          break;
        case "--brokers":
          for (String id : v.split(",")) {
            brokers.add(Integer.parseInt(id.trim()));
          }
          break;
        default:
          usage("unknown option " + a);
      }
    }
    if (bootstrap == null || brokers.isEmpty()) {
      usage("--bootstrap and --brokers are required");
    }

    Properties props = new Properties();
    if (commandConfig != null) {
      try (InputStream in = new FileInputStream(commandConfig)) {
        props.load(in);
      }
    }
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
    props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "5000");
    props.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "500");

    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    String why = "not checked yet";
    boolean probeCreated = false;
    try (Admin admin = Admin.create(props)) {
      while (System.nanoTime() < deadline) {
        try {
          why = brokersMissing(admin, brokers);
          if (why == null && probeTopic != null && !probeCreated) {
            createProbe(admin, probeTopic, brokers.size());
            probeCreated = true;
          }
          if (why == null && checkIsr) {
            why = underReplicated(admin, probeTopic);
          }
          if (why == null) {
            if (probeTopic != null) {
              admin.deleteTopics(List.of(probeTopic)).all().get(10, TimeUnit.SECONDS);
            }
            System.out.println("cluster ready: brokers " + brokers);
            return;
          }
        } catch (ExecutionException e) {
          why = String.valueOf(e.getCause());
        } catch (org.apache.kafka.common.KafkaException | java.util.concurrent.TimeoutException e) {
          why = String.valueOf(e);
        }
        Thread.sleep(250);
      }
    }
    System.err.println("cluster not ready after " + timeoutMs + " ms: " + why);
    System.exit(1);
  }

  /** Returns why the registered brokers differ from the wanted ones, or null. */
  private static String brokersMissing(Admin admin, Set<Integer> want)
      throws ExecutionException, InterruptedException {
    DescribeClusterResult cluster = admin.describeCluster();
    Set<Integer> have = new TreeSet<>();
    for (Node n : cluster.nodes().get()) {
      have.add(n.id());
    }
    return have.equals(want) ? null : "brokers registered " + have + ", want " + want;
  }

  private static void createProbe(Admin admin, String topic, int replicas)
      throws ExecutionException, InterruptedException {
    try {
      admin
          .createTopics(List.of(new NewTopic(topic, replicas, (short) replicas)))
          .all()
          .get();
    } catch (ExecutionException e) {
      if (!(e.getCause() instanceof TopicExistsException)) {
        throw e;
      }
    }
  }

  /**
   * Returns the first partition without a leader or with a short ISR, or null
   * when all are complete. The probe topic must be present and described.
   */
  private static String underReplicated(Admin admin, String probeTopic)
      throws ExecutionException, InterruptedException {
    Set<String> names =
        new TreeSet<>(admin.listTopics(new ListTopicsOptions().listInternal(true)).names().get());
    if (probeTopic != null && !names.contains(probeTopic)) {
      return "probe topic " + probeTopic + " not listed yet";
    }
    if (names.isEmpty()) {
      return null;
    }
    Map<String, TopicDescription> topics = admin.describeTopics(names).allTopicNames().get();
    List<String> bad = new ArrayList<>();
    for (TopicDescription t : topics.values()) {
      for (TopicPartitionInfo p : t.partitions()) {
        if (p.leader() == null || p.leader().isEmpty()) {
          bad.add(t.name() + "-" + p.partition() + " has no leader");
        } else if (p.isr().size() < p.replicas().size()) {
          bad.add(t.name() + "-" + p.partition() + " isr " + ids(p.isr()) + " < replicas " + ids(p.replicas()));
        }
      }
    }
    return bad.isEmpty() ? null : bad.size() + " partitions not ready, e.g. " + bad.get(0);
  }

  private static List<Integer> ids(List<Node> nodes) {
    List<Integer> out = new ArrayList<>();
    for (Node n : nodes) {
      out.add(n.id());
    }
    return out;
  }

  private static void usage(String msg) {
    System.err.println("ClusterCheck: " + msg);
    System.err.println(
        "usage: ClusterCheck --bootstrap HOST:PORT,... --brokers 1,2,3"
            + " [--command-config FILE] [--probe-topic NAME] [--skip-isr] [--timeout-ms MS]");
    System.exit(2);
  }
}
