#!/usr/bin/env python3
"""make bench (its last part): how fast the dashboard's pages answer with 100,000 attempts
in the query store (target: under 100 ms each).

Seeds a store with `sluice-bench ui-store` (100,000 attempts over 24 h across 100
endpoints, dead letters, ops events), starts a fresh Tansu and `sluice-admin` on that
store, logs in with an admin key like a browser (cookie, CSRF token) and times each page:
2 warm-up requests, then --runs timed ones; prints p50, p95 and max per page and whether p95
is under the target. Everything started here is stopped by its process id."""
import argparse
import base64
import http.cookiejar
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from run import BENCH_KAFKA, ROOT, free_port  # noqa: E402 (after the path it needs)

TARGET_MS = 100.0


def wait_for(check, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:  # noqa: BLE001 - polled again
            pass
        time.sleep(0.2)
    raise SystemExit(f"ui-bench: timed out waiting for {what}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--attempts", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="sluice-ui-bench-")
    processes = []
    try:
        store = os.path.join(work, "store.sqlite")
        started = time.monotonic()
        seeded = json.loads(subprocess.run(
            [os.path.join(args.bin, "sluice-bench"), "ui-store", "--prefix", store, "--count", str(args.attempts), "--endpoints", "100"],
            check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])
        print(f"ui-bench: seeded {seeded['attempts']} attempts over {seeded['endpoints']} endpoints in {time.monotonic() - started:.1f} s", file=sys.stderr)

        broker = free_port()
        listener = f"tcp://127.0.0.1:{broker}"
        log = open(os.path.join(work, "tansu.log"), "wb")
        processes.append(subprocess.Popen([os.path.join(ROOT, ".deps/bin/tansu"), "broker", "--listener-url", listener, "--advertised-listener-url", listener,
                                           "--storage-engine", "memory://tansu/"], stdout=log, stderr=subprocess.STDOUT))
        wait_for(lambda: socket.create_connection(("127.0.0.1", broker), timeout=1).close() or True, 30, "Tansu")
        port = free_port()
        env = dict(os.environ, SLUICE_BROKERS=f"127.0.0.1:{broker}", SLUICE_TOPOLOGY=os.path.join(ROOT, "topology/sluice.yaml"), SLUICE_LOG_LEVEL="warning",
                   SLUICE_MASTER_KEY=base64.b64encode(os.urandom(32)).decode(), SLUICE_DASHBOARD_INSECURE_COOKIES="1", SLUICE_METRICS_PORT="0",
                   SLUICE_ADMIN_PORT=str(port), SLUICE_ADMIN_STORE=store, **BENCH_KAFKA)
        subprocess.run([os.path.join(args.bin, "sluice"), "topology", "apply"], env=env, check=True, capture_output=True)
        key = json.loads(subprocess.run([os.path.join(args.bin, "sluice"), "keys", "create", "--admin", "--json"], env=env, check=True,
                                        capture_output=True, text=True).stdout.strip().splitlines()[-1])["key"]
        log = open(os.path.join(work, "admin.log"), "wb")
        processes.append(subprocess.Popen([os.path.join(args.bin, "sluice-admin")], env=env, stdout=log, stderr=subprocess.STDOUT))
        url = f"http://127.0.0.1:{port}"
        wait_for(lambda: urllib.request.urlopen(url + "/readyz", timeout=5).status == 200, 180, "sluice-admin /readyz")

        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        login = opener.open(url + "/ui/login").read().decode()
        csrf = re.search(r'name="_csrf" value="([^"]+)"', login).group(1)
        opener.open(url + "/ui/login", data=urllib.parse.urlencode({"_csrf": csrf, "key": key, "next": "/ui/"}).encode()).read()
        busiest = seeded["busiest"]
        pages = [
            ("overview", "/ui/"), ("endpoints", "/ui/endpoints"), ("endpoint detail", f"/ui/endpoints/{busiest}"),
            ("attempt log, 5xx only", f"/ui/endpoints/{busiest}?status=5xx"), ("attempt drawer", f"/ui/endpoints/{busiest}?attempt=att_0_0"),
            ("dead letters", "/ui/dead-letters"), ("ops events", "/ui/ops"),
        ]
        results = []
        for name, path in pages:
            times = []
            for run in range(args.runs + 2):
                started = time.perf_counter()
                with opener.open(url + path, timeout=60) as answer:
                    body = answer.read()
                    assert answer.status == 200 and b"<main>" in body, (path, answer.status)
                if run >= 2:
                    times.append((time.perf_counter() - started) * 1000)
            times.sort()
            p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
            results.append({"page": name, "path": path, "p50_ms": round(statistics.median(times), 1), "p95_ms": round(p95, 1), "max_ms": round(times[-1], 1),
                            "under_target": p95 < TARGET_MS})
        print(f"\nDashboard pages, {args.attempts:,} attempts in the store, {args.runs} requests each (target p95 < {TARGET_MS:.0f} ms; executables in {args.bin})")
        print(f"{'page':<24}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}  ok")
        for r in results:
            print(f"{r['page']:<24}{r['p50_ms']:>9}{r['p95_ms']:>9}{r['max_ms']:>9}  {'yes' if r['under_target'] else 'NO'}")
        os.makedirs(os.path.join(ROOT, "bench-results"), exist_ok=True)
        with open(os.path.join(ROOT, "bench-results", "ui-pages.json"), "w") as out:
            json.dump({"attempts": args.attempts, "runs": args.runs, "bin": args.bin, "pages": results}, out, indent=2)
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in reversed(processes):
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
