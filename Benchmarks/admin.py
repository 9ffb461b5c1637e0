"""`make bench-admin` (and the admin rows of `make bench`): sluice-admin beside the raw limits
measured in the same run.

- ingest: `POST /v1/events` (one event of ~200 B, a tenant key) with wrk, events/s and p99
  after a warm-up, beside the same wrk load against a trivial Hummingbird 2 route
  (`sluice-bench hummingbird`: reads the body, answers 202) on the same machine; and the
  first publish after `/readyz` on its own;
- the query store: StoreMaterialiser building a fresh SQLite store from `sluice.attempts`
  (rows/s), beside our reader consuming the same records to the end;
- `GET /v1/attempts` p99 with 1,000,000 attempts in the store (seeded straight into SQLite by
  `sluice-bench seed-attempts`, the materialiser's own writer), for three queries, beside the
  trivial route's p99 at the same concurrency.

    python3 Benchmarks/admin.py --bin .build/release --mode quick|full
"""
import argparse
import base64
import datetime
import json
import os
import re
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import BENCH_KAFKA, ROOT, Tansu, free_port, run_json, wait_for_port  # noqa: E402

RESULTS = os.path.join(ROOT, "bench-results")


def wrk(url, script, connections, seconds):
    """wrk (2 threads) with `script`: requests/s, p99 (ms) and the non-2xx count."""
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script, url],
                         capture_output=True, text=True, timeout=seconds + 60).stdout
    rate = float(next(line.split()[1] for line in out.splitlines() if line.startswith("Requests/sec")))
    p99 = next(line.split()[1] for line in out.splitlines() if line.strip().startswith("99%"))
    value, unit = re.match(r"([\d.]+)(us|ms|s)", p99).groups()
    p99_ms = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {"per_s": rate, "p99_ms": p99_ms, "non_2xx": int(bad.group(1)) if bad else 0,
            "socket_errors": errors.group(1) if errors else None}


WARM_UP_SECONDS = 3


def first_publish_ms(url, key, event):
    """How long the first `POST /v1/events` after `/readyz` answered 200 takes (ms).

    A fresh idempotent producer cannot publish until the broker gave it a producer id, and
    librdkafka asks for one on a 500 ms timer when no broker connection was up yet at its
    creation (measured with confluent-kafka on Tansu: a producer's first acknowledgement
    500-800 ms after its creation, 0.7 ms once it is a second old). sluice-admin takes that
    wait before it serves (KafkaProducer.warmUp); this figure shows that it does: 957 ms
    before, 9-10 ms since."""
    request = urllib.request.Request(url, data=json.dumps(event).encode(), method="POST",
                                     headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=30) as answer:
        if answer.status != 202:
            raise SystemExit(f"the first POST /v1/events answered {answer.status}, not 202")
    return (time.perf_counter() - started) * 1000


def lua(name, method, key, body=None, paths=None):
    """A wrk script: `method` with the key (and `body`), cycling through `paths` when given."""
    path = os.path.join(RESULTS, name)
    with open(path, "w") as f:
        f.write(f'wrk.method = "{method}"\n')
        f.write(f'wrk.headers["Authorization"] = "Bearer {key}"\n')
        if body is not None:
            f.write('wrk.headers["Content-Type"] = "application/json"\n')
            f.write(f"wrk.body = {json.dumps(body)}\n")
        if paths:
            f.write("local paths = {" + ", ".join(json.dumps(p) for p in paths) + "}\nlocal n = 0\n")
            f.write("request = function()\n  n = n + 1\n  return wrk.format(nil, paths[(n % #paths) + 1])\nend\n")
    return path


class Process:
    """A child process on a free port, logging to bench-results, stopped with SIGTERM."""

    def __init__(self, command, env, log, port, ready):
        self.port = port
        self.process = subprocess.Popen(command, env=env, stdout=open(os.path.join(RESULTS, log), "w"), stderr=subprocess.STDOUT)
        deadline = time.time() + 180
        while time.time() < deadline and self.process.poll() is None:
            if ready(self):
                return
            time.sleep(0.2)
        self.stop()
        raise SystemExit(f"{command[0]} did not get ready; see bench-results/{log}")

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def ready_status(process):
    try:
        return urllib.request.urlopen(process.url + "/readyz", timeout=2).status == 200
    except OSError:
        return False


def admin_env(broker, prefix, master_key):
    return dict(os.environ, SLUICE_BROKERS=broker.bootstrap, SLUICE_TOPIC_PREFIX=prefix, SLUICE_MASTER_KEY=master_key,
                SLUICE_LOG_LEVEL="warning", **BENCH_KAFKA,
                SLUICE_TOPOLOGY=os.path.join(ROOT, "topology", "sluice.yaml"), SLUICE_INSTANCE_ID="bench-admin")


def key(binaries, env, scope):
    out = subprocess.run([os.path.join(binaries, "sluice"), "keys", "create", "--json"] + scope, env=env,
                         capture_output=True, text=True, timeout=120, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])["key"]


def start_admin(binaries, env, store, log):
    port = free_port()
    env = dict(env, SLUICE_ADMIN_PORT=str(port), SLUICE_ADMIN_STORE=store)
    return Process([os.path.join(binaries, "sluice-admin")], env, log, port, ready_status)


def admin_rows(broker, binaries, mode):
    """The admin's rows and their raw figures, against `broker`."""
    quick = mode == "quick"
    seconds = 10 if quick else 20
    connections = 64
    prefix = f"bench-admin-{os.getpid()}-{int(time.time())}."
    master_key = base64.b64encode(os.urandom(32)).decode()
    env = admin_env(broker, prefix, master_key)
    subprocess.run([os.path.join(binaries, "sluice"), "topology", "apply"], env=env, capture_output=True, timeout=120, check=True)
    tenant_key, admin_key = key(binaries, env, ["--tenant", "bench"]), key(binaries, env, ["--admin"])
    raw = {"connections": connections, "seconds": seconds}

    baseline = Process([os.path.join(binaries, "sluice-bench"), "hummingbird", "--port", str(port := free_port())], env,
                       "hummingbird.log", port, lambda p: wait_for_port(p.port, 0.2))
    store = os.path.join(RESULTS, f"admin-store-{os.getpid()}.sqlite")
    seeded = os.path.join(RESULTS, f"admin-seeded-{os.getpid()}.sqlite")
    try:
        event = {"type": "order.created", "data": {"order": 42, "note": "x" * 120}}
        post = lua("ingest.lua", "POST", tenant_key, json.dumps(event))
        admin = start_admin(binaries, env, store, "admin-ingest.log")
        try:
            raw["ingest_first_ms"] = first_publish_ms(admin.url + "/v1/events", tenant_key, event)
            # Each load is measured after a warm-up that is not counted: a fresh sluice-admin's
            # first publishes wait for its producer's id (up to a second, above), and wrk's
            # correction for coordinated omission turns the 64 requests stalled then into
            # thousands of samples, which read as a p99 of 600-800 ms in every run until
            # session 43. The first publish is its own figure.
            wrk(admin.url + "/v1/events", post, connections, WARM_UP_SECONDS)
            raw["ingest"] = wrk(admin.url + "/v1/events", post, connections, seconds)
        finally:
            admin.stop()
        wrk(baseline.url + "/v1/events", post, connections, WARM_UP_SECONDS)
        raw["ingest_hummingbird"] = wrk(baseline.url + "/v1/events", post, connections, seconds)

        count = 100_000 if quick else 300_000
        raw["store"] = run_json([os.path.join(binaries, "sluice-bench"), "store", "--brokers", broker.bootstrap,
                                 "--count", str(count), "--endpoints", "1000", "--timeout", "600"], timeout=900)

        seeded_count = 1_000_000
        raw["seed"] = run_json([os.path.join(binaries, "sluice-bench"), "seed-attempts", "--store", seeded,
                                "--count", str(seeded_count), "--endpoints", "1000"], timeout=900)
        admin = start_admin(binaries, env, seeded, "admin-attempts.log")
        reads = {}
        try:
            queries = [
                ("newest page (admin key)", admin_key, ["/v1/attempts?limit=50"]),
                ("one endpoint (tenant key)", tenant_key, [f"/v1/attempts?endpoint_id=ep_bench_{n:04d}&limit=50" for n in range(0, 1000, 37)]),
                ("status_class=5xx (tenant key)", tenant_key, ["/v1/attempts?status_class=5xx&limit=50"]),
            ]
            for label, k, paths in queries:
                script = lua(f"attempts-{len(reads)}.lua", "GET", k, paths=paths)
                reads[label] = wrk(admin.url + paths[0], script, 8, seconds)
        finally:
            admin.stop()
        raw["attempts"] = reads
        raw["attempts_hummingbird"] = wrk(baseline.url + "/v1/attempts", lua("attempts-baseline.lua", "GET", tenant_key), 8, seconds)
        raw["seeded_count"] = seeded_count
    finally:
        baseline.stop()
        for path in (store, seeded):
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(path + suffix):
                    os.remove(path + suffix)

    hb = "a trivial Hummingbird 2 route (reads the body, answers 202), same wrk load"
    rows = [
        {"figure": f"admin ingest: POST /v1/events, wrk -c{connections}", "unit": "events/s", "sluice": raw["ingest"]["per_s"],
         "limit": raw["ingest_hummingbird"]["per_s"], "limit_source": hb},
        {"figure": "admin ingest: p99 (ms, lower is better)", "unit": "ms", "sluice": raw["ingest"]["p99_ms"],
         "limit": raw["ingest_hummingbird"]["p99_ms"], "limit_source": hb},
        {"figure": f"admin store: materialised attempts ({count:,})", "unit": "rows/s", "sluice": raw["store"]["rows_per_s"],
         "limit": raw["store"]["read_per_s"], "limit_source": "our reader consuming the same records to the end"},
    ]
    for label, figures in raw["attempts"].items():
        rows.append({"figure": f"GET /v1/attempts p99 (ms), 1M stored: {label}", "unit": "ms", "sluice": figures["p99_ms"],
                     "limit": raw["attempts_hummingbird"]["p99_ms"], "limit_source": "a trivial Hummingbird 2 GET route, wrk -c8"})
    return rows, raw


def print_admin(rows, raw):
    width = max(len(r["figure"]) for r in rows)
    print(f"{'figure':<{width}}  {'sluice':>12}  {'raw limit':>12}  {'ratio':>6}  limit measured with")
    for r in rows:
        ratio = r["sluice"] / r["limit"] if r["limit"] else float("nan")
        digits = 1 if r["unit"] == "ms" else 0
        print(f"{r['figure']:<{width}}  {r['sluice']:>12,.{digits}f}  {r['limit']:>12,.{digits}f}  {ratio:>6.2f}  {r['limit_source']}")
    i = raw["ingest"]
    print(f"admin ingest: {i['non_2xx']} answers not 2xx, socket errors: {i['socket_errors'] or 'none'}; "
          f"trivial route: {raw['ingest_hummingbird']['per_s']:,.0f}/s; the first publish after /readyz: "
          f"{raw['ingest_first_ms']:,.0f} ms (the producer's id); each load after a {WARM_UP_SECONDS} s warm-up not counted")
    for label, figures in raw["attempts"].items():
        print(f"GET /v1/attempts, {label}: {figures['per_s']:,.0f} requests/s at 8 connections, {figures['non_2xx']} not 2xx")
    s, seed = raw["store"], raw["seed"]
    print(f"admin store: {s['count']:,} attempts materialised in {s['seconds']:.1f} s ({s['store_bytes'] / 2**20:.0f} MiB); "
          f"seeding {seed['count']:,} attempts straight into SQLite: {seed['rows_per_s']:,.0f} rows/s, "
          f"{seed['store_bytes'] / 2**20:.0f} MiB")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True, help="folder of the release executables")
    parser.add_argument("--mode", choices=["quick", "full"], default="quick")
    args = parser.parse_args()
    os.makedirs(RESULTS, exist_ok=True)
    load = open("/proc/loadavg").read().split()[:3]
    broker = Tansu()
    try:
        rows, raw = admin_rows(broker, args.bin, args.mode)
    finally:
        broker.stop()
    print(f"Sluice admin benchmark ({args.mode}): {os.cpu_count()} cores; load average at the start {' '.join(load)}, "
          f"at the end {' '.join(open('/proc/loadavg').read().split()[:3])}")
    print_admin(rows, raw)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path = os.path.join(RESULTS, f"bench-admin-{args.mode}-{stamp}.json")
    with open(path, "w") as f:
        json.dump({"mode": args.mode, "cores": os.cpu_count(), "load_start": load, "rows": rows, "raw": raw}, f, indent=2)
    print(path)


if __name__ == "__main__":
    main()
