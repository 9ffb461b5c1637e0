"""A webhook receiver for Sluice's tests: a real HTTP/1.1 server on loopback that fails on demand.

Paths (any method; webhooks are POSTs), after any prefix of the test's own (/t-1234/status/503):
  /ok, anything else     200 "ok"
  /status/CODE           that status; ?retry_after=V adds Retry-After, ?location=U adds Location
  /delay/MS              waits MS milliseconds, then 200
  /reset                 closes the connection with a TCP reset, no answer
  /blackhole             reads the request and never answers
  /redirect              302 to /ok
  /close                 200 "ok", then closes the connection (Connection: close)
  /flaky/N/...           500 for the first N requests to this exact path, then 200;
                         ?status=S sets the failing status, ?retry_after=V adds Retry-After to it
  /flakyeach/N/...       500 for the first N requests of each webhook-id to this path, then 200
Control (GET):
  /_requests?prefix=P    the requests received whose path starts with P, as JSON (each with the
                         client's port: requests on one kept-alive connection share it)
  /_stats                {"count": …, "max_concurrent": …}

    python3 Tests/Tools/test_receiver.py --port 8080
    python3 Tests/Tools/test_receiver.py --port 8443 --tls-cert server.pem --tls-key server.key   (HTTPS)
    python3 Tests/Tools/test_receiver.py --port 8443 --tls-make DIR   (HTTPS, a throwaway CA in DIR)
"""
import argparse
import base64
import json
import os
import socket
import ssl
import struct
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

KEYWORDS = {"status", "delay", "reset", "blackhole", "redirect", "flaky", "flakyeach", "close", "large"}
lock = threading.Lock()
received = []
flaky_counts = {}
stats = {"count": 0, "concurrent": 0, "max_concurrent": 0}
stopping = threading.Event()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        url = urlparse(self.path)
        if url.path == "/_requests":
            prefix = parse_qs(url.query).get("prefix", [""])[0]
            with lock:
                body = json.dumps([r for r in received if r["path"].startswith(prefix)]).encode()
            return self.answer(200, body, content_type="application/json")
        if url.path == "/_stats":
            with lock:
                body = json.dumps({"count": stats["count"], "max_concurrent": stats["max_concurrent"]}).encode()
            return self.answer(200, body, content_type="application/json")
        return self.handle_webhook()

    def do_POST(self):
        return self.handle_webhook()

    do_PUT = do_POST

    def answer(self, status, body=b"ok", headers=(), content_type="text/plain"):
        if status in (204, 304) or status < 200:
            # No body may follow these: a client ignores it, and the bytes left on a kept-alive
            # connection would be read as the start of the next response.
            body = b""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def handle_webhook(self):
        length = int(self.headers.get("Content-Length", "0") or 0)
        body = self.rfile.read(length) if length else b""
        url = urlparse(self.path)
        with lock:
            stats["count"] += 1
            stats["concurrent"] += 1
            stats["max_concurrent"] = max(stats["max_concurrent"], stats["concurrent"])
            received.append({
                "path": url.path, "time": time.time(), "peer_port": self.client_address[1],
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body_base64": base64.b64encode(body).decode(),
            })
        try:
            self.route(url)
        finally:
            with lock:
                stats["concurrent"] -= 1

    def route(self, url):
        # Tests prefix their paths (/t-1234/status/503): act on the first known keyword.
        parts = url.path.strip("/").split("/")
        for i, part in enumerate(parts):
            if part in KEYWORDS:
                parts = parts[i:]
                break
        query = parse_qs(url.query)
        if parts[0] == "status" and len(parts) > 1:
            headers = []
            if "retry_after" in query:
                headers.append(("Retry-After", query["retry_after"][0]))
            if "location" in query:
                headers.append(("Location", query["location"][0]))
            return self.answer(int(parts[1]), b"status %s" % parts[1].encode(), headers)
        if parts[0] == "delay" and len(parts) > 1:
            stopping.wait(int(parts[1]) / 1000)
            return self.answer(200)
        if parts[0] == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return
        if parts[0] == "blackhole":
            stopping.wait(3600)
            self.close_connection = True
            return
        if parts[0] == "close":
            # 200, then the connection is closed: the client's next request opens a new one.
            self.close_connection = True
            return self.answer(200, headers=[("Connection", "close")])
        if parts[0] == "large" and len(parts) > 1:
            # An answer larger than a client's receive buffer: a 3,000-byte header before
            # Retry-After, then a body of the given size (digits, repeating).
            headers = [("X-Padding", "p" * 3000), ("Retry-After", "9")]
            body = (b"0123456789" * (int(parts[1]) // 10 + 1))[: int(parts[1])]
            return self.answer(503, body, headers)
        if parts[0] == "redirect":
            return self.answer(302, b"moved", [("Location", "/ok")])
        if parts[0] == "flaky" and len(parts) > 1:
            with lock:
                seen = flaky_counts.get(url.path, 0)
                flaky_counts[url.path] = seen + 1
            if seen >= int(parts[1]):
                return self.answer(200)
            headers = [("Retry-After", query["retry_after"][0])] if "retry_after" in query else []
            return self.answer(int(query.get("status", ["500"])[0]), b"flaky", headers)
        if parts[0] == "flakyeach" and len(parts) > 1:
            key = (url.path, self.headers.get("webhook-id", ""))
            with lock:
                seen = flaky_counts.get(key, 0)
                flaky_counts[key] = seen + 1
            return self.answer(500 if seen < int(parts[1]) else 200)
        return self.answer(200)


class Server(ThreadingHTTPServer):
    # The listen backlog must be set before the socket listens (in the constructor).
    request_queue_size = 1024
    daemon_threads = True


class TLSServer(Server):
    """HTTPS: each connection's handshake runs on its own thread, so a client that refuses
    the certificate (as a verifying client must when it does not trust it) holds up no one."""
    context = None

    def get_request(self):
        sock, address = self.socket.accept()
        return self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), address

    def finish_request(self, request, client_address):
        try:
            request.settimeout(10)
            request.do_handshake()
            request.settimeout(None)
        except (ssl.SSLError, OSError):
            return
        super().finish_request(request, client_address)


SERVER_NAME = "hooks.sluice.test"


def make_certificates(folder):
    """A throwaway certificate authority (`folder`/ca.pem: what a client trusts) and a server
    certificate it signed for SERVER_NAME and 127.0.0.1 (EC P-256, valid two days), made with
    the openssl command; returns the server's (certificate, key) paths."""
    os.makedirs(folder, exist_ok=True)
    ca, ca_key, key, csr, cert, ext = (os.path.join(folder, n) for n in ("ca.pem", "ca.key", "server.key", "server.csr", "server.pem", "server.ext"))
    with open(ext, "w") as f:
        f.write(f"subjectAltName = DNS:{SERVER_NAME}, IP:127.0.0.1\nbasicConstraints = CA:FALSE\n"
                "keyUsage = digitalSignature\nextendedKeyUsage = serverAuth\n")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    for command in (["req", "-x509", *ec, "-keyout", ca_key, "-out", ca, "-days", "2", "-subj", "/CN=Sluice test CA",
                     "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
                    ["req", *ec, "-keyout", key, "-out", csr, "-subj", f"/CN={SERVER_NAME}"],
                    ["x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-out", cert, "-days", "2", "-extfile", ext]):
        done = subprocess.run(["openssl", *command], capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"openssl {command[0]} failed (exit {done.returncode}): {done.stderr.strip()}")
    return cert, key


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--tls-cert", help="serve HTTPS with this PEM certificate (chain) …")
    parser.add_argument("--tls-key", help="… and this PEM key")
    parser.add_argument("--tls-make", metavar="DIR", help=f"serve HTTPS with a certificate for {SERVER_NAME} and 127.0.0.1 "
                        "from a throwaway CA made in DIR (DIR/ca.pem is what clients trust)")
    args = parser.parse_args()
    if args.tls_make:
        args.tls_cert, args.tls_key = make_certificates(args.tls_make)
    if args.tls_cert:
        TLSServer.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        TLSServer.context.load_cert_chain(args.tls_cert, args.tls_key)
        server = TLSServer(("127.0.0.1", args.port), Handler)
    else:
        server = Server(("127.0.0.1", args.port), Handler)
    print("ready", flush=True)
    try:
        server.serve_forever()
    finally:
        stopping.set()


if __name__ == "__main__":
    main()
