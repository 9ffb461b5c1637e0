#!/usr/bin/env bash
# make dev: the whole pipeline on an embedded Tansu broker, through `sluice dev`
# (broker, topology, every stage, a demo receiver, a demo event; Ctrl-C stops it all).
# SLUICE_DEV_PORT picks the broker's port (default 9092 or the first free one after it);
# SLUICE_DEV_ARGS passes more flags (see `sluice dev --help`).
set -euo pipefail
BIN="$1"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
args=(--state-directory "$ROOT/.sluice-dev" --tansu "$ROOT/.deps/bin/tansu")
[ -n "${SLUICE_DEV_PORT:-}" ] && args+=(--port "$SLUICE_DEV_PORT")
cd "$ROOT"
# exec: Ctrl-C reaches `sluice dev` itself, which stops its children in order.
# shellcheck disable=SC2086
exec "$BIN/sluice" dev "${args[@]}" ${SLUICE_DEV_ARGS:-}
