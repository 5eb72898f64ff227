#!/usr/bin/env bash
# Starts a local S3-compatible server (versitygw over a posix folder) on
# 127.0.0.1 for the lake's integration tests, and writes DIR/env.
#
#   scripts/s3/start.sh [--dir DIR] [--timeout SECONDS]
#   . DIR/env        # TICKSTREAM_S3_ENDPOINT=http://127.0.0.1:PORT ... (also printed)
#
# versitygw is built once with go install into
# ${XDG_CACHE_HOME:-~/.cache}/tickstream/bin. A new DIR (default: a new temp
# dir) gets a free port, random access and secret keys and an empty bucket.
# A DIR whose server was stopped with stop.sh is started again as it was:
# same port, keys, bucket and data (the outage test relies on that). Waits
# until the server answers (--timeout, default 30 s). Stop with stop.sh.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/lib.sh
source "$here/lib.sh"

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2
	exit "${1:-2}"
}

dir="" timeout=30
while (($#)); do
	case $1 in
	--dir) dir=${2:?}; shift 2 ;;
	--timeout) timeout=${2:?}; shift 2 ;;
	-h | --help) usage 0 ;;
	*) log "unknown argument: $1"; usage ;;
	esac
done
[[ $timeout =~ ^[1-9][0-9]*$ ]] || die "--timeout must be seconds, got $timeout"

bin=$(versitygw_bin)
t_start=$(now_ms)

if [[ -z $dir ]]; then
	dir=$(mktemp -d "${TMPDIR:-/tmp}/tickstream-s3.XXXXXX")
fi
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

if [[ -f $dir/server.conf ]]; then
	[[ -z $(server_pid "$dir") ]] || die "the server of $dir is running; stop it first: $here/stop.sh --dir $dir"
	load_server "$dir"
	restart=1
elif [[ -n $(ls -A "$dir") ]]; then
	die "$dir is not empty and holds no server of these scripts"
else
	PORT=$(free_port)
	ACCESS_KEY=$(random_hex 10)
	SECRET_KEY=$(random_hex 20)
	BUCKET=tickstream-test
	REGION=us-east-1
	# versitygw's posix backend serves every directory of its root as a
	# bucket (checked: put, get, list and multipart work on a bucket made
	# with mkdir, in its single-account mode), so no client is needed here.
	mkdir -p "$dir/data/$BUCKET"
	printf '%s=%q\n' PORT "$PORT" ACCESS_KEY "$ACCESS_KEY" SECRET_KEY "$SECRET_KEY" \
		BUCKET "$BUCKET" REGION "$REGION" >"$dir/server.conf"
	restart=0
fi

# A restart needs its old port back; a fresh port may have been taken since.
port_in_use "$PORT" && die "127.0.0.1:$PORT is in use by another process"

# The keys go by environment, not argv, so they are not in ps output.
ROOT_ACCESS_KEY_ID=$ACCESS_KEY ROOT_SECRET_ACCESS_KEY=$SECRET_KEY VGW_REGION=$REGION \
	nohup "$bin" --port "127.0.0.1:$PORT" --quiet posix "$dir/data" \
	</dev/null >>"$dir/versitygw.log" 2>&1 &
pid=$!
printf '%s\n' "$pid" >"$dir/versitygw.pid"

deadline=$((t_start + timeout * 1000))
until http_answers "$PORT"; do
	# Our own child: checked by pid alone (its command line is bash's until
	# it has exec'd versitygw).
	if ! alive "$pid"; then
		tail -n 20 "$dir/versitygw.log" >&2 || true
		rm -f "$dir/versitygw.pid"
		die "versitygw exited during start; log: $dir/versitygw.log"
	fi
	if (($(now_ms) > deadline)); then
		kill -KILL "$pid" 2>/dev/null || true
		rm -f "$dir/versitygw.pid"
		tail -n 20 "$dir/versitygw.log" >&2 || true
		die "versitygw did not answer on 127.0.0.1:$PORT within ${timeout}s"
	fi
	sleep 0.05
done

{
	printf '# S3 test server of scripts/s3/start.sh; source this file.\n'
	printf 'export %s=%q\n' \
		TICKSTREAM_S3_ENDPOINT "http://127.0.0.1:$PORT" \
		TICKSTREAM_S3_BUCKET "$BUCKET" \
		TICKSTREAM_S3_DIR "$dir" \
		AWS_ACCESS_KEY_ID "$ACCESS_KEY" \
		AWS_SECRET_ACCESS_KEY "$SECRET_KEY" \
		AWS_REGION "$REGION" \
		AWS_EC2_METADATA_DISABLED true
} >"$dir/env"

what="started"
((restart)) && what="restarted"
log "versitygw $what on 127.0.0.1:$PORT (pid $pid, data $dir/data) in $(($(now_ms) - t_start)) ms"
cat "$dir/env"
