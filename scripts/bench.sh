#!/usr/bin/env bash
# make bench / make bench-quick: see Benchmarks/run.py.
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 Benchmarks/run.py --bin "$1" --mode "${2:-quick}"
