#!/usr/bin/env bash
# End-to-end check of these scripts against a real cluster, with Kafka's own
# console tools: start, create a topic (6 partitions, RF 3, min ISR 2),
# produce and consume, stop a node gracefully and crash another while the
# topic keeps working, bring them back, stop everything.
#
#   scripts/kafka/smoke.sh [--security plaintext|sasl_ssl] [--nodes 3] [--keep]
#   scripts/kafka/smoke.sh --compat [--nodes 3]    # Kafka 3.3.1 + ZooKeeper
#
# --keep leaves the cluster directory (not the processes) for a look.
# Ends with 'kafka smoke: N passed, N failed'; exits non-zero on any failure.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"

security=plaintext nodes=3 keep=0 compat=0
while (($#)); do
	case $1 in
	--compat) compat=1; shift ;;
	--security) security=${2:?}; shift 2 ;;
	--nodes) nodes=${2:?}; shift 2 ;;
	--keep) keep=1; shift ;;
	*) die "unknown argument: $1" ;;
	esac
done
((nodes >= 3)) || die "the fail-over steps need --nodes 3 or more"
((compat == 0)) || [[ $security == plaintext ]] || die "--compat is plaintext only"

dir=$(mktemp -d "${TMPDIR:-/tmp}/tickstream-kafka-smoke.XXXXXX")
passed=0 failed=0
finish() {
	local rc=$?
	if [[ -f $dir/cluster.conf ]]; then
		if ((keep)); then
			"$here/stop.sh" --dir "$dir" --kill >/dev/null 2>&1 || true
			log "kept $dir"
		else
			"$here/stop.sh" --dir "$dir" --kill --clean >/dev/null 2>&1 || true
		fi
	fi
	((rc == 0 && failed == 0)) || failed=$((failed > 0 ? failed : 1))
	local what=$security
	((compat == 0)) || what+=", 3.3.1+zk"
	printf 'kafka smoke (%s): %d passed, %d failed\n' "$what" "$passed" "$failed"
	((failed == 0)) || exit 1
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ok() {
	passed=$((passed + 1))
	printf 'ok   %s\n' "$*"
}
fail() {
	failed=$((failed + 1))
	printf 'FAIL %s\n' "$*"
	exit 1
}
step() {
	printf -- '--- %s\n' "$*"
}

step "start $nodes nodes ($security)"
if ((compat)); then
	"$here/start-compat.sh" --nodes "$nodes" --dir "$dir" >/dev/null
else
	"$here/start.sh" --nodes "$nodes" --dir "$dir" --security "$security" >/dev/null
fi
# shellcheck source=/dev/null
source "$dir/env"
ok "cluster up: $KAFKA_BROKERS"

admin=(--bootstrap-server "$KAFKA_BROKERS" --command-config "$KAFKA_CLIENT_CONFIG")
topics() { "$here/kafka.sh" topics "${admin[@]}" "$@"; }

# produce FIRST LAST sends values m-FIRST..m-LAST with acks=all.
produce() {
	seq -f 'm-%g' "$1" "$2" | "$here/kafka.sh" console-producer \
		--bootstrap-server "$KAFKA_BROKERS" --command-config "$KAFKA_CLIENT_CONFIG" \
		--topic smoke --command-property acks=all --command-property delivery.timeout.ms=60000 \
		--command-property request.timeout.ms=10000
}
# consume_all N reads the whole topic and checks it holds m-1..m-N exactly.
consume_all() {
	local want got
	want=$(seq -f 'm-%g' 1 "$1" | sort)
	got=$("$here/kafka.sh" console-consumer --bootstrap-server "$KAFKA_BROKERS" \
		--command-config "$KAFKA_CLIENT_CONFIG" --topic smoke --from-beginning \
		--max-messages "$1" --timeout-ms 60000 2>/dev/null | sort) || true
	[[ $got == "$want" ]] || fail "consumed $(wc -l <<<"$got") messages, want $1 (m-1..m-$1)"
	ok "consumed exactly m-1..m-$1"
}
# check_partitions WANT_ISR [DOWN_NODE]: 6 partitions, 3 replicas each, ISR of
# WANT_ISR, and no leader on DOWN_NODE.
check_partitions() {
	local out
	out=$(topics --describe --topic smoke)
	awk -v want="$1" -v down="${2:-}" '
		/Partition:/ {
			parts++
			for (i = 1; i <= NF; i++) {
				if ($i == "Leader:") leader = $(i + 1)
				if ($i == "Replicas:") nrep = split($(i + 1), r, ",")
				if ($i == "Isr:") nisr = split($(i + 1), s, ",")
			}
			if (nrep != 3 || nisr != want || leader == down || leader == "none") bad++
		}
		END { exit !(parts == 6 && bad == 0) }' <<<"$out" \
		|| fail "topic smoke not as expected (ISR $1${2:+, node $2 down}):"$'\n'"$out"
	ok "6 partitions, RF 3, ISR size $1${2:+, no leader on node $2}"
}

step "topic"
topics --create --topic smoke --partitions 6 --replication-factor 3 --config min.insync.replicas=2 >/dev/null
check_partitions 3
topics --describe --topic smoke | grep -q 'min.insync.replicas=2' || fail "min.insync.replicas not 2"
ok "min.insync.replicas=2"

step "produce and consume"
produce 1 10
consume_all 10

if [[ $security == sasl_ssl ]]; then
	step "security"
	"$here/kafka.sh" topics --bootstrap-server "$KAFKA_BROKERS" \
		--command-config "$KAFKA_CLUSTER_DIR/client-sha256.properties" --list | grep -qx smoke \
		|| fail "SCRAM-SHA-256 client could not list topics"
	ok "SCRAM-SHA-256 client lists topics"
	sed 's/password="[^"]*"/password="wrong"/' "$KAFKA_CLIENT_CONFIG" >"$dir/bad.properties"
	if "$here/kafka.sh" topics --bootstrap-server "$KAFKA_BROKERS" \
		--command-config "$dir/bad.properties" --list >/dev/null 2>"$dir/bad.err"; then
		fail "a wrong password was accepted"
	fi
	grep -q 'SaslAuthenticationException\|Authentication failed' "$dir/bad.err" \
		|| fail "wrong password failed for another reason: $(tail -3 "$dir/bad.err")"
	ok "wrong password rejected"
	openssl verify -CAfile "$KAFKA_CA_FILE" "$KAFKA_CLUSTER_DIR/tls/broker.pem" >/dev/null \
		|| fail "broker certificate does not verify against KAFKA_CA_FILE"
	ok "broker certificate verifies against KAFKA_CA_FILE"
fi

step "stop node 2 (SIGTERM)"
"$here/stop.sh" --dir "$dir" --node 2
check_partitions 2 2
produce 11 20
consume_all 20

step "restart node 2"
"$here/start-node.sh" "$dir" 2
check_partitions 3

step "crash node 1 (SIGKILL)"
"$here/stop.sh" --dir "$dir" --node 1 --kill
# Fenced after broker.session.timeout.ms (6 s); produce must work meanwhile too.
produce 21 30
consume_all 30
check_partitions 2 1

step "restart node 1"
"$here/start-node.sh" "$dir" 1
check_partitions 3
produce 31 40
consume_all 40

step "stop all"
rss=""
for ((n = 1; n <= nodes; n++)); do
	p=$(node_pid "$dir" "$n")
	rss+=" node-$n=$(($(awk '/^VmRSS:/ {print $2}' "/proc/$p/status") / 1024))MB"
done
zk=$(zk_pid "$dir")
[[ -z $zk ]] || rss+=" zookeeper=$(($(awk '/^VmRSS:/ {print $2}' "/proc/$zk/status") / 1024))MB"
printf 'RSS:%s\n' "$rss"
"$here/stop.sh" --dir "$dir"
for ((n = 1; n <= nodes; n++)); do
	[[ -z $(node_pid "$dir" "$n") ]] || fail "node $n still running"
done
ok "all nodes stopped"
