#!/usr/bin/env bash
# make dev: the pipeline on an embedded Tansu broker.
#
# Today it starts Tansu (memory storage) on 127.0.0.1:9092 (or the next free port),
# applies the topology, and waits for Ctrl-C. The stages (fanout, dispatch, retry tiers,
# dlq) and the demo receiver are not built yet; `sluice dev` will supervise them.
set -euo pipefail
BIN="$1"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
STATE="$ROOT/.sluice-dev"
mkdir -p "$STATE"

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
dev: not built yet: sluice-fanout, sluice-dispatch, sluice-retry, sluice-dlq, the demo receiver.
dev: in another terminal:  SLUICE_BROKERS=$SLUICE_BROKERS $BIN/sluice topology check
dev: Ctrl-C stops everything.
MSG
wait $broker
