# shellcheck shell=bash
# Shared helpers for the scripts in scripts/s3/. Sourced, never run.
#
# A server lives in one directory DIR:
#   DIR/server.conf     what start.sh decided (port, keys, bucket); a restart reuses it
#   DIR/env             what tests source: TICKSTREAM_S3_ENDPOINT, AWS_ACCESS_KEY_ID, ...
#   DIR/data/           the posix root; DIR/data/BUCKET/ is the bucket
#   DIR/versitygw.pid   the server's process id (absent while stopped)
#   DIR/versitygw.log   its stdout and stderr

# The one S3-compatible server the tests run, pinned.
VERSITYGW_MODULE=github.com/versity/versitygw
VERSITYGW_VERSION=v1.8.0

die() {
	printf 's3: error: %s\n' "$*" >&2
	exit 1
}

log() {
	printf 's3: %s\n' "$*" >&2
}

# now_ms prints wall-clock milliseconds, for timings in messages.
now_ms() {
	local s
	s=$(date +%s%N)
	printf '%s\n' "$((s / 1000000))"
}

# versitygw_bin prints the path of versitygw $VERSITYGW_VERSION, building it
# with go install into the cache when it is missing or another version.
versitygw_bin() {
	local bindir=${XDG_CACHE_HOME:-$HOME/.cache}/tickstream/bin
	local bin=$bindir/versitygw t built=""
	# go version -m reads the module version the binary was built from.
	if [[ -x $bin ]]; then
		built=$(go version -m "$bin" 2>/dev/null | awk '$1 == "mod" { print $2 " " $3 }') || true
	fi
	if [[ $built == "$VERSITYGW_MODULE $VERSITYGW_VERSION" ]]; then
		printf '%s\n' "$bin"
		return
	fi
	command -v go >/dev/null || die "go not found; it builds versitygw"
	log "building versitygw $VERSITYGW_VERSION into $bindir (about a minute, once)"
	t=$(now_ms)
	mkdir -p "$bindir"
	GOBIN=$bindir go install "$VERSITYGW_MODULE/cmd/versitygw@$VERSITYGW_VERSION" >&2 ||
		die "go install $VERSITYGW_MODULE/cmd/versitygw@$VERSITYGW_VERSION failed"
	log "built versitygw in $(($(now_ms) - t)) ms"
	printf '%s\n' "$bin"
}

# free_port prints a loopback port that nothing listens on. It comes from
# below the kernel's ephemeral range, so an outgoing connection cannot take
# it between this check and the server binding it.
free_port() {
	local low hi p tries=0
	read -r low _ </proc/sys/net/ipv4/ip_local_port_range
	hi=$((low - 1))
	((hi > 12000)) || hi=32767
	while ((tries++ < 1000)); do
		p=$((10000 + (RANDOM * 32768 + RANDOM) % (hi - 10000)))
		# A refused connection means the port is free.
		if ! port_in_use "$p"; then
			printf '%s\n' "$p"
			return
		fi
	done
	die "no free port found"
}

# random_hex N prints N random bytes as hex.
random_hex() {
	head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n'
}

# load_server DIR sources DIR/server.conf into the caller's shell.
load_server() {
	[[ -f $1/server.conf ]] || die "$1 holds no server of these scripts (no server.conf); start one with start.sh"
	# shellcheck source=/dev/null
	source "$1/server.conf"
}

# alive PID: the process exists and is not a zombie.
alive() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[[ ${stat:0:1} != Z ]]
}

# port_in_use PORT succeeds when something accepts connections on
# 127.0.0.1:PORT.
port_in_use() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# server_pid DIR prints the pid of DIR's versitygw when it runs, else
# nothing. The command line must name DIR's posix root, so a stale pid file
# never makes us signal an unrelated process.
server_pid() {
	local f=$1/versitygw.pid pid cmd
	[[ -f $f ]] || return 0
	read -r pid <"$f" || return 0
	[[ $pid =~ ^[0-9]+$ ]] && alive "$pid" || return 0
	cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 0
	[[ $cmd == *versitygw*" posix $1/data"* ]] || return 0
	printf '%s\n' "$pid"
}

# http_answers PORT succeeds when an HTTP server answers on 127.0.0.1:PORT
# (any status: an anonymous request gets 403 from an S3 server).
http_answers() (
	local line
	exec 2>/dev/null 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
	printf 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3
	IFS= read -r -t 2 line <&3 || line=""
	[[ $line == HTTP/1.[01]\ [1-5][0-9][0-9]* ]]
)
