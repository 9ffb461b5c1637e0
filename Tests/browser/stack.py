"""The real pipeline for the browser tests: a fresh Tansu broker on a free port, the
topology, every stage (fanout, dispatch, the three retry tiers with short delays, dlq watch)
and sluice-admin, plus a receiver on loopback whose answer the tests choose.

Everything started here is stopped by `Stack.stop()` (SIGTERM, then SIGKILL after 10 s), by
its own process id."""
import base64
import json
import os
import random
import socket
import subprocess
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def free_port():
    """A free loopback port below the system's range for outgoing connections, which any
    connection could take between this check and the bind (as `LoopbackPortPool` picks)."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            ephemeral = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        ephemeral = 32768
    for _ in range(256 if ephemeral > 12000 else 0):
        port = random.randrange(10000, ephemeral)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        if port not in _given:
            _given.add(port)
            return port
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_given = set()


def wait_for(check, timeout, what, interval=0.2):
    """Polls `check` until it returns a truthy value, at most `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except Exception as error:  # noqa: BLE001 - a poll retries on any failure
            last_error = error
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}" + (f" (last error: {last_error})" if last_error else ""))


class Receiver:
    """A webhook receiver on loopback: answers every POST with `status` and `body` (set by
    the tests), and counts what it got."""

    def __init__(self):
        self.status = 204
        self.body = b""
        self.received = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("content-length") or 0)
                receiver.received.append((self.headers.get("webhook-id"), self.rfile.read(length)))
                body = receiver.body
                self.send_response(receiver.status)
                self.send_header("content-type", "text/html")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, status, body=b""):
        self.status, self.body = status, body

    def stop(self):
        self.server.shutdown()


class Stack:
    def __init__(self, bin_dir, root, work):
        self.bin, self.root, self.work = bin_dir, root, work
        self.processes = []
        self.broker_port = free_port()
        self.admin_port = free_port()
        self.url = f"http://127.0.0.1:{self.admin_port}"
        self.env = dict(os.environ)
        self.env.update({
            "SLUICE_BROKERS": f"127.0.0.1:{self.broker_port}", "SLUICE_TOPOLOGY": os.path.join(root, "topology/sluice.yaml"),
            "SLUICE_LOG_LEVEL": "warning", "SLUICE_MASTER_KEY": base64.b64encode(os.urandom(32)).decode(),
            "SLUICE_ALLOW_PRIVATE": "1", "SLUICE_ALLOW_HTTP": "1", "SLUICE_KAFKA_PROFILE": "tansu",
            # Three attempts a second apart, then the dead-letter topic; tiers in seconds.
            "SLUICE_RETRY_SCHEDULE": "0s,1s,1s", "SLUICE_RETRY_TIERS": "1m=1s,10m=2s,1h=3s", "SLUICE_CIRCUIT_THRESHOLD": "1000",
            "SLUICE_DASHBOARD_INSECURE_COOKIES": "1", "SLUICE_METRICS_PORT": "0", "SLUICE_INSTANCE_ID": "browser",
        })

    def start(self, name, args, env=None):
        log = open(os.path.join(self.work, f"{name}.log"), "wb")
        process = subprocess.Popen(args, env={**self.env, **(env or {})}, stdout=log, stderr=subprocess.STDOUT, cwd=self.work)
        self.processes.append((name, process))
        return process

    def sluice(self, *args):
        done = subprocess.run([os.path.join(self.bin, "sluice"), *args], env=self.env, capture_output=True, text=True, timeout=120, cwd=self.work)
        if done.returncode != 0:
            raise AssertionError(f"sluice {' '.join(args)} failed: {done.stderr}")
        return done.stdout

    def up(self):
        tansu = os.path.join(self.root, ".deps/bin/tansu")
        listener = f"tcp://127.0.0.1:{self.broker_port}"
        self.start("tansu", [tansu, "broker", "--listener-url", listener, "--advertised-listener-url", listener, "--storage-engine", "memory://tansu/"])
        wait_for(lambda: socket.create_connection(("127.0.0.1", self.broker_port), timeout=1).close() or True, 30, "Tansu")
        self.sluice("topology", "apply")
        self.admin_key = json.loads(self.sluice("keys", "create", "--admin", "--json").strip().splitlines()[-1])["key"]
        for name, executable, extra in [
            ("dispatch", "sluice-dispatch", []), ("retry-1m", "sluice-retry", ["--tier", "1m"]), ("retry-10m", "sluice-retry", ["--tier", "10m"]),
            ("retry-1h", "sluice-retry", ["--tier", "1h"]), ("dlq", "sluice-dlq", ["watch"]), ("fanout", "sluice-fanout", []),
        ]:
            self.start(name, [os.path.join(self.bin, executable), *extra])
        self.start("admin", [os.path.join(self.bin, "sluice-admin")],
                   {"SLUICE_ADMIN_PORT": str(self.admin_port), "SLUICE_ADMIN_STORE": os.path.join(self.work, "store.sqlite")})
        wait_for(lambda: urllib.request.urlopen(self.url + "/readyz", timeout=5).status == 200, 180, "sluice-admin /readyz")

    def api(self, method, path, body=None, key=None):
        """A request to the admin API with the admin key (or `key`); the JSON answer."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Authorization": f"Bearer {key or self.admin_key}", "content-type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as answer:
            text = answer.read()
            return json.loads(text) if text else None

    def stop(self):
        for _, process in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
        for name, process in reversed(self.processes):
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def died(self):
        """The names of started processes that have exited."""
        return [name for name, process in self.processes if process.poll() is not None]
