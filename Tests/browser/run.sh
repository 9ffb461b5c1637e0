#!/usr/bin/env bash
# The dashboard's browser tests: real headless Chromium (Debian's chromium and
# chromium-driver) driven by selenium from pytest, against a real Tansu, every stage and
# sluice-admin (Tests/browser/stack.py starts and stops them). Screenshots of every checked
# page go to .build/ui-screenshots (SLUICE_UI_SCREENSHOTS). Tools: scripts/setup.sh.
# Usage: Tests/browser/run.sh BIN_DIR [pytest arguments…]
set -euo pipefail
BIN="$(cd "$1" && pwd)"; shift
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$ROOT/.deps/browser-venv"
say() { printf 'browser-tests: %s\n' "$*" >&2; }
[ -x "$VENV/bin/pytest" ] || { say "selenium/pytest are missing: run scripts/setup.sh (make setup)"; exit 1; }
command -v chromium >/dev/null && command -v chromedriver >/dev/null || { say "chromium or chromedriver is missing: run scripts/setup.sh"; exit 1; }
[ -x "$ROOT/.deps/bin/tansu" ] || { say "Tansu is missing: run scripts/setup.sh"; exit 1; }
export SLUICE_BIN="$BIN" SLUICE_UI_SCREENSHOTS="${SLUICE_UI_SCREENSHOTS:-$ROOT/.build/ui-screenshots}"
rm -rf "$SLUICE_UI_SCREENSHOTS"
cd "$ROOT/Tests/browser"
"$VENV/bin/pytest" -p no:cacheprovider -q "$@"
say "screenshots in $SLUICE_UI_SCREENSHOTS"
