#!/usr/bin/env bash
# Starts a fresh Apache Kafka cluster (KRaft, every node broker+controller) on
# 127.0.0.1 for integration tests, waits until it is usable and writes DIR/env.
#
#   scripts/kafka/start.sh [--nodes 3] [--dir DIR] [--security plaintext|sasl_ssl]
#                          [--timeout SECONDS] [--set key=value]...
#   . DIR/env        # KAFKA_BROKERS=127.0.0.1:p1,...  (also printed on stdout)
#
# Ports are picked free at run time. DIR defaults to a new temporary directory;
# an existing DIR must be empty or hold a stopped cluster of these scripts,
# which is wiped. --set adds broker properties (last one wins). On failure the
# nodes are killed, their log tails are printed and DIR is kept for a look.
# Stop with stop.sh; restart one node with start-node.sh.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2
	exit "${1:-2}"
}

nodes=3 dir="" security=plaintext timeout=120
extra_props=()
while (($#)); do
	case $1 in
	--nodes) nodes=${2:?}; shift 2 ;;
	--dir) dir=${2:?}; shift 2 ;;
	--security) security=${2:?}; shift 2 ;;
	--timeout) timeout=${2:?}; shift 2 ;;
	--set) extra_props+=("${2:?}"); shift 2 ;;
	-h | --help) usage 0 ;;
	*) log "unknown argument: $1"; usage ;;
	esac
done
[[ $nodes =~ ^[1-9]$ ]] || die "--nodes must be 1..9, got $nodes"
[[ $timeout =~ ^[0-9]+$ ]] || die "--timeout must be seconds, got $timeout"
case $security in plaintext | sasl_ssl) ;; *) die "--security must be plaintext or sasl_ssl, got $security" ;; esac
for p in "${extra_props[@]}"; do
	[[ $p == *=* ]] || die "--set wants key=value, got $p"
done

t_start=$(now_ms)
home=$(tools_home)
export KAFKA_HOME=$home KAFKA_TOOLS_HOME=$home
version=$(basename "$(ls "$home"/libs/kafka_2.13-*.jar)" .jar)
version=${version#kafka_2.13-}

# The cluster directory: ours if new, empty, or a stopped cluster of ours.
if [[ -z $dir ]]; then
	dir=$(mktemp -d "${TMPDIR:-/tmp}/tickstream-kafka.XXXXXX")
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

started=()
ok=0
cleanup() {
	((ok)) && return
	if ((${#started[@]})); then
		local pids=() n p
		for n in "${started[@]}"; do
			p=$(node_pid "$dir" "$n")
			[[ -z $p ]] || pids+=("$p")
		done
		((${#pids[@]} == 0)) || kill -KILL "${pids[@]}" 2>/dev/null || true
		show_logs "$dir" "${started[@]}"
		rm -f "$dir"/node-*.pid
	fi
	log "start failed; files kept in $dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Ports: per node one for clients, one for the controller quorum and, with
# sasl_ssl, a PLAINTEXT one for inter-broker traffic.
per_node=2
[[ $security == plaintext ]] || per_node=3
mapfile -t ports < <(random_free_ports $((nodes * per_node)))
voters="" brokers="" internal=""
for ((n = 1; n <= nodes; n++)); do
	i=$(((n - 1) * per_node))
	declare "CLIENT_PORT_$n=${ports[i]}" "CONTROLLER_PORT_$n=${ports[i + 1]}"
	voters+=${voters:+,}$n@127.0.0.1:${ports[i + 1]}
	brokers+=${brokers:+,}127.0.0.1:${ports[i]}
	if ((per_node == 3)); then
		declare "INTERNAL_PORT_$n=${ports[i + 2]}"
		internal+=${internal:+,}127.0.0.1:${ports[i + 2]}
	fi
done

# Internal topics replicate over as many nodes as there are, up to 3.
rf=$((nodes < 3 ? nodes : 3))
min_isr=$((rf < 2 ? rf : 2))
cluster_id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')

sasl_user=tickstream sasl_password="" store_password=""
if [[ $security == sasl_ssl ]]; then
	command -v openssl >/dev/null || die "openssl not found (apt-get install -y openssl)"
	sasl_password=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
	store_password=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
	tls=$dir/tls
	mkdir -p "$tls"
	chmod 700 "$tls"
	# A throwaway CA and one broker certificate for 127.0.0.1 and localhost.
	{
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
			-keyout "$tls/ca.key" -out "$tls/ca.pem" -days 30 -subj "/CN=tickstream test CA" \
			-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
			-keyout "$tls/broker.key" -out "$tls/broker.csr" -subj "/CN=localhost"
		printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' >"$tls/broker.ext"
		openssl x509 -req -in "$tls/broker.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" \
			-set_serial "0x$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
			-days 30 -extfile "$tls/broker.ext" -out "$tls/broker.pem"
		openssl pkcs12 -export -in "$tls/broker.pem" -inkey "$tls/broker.key" -certfile "$tls/ca.pem" \
			-name broker -out "$tls/broker.p12" -passout "pass:$store_password"
	} >"$tls/openssl.log" 2>&1 || {
		cat "$tls/openssl.log" >&2
		die "could not make the TLS certificates"
	}
fi

# cluster.conf: what the other scripts need to find and restart the nodes.
{
	printf '%s=%q\n' KAFKA_HOME "$home" KAFKA_VERSION "$version" CLUSTER_ID "$cluster_id" \
		SECURITY "$security" NODES "$nodes" BROKERS "$brokers" PLAINTEXT_BROKERS "$internal" \
		SASL_USER "$sasl_user" SASL_PASSWORD "$sasl_password"
	for ((n = 1; n <= nodes; n++)); do
		for v in CLIENT_PORT CONTROLLER_PORT INTERNAL_PORT; do
			var=${v}_$n
			[[ -z ${!var:-} ]] || printf '%s=%q\n' "$var" "${!var}"
		done
	done
} >"$dir/cluster.conf"

# Client settings for the command line tools and the readiness check.
if [[ $security == plaintext ]]; then
	printf 'security.protocol=PLAINTEXT\n' >"$dir/client.properties"
else
	for mech in SCRAM-SHA-512 SCRAM-SHA-256; do
		f=$dir/client.properties
		[[ $mech == SCRAM-SHA-512 ]] || f=$dir/client-sha256.properties
		cat >"$f" <<PROPS
security.protocol=SASL_SSL
sasl.mechanism=$mech
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="$sasl_user" password="$sasl_password";
ssl.truststore.type=PEM
ssl.truststore.location=$dir/tls/ca.pem
PROPS
	done
fi

for ((n = 1; n <= nodes; n++)); do
	cp=CLIENT_PORT_$n ctl=CONTROLLER_PORT_$n ip=INTERNAL_PORT_$n
	mkdir -p "$dir/node-$n/data"
	{
		cat <<PROPS
# Test broker $n of $nodes, written by scripts/kafka/start.sh.
process.roles=broker,controller
node.id=$n
controller.quorum.voters=$voters
controller.listener.names=CONTROLLER
log.dirs=$dir/node-$n/data
PROPS
		if [[ $security == plaintext ]]; then
			cat <<PROPS
listeners=PLAINTEXT://127.0.0.1:${!cp},CONTROLLER://127.0.0.1:${!ctl}
advertised.listeners=PLAINTEXT://127.0.0.1:${!cp}
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
PROPS
		else
			cat <<PROPS
# Clients use SASL_SSL; brokers talk to each other over loopback PLAINTEXT.
listeners=SASL_SSL://127.0.0.1:${!cp},PLAINTEXT://127.0.0.1:${!ip},CONTROLLER://127.0.0.1:${!ctl}
advertised.listeners=SASL_SSL://127.0.0.1:${!cp},PLAINTEXT://127.0.0.1:${!ip}
listener.security.protocol.map=SASL_SSL:SASL_SSL,PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
ssl.keystore.type=PKCS12
ssl.keystore.location=$dir/tls/broker.p12
ssl.keystore.password=$store_password
ssl.key.password=$store_password
ssl.client.auth=none
PROPS
		fi
		cat <<PROPS
# Sized for the node count; tests create their topics explicitly.
default.replication.factor=$rf
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$min_isr
transaction.state.log.num.partitions=10
share.coordinator.state.topic.replication.factor=$rf
share.coordinator.state.topic.min.isr=$min_isr
auto.create.topics.enable=false
group.initial.rebalance.delay.ms=0
# Fail over within seconds when a test kills a node.
broker.session.timeout.ms=6000
broker.heartbeat.interval.ms=1000
# Few threads and a small cleaner buffer: the default 128 MB would fill half the heap.
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

# Format every node's storage with the one cluster id, in parallel.
t_fmt=$(now_ms)
fmt_pids=()
for ((n = 1; n <= nodes; n++)); do
	args=(format --config "$dir/node-$n/server.properties" --cluster-id "$cluster_id")
	if [[ $security == sasl_ssl ]]; then
		args+=(--add-scram "SCRAM-SHA-256=[name=$sasl_user,password=$sasl_password]"
			--add-scram "SCRAM-SHA-512=[name=$sasl_user,password=$sasl_password]")
	fi
	kafka_tool kafka.tools.StorageTool "${args[@]}" >"$dir/node-$n.format.log" 2>&1 &
	fmt_pids+=($!)
done
for ((n = 1; n <= nodes; n++)); do
	wait "${fmt_pids[n - 1]}" || {
		cat "$dir/node-$n.format.log" >&2
		die "formatting the storage of node $n failed"
	}
done

t_launch=$(now_ms)
for ((n = 1; n <= nodes; n++)); do
	launch_node "$dir" "$n"
	started+=("$n")
done
rc=0
wait_started "$dir" "$timeout" "${started[@]}" || rc=$?
((rc != 2)) || die "nodes did not start within ${timeout}s"
((rc == 0)) || die "a node exited during start-up"
t_up=$(now_ms)
left=$((timeout - (t_up - t_launch) / 1000))
((left > 10)) || left=10
cluster_check "$dir" "$left" --probe-topic tickstream-ready-probe >&2 \
	|| die "cluster not ready (see above)"
t_ready=$(now_ms)

write_env "$dir"
ok=1
log "Kafka $version, $nodes node(s), $security, ready in $((t_ready - t_start)) ms" \
	"(format $((t_launch - t_fmt)) ms, processes up $((t_up - t_launch)) ms, check $((t_ready - t_up)) ms); env: $dir/env"
cat "$dir/env"
