#!/bin/bash
# EC2 user data for Amazon Linux 2023: installs tickstream as a systemd
# service and, with KAFKA=kraft, a single-node Apache Kafka 4.x in KRaft mode
# on the same host. Paste into "Advanced details -> User data" (or pass with
# aws ec2 run-instances --user-data file://deploy/user-data-al2023.sh) after
# editing the settings below. Runs once, as root, at first boot; its log is
# /var/log/cloud-init-output.log. The instance profile must allow what
# deploy/iam-policy.json grants.
set -euo pipefail

# ---- settings -------------------------------------------------------------
# Where the binary is: an https:// URL or an s3:// object (the release for
# this instance's architecture: tickstream-linux-amd64 or -arm64).
TICKSTREAM_URL=${TICKSTREAM_URL:-s3://my-artifacts/tickstream/tickstream-linux-arm64}
# The lake: s3://bucket/prefix, or a local directory under /var/lib/tickstream.
LAKE_URL=${LAKE_URL:-s3://my-lake/ticks}
# An SNS topic for alerts, or empty.
SNS_TOPIC_ARN=${SNS_TOPIC_ARN:-}
# kraft: install a single-node Kafka here; none: use KAFKA_BROKERS.
KAFKA=${KAFKA:-kraft}
KAFKA_BROKERS=${KAFKA_BROKERS:-127.0.0.1:9092}
KAFKA_VERSION=${KAFKA_VERSION:-4.4.0}
# Feed the simulator into Kafka too (on/off), for a demo with no market data.
SIMULATOR=${SIMULATOR:-on}
# ---------------------------------------------------------------------------

token=$(curl -sS -X PUT http://169.254.169.254/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 300')
region=$(curl -sS -H "X-aws-ec2-metadata-token: $token" http://169.254.169.254/latest/meta-data/placement/region)

install_kafka() {
	dnf install -y -q java-21-amazon-corretto-headless maven-amazon-corretto21 ||
		dnf install -y -q java-21-amazon-corretto-headless maven
	useradd --system --home-dir /var/lib/kafka --create-home --shell /sbin/nologin kafka || true
	mkdir -p /opt/kafka/libs /etc/kafka
	# No tarball needed: Maven Central has the broker and its dependencies,
	# as scripts/kafka/pom.xml does for the tests.
	cat >/opt/kafka/pom.xml <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local</groupId><artifactId>kafka-runtime</artifactId><version>1</version><packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>${KAFKA_VERSION}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>2.25.2</version></dependency>
  </dependencies>
</project>
POM
	(cd /opt/kafka && mvn -q -B dependency:copy-dependencies -DoutputDirectory=/opt/kafka/libs)

	cat >/etc/kafka/server.properties <<'PROPS'
# Single node: broker and KRaft controller in one process (no ZooKeeper).
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:9093
listeners=PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093
advertised.listeners=PLAINTEXT://127.0.0.1:9092
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=/var/lib/kafka/data
num.partitions=6
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
log.retention.hours=24
PROPS
	if [ ! -f /var/lib/kafka/data/meta.properties ]; then
		cluster_id=$(java -cp '/opt/kafka/libs/*' kafka.tools.StorageTool random-uuid)
		sudo -u kafka java -cp '/opt/kafka/libs/*' kafka.tools.StorageTool format \
			-t "$cluster_id" -c /etc/kafka/server.properties
	fi
	cat >/etc/systemd/system/kafka.service <<'UNIT'
[Unit]
Description=Apache Kafka (single node, KRaft)
After=network-online.target
Wants=network-online.target

[Service]
User=kafka
Environment=KAFKA_HEAP=-Xmx1g
ExecStart=/usr/bin/java $KAFKA_HEAP -cp /opt/kafka/libs/* kafka.Kafka /etc/kafka/server.properties
Restart=on-failure
LimitNOFILE=100000
TimeoutStopSec=120

[Install]
WantedBy=multi-user.target
UNIT
	systemctl daemon-reload
	systemctl enable --now kafka.service
}

install_tickstream() {
	case $TICKSTREAM_URL in
	s3://*) aws s3 cp --region "$region" "$TICKSTREAM_URL" /usr/local/bin/tickstream ;;
	*) curl -fsSL -o /usr/local/bin/tickstream "$TICKSTREAM_URL" ;;
	esac
	chmod 0755 /usr/local/bin/tickstream
	/usr/local/bin/tickstream version

	mkdir -p /etc/tickstream
	# Only what differs from the built-in defaults (see config.yaml).
	cat >/etc/tickstream/config.yaml <<CONFIG
kafka:
  brokers: [${KAFKA_BROKERS}]
  replication: 1
  instance_id: $(hostname -s)
lake:
  url: ${LAKE_URL}
  s3: {region: ${region}}
alerts:
  sns: {topic_arn: "${SNS_TOPIC_ARN}"}
simulator:
  enabled: ${SIMULATOR}
log:
  format: json
CONFIG
	touch /etc/tickstream/env
	chmod 0600 /etc/tickstream/env
	# The unit is shipped next to this script in the repo; user data is one
	# file, so it is fetched from beside the binary when not already here.
	if [ ! -f /etc/systemd/system/tickstream.service ]; then
		case $TICKSTREAM_URL in
		s3://*) aws s3 cp --region "$region" "${TICKSTREAM_URL%/*}/tickstream.service" /etc/systemd/system/tickstream.service ;;
		*) curl -fsSL -o /etc/systemd/system/tickstream.service "${TICKSTREAM_URL%/*}/tickstream.service" ;;
		esac
	fi
	/usr/local/bin/tickstream check --config /etc/tickstream/config.yaml
	systemctl daemon-reload
	systemctl enable --now tickstream.service
}

if [ "$KAFKA" = kraft ]; then
	install_kafka
fi
install_tickstream
echo "tickstream installed: journalctl -u tickstream -f"
