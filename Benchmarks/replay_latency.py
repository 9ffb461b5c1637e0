"""`make bench-replay`: live delivery latency while `sluice events replay` re-delivers a
large history (50,000 events by default) to one endpoint. One run, printed, never asserted.

Starts its own Tansu and the C sink (Benchmarks/sink.c, receipts logged), the real
sluice-fanout, sluice-dispatch and the 1m tier. Publishes the history to a tenant with no
endpoint yet, waits until fanout has read past it (it made no deliveries of it), then
creates that tenant's endpoint. Live traffic goes to the 32 bench tenants' endpoints (sluice-bench publish, ids
e2e-N). Measures publish -> receipt of live events three times, with the same offered load:
alone (the baseline), while the replay runs (written at most --replay-rate, the CLI's
default 500/s unless given, and no further ahead of dispatch than the CLI's pace allows),
and alone again after it (Tansu's memory engine slows as its logs grow, so the first
baseline flatters). Prints all three, the replay's own delivery rate and its summary
line, and writes the figures as JSON (the last line printed).

    python3 Benchmarks/replay_latency.py --bin .build/release [--events 50000] [--live-rate 200] [--replay-rate 500]
"""
import argparse
import datetime
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as bench  # noqa: E402  (the helpers of make bench: Tansu, the sink, stage settings, live runs)


def sluice(binaries, env, *arguments, timeout=600):
    result = subprocess.run([os.path.join(binaries, "sluice")] + list(arguments), capture_output=True, text=True, env=env, timeout=timeout)
    if result.returncode != 0:
        raise SystemExit(f"sluice {' '.join(arguments)} failed:\n{result.stdout[-1000:]}{result.stderr[-2000:]}")
    return result.stdout


def merged(runs):
    """The runs as one: their latencies pooled, their counts summed (None for no runs)."""
    if not runs:
        return None
    latencies = sorted(l for r in runs for l in r["latencies_ms"])
    return {"runs": len(runs), "count": sum(r["count"] for r in runs), "received": sum(r["received"] for r in runs),
            "p50_ms": bench.hops.percentile(latencies, 0.5), "p99_ms": bench.hops.percentile(latencies, 0.99), "peak_backlog": max(r["peak_backlog"] for r in runs), "latencies_ms": latencies}


def suspend_between_chunks(replay, log_path, timeout=30):
    """SIGSTOPs the replay just after it reports a chunk (its transaction committed), so it is
    not suspended inside a transaction the broker could time out."""
    size = os.path.getsize(log_path)
    deadline = time.time() + timeout
    while time.time() < deadline and os.path.getsize(log_path) == size and replay.poll() is None:
        time.sleep(0.005)
    replay.send_signal(signal.SIGSTOP)


def suspendable_config():
    """A config file for the replay CLI alone whose producer outlasts a suspension: a
    SIGSTOP lands just after a chunk's commit, usually with the next chunk's records
    queued, and librdkafka's timeouts run on while the process is stopped (with the
    defaults, a suspension of 30 s or more failed them as "Message timed out")."""
    path = os.path.join(bench.ROOT, "bench-results", "replay-cli.yaml")
    with open(path, "w") as f:
        f.write("librdkafka:\n  message.timeout.ms: 900000\n  transaction.timeout.ms: 900000\n  socket.timeout.ms: 300000\n")
    return path


def wait_drained(receipts, timeout):
    """Waits until the sink has received nothing replayed for 3 s (dispatch has drained what
    the suspended replay wrote), at most `timeout` seconds; whether it did."""
    deadline = time.time() + timeout
    last, still = -1, time.time()
    while time.time() < deadline:
        count = sum(1 for line in open(receipts) if " e2e-" not in line)
        if count != last:
            last, still = count, time.time()
        elif time.time() - still >= 3:
            return True
        time.sleep(0.5)
    return False


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True, help="folder of the executables")
    parser.add_argument("--events", type=int, default=50_000, help="events in the replayed history")
    parser.add_argument("--live-rate", type=int, default=200, help="live events per second offered during both runs")
    parser.add_argument("--replay-rate", type=float, default=500, help="the replay's --rate")
    parser.add_argument("--size", type=int, default=400)
    parser.add_argument("--segments", type=int, default=3,
                        help="live runs during the replay, each followed by one with the replay suspended (SIGSTOP) and drained")
    parser.add_argument("--receipt-wait", type=int, default=300, help="seconds to wait for the last replayed receipts after the live run")
    parser.add_argument("--lag-target", default="1s",
                        help="dispatch's --replay-lag-target. Production's 250 ms is below the live pickup lag this "
                             "bench sees with no replay on a 2-core machine that runs broker, stages, sink and load "
                             "together; the lane then holds the replay near its floor (measured: about 20/s, so "
                             "50,000 events take most of an hour)")
    parser.add_argument("--dispatch-args", default="", help="extra options of sluice-dispatch, e.g. '--replay-max-rate 200'")
    args = parser.parse_args()
    os.makedirs(os.path.join(bench.ROOT, "bench-results"), exist_ok=True)
    tools = bench.build_tools()
    broker = bench.Tansu()
    receipts = os.path.join(bench.ROOT, "bench-results", "replay-receipts.log")
    open(receipts, "w").close()
    sink = bench.Sink(tools, receipts)
    stages = []
    replay = None
    try:
        prepared = bench.run_json([os.path.join(args.bin, "sluice-bench"), "dispatch-prepare", "--brokers", broker.bootstrap,
                                   "--count", "0", "--endpoints", "32", "--sink", sink.url])
        env = bench.stage_env(broker, prepared, "bench-replay-cli")
        log = open(os.path.join(bench.ROOT, "bench-results", "replay-stages.log"), "w")
        fanout_metrics = bench.free_port()
        commands = [["sluice-dispatch", "--replay-lag-target", args.lag_target] + args.dispatch_args.split(), ["sluice-retry", "--tier", "1m"], ["sluice-fanout", "--metrics-port", str(fanout_metrics)]]
        stages = [subprocess.Popen([os.path.join(args.bin, c[0])] + c[1:], env=bench.stage_env(broker, prepared, f"bench-{c[0]}"),
                                   stdout=log, stderr=subprocess.STDOUT) for c in commands]
        seen = bench.pipeline_ready(broker, args.bin, prepared, receipts)
        print(f"publishing a history of {args.events:,} events (tenant history, no endpoint yet) …", flush=True)
        sluice(args.bin, env, "events", "publish", "--tenant", "history", "--type", "order.created",
               "--data", json.dumps({"pad": "x" * max(0, args.size - 150)}), "--count", str(args.events))
        # Fanout must be past the history before the endpoint exists, or it would fan it out live.
        deadline = time.time() + 600
        while bench.metric(fanout_metrics, "sluice_fanout_unmatched_total") < args.events and time.time() < deadline:
            time.sleep(0.5)
        created = sluice(args.bin, env, "endpoints", "create", "--tenant", "history", "--url", sink.url + "/replay", "--json")
        endpoint = json.loads(created[created.index("{"):])["id"]
        seconds = args.events / args.replay_rate
        live_count = max(1000, int(args.live_rate * min(seconds, 300)))
        print(f"baseline: {live_count:,} live events at {args.live_rate}/s, no replay …", flush=True)
        baseline, seen = bench.live_run(broker, args.bin, prepared, receipts, seen, live_count, args.live_rate, args.size)
        print(f"    p50 {baseline['p50_ms']:.0f} ms, p99 {baseline['p99_ms']:.0f} ms", flush=True)

        print(f"replay of {args.events:,} events at {args.replay_rate:g}/s with the same live load …", flush=True)
        replay_log = open(os.path.join(bench.ROOT, "bench-results", "replay-cli.log"), "w")
        started = time.time()
        replay = subprocess.Popen([os.path.join(args.bin, "sluice"), "events", "replay", "--endpoint", endpoint, "--since", "1h",
                                   "--rate", str(args.replay_rate)], env=dict(env, SLUICE_CONFIG=suspendable_config()),
                                  stdout=subprocess.PIPE, stderr=replay_log, text=True)
        # Runs during the replay alternate with runs while it is suspended (and what it wrote
        # is drained), so the broker's growth over the run weighs on both alike.
        segment = max(1000, args.live_rate * 30)
        during_runs, between_runs = [], []
        mark = seen
        for n in range(args.segments):
            if replay.poll() is not None:
                break
            print(f"  during {n + 1}: {segment:,} live events at {args.live_rate}/s …", flush=True)
            run, mark = bench.live_run(broker, args.bin, prepared, receipts, mark, segment, args.live_rate, args.size)
            during_runs.append(run)
            print(f"    p50 {run['p50_ms']:.0f} ms, p99 {run['p99_ms']:.0f} ms ({run['received']:,} of {run['count']:,})", flush=True)
            if replay.poll() is not None:
                break
            suspend_between_chunks(replay, replay_log.name)
            drained = wait_drained(receipts, timeout=180)
            print(f"  suspended {n + 1} (replay drained: {drained}): {segment:,} live events alone …", flush=True)
            run, mark = bench.live_run(broker, args.bin, prepared, receipts, mark, segment, args.live_rate, args.size)
            between_runs.append(run)
            print(f"    p50 {run['p50_ms']:.0f} ms, p99 {run['p99_ms']:.0f} ms ({run['received']:,} of {run['count']:,})", flush=True)
            replay.send_signal(signal.SIGCONT)
        if replay.poll() not in (None, 0):
            raise SystemExit(f"the replay failed (exit {replay.returncode}); see {replay_log.name}:\n"
                             + "".join(open(replay_log.name).readlines()[-5:]))
        during = merged(during_runs)
        between = merged(between_runs)
        summary = replay.communicate(timeout=3600)[0].strip().splitlines()
        replay_seconds = time.time() - started
        deadline = time.time() + args.receipt_wait
        replayed = {}  # webhook-id -> receipt times
        while time.time() < deadline:
            replayed = {}
            for line in open(receipts).read().splitlines()[seen:]:
                parts = line.split()
                if len(parts) == 2 and not parts[1].startswith("e2e-"):
                    replayed.setdefault(parts[1], []).append(float(parts[0]))
            if len(replayed) >= args.events:
                break
            time.sleep(1)
        # The broker holds more by now (Tansu's memory engine slows as its logs grow): the
        # same live load alone again, so a reader can tell the replay's cost from the broker's.
        seen = len(open(receipts).read().splitlines())
        print(f"after: {live_count:,} live events at {args.live_rate}/s, the replay over …", flush=True)
        after, _ = bench.live_run(broker, args.bin, prepared, receipts, seen, live_count, args.live_rate, args.size)
    finally:
        if replay is not None and replay.poll() is None:
            replay.send_signal(signal.SIGCONT)
            replay.terminate()
            replay.wait(30)
        for p in stages:
            p.terminate()
            p.wait(30)
        sink.stop()
        broker.stop()

    times = [t for ts in replayed.values() for t in ts]
    duplicates = len(times) - len(replayed)
    replay_rate = len(replayed) / (max(times) - started) if times else 0
    print(f"replay: {summary[-1] if summary else '(no summary)'}")
    print(f"replay: {len(replayed):,} of {args.events:,} received at the sink ({duplicates:,} duplicates), {replay_rate:,.0f}/s "
          f"from the command's start to the last (--rate {args.replay_rate:g}; the command took {replay_seconds:.0f} s)")
    rows = (("live, alone before the replay", baseline), ("live, during the replay", during),
            ("live, while the replay was suspended", between), ("live, alone after the replay", after))
    for label, run in rows:
        if run is None:
            continue
        run.pop("latencies_ms", None)
        print(f"{label}: {run['received']:,} of {run['count']:,} received at {args.live_rate}/s offered, "
              f"p50 {run['p50_ms']:.0f} ms, p99 {run['p99_ms']:.0f} ms, peak backlog {run['peak_backlog']:,}")
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path = os.path.join(bench.ROOT, "bench-results", f"bench-replay-{stamp}.json")
    with open(path, "w") as f:
        json.dump({"events": args.events, "replay_rate": args.replay_rate, "live_rate": args.live_rate, "baseline": baseline,
                   "during": during, "between": between, "after": after, "replayed": len(replayed), "duplicates": duplicates, "replayed_per_s": replay_rate, "summary": summary[-1:],
                   "binaries": args.bin}, f, indent=2)
    print(path)


if __name__ == "__main__":
    main()
