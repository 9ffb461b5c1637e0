# Sluice: the two commands a newcomer needs are `make dev` and `make test`.
# Both install what is missing first (scripts/setup.sh: apt packages, the librdkafka
# runtime and the Tansu broker, into .deps/), and both are idempotent.
SHELL := /bin/bash
SWIFT ?= swift
BIN = $(shell $(SWIFT) build -c release --show-bin-path)

.PHONY: setup build build-debug test test-unit test-integration test-alerts dev bench bench-quick bench-replay fuzz openapi openapi-check clean

setup:
	@bash scripts/setup.sh

## build: release executables, linked against the runtime in .deps/lib
build: setup
	$(SWIFT) build -c release
	@echo "executables in $(BIN)"

build-debug: setup
	$(SWIFT) build --build-tests

## test: every unit and integration test (the integration tests start their own Tansu),
## and the alert rules
test: build-debug test-alerts
	$(SWIFT) test --skip-build

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

## bench: throughput and latency beside the raw limits (a few minutes)
bench: build
	@bash scripts/bench.sh "$(BIN)" full

## bench-quick: a smoke run of the benchmark (under a minute of measuring)
bench-quick: build
	@bash scripts/bench.sh "$(BIN)" quick

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
