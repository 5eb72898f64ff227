#!/usr/bin/env bash
# Runs the lake's S3 tests against a real S3-compatible server: starts
# versitygw (start.sh) in a temporary directory, runs
# go test -count=1 -run S3 ./sinks/lake/ with its DIR/env, and stops and
# removes the server however the tests end.
#
#   scripts/s3/test.sh [go test flags...]     # e.g. -v, or -run S3Outage
#
# Later -run flags override the default one.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=SCRIPTDIR/lib.sh
source "$here/lib.sh"

dir=$(mktemp -d "${TMPDIR:-/tmp}/tickstream-s3.XXXXXX")
# shellcheck disable=SC2317 # run by the trap
cleanup() {
	"$here/stop.sh" --dir "$dir" --clean || true
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$here/start.sh" --dir "$dir" >/dev/null
# shellcheck source=/dev/null
source "$dir/env"

t0=$(now_ms)
cd "$root"
status=0
go test -count=1 -run S3 "$@" ./sinks/lake/ || status=$?
log "go test took $(($(now_ms) - t0)) ms"
exit "$status"
