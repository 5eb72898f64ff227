#!/usr/bin/env bash
# Fetches the Apache Kafka broker and tools from Maven Central into a cache
# directory and prints that directory on stdout.
#
#   scripts/kafka/fetch.sh            # Kafka 4.x (pom.xml): KAFKA_HOME=$(scripts/kafka/fetch.sh)
#   scripts/kafka/fetch.sh compat     # Kafka 3.3.1 + ZooKeeper (compat/pom.xml)
#   scripts/kafka/fetch.sh [compat] --version V   # another version than the pom's
#
# No Kafka tarball is reachable here, so the class path is built by Maven from
# the pom, reusing the local Maven repository (~/.m2). Idempotent: a complete
# directory is left as it is (about 10 ms). Parallel callers wait on a lock.
#
# Environment:
#   KAFKA_CACHE_DIR  parent of the kafka-VERSION directories
#                    (default: ${XDG_CACHE_HOME:-~/.cache}/tickstream)
#   KAFKA_MVN_ARGS   extra mvn arguments, e.g. -Dmaven.repo.local=/some/repo
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"

pom=$here/pom.xml scala=2.13 helper=1 suffix="" version=""
while (($#)); do
	case $1 in
	compat) pom=$here/compat/pom.xml scala=2.12 helper=0 suffix=-zk; shift ;;
	--version) version=${2:?}; shift 2 ;;
	*) die "usage: $0 [compat] [--version V]" ;;
	esac
done
[[ -n $version ]] || version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$pom")
[[ -n $version ]] || die "no kafka.version in $pom"
home=${KAFKA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tickstream}/kafka-$version$suffix

# The stamp names what the directory was built from, so a changed pom, version
# or readiness-check source rebuilds it.
stamp=$( (cat "$pom" "$here/ClusterCheck.java" && printf '%s\n' "$version") | sha256sum | cut -c1-16)
complete() { [[ -f $home/.complete && $(<"$home/.complete") == "$stamp" ]]; }
if complete; then
	printf '%s\n' "$home"
	exit 0
fi

command -v mvn >/dev/null || die "mvn not found (apt-get install -y maven)"
command -v javac >/dev/null || die "javac not found (a JDK 17+ is needed)"
mkdir -p "$home"
exec 9>"$home/.lock"
flock 9
if complete; then
	printf '%s\n' "$home"
	exit 0
fi

t0=$(now_ms)
tmp=$(mktemp -d "$home/.fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
log "fetching Kafka $version into $home"
read -ra extra <<<"${KAFKA_MVN_ARGS:-}"
if ! mvn -B -q -f "$pom" "-Dkafka.version=$version" "${extra[@]}" \
	dependency:copy-dependencies -DincludeScope=runtime \
	"-DoutputDirectory=$tmp/libs" >"$tmp/mvn.log" 2>&1; then
	cat "$tmp/mvn.log" >&2
	die "mvn could not fetch Kafka $version"
fi
[[ -f $tmp/libs/kafka_$scala-$version.jar ]] || die "mvn ran but kafka_$scala-$version.jar is missing"
t1=$(now_ms)

# The readiness check, compiled once here rather than on every start.
if ((helper)); then
	mkdir -p "$tmp/helper"
	javac -nowarn --release 17 -cp "$tmp/libs/*" -d "$tmp/helper" "$here/ClusterCheck.java" \
		|| die "could not compile ClusterCheck.java"
fi

rm -rf "$home/libs" "$home/helper"
mv "$tmp/libs" "$home/"
((helper == 0)) || mv "$tmp/helper" "$home/"
printf '%s\n' "$stamp" >"$home/.complete"
log "fetched Kafka $version ($(find "$home/libs" -name '*.jar' | wc -l) jars, $(du -sh "$home/libs" | cut -f1)) in $((t1 - t0)) ms, total $(($(now_ms) - t0)) ms"
printf '%s\n' "$home"
