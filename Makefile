# tickstream — the commands the README names. `make test` is what CI runs.
GO ?= go
PKG := ./...

.PHONY: run ui build release test test-unit test-race test-kafka test-compat test-s3 test-deploy test-browser bench bench-go fuzz clean

run: ui ## run the engine on the embedded default (in-process broker, simulator, ./data lake, dashboard on :8080)
	$(GO) run . run

# The dashboard's page: sinks/dashboard/ui → ui/dist, embedded by the next go build.
# npm ci installs exactly package-lock.json; esbuild needs no install script.
ui:
	cd sinks/dashboard/ui && npm ci --no-audit --no-fund --ignore-scripts && npm run build

build: ui
	$(GO) build -trimpath -o bin/tickstream .

release: ui ## linux/amd64 + linux/arm64 binaries in bin/ (cgo for DuckDB; arm64 via gcc-aarch64-linux-gnu)
	scripts/release.sh

test: test-unit test-race test-deploy test-browser test-kafka test-compat test-s3 ## the whole suite, as CI runs it

test-unit:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet $(PKG)
	$(GO) test -count=1 $(PKG)

# The packages where goroutines meet: the engine's tasks and rebalance callbacks.
test-race:
	$(GO) test -count=1 -race -short ./engine/... ./sinks/... ./operators/... ./app/...

# The dashboard in headless Chromium (Debian's chromium, installed when missing);
# builds the UI itself. Screenshots in artifacts/browser/.
test-browser:
	scripts/test-browser.sh

# Real Apache Kafka 4.4 (3-node KRaft, then SASL_SSL) from Maven Central.
test-kafka:
	scripts/test-kafka.sh

# The design notes' Kafka 3.3.1 with ZooKeeper.
test-compat:
	scripts/test-kafka.sh --compat

# The lake against a real S3-compatible server (versitygw, built with go install).
test-s3:
	scripts/s3/test.sh

# shellcheck on every script, systemd-analyze verify of the unit, IAM policy is JSON.
test-deploy:
	scripts/test-deploy.sh

bench: bench-go ## benchmarks: per-stage (go test -bench) and end to end
	$(GO) run . bench

bench-go:
	$(GO) test -run '^$$' -bench . -benchmem ./tick/ ./operators/ ./sinks/lake/ ./feeds/sim/ ./engine/ ./models/... ./query/

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzDecode -fuzztime 60s ./tick/

clean:
	rm -rf bin data
