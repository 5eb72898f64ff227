#!/usr/bin/env bash
# Builds the release binaries: bin/tickstream-linux-amd64 and
# bin/tickstream-linux-arm64 (Graviton). DuckDB needs cgo, so the arm64
# build uses Debian's aarch64 cross compiler (gcc-aarch64-linux-gnu).
#
# Reproducible: -trimpath drops local paths, -buildid= drops the build id,
# -buildvcs=false keeps VCS state out (the commit is passed with -X), and
# nothing reads the clock, so the same commit and toolchain give the same
# bytes (checked: build twice, compare sha256sum).
set -euo pipefail
cd "$(dirname "$0")/.."

version=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
commit=${COMMIT:-$(git rev-parse HEAD 2>/dev/null || echo unknown)}
ldflags="-s -w -buildid= -X github.com/tickstream/tickstream/app.Version=${version} -X github.com/tickstream/tickstream/app.Commit=${commit}"
archs=${ARCHS:-amd64 arm64}

mkdir -p bin
for arch in $archs; do
	cc=gcc
	if [ "$arch" = arm64 ] && [ "$(uname -m)" != aarch64 ]; then
		cc=aarch64-linux-gnu-gcc
		if ! command -v "$cc" >/dev/null; then
			echo "release: installing the aarch64 cross compiler (Debian gcc-aarch64-linux-gnu)" >&2
			apt-get install -y -q gcc-aarch64-linux-gnu g++-aarch64-linux-gnu >/dev/null
		fi
	fi
	cxx=${cc%gcc}g++
	out=bin/tickstream-linux-$arch
	CGO_ENABLED=1 GOOS=linux GOARCH=$arch CC=$cc CXX=$cxx \
		go build -trimpath -buildvcs=false -ldflags "$ldflags" -o "$out" .
	echo "$out $(stat -c %s "$out") bytes sha256 $(sha256sum "$out" | cut -d' ' -f1)"
done
