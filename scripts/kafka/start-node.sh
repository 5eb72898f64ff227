#!/usr/bin/env bash
# Starts again one stopped node of a cluster started by start.sh, with its old
# ports and data, for fail-over tests; waits until it is registered and, when
# every node is up, until all partitions have caught up (full ISR).
#
#   scripts/kafka/start-node.sh [--timeout SECONDS] [--no-wait-isr] DIR N
#   scripts/kafka/start-node.sh N          # DIR from $KAFKA_CLUSTER_DIR
#
# A node that is already running is left alone. DIR/env gets the new pid.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2
	exit "${1:-2}"
}

timeout=120 wait_isr=1
pos=()
while (($#)); do
	case $1 in
	--timeout) timeout=${2:?}; shift 2 ;;
	--no-wait-isr) wait_isr=0; shift ;;
	-h | --help) usage 0 ;;
	-*) log "unknown argument: $1"; usage ;;
	*) pos+=("$1"); shift ;;
	esac
done
case ${#pos[@]} in
1) dir=${KAFKA_CLUSTER_DIR:-} n=${pos[0]} ;;
2) dir=${pos[0]} n=${pos[1]} ;;
*) usage ;;
esac
[[ -n $dir ]] || die "no cluster directory: pass DIR or source DIR/env"
[[ -d $dir ]] || die "no such directory: $dir"
[[ $timeout =~ ^[0-9]+$ ]] || die "--timeout must be seconds, got $timeout"
dir=$(cd "$dir" && pwd)
load_cluster "$dir"
export KAFKA_HOME
check_node "$dir" "$n"
if [[ -n $(node_pid "$dir" "$n") ]]; then
	log "node $n is already running (pid $(node_pid "$dir" "$n"))"
	exit 0
fi

if [[ -n ${ZK_PORT:-} && -z $(zk_pid "$dir") ]]; then
	die "ZooKeeper of $dir is not running; start the cluster again with start-compat.sh"
fi

t0=$(now_ms)
ok=0
cleanup() {
	((ok)) && return
	local p
	p=$(node_pid "$dir" "$n")
	[[ -z $p ]] || kill -KILL "$p" 2>/dev/null || true
	rm -f "$dir/node-$n.pid"
	show_logs "$dir" "$n"
	write_env "$dir" || true
	log "node $n did not come back"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Mark where this start begins, so old "started" lines do not count.
printf '\n===== start-node.sh %s =====\n' "$(date -u +%FT%TZ)" >>"$dir/node-$n.log"
offset=$(wc -c <"$dir/node-$n.log")
launch_node "$dir" "$n"
deadline=$(($(date +%s) + timeout))
until tail -c +"$offset" "$dir/node-$n.log" | grep -qE "$STARTED_RE"; do
	[[ -n $(node_pid "$dir" "$n") ]] || die "node $n exited during start-up"
	(($(date +%s) < deadline)) || die "node $n did not start within ${timeout}s"
	sleep 0.2
done
all_up=1
for ((m = 1; m <= NODES; m++)); do
	[[ -n $(node_pid "$dir" "$m") ]] || all_up=0
done
check=()
((wait_isr && all_up)) || check+=(--skip-isr)
left=$((deadline - $(date +%s)))
((left > 10)) || left=10
cluster_check "$dir" "$left" "${check[@]}" >&2 || die "cluster not ready after restarting node $n"
write_env "$dir"
ok=1
log "node $n back (pid $(node_pid "$dir" "$n")) in $(($(now_ms) - t0)) ms"
