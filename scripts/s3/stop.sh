#!/usr/bin/env bash
# Stops the server of start.sh. Its data, port and keys stay in DIR, so
# start.sh --dir DIR brings the same server back (an S3 outage, for tests).
#
#   scripts/s3/stop.sh [--dir DIR] [--kill] [--timeout SECONDS] [--clean]
#
# DIR defaults to $TICKSTREAM_S3_DIR (set by sourcing DIR/env). SIGTERM, then
# SIGKILL after --timeout seconds (default 10); --kill sends SIGKILL at once.
# --clean removes DIR afterwards. Stopping a stopped server is no error.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/lib.sh
source "$here/lib.sh"

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2
	exit "${1:-2}"
}

dir=${TICKSTREAM_S3_DIR:-} sig=TERM timeout=10 clean=0
while (($#)); do
	case $1 in
	--dir) dir=${2:?}; shift 2 ;;
	--kill) sig=KILL; shift ;;
	--timeout) timeout=${2:?}; shift 2 ;;
	--clean) clean=1; shift ;;
	-h | --help) usage 0 ;;
	*) log "unknown argument: $1"; usage ;;
	esac
done
[[ -n $dir ]] || die "no server directory: pass --dir DIR or source DIR/env"
[[ $timeout =~ ^[0-9]+$ ]] || die "--timeout must be seconds, got $timeout"
[[ -d $dir ]] || die "$dir does not exist"
dir=$(cd "$dir" && pwd)
load_server "$dir"

t0=$(now_ms)
pid=$(server_pid "$dir")
if [[ -z $pid ]]; then
	log "the server of $dir is not running"
else
	kill "-$sig" "$pid" 2>/dev/null || true
	deadline=$((t0 + timeout * 1000))
	while [[ -n $(server_pid "$dir") ]]; do
		if (($(now_ms) > deadline)) && [[ $sig != KILL ]]; then
			log "versitygw (pid $pid) ignored SIGTERM for ${timeout}s; killing it"
			sig=KILL
			kill -KILL "$pid" 2>/dev/null || true
		fi
		sleep 0.05
	done
	# The port must be free before a restart binds it again.
	while port_in_use "$PORT"; do
		(($(now_ms) < t0 + (timeout + 5) * 1000)) || die "127.0.0.1:$PORT still answers after stopping pid $pid"
		sleep 0.05
	done
	log "versitygw stopped (pid $pid, SIG$sig) in $(($(now_ms) - t0)) ms"
fi
rm -f "$dir/versitygw.pid"
if ((clean)); then
	rm -rf "$dir"
fi
