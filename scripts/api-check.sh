#!/usr/bin/env bash
# make api-check: the admin API against its contract.
#   1. openapi-spec-validator: Sources/SluiceAdmin/openapi.yaml is valid OpenAPI 3.1;
#   2. schemathesis against a live sluice-admin (on a fresh Tansu, with an admin key made by
#      `sluice keys create --admin`): no 5xx, every status, content type and body as the
#      document says. SLUICE_API_CHECK_EXAMPLES bounds the examples per operation (default 50;
#      make test uses 15). The tools come from scripts/setup.sh (.deps/venv).
# Usage: scripts/api-check.sh BIN_DIR   (the folder with sluice and sluice-admin)
set -euo pipefail
BIN="$1"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.deps/venv"
EXAMPLES="${SLUICE_API_CHECK_EXAMPLES:-50}"
say() { printf 'api-check: %s\n' "$*" >&2; }

[ -x "$VENV/bin/st" ] || { say "schemathesis is missing: run scripts/setup.sh (make setup)"; exit 1; }
"$VENV/bin/openapi-spec-validator" "$ROOT/Sources/SluiceAdmin/openapi.yaml"

work="$(mktemp -d)"
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]+"${pids[@]}"}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]+"${pids[@]}"}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# wait_for SECONDS COMMAND…: runs COMMAND until it succeeds, at most SECONDS.
wait_for() {
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

broker_port="$(free_port)"
"$ROOT/.deps/bin/tansu" broker --listener-url "tcp://127.0.0.1:$broker_port" --advertised-listener-url "tcp://127.0.0.1:$broker_port" \
  --storage-engine memory://tansu/ >"$work/tansu.log" 2>&1 &
pids+=($!)
wait_for 30 bash -c "exec 3<>/dev/tcp/127.0.0.1/$broker_port" || { say "Tansu did not start; log:"; tail -20 "$work/tansu.log" >&2; exit 1; }

export SLUICE_BROKERS="127.0.0.1:$broker_port" SLUICE_TOPOLOGY="$ROOT/topology/sluice.yaml" SLUICE_LOG_LEVEL=warning
export SLUICE_MASTER_KEY="$(head -c 32 /dev/urandom | base64)" SLUICE_ALLOW_PRIVATE=1 SLUICE_ALLOW_HTTP=1
export SLUICE_KAFKA_PROFILE=tansu
"$BIN/sluice" topology apply >"$work/topology.log" 2>&1 || { say "topology apply failed:"; cat "$work/topology.log" >&2; exit 1; }
key="$("$BIN/sluice" keys create --admin --json | python3 -c 'import json, sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])["key"])')"

admin_port="$(free_port)"
SLUICE_ADMIN_PORT="$admin_port" SLUICE_ADMIN_STORE="$work/store.sqlite" "$BIN/sluice-admin" >"$work/admin.log" 2>&1 &
pids+=($!)
url="http://127.0.0.1:$admin_port"
wait_for 120 curl -fsS "$url/readyz" || { say "sluice-admin was not ready; log:"; tail -30 "$work/admin.log" >&2; exit 1; }

say "schemathesis against $url, $EXAMPLES examples per operation"
status=0
# From the scratch folder: schemathesis keeps a cache (.schemathesis/) where it runs.
(cd "$work" && "$VENV/bin/st" run "$url/v1/openapi.yaml" --url "$url" -H "Authorization: Bearer $key" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance \
  --max-examples "$EXAMPLES" --workers 1 --request-timeout 30 --seed "${SLUICE_API_CHECK_SEED:-42}" \
  --generation-database none --no-color --report-dir "$work/report") || status=$?
if [ "$status" != 0 ]; then
  say "schemathesis found problems (above); sluice-admin's log:"
  grep -iE '"level":"(error|critical)"' "$work/admin.log" | tail -20 >&2 || true
fi
kill -0 "${pids[1]}" 2>/dev/null || { say "sluice-admin died during the run; log:"; tail -30 "$work/admin.log" >&2; status=1; }
exit "$status"
