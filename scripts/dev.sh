#!/usr/bin/env bash
# make dev: the pipeline on an embedded Tansu broker.
#
# Today it starts Tansu (memory storage) on 127.0.0.1:9092 (or the next free port),
# applies the topology, and waits for Ctrl-C. It does not start the stages yet:
# every stage exists and can be started by hand (printed below);
# the demo receiver is not built yet. `sluice dev`
# will supervise them all.
set -euo pipefail
BIN="$1"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
STATE="$ROOT/.sluice-dev"
mkdir -p "$STATE"
[ -s "$STATE/master.key" ] || head -c32 /dev/urandom | base64 > "$STATE/master.key"

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port="${SLUICE_DEV_PORT:-9092}"
for _ in $(seq 1 50); do port_free "$port" && break; port=$((port + 1)); done
port_free "$port" || { echo "dev: no free port from ${SLUICE_DEV_PORT:-9092}; set SLUICE_DEV_PORT" >&2; exit 1; }

url="tcp://127.0.0.1:$port"
"$ROOT/.deps/bin/tansu" broker --listener-url "$url" --advertised-listener-url "$url" \
  --storage-engine memory://tansu/ >"$STATE/tansu.log" 2>&1 &
broker=$!
trap 'echo; echo "dev: stopping Tansu (pid $broker)"; kill $broker 2>/dev/null; wait $broker 2>/dev/null; exit 0' INT TERM
for _ in $(seq 1 200); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done

export SLUICE_BROKERS="127.0.0.1:$port"
"$BIN/sluice" topology apply 2>"$STATE/topology.log"
cat <<MSG

dev: Tansu is running on $SLUICE_BROKERS (log: $STATE/tansu.log), topics created.
dev: not built yet: the demo receiver and \`sluice dev\` (one command for every stage); start the stages by hand.
dev: to run the stages by hand, in other terminals:
       export SLUICE_BROKERS=$SLUICE_BROKERS SLUICE_MASTER_KEY=$(cat "$STATE/master.key") SLUICE_ALLOW_PRIVATE=1 SLUICE_ALLOW_HTTP=1 SLUICE_KAFKA_FETCH_WAIT_MAX=10ms SLUICE_RETRY_TIERS=1m=2s,10m=5s,1h=10s
       $BIN/sluice-fanout      $BIN/sluice-dispatch      $BIN/sluice-dlq watch
       $BIN/sluice-retry --tier 1m      $BIN/sluice-retry --tier 10m      $BIN/sluice-retry --tier 1h
       $BIN/sluice endpoints create --tenant acme --url http://127.0.0.1:8080/hook
       $BIN/sluice events publish --tenant acme --type order.created --data '{"order":1}'
dev: Ctrl-C stops Tansu.
MSG
wait $broker
