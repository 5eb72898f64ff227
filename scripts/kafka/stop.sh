#!/usr/bin/env bash
# Stops the nodes of a cluster started by start.sh, or just some of them (to
# test broker failure: the others keep running).
#
#   scripts/kafka/stop.sh [--dir DIR] [--node N]... [--kill] [--timeout SECONDS] [--clean]
#
# DIR defaults to $KAFKA_CLUSTER_DIR (set by sourcing DIR/env). Each node gets
# SIGTERM (a controlled shutdown: leadership moves away first), then SIGKILL
# after --timeout seconds (default 15). --kill sends SIGKILL at once, a crash.
# Without --node, a start-compat.sh cluster's ZooKeeper is stopped last.
# --clean removes DIR afterwards (only with all nodes stopped). A stopped node
# keeps its data; start-node.sh brings it back. DIR/env is updated (pid blank).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2
	exit "${1:-2}"
}

dir=${KAFKA_CLUSTER_DIR:-} sig=TERM timeout=15 clean=0
only=()
while (($#)); do
	case $1 in
	--dir) dir=${2:?}; shift 2 ;;
	--node) only+=("${2:?}"); shift 2 ;;
	--kill) sig=KILL; shift ;;
	--timeout) timeout=${2:?}; shift 2 ;;
	--clean) clean=1; shift ;;
	-h | --help) usage 0 ;;
	*) log "unknown argument: $1"; usage ;;
	esac
done
[[ -n $dir ]] || die "no cluster directory: pass --dir DIR or source DIR/env"
[[ -d $dir ]] || die "no such directory: $dir"
[[ $timeout =~ ^[0-9]+$ ]] || die "--timeout must be seconds, got $timeout"
dir=$(cd "$dir" && pwd)
load_cluster "$dir"
whole=0
if ((${#only[@]} == 0)); then
	whole=1
	for ((n = 1; n <= NODES; n++)); do only+=("$n"); done
elif ((clean)); then
	die "--clean stops the whole cluster; it does not go with --node"
fi

t0=$(now_ms)
pids=()
for n in "${only[@]}"; do
	check_node "$dir" "$n"
	p=$(node_pid "$dir" "$n")
	if [[ -z $p ]]; then
		log "node $n is not running"
		continue
	fi
	pids+=("$p")
done
# All at once: stopped one by one, the last nodes of a combined-mode cluster
# would wait for a controller quorum that is already gone.
signal_and_wait "$sig" "$timeout" "${pids[@]}"
for n in "${only[@]}"; do
	[[ -n $(node_pid "$dir" "$n") ]] || rm -f "$dir/node-$n.pid"
done
# ZooKeeper (start-compat.sh) goes last, with the whole cluster.
zk=$(zk_pid "$dir")
if ((whole)) && [[ -n $zk ]]; then
	signal_and_wait "$sig" "$timeout" "$zk"
	rm -f "$dir/zookeeper.pid"
fi
log "stopped node(s) ${only[*]} of $dir with SIG$sig in $(($(now_ms) - t0)) ms"
if ((clean)); then
	rm -rf "$dir"
	log "removed $dir"
else
	write_env "$dir"
fi
