"""`make bench` / `make bench-quick`: Sluice's figures beside the raw limits, one run.

Starts its own Tansu on a free loopback port, runs each measurement, prints a table
(figure, raw limit, ratio) and writes the same as JSON; the JSON's path is the last
line printed. Every load is bounded in count and time.

    python3 Benchmarks/run.py --bin .build/release --mode quick
"""
import argparse
import datetime
import json
import os
import platform
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEPS = os.path.join(ROOT, ".deps")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Tansu:
    """A fresh memory-only broker for this run, stopped at the end."""

    def __init__(self):
        self.port = free_port()
        self.log = open(os.path.join(ROOT, "bench-results", f"tansu-{self.port}.log"), "w")
        url = f"tcp://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [os.path.join(DEPS, "bin", "tansu"), "broker", "--listener-url", url, "--advertised-listener-url", url,
             "--storage-engine", "memory://tansu/"], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise SystemExit(f"Tansu did not start on port {self.port}")

    @property
    def bootstrap(self):
        return f"127.0.0.1:{self.port}"

    def version(self):
        return subprocess.run([os.path.join(DEPS, "bin", "tansu"), "--version"], capture_output=True, text=True).stdout.strip()

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def run_json(command, env=None, timeout=300):
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def kafka_layer(broker, binaries, count, size):
    """Our producer and consumer beside confluent-kafka's, same broker, same records."""
    ours = run_json([os.path.join(binaries, "sluice-bench"), "kafka", "--brokers", broker.bootstrap,
                     "--count", str(count), "--size", str(size)])
    env = dict(os.environ, PYTHONPATH=os.path.join(DEPS, "py"))
    theirs = run_json([sys.executable, os.path.join(ROOT, "Benchmarks", "kafka_python.py"), "--brokers", broker.bootstrap,
                       "--count", str(count), "--size", str(size)], env=env)
    return [
        {"figure": f"produce, idempotent acks=all ({size} B records)", "unit": "msgs/s",
         "sluice": ours["produce_per_s"], "limit": theirs["produce_per_s"], "limit_source": theirs["client"]},
        {"figure": f"consume, group, read_committed ({size} B records)", "unit": "msgs/s",
         "sluice": ours["consume_per_s"], "limit": theirs["consume_per_s"], "limit_source": theirs["client"]},
    ], {"ours": ours, "theirs": theirs}


def fanout(broker, binaries, count, size):
    """The fanout stage beside a bare consume -> transactional produce loop, factor 1 and 5."""
    rows, raw = [], []
    for factor in (1, 5):
        result = run_json([os.path.join(binaries, "sluice-bench"), "fanout", "--brokers", broker.bootstrap,
                           "--count", str(count), "--size", str(size), "--factor", str(factor)], timeout=600)
        raw.append(result)
        source = "our Kafka layer: consume -> transactional produce, nothing else"
        rows.append({"figure": f"fanout x{factor}: events", "unit": "events/s", "sluice": result["events_per_s"],
                     "limit": result["limit_events_per_s"], "limit_source": source})
        rows.append({"figure": f"fanout x{factor}: deliveries", "unit": "deliveries/s", "sluice": result["deliveries_per_s"],
                     "limit": result["limit_deliveries_per_s"], "limit_source": source})
    return rows, raw


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True, help="folder of the release executables")
    parser.add_argument("--mode", choices=["quick", "full"], default="quick")
    args = parser.parse_args()
    os.makedirs(os.path.join(ROOT, "bench-results"), exist_ok=True)
    count = 50_000 if args.mode == "quick" else 300_000
    fanout_events = 10_000 if args.mode == "quick" else 50_000

    broker = Tansu()
    try:
        rows, raw = kafka_layer(broker, args.bin, count, 200)
        fanout_rows, raw["fanout"] = fanout(broker, args.bin, fanout_events, 400)
        rows += fanout_rows
        tansu_version = broker.version()
    finally:
        broker.stop()

    print(f"Sluice benchmark ({args.mode}): {os.cpu_count()} cores, {platform.machine()}, {tansu_version}, "
          f"{raw['ours']['client']}")
    width = max(len(r["figure"]) for r in rows)
    print(f"{'figure':<{width}}  {'sluice':>12}  {'raw limit':>12}  {'ratio':>6}  limit measured with")
    for r in rows:
        ratio = r["sluice"] / r["limit"] if r["limit"] else float("nan")
        print(f"{r['figure']:<{width}}  {r['sluice']:>12,.0f}  {r['limit']:>12,.0f}  {ratio:>6.2f}  {r['limit_source']}")
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path = os.path.join(ROOT, "bench-results", f"bench-{args.mode}-{stamp}.json")
    with open(path, "w") as f:
        json.dump({"mode": args.mode, "cores": os.cpu_count(), "tansu": tansu_version, "rows": rows, "raw": raw}, f, indent=2)
    print(path)


if __name__ == "__main__":
    main()
