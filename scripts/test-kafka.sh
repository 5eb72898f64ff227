#!/usr/bin/env bash
# Integration tests against real Apache Kafka, fetched from Maven Central and
# started on loopback by scripts/kafka:
#   1. Kafka 4.4 KRaft, 3 nodes, plaintext: every integration test
#   2. Kafka 4.4 KRaft, SASL_SSL with SCRAM: end to end, topic creation, secrets
#   3. (--compat, or `make test-compat`) Kafka 3.3.1 with ZooKeeper, the design
#      notes' version: end to end, scale-out, rebalance, topic creation
# Each cluster is torn down on exit, pass or fail.
set -euo pipefail
cd "$(dirname "$0")/.."

modes=(plaintext sasl_ssl)
[[ "${1:-}" == "--compat" ]] && modes=(compat)
[[ "${1:-}" == "--all" ]] && modes=(plaintext sasl_ssl compat)

dir=""
s3dir=""
cleanup() {
	if [[ -n "$dir" ]]; then scripts/kafka/stop.sh --dir "$dir" --kill --clean >/dev/null 2>&1 || true; fi
}
cleanup_all() {
	cleanup
	if [[ -n "$s3dir" ]]; then scripts/s3/stop.sh --dir "$s3dir" --clean >/dev/null 2>&1 || true; fi
}
trap cleanup_all EXIT

go build ./... # fail fast, before a cluster is up

for mode in "${modes[@]}"; do
	dir=$(mktemp -d "${TMPDIR:-/tmp}/tickstream-kafka.XXXXXX")
	case "$mode" in
	plaintext)
		scripts/kafka/start.sh --nodes 3 --dir "$dir" >/dev/null
		# The crash and outage tests write their lake to a real S3 server.
		s3dir=$(mktemp -d "${TMPDIR:-/tmp}/tickstream-s3.XXXXXX")
		scripts/s3/start.sh --dir "$s3dir" >/dev/null
		run='.' ;;
	sasl_ssl)
		scripts/kafka/start.sh --nodes 1 --security sasl_ssl --dir "$dir" >/dev/null
		run='EndToEnd|Secured|CreatesTopics' ;;
	compat)
		scripts/kafka/start-compat.sh --dir "$dir" >/dev/null
		run='EndToEnd|ScaleOut|Rebalance|CreatesTopics' ;;
	esac
	echo "== integration tests on Kafka ($mode)"
	(
		# shellcheck disable=SC1091 # written by start.sh
		. "$dir/env"
		if [[ -n "$s3dir" ]]; then
			# shellcheck disable=SC1091
			. "$s3dir/env"
		fi
		go test -count=1 -timeout 15m -run "$run" -v ./integration/ 2>&1 | grep -E '^(=== RUN|--- |PASS|FAIL|ok|panic|\s+\S+_test\.go|\s+e2e\.go)'
		exit "${PIPESTATUS[0]}"
	)
	cleanup_all
	dir="" s3dir=""
done
