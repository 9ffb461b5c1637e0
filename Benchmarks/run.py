"""`make bench` / `make bench-quick`: Sluice's figures beside the raw limits, one run.

Starts its own Tansu on a free loopback port, runs each measurement, prints a table
(figure, raw limit, ratio) and writes the same as JSON; the JSON's path is the last
line printed. Every load is bounded in count and time.

    python3 Benchmarks/run.py --bin .build/release --mode quick
"""
import argparse
import datetime
import functools
import json
import os
import platform
import resource
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEPS = os.path.join(ROOT, ".deps")
sys.path.append(os.path.join(DEPS, "py"))  # confluent-kafka, for Benchmarks/hops.py

import hops  # noqa: E402 (after the path it needs)


# The stages' Kafka settings in every benchmark: Tansu's profile (README, Settings), with
# the linger of a production set-up and without gap checks (they read most traffic twice
# on Tansu, which the figures would carry; the benchmarks count what they receive).
BENCH_KAFKA = dict(SLUICE_KAFKA_PROFILE="tansu", SLUICE_KAFKA_LINGER="5ms", SLUICE_KAFKA_GAP_CHECK="off")


def fmt_us(value, digits=0):
    """A CPU µs figure, or "?" when it could not be measured."""
    return "?" if value is None else f"{value:,.{digits}f}"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, seconds):
    """True once something accepts connections on 127.0.0.1:`port`, within `seconds`."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return True
        except OSError:
            time.sleep(0.02)
    return False


class Tansu:
    """A fresh memory-only broker for this run, stopped at the end."""

    def __init__(self):
        self.port = free_port()
        self.log = open(os.path.join(ROOT, "bench-results", f"tansu-{self.port}.log"), "w")
        url = f"tcp://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [os.path.join(DEPS, "bin", "tansu"), "broker", "--listener-url", url, "--advertised-listener-url", url,
             "--storage-engine", "memory://tansu/"], stdout=self.log, stderr=subprocess.STDOUT)
        if not wait_for_port(self.port, 10):
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
        {"figure": f"consume -> transactional produce ({size} B, batches of 500)", "unit": "msgs/s",
         "sluice": ours["consume_produce_per_s"], "limit": theirs["consume_produce_per_s"], "limit_source": theirs["client"]},
    ], {"ours": ours, "theirs": theirs}


def fanout(broker, binaries, count, size):
    """The fanout stage beside a bare consume -> transactional produce loop, factor 1 and 5."""
    rows, raw = [], []
    for factor in (1, 5):
        result = run_json([os.path.join(binaries, "sluice-bench"), "fanout", "--brokers", broker.bootstrap,
                           "--count", str(count), "--size", str(size), "--factor", str(factor)], timeout=600)
        # Fanout's own work (decode, match, write the deliveries) on one thread, no broker:
        # steadier than the run above, whose CPU the broker and the machine sway.
        result["transform"] = run_json([os.path.join(binaries, "sluice-bench"), "transform", "--count", "200000",
                                        "--size", str(size), "--factor", str(factor)], timeout=600)
        raw.append(result)
        source = "our Kafka layer: consume -> transactional produce of delivery-sized records, nothing else (before and after the stage, the mean)"
        rows.append({"figure": f"fanout x{factor}: events", "unit": "events/s", "sluice": result["events_per_s"],
                     "limit": result["limit_events_per_s"], "limit_source": source})
        rows.append({"figure": f"fanout x{factor}: deliveries", "unit": "deliveries/s", "sluice": result["deliveries_per_s"],
                     "limit": result["limit_deliveries_per_s"], "limit_source": source})
    return rows, raw


class Sink:
    """The C sink (Benchmarks/sink.c) on a free port; receipts logged when asked. With
    `hosts` > 1 it listens on 127.0.0.1 … 127.0.0.`hosts`, the same port. With `tls` (a
    folder, see `certificates`) it speaks HTTPS with the throwaway CA's certificate for
    127.0.0.1 (clients trust `tls`/ca.pem)."""

    def __init__(self, tools, receipts=None, hosts=1, tls=None):
        self.port = free_port()
        self.receipts = receipts
        self.hosts = hosts
        self.tls = tls
        env = dict(os.environ, SINK_HOSTS=str(hosts))
        if tls:
            env.update(SINK_TLS_CERT=os.path.join(tls, "server.pem"), SINK_TLS_KEY=os.path.join(tls, "server.key"))
        self.process = subprocess.Popen([os.path.join(tools, "sink"), str(self.port)] + ([receipts] if receipts else []),
                                        stderr=subprocess.DEVNULL, env=env)
        if not wait_for_port(self.port, 5):
            self.stop()
            raise SystemExit("the sink did not start")

    @property
    def url(self):
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def stop(self):
        self.process.terminate()
        self.process.wait(10)


@functools.cache
def certificates():
    """A throwaway CA and a server certificate it signed for hooks.sluice.test and 127.0.0.1
    (the test receiver's `make_certificates`), in bench-results/tls, made once per bench
    run; returns the folder."""
    sys.path.insert(0, os.path.join(ROOT, "Tests", "Tools"))
    from test_receiver import make_certificates
    folder = os.path.join(ROOT, "bench-results", "tls")
    make_certificates(folder)
    return folder


def build_tools():
    """Compiles the sink and the bare libcurl client (C, in Benchmarks/) into bench-results/bin."""
    tools = os.path.join(ROOT, "bench-results", "bin")
    os.makedirs(tools, exist_ok=True)
    for name, libs in (("sink", ["-lssl", "-lcrypto"]), ("curl_multi", ["-lcurl"])):
        subprocess.run(["gcc", "-O2", "-o", os.path.join(tools, name), os.path.join(ROOT, "Benchmarks", f"{name}.c")] + libs, check=True)
    return tools


def http_limits(tools, sink, concurrency, count, seconds, size):
    """The sink's POST rate with wrk, and a bare libcurl multi client, at one concurrency."""
    script = os.path.join(ROOT, "bench-results", "post.lua")
    with open(script, "w") as f:
        f.write(f'wrk.method = "POST"\nwrk.body = string.rep("x", {size})\nwrk.headers["Content-Type"] = "application/json"\n')
    out = subprocess.run(["wrk", "-t2", f"-c{concurrency}", f"-d{seconds}s", "-s", script, sink.url + "/wrk"],
                         capture_output=True, text=True, timeout=seconds + 60).stdout
    wrk_rate = float(next(line.split()[1] for line in out.splitlines() if line.startswith("Requests/sec")))
    curl = run_json([os.path.join(tools, "curl_multi"), sink.url + "/curl", str(count), str(concurrency), str(size)])
    return wrk_rate, curl["per_s"]


CURL_SWEEP = (16, 64, 256, 1000, 2000)


# How many loopback hosts the spread dispatch run uses (127.0.0.1 … 127.0.0.N).
SPREAD_HOSTS = 100


def curl_sweep(tools, sink, count, size):
    """The bare libcurl multi client at each concurrency of CURL_SWEEP: its best is the
    honest raw limit (2,000 in flight to one host is libcurl's worst point, not its best).
    Against a sink on many hosts, request i goes to host 1 + i % hosts."""
    if sink.hosts > 1:
        url, spread = f"http://127.0.0.%ld:{sink.port}/curl", [str(sink.hosts)]
    else:
        url, spread = sink.url + "/curl", []
    env = dict(os.environ, CURL_MULTI_CAINFO=os.path.join(sink.tls, "ca.pem")) if sink.tls else None
    return {c: run_json([os.path.join(tools, "curl_multi"), url, str(count), str(c), str(size)] + spread, env=env)["per_s"]
            for c in CURL_SWEEP}


def process_stats(pid):
    """RSS now and at peak (MiB) and CPU seconds of process `pid`, from /proc."""
    status = open(f"/proc/{pid}/status").read()
    kib = {line.split(":")[0]: int(line.split()[1]) for line in status.splitlines() if line.startswith(("VmRSS", "VmHWM"))}
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return kib["VmRSS"] / 1024, kib["VmHWM"] / 1024, cpu


def machine_busy():
    """CPU seconds the whole machine spent busy (not idle nor waiting on I/O) since boot."""
    fields = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


class CoreShares:
    """Cores used by each named process, and by the whole machine, from creation to
    ``stop()``: where a run's CPU went (the machine's cores are shared by the broker,
    the stages, the sink and the bench's own readers)."""

    def __init__(self, pids):
        self.pids = pids
        self.started = time.time()
        self.busy = machine_busy()
        self.cpu = {name: process_stats(pid)[2] for name, pid in pids.items()}

    def stop(self):
        seconds = max(1e-3, time.time() - self.started)
        shares = {name: (process_stats(pid)[2] - self.cpu[name]) / seconds for name, pid in self.pids.items()}
        return dict(shares, machine=(machine_busy() - self.busy) / seconds, cores=os.cpu_count(), seconds=seconds)


def fmt_cores(shares):
    """"dispatch 0.62, tansu 0.95, …; the machine 1.85 of 2 cores" from CoreShares.stop()."""
    if not shares:
        return "?"
    named = ", ".join(f"{name} {value:.2f}" for name, value in shares.items() if name not in ("machine", "cores", "seconds"))
    return f"{named}; the machine {shares['machine']:.2f} of {shares['cores']} cores"


def stage_env(broker, prepared, instance):
    return dict(os.environ, SLUICE_BROKERS=broker.bootstrap, SLUICE_TOPIC_PREFIX=prepared["prefix"],
                SLUICE_MASTER_KEY=prepared["master_key"], SLUICE_ALLOW_PRIVATE="1", SLUICE_ALLOW_HTTP="1",
                **BENCH_KAFKA, SLUICE_INSTANCE_ID=instance,
                SLUICE_LOG_LEVEL="warning", SLUICE_TOPOLOGY=os.path.join(ROOT, "topology", "sluice.yaml"))


def scaled_schedule(count, rate):
    """The production delivery contract (schedule 0, 1 m, 10 m, 1 h ×5; tiers 1 m / 10 m / 1 h;
    cool-down 30 s growing to 1 h; max age 24 h) shrunk by one factor, so the mixed runs see
    circuits open, retries and deferrals go round the tiers, and every delivery of a dead
    endpoint reach the DLQ by its maximum age within the run. The factor makes the max age
    three times the time this machine needs to drain `count` deliveries at `rate` (the fast
    run's), and at least 96 s: all deliveries are written at once, and with a max age
    shorter than the drain, healthy deliveries would expire unsent (as in life a backlog
    drains in a small part of 24 h). Returns the environment and the factor."""
    max_age = max(96.0, 3 * count / max(rate, 1.0))
    k = max_age / 86_400
    return contract_schedule(k), k


def contract_schedule(k=1.0):
    """The production delivery contract's schedule, tiers, cool-downs and maximum age, each
    times `k` (1: as in production), as the stages' environment."""
    def ms(seconds):
        return f"{max(1, round(seconds * k * 1000))}ms"
    return dict(SLUICE_RETRY_SCHEDULE=",".join(["0s", ms(60), ms(600)] + [ms(3600)] * 5), SLUICE_RETRY_MAX_AGE=ms(86_400),
                SLUICE_RETRY_TIERS=f"1m={ms(60)},10m={ms(600)},1h={ms(3600)}", SLUICE_CIRCUIT_COOL_DOWN=ms(30),
                SLUICE_CIRCUIT_COOL_DOWN_MAX=ms(3600))


def metric(port, name):
    """The sum of the samples of `name` on the stage's /metrics (0 when absent)."""
    try:
        text = subprocess.run(["curl", "-s", f"http://127.0.0.1:{port}/metrics"], capture_output=True, text=True, timeout=10).stdout
    except subprocess.TimeoutExpired:
        return 0.0
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith(name + " ") or line.startswith(name + "{"))


class DrainCPU:
    """Dispatch's CPU per attempt while it drains, start-up excluded: a thread reads the
    stage's attempts counter (its /metrics) every 50 ms and notes the stage's CPU time at
    the first reading that counts any attempt; ``per_attempt_us`` takes the same two
    figures again at the end. Loading thousands of endpoints and joining the group are
    paid once per start; this is what each delivery costs after that. Over the same span
    it notes the cores used by dispatch and by the `others` ({name: pid}: the broker, the
    sink), in ``cores``."""

    def __init__(self, pid, port, others=None):
        import threading
        self.pid, self.port, self.first = pid, port, None
        self.others, self.shares, self.cores = others or {}, None, None
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.watch, daemon=True)
        self.thread.start()

    def attempts(self):
        return metric(self.port, "sluice_dispatch_attempts_total")

    def watch(self):
        while not self.stopping.wait(0.05):
            attempts = self.attempts()
            if attempts > 0:
                self.first = (attempts, process_stats(self.pid)[2])
                self.shares = CoreShares({"dispatch": self.pid, **self.others})
                return

    def per_attempt_us(self):
        """µs of CPU per attempt from the first attempt seen to now (None if none was seen)."""
        self.stopping.set()
        self.thread.join(5)
        if self.first is None:
            return None
        self.cores = self.shares.stop()
        attempts, cpu = self.attempts(), process_stats(self.pid)[2]
        return (cpu - self.first[1]) / max(1.0, attempts - self.first[0]) * 1e6


def dispatch_run(broker, binaries, sink, count, endpoints, size, mix="fast", flags=(), scaled=None, watch=None, await_finish=True):
    """The real sluice-dispatch draining `count` deliveries to `endpoints` endpoints of the
    sink (`mix`: fast, healthy or mixed, see DispatchBench.swift); its report, RSS and CPU.
    Runs other than `fast` use the scaled schedule with the three retry tiers running, and
    report the tier records written per finished delivery once every delivery finished.
    A `fast` run keeps dispatch's defaults but runs the tiers too, each holding a record
    one second: a burst past an endpoint's buffer is deferred (`buffer_full`) and must come
    back for the run to end; it reports how many were deferred. `watch(pid)`, when given,
    starts watching the stage (a profiler) and returns what stops it. With `await_finish`
    False a run other than `fast` ends once the healthy endpoints are served, without
    waiting for the others' deliveries to reach their end (a schedule of hours)."""
    healthy = os.path.join(ROOT, "bench-results", f"healthy-{mix}.txt")
    prepared = run_json([os.path.join(binaries, "sluice-bench"), "dispatch-prepare", "--brokers", broker.bootstrap,
                         "--count", str(count), "--endpoints", str(endpoints), "--sink", sink.url, "--size", str(size),
                         "--mix", mix, "--healthy", healthy, "--hosts", str(sink.hosts)], timeout=600)
    log = open(os.path.join(ROOT, "bench-results", f"dispatch-{mix}.log"), "w")
    env = stage_env(broker, prepared, f"bench-dispatch-{mix}")
    tiers = []
    port = free_port()
    if mix == "fast" and scaled is None:
        scaled = dict(SLUICE_RETRY_TIERS="1m=1000ms,10m=1000ms,1h=1000ms")
    env = dict(env, **scaled, SLUICE_METRICS_PORT=str(port))
    if sink.tls:
        env["SLUICE_HTTP_CA_FILE"] = os.path.join(sink.tls, "ca.pem")
    for tier in ("1m", "10m", "1h"):
        tier_env = dict(env, SLUICE_INSTANCE_ID=f"bench-retry-{tier}-{mix}", SLUICE_METRICS_PORT="0")
        tiers.append(subprocess.Popen([os.path.join(binaries, "sluice-retry"), "--tier", tier], env=tier_env,
                                      stdout=log, stderr=subprocess.STDOUT))
    stage = subprocess.Popen([os.path.join(binaries, "sluice-dispatch"), *flags], env=env, stdout=log, stderr=subprocess.STDOUT)
    stop_watching = watch(stage.pid) if watch else None
    drain = DrainCPU(stage.pid, port, {"tansu": broker.process.pid, "sink": sink.process.pid})
    try:
        report = run_json([os.path.join(binaries, "sluice-bench"), "attempts", "--brokers", broker.bootstrap, "--prefix",
                           prepared["prefix"], "--count", str(count), "--endpoints", str(endpoints), "--timeout", "600", "--mix", mix,
                           "--healthy", healthy],
                          timeout=700)
        if stage.poll() is not None:
            raise SystemExit(f"sluice-dispatch stopped (exit {stage.returncode}); see {log.name}")
        stats = process_stats(stage.pid)
        report["drain_cpu_us_per_attempt"] = drain.per_attempt_us()
        report["drain_cores"] = drain.cores
        report["deferred"] = metric(port, "sluice_dispatch_deferred_total")
        report["window_limit"] = metric(port, "sluice_dispatch_http_window_limit")
        if mix != "fast" and await_finish:
            deadline = time.time() + 300 + float(scaled["SLUICE_RETRY_MAX_AGE"][:-2]) / 1000
            while metric(port, "sluice_dispatch_finished_total") < count and time.time() < deadline:
                time.sleep(1)
            finished = metric(port, "sluice_dispatch_finished_total")
            report["finished"] = finished
            report["tier_records_per_delivery"] = metric(port, "sluice_dispatch_tier_records_total") / max(1, finished)
            report["requests"] = metric(port, "sluice_dispatch_attempts_total")
        return report, stats
    finally:
        if stop_watching:
            stop_watching()
        for process in [stage, *tiers]:
            process.terminate()
        for process in [stage, *tiers]:
            process.wait(30)


def dispatch(broker, binaries, tools, count, endpoints, size, concurrency, wrk_seconds, mixed_endpoints):
    """Dispatch to the fast sink beside wrk and a bare libcurl multi client at the same
    concurrency; then `mixed_endpoints` endpoints of mixed health (20 % slow, failing or
    black holes), 50 deliveries each, against all healthy."""
    mixed_count = 50 * mixed_endpoints
    sink = Sink(tools)
    try:
        wrk_rate, _ = http_limits(tools, sink, concurrency, min(count, 200_000), wrk_seconds, size)
        sweep = curl_sweep(tools, sink, min(count, 100_000), size)
        best = max(sweep, key=sweep.get)
        curl_rate = sweep[best]
        # Dispatch at its defaults (in-flight bound 2,000, its HTTP window adapting within it).
        report, (rss, peak, cpu) = dispatch_run(broker, binaries, sink, count, endpoints, size)
        # The same endpoints spread over many hosts (a connection pool each), as in life.
        spread_sink = Sink(tools, hosts=SPREAD_HOSTS)
        try:
            spread_sweep = curl_sweep(tools, spread_sink, min(count, 100_000), size)
            spread, _ = dispatch_run(broker, binaries, spread_sink, count, endpoints, size)
        finally:
            spread_sink.stop()
        # The same over HTTPS (the sink with a throwaway CA's certificate; dispatch trusts it
        # through SLUICE_HTTP_CA_FILE), as most endpoints are.
        tls_sink = Sink(tools, tls=certificates())
        try:
            tls_sweep = curl_sweep(tools, tls_sink, min(count, 100_000), size)
            secure, (secure_rss, secure_peak, _) = dispatch_run(broker, binaries, tls_sink, count, endpoints, size)
        finally:
            tls_sink.stop()
        scaled, factor = scaled_schedule(mixed_count, report["per_s"])
        healthy, _ = dispatch_run(broker, binaries, sink, mixed_count, mixed_endpoints, size, "healthy", scaled=scaled)
        mixed, (mixed_rss, mixed_peak, _) = dispatch_run(broker, binaries, sink, mixed_count, mixed_endpoints, size, "mixed", scaled=scaled)
    finally:
        sink.stop()
    rows = [
        {"figure": f"dispatch: deliveries/s, {endpoints:,} endpoints, fast sink", "unit": "deliveries/s",
         "sluice": report["per_s"], "limit": curl_rate,
         "limit_source": f"bare libcurl multi at its best, {best} in flight (of {', '.join(map(str, CURL_SWEEP))}; wrk: {wrk_rate:,.0f}/s)"},
        {"figure": f"dispatch: the same over {SPREAD_HOSTS} hosts", "unit": "deliveries/s",
         "sluice": spread["per_s"], "limit": max(spread_sweep.values()),
         "limit_source": f"bare libcurl multi at its best over the same {SPREAD_HOSTS} hosts, {max(spread_sweep, key=spread_sweep.get)} in flight"},
        {"figure": "dispatch: the same over HTTPS", "unit": "deliveries/s",
         "sluice": secure["per_s"], "limit": max(tls_sweep.values()),
         "limit_source": f"bare libcurl multi over HTTPS at its best, {max(tls_sweep, key=tls_sweep.get)} in flight (the same sink)"},
        {"figure": f"dispatch, {mixed_endpoints:,} mixed endpoints: to the 80 % healthy", "unit": "deliveries/s",
         "sluice": mixed["healthy"]["per_s"], "limit": healthy["healthy"]["per_s"],
         "limit_source": "the same endpoints in a run where every endpoint is healthy (5-50 ms)"},
        {"figure": f"dispatch, {mixed_endpoints:,} mixed endpoints: healthy p99 (ms)", "unit": "ms",
         "sluice": mixed["healthy"]["latency_ms"]["p99"], "limit": healthy["healthy"]["latency_ms"]["p99"],
         "limit_source": "the same, every endpoint healthy (lower is better)"},
    ]
    extra = {
        "dispatch_latency_ms": report["latency_ms"], "dispatch_rss_mib": rss, "dispatch_peak_rss_mib": peak,
        "dispatch_cpu_s_per_1000": cpu / max(1, report["attempts"]) * 1000,
        "dispatch_drain_cpu_us": report["drain_cpu_us_per_attempt"], "spread_drain_cpu_us": spread["drain_cpu_us_per_attempt"],
        "dispatch_drain_cores": report.get("drain_cores"), "spread_drain_cores": spread.get("drain_cores"), "wrk_per_s": wrk_rate, "curl_per_s": curl_rate,
        "curl_sweep_per_s": {str(c): r for c, r in sweep.items()},
        "spread_hosts": SPREAD_HOSTS, "spread_curl_sweep_per_s": {str(c): r for c, r in spread_sweep.items()},
        "https_curl_sweep_per_s": {str(c): r for c, r in tls_sweep.items()}, "https_drain_cpu_us": secure["drain_cpu_us_per_attempt"],
        "https_drain_cores": secure.get("drain_cores"), "https_rss_mib": secure_rss, "https_peak_rss_mib": secure_peak,
        "https_window_limit": secure["window_limit"], "https_latency_ms": secure["latency_ms"],
        "attempts": report["attempts"], "delivered": report["delivered"], "deferred": report["deferred"],
        "window_limit": report["window_limit"], "spread_window_limit": spread["window_limit"],
        "mixed": mixed, "all_healthy": healthy, "mixed_rss_mib": mixed_rss, "mixed_peak_rss_mib": mixed_peak,
        "mixed_endpoints": mixed_endpoints, "scaled_schedule": scaled, "scale_factor": factor,
        # Dispatch's own work per delivery (read, sign, write the attempt) on one thread, no
        # broker or socket: the rest of its CPU per delivery is curl, the kernel, librdkafka.
        "own_work": run_json([os.path.join(binaries, "sluice-bench"), "attempt-work", "--count", "200000", "--size", str(size)], timeout=600),
    }
    return rows, extra


def pipeline_ready(broker, binaries, prepared, receipts, timeout=120):
    """Waits until the stages just started deliver: publishes one event (id `ready-0`, a
    bench tenant with endpoints) and waits for its receipt at the sink, so a run's first
    events do not wait for the groups to form. Returns the receipts' line count then."""
    times_path = os.path.join(ROOT, "bench-results", "ready-times.json")
    run_json([os.path.join(binaries, "sluice-bench"), "publish", "--brokers", broker.bootstrap, "--prefix", prepared["prefix"],
              "--count", "1", "--ids", "ready-", "--times", times_path], timeout=120)
    deadline = time.time() + timeout
    while time.time() < deadline:
        lines = open(receipts).read().splitlines()
        if any(line.split()[1:] == ["ready-0"] for line in lines):
            return len(lines)
        time.sleep(0.2)
    raise SystemExit(f"the stages delivered nothing within {timeout} s of starting: see bench-results/*.log for their output")


def live_run(broker, binaries, prepared, receipts, received_before, count, rate, size, timeout=120):
    """Publishes `count` events (ids e2e-N) to the 32 bench tenants at `rate` per second and
    measures publish -> receipt at the sink for each, reading the sink's receipts after line
    `received_before`, and splits it into hops (Benchmarks/hops.py). Returns the run's figures
    and the receipts' line count after it."""
    tail = hops.DeliveryTail(broker.bootstrap, prepared["prefix"] + "deliveries")
    times_path = os.path.join(ROOT, "bench-results", "publish-times.json")
    published = run_json([os.path.join(binaries, "sluice-bench"), "publish", "--brokers", broker.bootstrap,
                          "--prefix", prepared["prefix"], "--count", str(count), "--rate", str(rate),
                          "--size", str(size), "--times", times_path], timeout=600)
    sent = json.load(open(times_path))
    deadline = time.time() + timeout
    got = {}
    while time.time() < deadline:
        lines = open(receipts).read().splitlines()[received_before:]
        got = {}
        for line in lines:
            parts = line.split()
            if len(parts) == 2 and parts[1] in sent and parts[1] not in got:
                got[parts[1]] = float(parts[0])
        if len(got) >= count:
            break
        time.sleep(0.5)
    received_after = len(open(receipts).read().splitlines())
    split = hops.split(sent, tail.stop(), got)
    latencies = sorted((got[i] - sent[i]) * 1000 for i in got)
    events = sorted([(t, 1) for t in sent.values()] + [(t, -1) for t in got.values()])
    backlog = peak = 0
    for _, step in events:
        backlog += step
        peak = max(peak, backlog)
    span = (max(got.values()) - min(sent.values())) if got else float("nan")
    return {"count": count, "rate": rate, "received": len(got), "published_per_s": published["per_s"],
            "delivered_per_s": len(got) / span if got else 0, "seconds_to_all": span,
            "p50_ms": hops.percentile(latencies, 0.5), "p99_ms": hops.percentile(latencies, 0.99), "peak_backlog": peak, "hops": split, "latencies_ms": latencies}, received_after


def end_to_end(broker, binaries, tools, runs, size):
    """fanout + dispatch (the real executables) to the fast sink: each run publishes
    `count` events at `rate` per second (0: as fast as possible, a burst) and measures
    publish -> receipt at the sink per event, and the most events published but not yet
    received at any moment (the backlog's peak)."""
    receipts = os.path.join(ROOT, "bench-results", "receipts.log")
    sink = Sink(tools, receipts)
    prepared = run_json([os.path.join(binaries, "sluice-bench"), "dispatch-prepare", "--brokers", broker.bootstrap,
                         "--count", "0", "--endpoints", "32", "--sink", sink.url])
    log = open(os.path.join(ROOT, "bench-results", "e2e.log"), "w")
    # The whole pipeline: a delivery deferred (an endpoint's buffer full) comes back through
    # the 1m tier; dlq watch runs for its RSS.
    commands = [["sluice-dispatch"], ["sluice-retry", "--tier", "1m"], ["sluice-dlq", "watch"], ["sluice-fanout"]]
    stages = [subprocess.Popen([os.path.join(binaries, c[0])] + c[1:], env=stage_env(broker, prepared, f"bench-{'-'.join(c)}"),
                               stdout=log, stderr=subprocess.STDOUT) for c in commands]
    results = []
    try:
        received_before = pipeline_ready(broker, binaries, prepared, receipts)
        for count, rate in runs:
            shares = CoreShares({"tansu": broker.process.pid, **{c[0].removeprefix("sluice-"): p.pid for c, p in zip(commands, stages)
                                                                   if c[0] in ("sluice-fanout", "sluice-dispatch")}})
            result, received_before = live_run(broker, binaries, prepared, receipts, received_before, count, rate, size)
            result["cores"] = shares.stop()
            result.pop("latencies_ms")
            results.append(result)
        cpu = {" ".join([p.args[0].rsplit("/", 1)[1]] + p.args[1:]): process_stats(p.pid) for p in stages}
    finally:
        for p in stages:
            p.terminate()
            p.wait(30)
        sink.stop()
    return results, cpu


def bare_pipeline(broker, runs, size, options=()):
    """The end-to-end runs' raw limit: the same two Kafka hops (publish, a transaction per
    poll, a consumer) with nothing of Sluice, on the same broker, after the stages stopped
    (Benchmarks/bare_pipeline.py, with its `options`: `make bench-broker` sweeps them);
    each run with the cores Tansu and the machine used."""
    env = dict(os.environ, PYTHONPATH=os.path.join(DEPS, "py"))
    shares = CoreShares({"tansu": broker.process.pid})
    result = run_json([sys.executable, os.path.join(ROOT, "Benchmarks", "bare_pipeline.py"), "--brokers", broker.bootstrap,
                       "--runs", ",".join(f"{c}@{r}" for c, r in runs), "--size", str(size), *options], env=env, timeout=900)
    if result["error"]:
        raise SystemExit(f"the bare pipeline failed: {result['error']}")
    return dict(result, cores=shares.stop())


def end_to_end_rows(sluice, bare):
    """publish -> receipt p50 and p99 of each end-to-end run beside the bare pipeline's
    same run (lower is better)."""
    rows = []
    for ours, theirs in zip(sluice, bare["runs"]):
        label = f"{ours['rate']:,}/s" if ours["rate"] else f"a {ours['count']:,}-event burst"
        for q in ("p50", "p99"):
            rows.append({"figure": f"end to end at {label}: {q} (ms)", "unit": "ms", "sluice": ours[f"{q}_ms"],
                         "limit": theirs[f"{q}_ms"],
                         "limit_source": "the same two Kafka hops with nothing of Sluice (confluent-kafka; lower is better)"})
    return rows


def connection_memory(binaries, count=1000):
    """The memory dispatch's HTTP client holds per connection, plain and over TLS:
    `sluice-bench connections` keeps `count` POSTs under way at once to the test receiver
    (Tests/Tools/test_receiver.py, answering after 3 s), over HTTP, then over HTTPS with a
    certificate from a throwaway CA (`certificates`) pinned as dispatch pins."""
    folder = certificates()
    ca = os.path.join(folder, "ca.pem")
    script = os.path.join(ROOT, "Tests", "Tools", "test_receiver.py")
    results = {}
    tls = ["--tls-cert", os.path.join(folder, "server.pem"), "--tls-key", os.path.join(folder, "server.key")]
    for name, extra in (("http", []), ("https", tls)):
        port = free_port()
        receiver = subprocess.Popen([sys.executable, script, "--port", str(port), *extra], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            if not wait_for_port(port, 10):
                raise SystemExit("the test receiver did not start")
            if name == "http":
                target = ["--sink", f"http://127.0.0.1:{port}/delay/3000"]
            else:
                target = ["--sink", f"https://hooks.sluice.test:{port}/delay/3000", "--ca-file", ca, "--resolve", f"hooks.sluice.test:{port}:127.0.0.1"]
            results[name] = run_json([os.path.join(binaries, "sluice-bench"), "connections", "--count", str(count), "--size", "400", *target], timeout=120)
        finally:
            receiver.terminate()
            receiver.wait(10)
    return results


def main():
    import admin as admin_bench  # Benchmarks/admin.py (make bench-admin alone); it imports this file's helpers
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True, help="folder of the release executables")
    parser.add_argument("--mode", choices=["quick", "full"], default="quick")
    args = parser.parse_args()
    os.makedirs(os.path.join(ROOT, "bench-results"), exist_ok=True)
    # A thousand connections at once (the connection memory row), for the bench's children too.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 65536 if hard == resource.RLIM_INFINITY else min(65536, hard)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    count = 50_000 if args.mode == "quick" else 300_000
    fanout_events = 10_000 if args.mode == "quick" else 50_000

    dispatch_count = 20_000 if args.mode == "quick" else 100_000
    dispatch_endpoints = 1_000 if args.mode == "quick" else 5_000
    tools = build_tools()
    broker = Tansu()
    try:
        rows, raw = kafka_layer(broker, args.bin, count, 200)
        fanout_rows, raw["fanout"] = fanout(broker, args.bin, fanout_events, 400)
        rows += fanout_rows
        dispatch_rows, raw["dispatch"] = dispatch(broker, args.bin, tools, dispatch_count, dispatch_endpoints, 400, 2000,
                                                  5 if args.mode == "quick" else 10, 1_000 if args.mode == "quick" else 5_000)
        rows += dispatch_rows
        raw["connections"] = connection_memory(args.bin)
        # Low load first (latency with nothing queued: the hops' own waits), then 2,000/s, then a burst.
        low = (1_000, 100) if args.mode == "quick" else (3_000, 100)
        steady = (10_000, 2000) if args.mode == "quick" else (40_000, 2000)
        burst = (20_000, 0) if args.mode == "quick" else (50_000, 0)
        raw["end_to_end"], raw["end_to_end_processes"] = end_to_end(broker, args.bin, tools, [low, steady, burst], 400)
        raw["bare_pipeline"] = bare_pipeline(broker, [low, steady, burst], 400)
        rows += end_to_end_rows(raw["end_to_end"], raw["bare_pipeline"])
        admin_rows, raw["admin"] = admin_bench.admin_rows(broker, args.bin, args.mode)
        tansu_version = broker.version()
    finally:
        broker.stop()

    curl_version = subprocess.run(["curl", "--version"], capture_output=True, text=True).stdout.split("\n")[0].split(" ")[1]
    print(f"Sluice benchmark ({args.mode}): {os.cpu_count()} cores, {platform.machine()}, {tansu_version}, "
          f"{raw['ours']['client']}, libcurl {curl_version}")
    width = max(len(r["figure"]) for r in rows)
    print(f"{'figure':<{width}}  {'sluice':>12}  {'raw limit':>12}  {'ratio':>6}  limit measured with")
    for r in rows:
        ratio = r["sluice"] / r["limit"] if r["limit"] else float("nan")
        print(f"{r['figure']:<{width}}  {r['sluice']:>12,.0f}  {r['limit']:>12,.0f}  {ratio:>6.2f}  {r['limit_source']}")
    d = raw["dispatch"]
    lat = d["dispatch_latency_ms"]
    print(f"dispatch: attempt latency p50 {lat['p50']:.1f} ms, p99 {lat['p99']:.1f} ms, p999 {lat['p999']:.1f} ms "
          f"(fast sink); RSS {d['dispatch_rss_mib']:.0f} MiB (peak {d['dispatch_peak_rss_mib']:.0f}); "
          f"{d['dispatch_cpu_s_per_1000']:.3f} CPU s per 1,000 deliveries with start-up, {fmt_us(d['dispatch_drain_cpu_us'])} CPU µs per "
          f"delivery while draining ({fmt_us(d['spread_drain_cpu_us'])} over {d['spread_hosts']} hosts; its own work, one thread "
          f"without a broker: {fmt_us(d.get('own_work', {}).get('cpu_us_per_delivery'), 1)}); "
          f"{d['deferred']:,.0f} deferred to a tier and back; HTTP window {d['window_limit']:,.0f} young transfers at the end "
          f"({d['spread_window_limit']:,.0f} over {d['spread_hosts']} hosts, {d['mixed']['window_limit']:,.0f} mixed)")
    for f in raw["fanout"]:
        print(f"fanout x{f['factor']}: {fmt_us(f.get('cpu_us_per_delivery'))} CPU µs per delivery written "
              f"(the bare loop: {fmt_us(f.get('limit_cpu_us_per_delivery'))} per record), first transaction to last event; "
              f"its own work (decode, match, write; one thread, no broker) {fmt_us(f.get('transform', {}).get('cpu_us_per_event'), 1)} "
              f"per event; the bare loop before and after the stage: "
              f"{' / '.join(f'{x:,.0f}' for x in f.get('limit_events_per_s_before_and_after', []))} events/s (the limit: their mean)")
    print(f"cores used while dispatch drained: {fmt_cores(d.get('dispatch_drain_cores'))}; over {d['spread_hosts']} hosts: "
          f"{fmt_cores(d.get('spread_drain_cores'))}")
    print("bare libcurl multi to the sink by concurrency: " + ", ".join(f"{c} in flight {r:,.0f}/s" for c, r in d["curl_sweep_per_s"].items()))
    print(f"the same over {d['spread_hosts']} hosts: " + ", ".join(f"{c} in flight {r:,.0f}/s" for c, r in d["spread_curl_sweep_per_s"].items()))
    print("over HTTPS: " + ", ".join(f"{c} in flight {r:,.0f}/s" for c, r in d["https_curl_sweep_per_s"].items()))
    lat = d["https_latency_ms"]
    print(f"dispatch over HTTPS: {fmt_us(d['https_drain_cpu_us'])} CPU µs per delivery while draining; attempt latency p50 "
          f"{lat['p50']:.1f} ms, p99 {lat['p99']:.1f} ms; RSS {d['https_rss_mib']:.0f} MiB (peak {d['https_peak_rss_mib']:.0f}); "
          f"HTTP window {d['https_window_limit']:,.0f}; cores while it drained: {fmt_cores(d.get('https_drain_cores'))}")
    c = raw["connections"]
    print(f"dispatch's HTTP client, {c['http']['connections']:,} connections under way at once: "
          + "; ".join(f"{name.upper()} {c[name]['kib_per_connection_at_peak']:.0f} KiB of RSS per connection at the peak, "
                      f"{c[name]['kib_per_connection_kept']:.0f} kept open after a trim ({c[name]['failed']} failed)" for name in ("http", "https")))
    m = d["mixed"]["healthy"]["latency_ms"]
    n = d["mixed_endpoints"]
    print(f"dispatch, {n:,} mixed endpoints: healthy p50 {m['p50']:.1f} ms, p99 {m['p99']:.1f} ms; "
          f"RSS {d['mixed_rss_mib']:.0f} MiB (peak {d['mixed_peak_rss_mib']:.0f}) with {n:,} endpoints")
    mixed = d["mixed"]
    scale = d["scaled_schedule"]
    max_age = float(scale["SLUICE_RETRY_MAX_AGE"][:-2]) / 1000
    largest = float(scale["SLUICE_CIRCUIT_COOL_DOWN_MAX"][:-2]) / 1000
    print(f"dispatch, {n:,} mixed endpoints, 50 deliveries each (production schedule × {d['scale_factor']:.5f}: max age {max_age:.0f} s, "
          f"largest tier and cool-down {largest:.1f} s): {mixed.get('finished', 0):,.0f} of {50 * n:,} finished, "
          f"{mixed.get('delivered', 0):,.0f} delivered, {mixed.get('tier_records_per_delivery', 0):.2f} tier records per delivery "
          f"(bound: 8 attempts + 3 + 2 + {max_age:.0f} s / {largest:.1f} s = {13 + max_age / largest:.0f}), {mixed.get('requests', 0):,.0f} requests; "
          f"all healthy: {d['all_healthy'].get('delivered', 0):,.0f} delivered")
    for run in raw["end_to_end"]:
        label = f"{run['rate']:,}/s offered" if run["rate"] else "burst, as fast as possible"
        print(f"end to end ({run['count']:,} events, {label}): {run['received']:,} received, p50 {run['p50_ms']:.0f} ms, "
              f"p99 {run['p99_ms']:.0f} ms, {run['delivered_per_s']:,.0f} delivered/s, all in {run['seconds_to_all']:.1f} s, "
              f"peak backlog {run['peak_backlog']:,}")
        print(f"  cores used: {fmt_cores(run.get('cores'))}")
        h = run["hops"]
        print(f"  hops over {h['events']:,} events (p50 / p99 ms): " + ", ".join(
            f"{name} {h[name]['p50_ms']:.0f} / {h[name]['p99_ms']:.0f}" for name in ("fanout", "commit", "dispatch"))
              + " (fanout: publish -> produced; commit: produced -> visible to the stages, read_uncommitted; dispatch: visible -> received)")
    bare = raw["bare_pipeline"]
    runs = "; ".join(f"{r['count']:,} {'at ' + format(r['rate'], ',') + '/s' if r['rate'] else 'at once'}: p50 {r['p50_ms']:.0f} ms, "
                     f"p99 {r['p99_ms']:.0f} ms" for r in bare["runs"])
    print(f"the bare pipeline (the same two hops, nothing of Sluice): {runs}; cores over its runs: {fmt_cores(bare['cores'])}")
    # Each event has one endpoint in these runs: one event through fanout is one delivery.
    events = sum(run["received"] for run in raw["end_to_end"])
    for name, (rss, peak, cpu) in raw["end_to_end_processes"].items():
        print(f"{name}: RSS {rss:.0f} MiB (peak {peak:.0f}), {cpu:.1f} CPU s over the end-to-end runs "
              f"({cpu / max(1, events) * 1e6:.0f} µs per event delivered, {events:,} events, idle time included)")
    admin_bench.print_admin(admin_rows, raw["admin"])
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path = os.path.join(ROOT, "bench-results", f"bench-{args.mode}-{stamp}.json")
    with open(path, "w") as f:
        json.dump({"mode": args.mode, "cores": os.cpu_count(), "tansu": tansu_version, "libcurl": curl_version, "rows": rows + admin_rows,
                   "raw": raw}, f, indent=2)
    print(path)


if __name__ == "__main__":
    main()
