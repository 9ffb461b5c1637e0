#!/usr/bin/env bash
# `make fuzz`: builds the libFuzzer targets of Fuzz/ and runs each for a bounded time.
#
#   FUZZ_SECONDS=60        seconds per target (default 60)
#   FUZZ_TARGETS="a b"     the targets to run (default: every folder of Fuzz/corpus)
#   FUZZ_KEEP_GOING=1      carry on after a crash (libFuzzer's -fork=1 -ignore_crashes=1)
#                          instead of stopping that target at its first one
#   FUZZ_SCRATCH=dir       build and findings directory (default .build-fuzz)
#
# The checked-in seeds of Fuzz/corpus/<target> are only read; what libFuzzer adds goes to
# $FUZZ_SCRATCH/corpus/<target> (kept between runs). Every crashing input is kept under
# $FUZZ_SCRATCH/runs/<time>/<target>/, with a .trace beside it (the Swift backtrace of
# running that input alone). Ends with one summary line; exits 1 when anything crashed.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FUZZ="$ROOT/Fuzz"
SCRATCH="${FUZZ_SCRATCH:-$ROOT/.build-fuzz}"
EACH="${FUZZ_SECONDS:-60}"
SWIFT="${SWIFT:-swift}"
TARGETS="${FUZZ_TARGETS:-$(cd "$FUZZ/corpus" && ls -d -- */ | tr -d /)}"

say() { printf 'fuzz: %s\n' "$*" >&2; }

# -max_len per target: large enough for real records. Keep in step with
# FuzzTarget.maxLength (Tests/SluiceCoreTests/Fuzz/FuzzTargets.swift).
max_len() {
  case "$1" in
    retry-after | duration-text | time-text) echo 256 ;;
    webhook-verifier) echo 1024 ;;
    *) echo 4096 ;;
  esac
}

# -sanitize=fuzzer on every module: SluiceCore's branches are what guides the fuzzer.
build=("$SWIFT" build --package-path "$FUZZ" --scratch-path "$SCRATCH" -c release -Xswiftc -sanitize=fuzzer
  --product SluiceFuzz)
say "building: ${build[*]}"
"${build[@]}" >&2 || { say "build failed"; exit 2; }
BIN="$("${build[@]}" --show-bin-path)/SluiceFuzz"

RUN="$SCRATCH/runs/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$RUN"
ran=0
crashed=0
crashed_targets=()
for target in $TARGETS; do
  seeds="$FUZZ/corpus/$target"
  [ -d "$seeds" ] || { say "no seed corpus $seeds"; exit 2; }
  out="$RUN/$target"
  mkdir -p "$out" "$SCRATCH/corpus/$target"
  args=(-max_total_time="$EACH" -max_len="$(max_len "$target")" -timeout=10 -rss_limit_mb=2048
    -use_value_profile=1 -print_final_stats=1 -artifact_prefix="$out/")
  [ -f "$FUZZ/dicts/$target.dict" ] && args+=(-dict="$FUZZ/dicts/$target.dict")
  [ "${FUZZ_KEEP_GOING:-0}" = 1 ] && args+=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
  say "$target: ${EACH}s, seeds $seeds, log $out/log"
  # Swift's backtracer would take the crash signals before libFuzzer, which then keeps no input.
  SLUICE_FUZZ_TARGET="$target" SWIFT_BACKTRACE=enable=no \
    "$BIN" "${args[@]}" "$SCRATCH/corpus/$target" "$seeds" >"$out/log" 2>&1
  status=$?
  ran=$((ran + 1))
  execs="$(grep -oE '^#[0-9]+' "$out/log" | tail -1 | tr -d '#')"
  cov="$(grep -oE '(cov|ft): [0-9]+' "$out/log" | tail -2 | tr '\n' ' ')"
  findings=$(find "$out" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) | sort)
  if [ -n "$findings" ] || [ "$status" -ne 0 ]; then
    crashed=$((crashed + 1))
    crashed_targets+=("$target")
    say "$target: CRASHED (libFuzzer exit $status, ${execs:-?} runs)"
    for input in $findings; do
      # The input alone, under Swift's backtracer, which names the trap and its source line.
      { SLUICE_FUZZ_TARGET="$target" SWIFT_BACKTRACE=enable=yes,interactive=no,color=no,threads=crashed \
        "$BIN" -runs=1 "$input"; } >"$input.trace" 2>&1
      say "  input $input"
      grep -m1 -E 'Swift runtime failure|Fatal error|Crash at' "$input.trace" | sed 's/^ */    /' >&2
      grep -E '^ *[0-9]+ ' "$input.trace" | grep -v -E 'Swift runtime failure|SluiceFuzz/|libFuzzer|compiler-rt' |
        head -2 | sed -E 's/^ *[0-9]+ +(\[[a-z]+\] +)*0x[0-9a-f]+ /    /' >&2
    done
  else
    say "$target: ok (${execs:-?} runs, ${cov:-no coverage line})"
  fi
done

say "SUMMARY: $ran targets run for ${EACH}s each, $crashed crashed${crashed_targets[*]:+ (${crashed_targets[*]})}; logs and inputs in $RUN"
[ "$crashed" -eq 0 ]
