#!/usr/bin/env bash
# Checks the deployment kit: shellcheck on every shell script, systemd's own
# verifier on the unit, and that the IAM policy is JSON. Installs shellcheck
# and systemd (for systemd-analyze) from Debian's packages when missing; no
# running systemd is needed.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v shellcheck >/dev/null || need+=(shellcheck)
command -v systemd-analyze >/dev/null || need+=(systemd)
command -v python3 >/dev/null || need+=(python3)
if ((${#need[@]})); then
	echo "test-deploy: installing ${need[*]}" >&2
	apt-get update -q >/dev/null
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
fi

echo "shellcheck"
mapfile -t scripts < <(git ls-files -co --exclude-standard 'deploy/*.sh' 'scripts/*.sh' 'scripts/**/*.sh' | sort -u)
# -x -P SCRIPTDIR: follow the `source "$here/lib.sh"` of scripts/kafka.
shellcheck -x -P SCRIPTDIR "${scripts[@]}"

echo "systemd-analyze verify deploy/tickstream.service"
# verify checks that ExecStart's binary exists and is executable, so point
# the unit at a stand-in in a temporary directory. It exits 0 on unknown
# keys and bad values, only printing them, so any output is a failure.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '#!/bin/sh\n' >"$tmp/tickstream"
chmod +x "$tmp/tickstream"
sed "s#/usr/local/bin/tickstream#$tmp/tickstream#g" deploy/tickstream.service >"$tmp/tickstream.service"
out=$(SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --man=no "$tmp/tickstream.service" 2>&1) || {
	echo "$out" >&2
	exit 1
}
if [[ -n $out ]]; then
	echo "$out" >&2
	echo "test-deploy: systemd-analyze reported problems" >&2
	exit 1
fi
# The settings the kit promises must be there (verify ignores absent ones).
for key in Restart=on-failure LimitNOFILE= MemoryMax= TimeoutStopSec= KillSignal=SIGTERM \
	DynamicUser=yes StateDirectory=tickstream EnvironmentFile=; do
	grep -q "^$key" deploy/tickstream.service || {
		echo "test-deploy: deploy/tickstream.service lacks $key" >&2
		exit 1
	}
done

echo "iam-policy.json"
python3 -c 'import json,sys; p=json.load(open(sys.argv[1])); assert p["Version"]=="2012-10-17" and p["Statement"]' deploy/iam-policy.json
echo "test-deploy: ok"
