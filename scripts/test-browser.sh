#!/usr/bin/env bash
# The dashboard in a real browser: installs Debian's chromium when missing,
# builds the UI (npm ci: the versions pinned in package-lock.json), then runs
# integration/browser, which builds tickstream with the UI embedded, runs it
# on the embedded default and drives headless Chromium against it.
# Screenshots go to artifacts/browser/.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo=()
((EUID == 0)) || sudo=(sudo)
need=()
command -v chromium >/dev/null || need+=(chromium)
# Text in the screenshots needs a font; chromium only recommends this one.
dpkg -s fonts-liberation >/dev/null 2>&1 || need+=(fonts-liberation)
command -v npm >/dev/null || need+=(npm)
if ((${#need[@]})); then
	echo "test-browser: installing ${need[*]}" >&2
	"${sudo[@]}" apt-get update -q >/dev/null
	DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
fi

echo "test-browser: building the UI"
(cd sinks/dashboard/ui && npm ci --no-audit --no-fund --ignore-scripts && npm run build)
go build -o /dev/null .

mkdir -p artifacts/browser
TICKSTREAM_CHROMIUM=$(command -v chromium) TICKSTREAM_ARTIFACTS="$PWD/artifacts/browser" \
	go test -count=1 -v -run TestDashboard ./integration/browser/
