#!/usr/bin/env bash
# make bench / make bench-quick: see Benchmarks/run.py (make bench then times the dashboard's
# pages with 100,000 attempts in the store: Benchmarks/ui_pages.py; alone: make bench-ui);
# make profile-dispatch: Benchmarks/profile_dispatch.py; make bench-replay: Benchmarks/replay_latency.py; make
# bench-mixed: Benchmarks/mixed_schedule.py; make bench-broker: Benchmarks/broker_sweep.py; make
# bench-admin: Benchmarks/admin.py (the admin API's rows alone, also part of make bench). Installs
# what only the benchmark needs (wrk for the HTTP raw limit, gcc for the C sink and bare
# libcurl client, perf and heaptrack for the profile), idempotently.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
tools=(wrk:wrk gcc:gcc)
[ "${2:-}" = profile ] && tools+=(perf:linux-perf heaptrack:heaptrack)
for t in "${tools[@]}"; do command -v "${t%%:*}" >/dev/null 2>&1 || missing+=("${t#*:}"); done
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  echo "bench: installing Debian packages: ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if [ "${2:-}" = profile ]; then exec python3 Benchmarks/profile_dispatch.py --bin "$1" ${PROFILE_ARGS:-}; fi
if [ "${2:-quick}" = replay ]; then exec python3 Benchmarks/replay_latency.py --bin "$1"; fi
if [ "${2:-quick}" = admin ]; then exec python3 Benchmarks/admin.py --bin "$1" --mode "${3:-full}"; fi
if [ "${2:-quick}" = broker ]; then exec python3 Benchmarks/broker_sweep.py; fi
if [ "${2:-quick}" = mixed ]; then exec python3 Benchmarks/mixed_schedule.py --bin "$1"; fi
if [ "${2:-quick}" = ui ]; then exec python3 Benchmarks/ui_pages.py --bin "$1"; fi
python3 Benchmarks/run.py --bin "$1" --mode "${2:-quick}"
if [ "${2:-quick}" = full ]; then python3 Benchmarks/ui_pages.py --bin "$1"; fi
