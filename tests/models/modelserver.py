#!/usr/bin/env python3
"""modelserver.py: a file server on 127.0.0.1 for the model tests, with faults.

Serves the files of --root (GET and HEAD, Range: bytes=N- / N-M answered with 206).
Faults are set per path in the JSON file --faults (re-read on every request):
  {"/tiny.gguf": {"cut_at": 100000, "times": 1}}
  cut_at N        send the first N body bytes of the response, then close the connection
  stall_at N      send N body bytes, then send nothing for 'stall_s' seconds (default 3600)
  no_range true   ignore Range: always 200 and the whole file
  wrong_at N      flip the byte at file offset N
  fake_length N   announce Content-Length N (and send the real bytes, then close)
  status N        answer with this HTTP status and no body
  rate B          send at most B body bytes per second (16 KiB pieces)
  times K         the fault applies to the next K requests of the path (default: all)
GET /_stats answers {"PATH": {"requests": R, "body_bytes": B, "ranges": [start, ...]}}
(body bytes actually written to the socket); GET /_reset clears the counters.
Writes the bound port to --port-file once listening. Python standard library only.
"""
import argparse
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
STATS = {}
USED = {}  # path -> how many faulty answers were given


def load_faults(path):
    if not path or not os.path.exists(path):
        return {}
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("modelserver: " + fmt % args + "\n")

    def count(self, path, n, start=None):
        with LOCK:
            s = STATS.setdefault(path, {"requests": 0, "body_bytes": 0, "ranges": []})
            if start is not None:
                s["requests"] += 1
                s["ranges"].append(start)
            s["body_bytes"] += n

    def fault_for(self, path):
        f = load_faults(self.server.faults).get(path)
        if not f:
            return {}
        with LOCK:
            used = USED.get(path, 0)
            if "times" in f and used >= int(f["times"]):
                return {}
            USED[path] = used + 1
        return f

    def do_HEAD(self):
        self.answer(head=True)

    def do_GET(self):
        if self.path == "/_stats":
            with LOCK:
                body = json.dumps(STATS).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if self.path == "/_reset":
            with LOCK:
                STATS.clear()
                USED.clear()
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.answer(head=False)

    def answer(self, head):
        path = self.path.split("?", 1)[0]
        full = os.path.realpath(os.path.join(self.server.root, path.lstrip("/")))
        if not full.startswith(os.path.realpath(self.server.root) + os.sep) or not os.path.isfile(full):
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        f = self.fault_for(path)
        if "status" in f:
            self.send_response(int(f["status"]))
            self.send_header("Content-Length", "0")
            self.end_headers()
            self.count(path, 0, -1)
            return
        with open(full, "rb") as fh:
            data = fh.read()
        if "wrong_at" in f and int(f["wrong_at"]) < len(data):
            i = int(f["wrong_at"])
            data = data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1:]
        start, end = 0, len(data) - 1
        rng = self.headers.get("Range")
        partial = False
        if rng and not f.get("no_range"):
            try:
                unit, spec = rng.split("=", 1)
                a, b = spec.split("-", 1)
                if unit.strip() != "bytes":
                    raise ValueError
                start = int(a)
                end = int(b) if b else len(data) - 1
                if start >= len(data) or end < start:
                    self.send_response(416)
                    self.send_header("Content-Range", "bytes */%d" % len(data))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    self.count(path, 0, start)
                    return
                end = min(end, len(data) - 1)
                partial = True
            except ValueError:
                start, end = 0, len(data) - 1
        body = data[start:end + 1]
        self.send_response(206 if partial else 200)
        self.send_header("Accept-Ranges", "none" if f.get("no_range") else "bytes")
        if partial:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, end, len(data)))
        length = int(f["fake_length"]) if "fake_length" in f else len(body)
        self.send_header("Content-Length", str(length))
        self.send_header("Content-Type", "application/octet-stream")
        self.end_headers()
        self.count(path, 0, start)
        if head:
            return
        limit = len(body)
        if "cut_at" in f:
            limit = min(limit, int(f["cut_at"]))
        if "stall_at" in f:
            limit = min(limit, int(f["stall_at"]))
        sent = 0
        try:
            piece = 16384 if "rate" in f else 65536
            while sent < limit:
                chunk = body[sent:min(limit, sent + piece)]
                self.wfile.write(chunk)
                sent += len(chunk)
                self.count(path, len(chunk))
                if "rate" in f:
                    self.wfile.flush()
                    time.sleep(len(chunk) / float(f["rate"]))
            self.wfile.flush()
            if "stall_at" in f:
                time.sleep(float(f.get("stall_s", 3600)))
        except (BrokenPipeError, ConnectionResetError):
            pass
        if limit < len(body) or "fake_length" in f:
            self.close_connection = True


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # Clients that go away (killed, cut) are part of the tests: no tracebacks.
        if not isinstance(sys.exc_info()[1], (ConnectionError, BrokenPipeError)):
            super().handle_error(request, client_address)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--faults")
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args()
    srv = Server(("127.0.0.1", 0), Handler)
    srv.root, srv.faults, srv.verbose = a.root, a.faults, a.verbose
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, a.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
