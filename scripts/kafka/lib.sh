# shellcheck shell=bash
# Shared helpers for the scripts in scripts/kafka/. Sourced, never run.
#
# A cluster lives in one directory DIR:
#   DIR/cluster.conf        what start.sh decided (nodes, ports, security); sourced by the others
#   DIR/env                 what tests source: KAFKA_BROKERS and friends
#   DIR/client.properties   client settings for the Kafka command line tools
#   DIR/node-N/             server.properties and data of node N
#   DIR/node-N.pid, .log    its process id and its log (stdout+stderr)
#   DIR/tls/                CA and broker key store (sasl_ssl only)

KAFKA_SCRIPTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

die() {
	printf 'kafka: error: %s\n' "$*" >&2
	exit 1
}

log() {
	printf 'kafka: %s\n' "$*" >&2
}

# now_ms prints wall-clock milliseconds, for timings in messages.
now_ms() {
	local s
	s=$(date +%s%N)
	printf '%s\n' "$((s / 1000000))"
}

# tools_home prints the Kafka 4.x directory whose jars run the command line
# tools and the readiness check (for any cluster, the 3.3.1 one included),
# fetching it when missing. KAFKA_TOOLS_HOME caches the answer.
tools_home() {
	if [[ -n ${KAFKA_TOOLS_HOME:-} && -f $KAFKA_TOOLS_HOME/.complete ]]; then
		printf '%s\n' "$KAFKA_TOOLS_HOME"
		return
	fi
	"$KAFKA_SCRIPTS_DIR/fetch.sh"
}

# JVM settings. Tests need correctness, not throughput: a small heap, the serial
# collector and the C1 compiler alone halve start-up CPU on a 2-core machine
# (measured: 2.4 s instead of 4.6 s of CPU per node). Override with the same
# variables Kafka's own scripts read.
KAFKA_NODE_HEAP_DEFAULT="-Xms64m -Xmx256m"
KAFKA_NODE_PERF_DEFAULT="-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true"
KAFKA_TOOL_OPTS_DEFAULT="-Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1"

# kafka_tool runs a Kafka main class (a tool) with the fetched class path,
# logging only warnings to stderr.
#   kafka_tool org.apache.kafka.tools.TopicCommand --bootstrap-server ... --list
kafka_tool() {
	local home
	local -a opts
	home=$(tools_home)
	read -ra opts <<<"${KAFKA_TOOL_OPTS:-$KAFKA_TOOL_OPTS_DEFAULT}"
	java "${opts[@]}" \
		-Dlog4j2.configurationFile="$KAFKA_SCRIPTS_DIR/log4j2-tools.properties" \
		-cp "$home/libs/*:$home/helper" "$@"
}

# random_free_ports N prints N distinct loopback ports that nothing listens on.
# They come from below the kernel's ephemeral range, so outgoing connections
# cannot take them between this check and the broker binding them.
random_free_ports() {
	local want=$1 low hi span p tries=0
	local -A seen=()
	read -r low _ </proc/sys/net/ipv4/ip_local_port_range
	hi=$((low - 1))
	((hi > 12000)) || hi=32767
	span=$((hi - 10000))
	while ((${#seen[@]} < want)); do
		((tries++ < 1000)) || die "no free ports found"
		p=$((10000 + (RANDOM * 32768 + RANDOM) % span))
		[[ -z ${seen[$p]:-} ]] || continue
		# A refused connection means the port is free.
		if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			continue
		fi
		seen[$p]=1
		printf '%s\n' "$p"
	done
}

# load_cluster DIR sources DIR/cluster.conf into the caller's shell.
load_cluster() {
	local dir=$1
	[[ -f $dir/cluster.conf ]] || die "$dir is not a cluster directory (no cluster.conf); start one with start.sh"
	# shellcheck source=/dev/null
	source "$dir/cluster.conf"
}

# alive PID: the process exists and is not a zombie (an orphaned JVM waits as
# a zombie until init reaps it, which can take a second).
alive() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[[ ${stat:0:1} != Z ]]
}

# node_pid DIR N prints the pid of node N when it is running, else nothing.
node_pid() {
	local f=$1/node-$2.pid pid
	[[ -f $f ]] || return 0
	read -r pid <"$f" || return 0
	if [[ -n $pid ]] && alive "$pid" && is_our_java "$pid" "$1/node-$2/"; then
		printf '%s\n' "$pid"
	fi
}

# is_our_java PID NODEDIR checks that PID is a Kafka JVM of that node, so that
# a stale pid file never makes us signal an unrelated process.
is_our_java() {
	local cmd
	cmd=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) || return 1
	[[ $cmd == *kafka.Kafka*"$2"* ]]
}

# zk_pid DIR prints the pid of the cluster's ZooKeeper (start-compat.sh) when
# it is running, else nothing.
zk_pid() {
	local pid cmd
	[[ -f $1/zookeeper.pid ]] || return 0
	read -r pid <"$1/zookeeper.pid" || return 0
	[[ -n $pid ]] && alive "$pid" || return 0
	cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 0
	[[ $cmd != *QuorumPeerMain*"$1/zoo.cfg"* ]] || printf '%s\n' "$pid"
}

# launch_node DIR N starts node N in the background, with the jars in
# $KAFKA_HOME (set from cluster.conf), and records its pid.
launch_node() {
	local dir=$1 n=$2 home=${KAFKA_HOME:?} pid
	local -a heap perf
	read -ra heap <<<"${KAFKA_HEAP_OPTS:-$KAFKA_NODE_HEAP_DEFAULT}"
	read -ra perf <<<"${KAFKA_JVM_PERFORMANCE_OPTS:-$KAFKA_NODE_PERF_DEFAULT}"
	nohup java "${heap[@]}" "${perf[@]}" \
		-Dlog4j2.configurationFile="$KAFKA_SCRIPTS_DIR/log4j2-node.properties" \
		-cp "$home/libs/*" kafka.Kafka "$dir/node-$n/server.properties" \
		</dev/null >>"$dir/node-$n.log" 2>&1 &
	pid=$!
	# Not a job of this shell: no "Killed" notices when a test kills it.
	disown "$pid"
	printf '%s\n' "$pid" >"$dir/node-$n.pid"
}

# What a node logs once it serves: KRaft (4.x), then ZooKeeper mode (3.3).
STARTED_RE='Kafka Server started|\] started \(kafka.server.KafkaServer\)'

# wait_started DIR TIMEOUT_S N... waits until each node logged that it started.
# Returns 1 at once if a node process died, 2 on timeout.
wait_started() {
	local dir=$1 timeout=$2 n pending deadline
	shift 2
	deadline=$(($(date +%s) + timeout))
	while :; do
		pending=0
		for n in "$@"; do
			[[ -n $(node_pid "$dir" "$n") ]] || {
				log "node $n exited during start-up"
				return 1
			}
			grep -qE "$STARTED_RE" "$dir/node-$n.log" 2>/dev/null || pending=1
		done
		((pending)) || return 0
		(($(date +%s) < deadline)) || return 2
		sleep 0.2
	done
}

# show_logs DIR N... prints the tail of each node's log to stderr.
show_logs() {
	local dir=$1 n
	shift
	for n in "$@"; do
		printf '\n===== tail of %s =====\n' "$dir/node-$n.log" >&2
		tail -n "${KAFKA_LOG_TAIL:-40}" "$dir/node-$n.log" >&2 2>/dev/null || true
	done
}

# signal_and_wait SIG TIMEOUT_S PID... sends SIG to the pids, waits for them to
# exit and escalates to SIGKILL after TIMEOUT_S.
signal_and_wait() {
	local sig=$1 timeout=$2 p deadline still
	shift 2
	[[ $# -gt 0 ]] || return 0
	kill "-$sig" "$@" 2>/dev/null || true
	deadline=$(($(date +%s) + timeout))
	while :; do
		still=()
		for p in "$@"; do
			alive "$p" && still+=("$p")
		done
		((${#still[@]})) || return 0
		if (($(date +%s) >= deadline)); then
			log "still running after ${timeout}s, sending SIGKILL to ${still[*]}"
			kill -KILL "${still[@]}" 2>/dev/null || true
			sleep 0.2
			return 0
		fi
		sleep 0.1
		set -- "${still[@]}"
	done
}

# shq prints its argument quoted for the shell, but bare when it is plain, so
# the env file stays readable by simple parsers too.
shq() {
	if [[ $1 =~ ^[A-Za-z0-9_.,:/@%+=-]*$ ]]; then
		printf '%s' "$1"
	else
		printf "'%s'" "${1//\'/\'\\\'\'}"
	fi
}

# write_env DIR writes DIR/env from cluster.conf and the live pids.
write_env() {
	local dir=$1 n pid
	load_cluster "$dir"
	{
		printf '# Written by scripts/kafka; source it: . %s/env\n' "$dir"
		printf 'export KAFKA_HOME=%s\n' "$(shq "$KAFKA_HOME")"
		printf 'export KAFKA_VERSION=%s\n' "$(shq "$KAFKA_VERSION")"
		printf 'export KAFKA_CLUSTER_DIR=%s\n' "$(shq "$dir")"
		printf 'export KAFKA_CLUSTER_ID=%s\n' "$(shq "$CLUSTER_ID")"
		printf 'export KAFKA_SECURITY=%s\n' "$(shq "$SECURITY")"
		printf 'export KAFKA_NODES=%s\n' "$(shq "$NODES")"
		printf 'export KAFKA_BROKERS=%s\n' "$(shq "$BROKERS")"
		printf 'export KAFKA_CLIENT_CONFIG=%s\n' "$(shq "$dir/client.properties")"
		[[ -z ${ZK_PORT:-} ]] || printf 'export KAFKA_ZOOKEEPER=127.0.0.1:%s KAFKA_ZOOKEEPER_PID=%s\n' "$ZK_PORT" "$(zk_pid "$dir")"
		if [[ $SECURITY == sasl_ssl ]]; then
			printf 'export KAFKA_PLAINTEXT_BROKERS=%s\n' "$(shq "$PLAINTEXT_BROKERS")"
			printf 'export KAFKA_CA_FILE=%s\n' "$(shq "$dir/tls/ca.pem")"
			printf 'export KAFKA_SASL_MECHANISMS=%s\n' "$(shq "SCRAM-SHA-256,SCRAM-SHA-512")"
			printf 'export KAFKA_SASL_USER=%s\n' "$(shq "$SASL_USER")"
			printf 'export KAFKA_SASL_PASSWORD=%s\n' "$(shq "$SASL_PASSWORD")"
		fi
		for ((n = 1; n <= NODES; n++)); do
			pid=$(node_pid "$dir" "$n")
			local port_var=CLIENT_PORT_$n ctl_var=CONTROLLER_PORT_$n int_var=INTERNAL_PORT_$n
			printf 'export KAFKA_NODE_%d_ID=%d KAFKA_NODE_%d_PORT=%s KAFKA_NODE_%d_CONTROLLER_PORT=%s' \
				"$n" "$n" "$n" "${!port_var}" "$n" "${!ctl_var}"
			[[ -z ${!int_var:-} ]] || printf ' KAFKA_NODE_%d_INTERNAL_PORT=%s' "$n" "${!int_var}"
			printf ' KAFKA_NODE_%d_PID=%s\n' "$n" "${pid:-}"
		done
	} >"$dir/env.tmp"
	mv "$dir/env.tmp" "$dir/env"
}

# cluster_check DIR TIMEOUT_S [ClusterCheck options...] waits until the
# running nodes of DIR are all registered (and, unless --skip-isr, every
# partition has a full ISR), talking to them as a client would.
cluster_check() {
	local dir=$1 timeout=$2 n ids=""
	shift 2
	load_cluster "$dir"
	for ((n = 1; n <= NODES; n++)); do
		[[ -z $(node_pid "$dir" "$n") ]] || ids+=${ids:+,}$n
	done
	[[ -n $ids ]] || die "no node of $dir is running"
	kafka_tool ClusterCheck --bootstrap "$BROKERS" --brokers "$ids" \
		--command-config "$dir/client.properties" --timeout-ms "$((timeout * 1000))" "$@"
}

# check_node DIR N dies unless N names a node of the loaded cluster.
check_node() {
	if ! [[ $2 =~ ^[1-9][0-9]*$ ]] || (($2 > NODES)); then
		die "no node $2 in $1 (nodes 1..$NODES)"
	fi
}
