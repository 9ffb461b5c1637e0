"""`make profile-dispatch`: CPU time of sluice-dispatch per delivery, and where it goes.

Two runs against a fresh Tansu and the C sink, with N and 2N deliveries to 100 fast
endpoints; the difference of dispatch's CPU time (user + system, from /proc) divided by N
is the cost of one delivery without the start-up (loading endpoints, joining the group).
The larger run is sampled with `perf record -e cpu-clock` (a software clock: this
machine's VM has no hardware counters, and Debian's valgrind 3.19 cannot run Swift 6
binaries), and the hottest symbols are printed. CPU time is noisier than instruction
counts: run it on a quiet machine and compare runs, not single figures.
"""
import argparse
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from run import ROOT, Sink, Tansu, build_tools, process_stats, run_json, stage_env  # noqa: E402


def run(broker, binaries, sink, count, perf_out=None):
    """Dispatch drains `count` deliveries; returns its CPU seconds at the end."""
    healthy = os.path.join(ROOT, "bench-results", "profile-healthy.txt")
    prepared = run_json([os.path.join(binaries, "sluice-bench"), "dispatch-prepare", "--brokers", broker.bootstrap, "--count", str(count),
                         "--endpoints", "100", "--sink", sink.url, "--size", "400", "--mix", "fast", "--healthy", healthy], timeout=600)
    env = stage_env(broker, prepared, f"profile-{count}")
    log = open(os.path.join(ROOT, "bench-results", f"profile-dispatch-{count}.log"), "w")
    stage = subprocess.Popen([os.path.join(binaries, "sluice-dispatch")], env=env, stdout=log, stderr=subprocess.STDOUT)
    perf = None
    if perf_out:
        perf = subprocess.Popen(["perf", "record", "-e", "cpu-clock", "-F", "999", "-g", "-o", perf_out, "-p", str(stage.pid)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        run_json([os.path.join(binaries, "sluice-bench"), "attempts", "--brokers", broker.bootstrap, "--prefix", prepared["prefix"],
                  "--count", str(count), "--endpoints", "100", "--timeout", "600", "--mix", "fast", "--healthy", healthy], timeout=700)
        if stage.poll() is not None:
            raise SystemExit(f"sluice-dispatch stopped (exit {stage.returncode}); see {log.name}")
        return process_stats(stage.pid)[2]
    finally:
        if perf:
            perf.send_signal(signal.SIGINT)
            perf.wait(60)
        stage.send_signal(signal.SIGTERM)
        stage.wait(60)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True, help="folder of the release executables")
    parser.add_argument("--count", type=int, default=20_000, help="deliveries of the smaller run (the larger has twice as many)")
    args = parser.parse_args()
    os.makedirs(os.path.join(ROOT, "bench-results"), exist_ok=True)
    tools = build_tools()
    perf_out = os.path.join(ROOT, "bench-results", "perf-dispatch.data")
    broker, sink = Tansu(), None
    try:
        sink = Sink(tools)
        small = run(broker, args.bin, sink, args.count)
        large = run(broker, args.bin, sink, 2 * args.count, perf_out)
    finally:
        if sink:
            sink.stop()
        broker.stop()
    per_us = (large - small) / args.count * 1e6
    print(f"sluice-dispatch: {per_us:,.0f} CPU µs per delivery ({small:.2f} CPU s for {args.count:,} deliveries, "
          f"{large:.2f} for {2 * args.count:,}; start-up cancels out)")
    report = subprocess.run(["perf", "report", "-i", perf_out, "--no-children", "--sort", "dso,symbol", "--stdio", "--percent-limit", "0.7"],
                            capture_output=True, text=True).stdout
    rows = [line for line in report.splitlines() if line.strip().endswith(tuple("abcdefghijklmnopqrstuvwxyz)]>_0123456789")) and "%" in line[:12]]
    print("where the larger run's CPU goes (self time, perf cpu-clock samples):")
    for line in rows[:40]:
        print("  " + line.strip()[:180])
    print(perf_out)


if __name__ == "__main__":
    main()
