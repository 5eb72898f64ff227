#!/usr/bin/env bash
# Runs a Kafka command line tool from the fetched jars, like the bin/kafka-*.sh
# scripts of a Kafka tarball (which Maven Central does not ship).
#
#   scripts/kafka/kafka.sh TOOL [ARGS...]
#   scripts/kafka/kafka.sh topics --bootstrap-server "$KAFKA_BROKERS" \
#       --command-config "$KAFKA_CLIENT_CONFIG" --list
#
# TOOL is one of: topics, console-producer, console-consumer, consumer-groups,
# configs, metadata-quorum, cluster, storage, get-offsets, delete-records,
# producer-perf-test, consumer-perf-test, check (the readiness check), or a
# fully qualified main class. Only warnings are logged, to stderr.
# KAFKA_TOOL_OPTS replaces the JVM options (default: small heap, C1 only).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"

(($#)) || { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2; exit 2; }
tool=$1
shift
case $tool in
topics) class=org.apache.kafka.tools.TopicCommand ;;
console-producer) class=org.apache.kafka.tools.ConsoleProducer ;;
console-consumer) class=org.apache.kafka.tools.consumer.ConsoleConsumer ;;
consumer-groups) class=org.apache.kafka.tools.consumer.group.ConsumerGroupCommand ;;
configs) class=org.apache.kafka.tools.ConfigCommand ;;
metadata-quorum) class=org.apache.kafka.tools.MetadataQuorumCommand ;;
cluster) class=org.apache.kafka.tools.ClusterTool ;;
storage) class=kafka.tools.StorageTool ;;
get-offsets) class=org.apache.kafka.tools.GetOffsetShell ;;
delete-records) class=org.apache.kafka.tools.DeleteRecordsCommand ;;
producer-perf-test) class=org.apache.kafka.tools.ProducerPerformance ;;
consumer-perf-test) class=org.apache.kafka.tools.ConsumerPerformance ;;
check) class=ClusterCheck ;;
*.*) class=$tool ;;
*) die "unknown tool $tool (see $0 without arguments)" ;;
esac
kafka_tool "$class" "$@"
