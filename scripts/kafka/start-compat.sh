#!/usr/bin/env bash
# Starts the design notes' Kafka 3.3.1 with ZooKeeper (one ZooKeeper, N
# brokers, plaintext) on 127.0.0.1 for compatibility tests, waits until it is
# usable and writes DIR/env, in the same form as start.sh (plus
# KAFKA_ZOOKEEPER).
#
#   scripts/kafka/start-compat.sh [--nodes 1] [--dir DIR] [--timeout SECONDS] [--set key=value]...
#
# stop.sh, start-node.sh and kafka.sh work on it as on a start.sh cluster;
# stop.sh stops ZooKeeper too once every broker is down. The tools and the
# readiness check run on the Kafka 4.x jars, whose clients speak to 3.3 too.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2
	exit "${1:-2}"
}

nodes=1 dir="" timeout=120
extra_props=()
while (($#)); do
	case $1 in
	--nodes) nodes=${2:?}; shift 2 ;;
	--dir) dir=${2:?}; shift 2 ;;
	--timeout) timeout=${2:?}; shift 2 ;;
	--set) extra_props+=("${2:?}"); shift 2 ;;
	-h | --help) usage 0 ;;
	*) log "unknown argument: $1"; usage ;;
	esac
done
[[ $nodes =~ ^[1-9]$ ]] || die "--nodes must be 1..9, got $nodes"
[[ $timeout =~ ^[0-9]+$ ]] || die "--timeout must be seconds, got $timeout"
for p in "${extra_props[@]}"; do
	[[ $p == *=* ]] || die "--set wants key=value, got $p"
done

t_start=$(now_ms)
KAFKA_TOOLS_HOME=$(tools_home)
KAFKA_HOME=$("$here/fetch.sh" compat)
export KAFKA_TOOLS_HOME KAFKA_HOME
version=$(basename "$(ls "$KAFKA_HOME"/libs/kafka_2.12-*.jar)" .jar)
version=${version#kafka_2.12-}

if [[ -z $dir ]]; then
	dir=$(mktemp -d "${TMPDIR:-/tmp}/tickstream-kafka-compat.XXXXXX")
fi
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
if [[ -f $dir/cluster.conf ]]; then
	(
		load_cluster "$dir"
		[[ -z $(zk_pid "$dir") ]] || die "ZooKeeper of $dir is running; stop it first: $here/stop.sh --dir $dir"
		for ((n = 1; n <= NODES; n++)); do
			[[ -z $(node_pid "$dir" "$n") ]] || die "node $n of $dir is running; stop it first: $here/stop.sh --dir $dir"
		done
	)
	rm -rf "$dir"/node-* "$dir"/tls "$dir"/zookeeper* "$dir"/zoo.cfg "$dir"/env "$dir"/client*.properties "$dir"/cluster.conf
elif [[ -n $(ls -A "$dir") ]]; then
	die "$dir is not empty and holds no cluster of these scripts"
fi

ok=0
cleanup() {
	((ok)) && return
	local pids=() p n
	for ((n = 1; n <= nodes; n++)); do
		p=$(node_pid "$dir" "$n")
		[[ -z $p ]] || pids+=("$p")
	done
	p=$(zk_pid "$dir")
	[[ -z $p ]] || pids+=("$p")
	((${#pids[@]} == 0)) || kill -KILL "${pids[@]}" 2>/dev/null || true
	if [[ -f $dir/zookeeper.log ]]; then
		printf '\n===== tail of %s =====\n' "$dir/zookeeper.log" >&2
		tail -n "${KAFKA_LOG_TAIL:-40}" "$dir/zookeeper.log" >&2 || true
	fi
	local logged=()
	for ((n = 1; n <= nodes; n++)); do
		[[ ! -f $dir/node-$n.log ]] || logged+=("$n")
	done
	((${#logged[@]} == 0)) || show_logs "$dir" "${logged[@]}"
	rm -f "$dir"/node-*.pid "$dir/zookeeper.pid"
	log "start failed; files kept in $dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mapfile -t ports < <(random_free_ports $((nodes + 1)))
zk_port=${ports[nodes]}
brokers=""
for ((n = 1; n <= nodes; n++)); do
	brokers+=${brokers:+,}127.0.0.1:${ports[n - 1]}
done
rf=$((nodes < 3 ? nodes : 3))
min_isr=$((rf < 2 ? rf : 2))

{
	printf '%s=%q\n' KAFKA_HOME "$KAFKA_HOME" KAFKA_VERSION "$version" CLUSTER_ID "" \
		SECURITY plaintext NODES "$nodes" BROKERS "$brokers" PLAINTEXT_BROKERS "" \
		SASL_USER "" SASL_PASSWORD "" ZK_PORT "$zk_port"
	for ((n = 1; n <= nodes; n++)); do
		# No controller listener in ZooKeeper mode: ZooKeeper's port stands in.
		printf '%s=%q\n' "CLIENT_PORT_$n" "${ports[n - 1]}" "CONTROLLER_PORT_$n" "$zk_port"
	done
} >"$dir/cluster.conf"
printf 'security.protocol=PLAINTEXT\n' >"$dir/client.properties"

# ZooKeeper, standalone. Its admin server (port 8080 by default) is off; ruok
# answers the readiness probe below.
mkdir -p "$dir/zookeeper"
cat >"$dir/zoo.cfg" <<PROPS
dataDir=$dir/zookeeper
clientPort=$zk_port
clientPortAddress=127.0.0.1
tickTime=2000
maxClientCnxns=0
admin.enableServer=false
4lw.commands.whitelist=ruok,srvr
PROPS
read -ra zk_heap <<<"${KAFKA_ZK_HEAP_OPTS:--Xms32m -Xmx128m}"
read -ra perf <<<"${KAFKA_JVM_PERFORMANCE_OPTS:-$KAFKA_NODE_PERF_DEFAULT}"
nohup java "${zk_heap[@]}" "${perf[@]}" \
	-Dlog4j2.configurationFile="$here/log4j2-node.properties" \
	-cp "$KAFKA_HOME/libs/*" org.apache.zookeeper.server.quorum.QuorumPeerMain "$dir/zoo.cfg" \
	</dev/null >>"$dir/zookeeper.log" 2>&1 &
printf '%s\n' "$!" >"$dir/zookeeper.pid"
disown "$!"

for ((n = 1; n <= nodes; n++)); do
	mkdir -p "$dir/node-$n/data"
	{
		cat <<PROPS
# Test broker $n of $nodes (Kafka $version, ZooKeeper mode), written by scripts/kafka/start-compat.sh.
broker.id=$n
zookeeper.connect=127.0.0.1:$zk_port
zookeeper.connection.timeout.ms=30000
# Notice a killed broker within seconds (default 18 s), retry shutdown sooner.
zookeeper.session.timeout.ms=6000
controlled.shutdown.retry.backoff.ms=1000
listeners=PLAINTEXT://127.0.0.1:${ports[n - 1]}
advertised.listeners=PLAINTEXT://127.0.0.1:${ports[n - 1]}
log.dirs=$dir/node-$n/data
default.replication.factor=$rf
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$min_isr
transaction.state.log.num.partitions=10
auto.create.topics.enable=false
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
background.threads=4
num.recovery.threads.per.data.dir=1
log.cleaner.threads=1
log.cleaner.dedupe.buffer.size=8388608
PROPS
		if ((${#extra_props[@]})); then
			printf '# --set\n'
			printf '%s\n' "${extra_props[@]}"
		fi
	} >"$dir/node-$n/server.properties"
done

# Brokers wait for ZooKeeper (zookeeper.connection.timeout.ms), so they can
# start right away, but a dead ZooKeeper is better reported as such.
deadline=$(($(date +%s) + timeout))
until [[ $( (exec 3<>"/dev/tcp/127.0.0.1/$zk_port" && printf ruok >&3 && timeout 2 cat <&3) 2>/dev/null) == imok ]]; do
	[[ -n $(zk_pid "$dir") ]] || die "ZooKeeper exited during start-up"
	(($(date +%s) < deadline)) || die "ZooKeeper did not answer ruok within ${timeout}s"
	sleep 0.2
done
t_zk=$(now_ms)

started=()
for ((n = 1; n <= nodes; n++)); do
	launch_node "$dir" "$n"
	started+=("$n")
done
rc=0
wait_started "$dir" "$((deadline - $(date +%s)))" "${started[@]}" || rc=$?
((rc != 2)) || die "brokers did not start within ${timeout}s"
((rc == 0)) || die "a broker exited during start-up"
t_up=$(now_ms)
left=$((deadline - $(date +%s)))
((left > 10)) || left=10
cluster_check "$dir" "$left" --probe-topic tickstream-ready-probe >&2 \
	|| die "cluster not ready (see above)"
t_ready=$(now_ms)

write_env "$dir"
ok=1
log "Kafka $version + ZooKeeper, $nodes broker(s), ready in $((t_ready - t_start)) ms" \
	"(ZooKeeper $((t_zk - t_start)) ms, brokers up $((t_up - t_zk)) ms, check $((t_ready - t_up)) ms); env: $dir/env"
cat "$dir/env"
