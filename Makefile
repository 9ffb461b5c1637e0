# Sluice: the two commands a newcomer needs are `make dev` and `make test`.
# Both install what is missing first (scripts/setup.sh: apt packages, the librdkafka
# runtime and the Tansu broker, into .deps/), and both are idempotent.
SHELL := /bin/bash
SWIFT ?= swift
BIN = $(shell $(SWIFT) build -c release --show-bin-path)
DEBUG_BIN = $(shell $(SWIFT) build --show-bin-path)

.PHONY: setup build build-debug test test-browser test-unit test-integration test-alerts api-check dev bench bench-quick bench-replay bench-admin bench-ui bench-mixed bench-broker profile-dispatch fuzz openapi openapi-check clean clean-sluice

setup:
	@bash scripts/setup.sh

## build: release executables, linked against the runtime in .deps/lib
build: setup
	$(SWIFT) build -c release
	@echo "executables in $(BIN)"

build-debug: setup
	$(SWIFT) build --build-tests

## test: every unit and integration test (the integration tests start their own Tansu),
## the alert rules, the admin API against its OpenAPI document (15 examples per operation),
## and the dashboard in headless Chromium
test: build-debug test-alerts
	$(SWIFT) test --skip-build
	SLUICE_API_CHECK_EXAMPLES=$${SLUICE_API_CHECK_EXAMPLES:-15} bash scripts/api-check.sh "$(DEBUG_BIN)"
	bash Tests/browser/run.sh "$(DEBUG_BIN)"

## test-browser: the dashboard and tenant portal in real headless Chromium (selenium) against
## a real Tansu, every stage and sluice-admin; screenshots in .build/ui-screenshots
test-browser: build-debug
	bash Tests/browser/run.sh "$(DEBUG_BIN)"

## api-check: openapi-spec-validator on the admin API's document, then schemathesis against a
## live sluice-admin with an admin key: no 5xx, no answer outside the document
## (SLUICE_API_CHECK_EXAMPLES per operation, default 50)
api-check: build-debug
	bash scripts/api-check.sh "$(DEBUG_BIN)"

## test-alerts: the Prometheus alert rules (ops/prometheus) with promtool: syntax and the
## rules' own unit tests
test-alerts: setup
	promtool check rules ops/prometheus/sluice-alerts.yml
	cd ops/prometheus && promtool test rules sluice-alerts.test.yml

## test-unit: the fast tests only (no broker)
test-unit: build-debug
	$(SWIFT) test --skip-build --skip Integration

## test-integration: the tests against a real broker only
test-integration: build-debug
	$(SWIFT) test --skip-build --filter Integration

## dev: the whole pipeline on an embedded broker with a demo receiver
dev: build
	@bash scripts/dev.sh "$(BIN)"

## bench: throughput and latency beside the raw limits, then the dashboard's page latency
## with 100,000 attempts in the store (a few minutes)
bench: build
	@bash scripts/bench.sh "$(BIN)" full

## bench-ui: the dashboard's pages with 100,000 attempts in the store (p50/p95, target < 100 ms)
bench-ui: build
	@bash scripts/bench.sh "$(BIN)" ui

## bench-quick: a smoke run of the benchmark (under a minute of measuring)
bench-quick: build
	@bash scripts/bench.sh "$(BIN)" quick

## bench-admin: the admin API's rows alone: ingest over HTTP beside a trivial Hummingbird route,
## store materialiser rows/s, GET /v1/attempts p99 with 1,000,000 attempts stored (a few minutes;
## BENCH_ADMIN_MODE=quick for shorter loads)
bench-admin: build
	@bash scripts/bench.sh "$(BIN)" admin $${BENCH_ADMIN_MODE:-full}

## profile-dispatch: CPU µs per delivery of sluice-dispatch, where it goes (perf cpu-clock samples), its system calls and allocations per delivery
## (PROFILE_ARGS="--endpoints 5000 --hosts 100 --count 50000" for the bench's spread case; --dispatch-flags=--http-shards=1 to compare a setting)
profile-dispatch: build
	@bash scripts/bench.sh "$(BIN)" profile

## bench-mixed: the 5,000-endpoint mixed run at the bench's scaled retry schedule and at the production one, beside all healthy (about 10 minutes)
bench-mixed: build
	@bash scripts/bench.sh "$(BIN)" mixed

## bench-broker: the bare pipeline (two Kafka hops, nothing of Sluice) over a grid of broker
## settings, each on a fresh Tansu: the best publish -> receipt p99 the broker gives (about 10 minutes)
bench-broker: setup
	@bash scripts/bench.sh "" broker

## bench-replay: live latency while `sluice events replay` re-delivers 50,000 events (a few minutes)
bench-replay: build
	@bash scripts/bench.sh "$(BIN)" replay

## fuzz: libFuzzer on every decoder of outside bytes, FUZZ_SECONDS each (default 60); see Fuzz/README.md
fuzz: setup
	@bash Fuzz/run.sh

## openapi: regenerate the admin API's server code from Sources/SluiceAdmin/openapi.yaml (commit the result)
openapi:
	@bash scripts/openapi.sh

## openapi-check: regenerate into a temporary folder and fail if the committed code differs
openapi-check:
	@bash scripts/openapi.sh --check

clean:
	rm -rf .build .build-fuzz .build-openapi .deps

## clean-sluice: forget Sluice's own compiled modules (debug and release), keep the dependencies': after a
## public struct's stored properties change, an incremental build can leave a module compiled against the
## old layout (seen: sluice-admin crashing at start in Data(base64Encoded:)); the build plans go too, or the
## next build looks for the removed output file maps
clean-sluice:
	rm -rf .build/*/debug/Sluice*.build .build/*/debug/sluice*.build .build/*/debug/*Tests.build .build/*/debug/SluicePackage* \
	  .build/*/release/Sluice*.build .build/*/release/sluice*.build .build/*/*/description.json
