#!/usr/bin/env python3
"""fault_server.py: a fake OpenAI-compatible chat-completions server that
misbehaves on purpose, for the cloud client's tests (tests/router/).

Loopback only, Python 3 standard library only. Prints the port it bound
(port 0: a free one) on the first line of stdout. The first path segment
picks the behaviour, so one server serves every case: the client's base URL
is http://127.0.0.1:PORT/<mode>/v1 and it POSTs to
/<mode>/v1/chat/completions. GET /stats returns {"<mode>": requests, ...};
GET /last returns the last request ({"body": ..., "authorization": ...}).
It exits when the process that started it ends, or after --max-seconds.

Modes:
  ok            a correct answer (streamed as SSE when "stream" is true)
  echo          "You said: " + the last user message, streamed 3 bytes a delta
                (so placeholders arrive split across deltas)
  nostream      a correct whole answer even when streaming was asked for
  quirky        SSE with a BOM, CRLF line ends, comments, id/retry fields,
                event: message, and JSON split over several data: lines
  s500          HTTP 500 with an error object
  s503ra        HTTP 503 with Retry-After: 1
  s429          HTTP 429 without Retry-After
  s429ra        HTTP 429 with Retry-After: 1
  s429long      HTTP 429 with Retry-After: 3600
  s400          HTTP 400 (not retried)
  flakyN        HTTP 500 for the first N requests, then ok (e.g. flaky2)
  flakyraN      HTTP 429 + Retry-After: 1 for the first N, then ok
  echokey       HTTP 401 whose message echoes the Authorization header
  malformed     200 with a body that is not JSON
  badchunk      SSE whose second event is not JSON
  broken        SSE cut mid-event (connection closed, close-delimited body)
  brokenchunked SSE in chunked encoding, connection closed mid-chunk
  midstreamerr  SSE: one delta, then an error object
  endless       SSE: one small delta every 50 ms, forever
  trickle       whole answer: a huge Content-Length, one byte every 50 ms
  hang          reads the request and never answers
  huge          whole answer with Content-Length: 64 MiB (sent if read)
  hugenolen     whole answer without Content-Length, 64 MiB of JSON
  hugesse       SSE with 16 KiB deltas, 32 MiB in all
  longline      SSE with a single data line of 8 MiB
"""
import argparse
import json
import os
import re
import select
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TEXT = ["Hello", " from", " the", " fault", " server."]
lock = threading.Lock()
counts = {}
last = {}


def chunk(content=None, finish=None, usage=None):
    d = {"id": "chatcmpl-fault", "object": "chat.completion.chunk", "created": 0,
         "model": "fault", "choices": []}
    if content is not None or finish is not None:
        d["choices"] = [{"index": 0, "delta": {"content": content} if content is not None else {},
                         "finish_reason": finish}]
    if usage:
        d["usage"] = usage
    return json.dumps(d)


USAGE = {"prompt_tokens": 7, "completion_tokens": 5, "total_tokens": 12}


def whole():
    return json.dumps({"id": "chatcmpl-fault", "object": "chat.completion", "created": 0,
                       "model": "fault",
                       "choices": [{"index": 0, "message": {"role": "assistant",
                                                            "content": "".join(TEXT)},
                                    "finish_reason": "stop"}],
                       "usage": USAGE}).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    # -- helpers
    def send_json(self, status, body, extra=()):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def send_error_json(self, status, msg, extra=()):
        body = json.dumps({"error": {"message": msg, "type": "fault", "code": status}}).encode()
        self.send_json(status, body, extra)

    def start_sse(self, chunked=False):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

    def ev(self, data):
        self.wfile.write(b"data: " + data.encode() + b"\n\n")
        self.wfile.flush()

    def sse_ok(self, usage=True):
        self.start_sse()
        for t in TEXT:
            self.ev(chunk(content=t))
        self.ev(chunk(finish="stop"))
        if usage:
            self.ev(chunk(usage=USAGE))
        self.wfile.write(b"data: [DONE]\n\n")

    def wait_gone(self, limit=600):
        """Blocks until the client closes the connection."""
        end = time.time() + limit
        while time.time() < end:
            r, _, _ = select.select([self.connection], [], [], 0.5)
            if r:
                try:
                    if not self.connection.recv(1, socket.MSG_PEEK):
                        return
                except OSError:
                    return
                time.sleep(0.05)

    # -- requests
    def do_GET(self):
        if self.path == "/stats":
            with lock:
                body = json.dumps(counts).encode()
            self.send_json(200, body)
        elif self.path == "/last":
            with lock:
                body = json.dumps(last).encode()
            self.send_json(200, body)
        else:
            self.send_error_json(404, "not found")

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n)
        m = re.match(r"^/([A-Za-z0-9]+)/", self.path)
        mode = m.group(1) if m else "none"
        try:
            req = json.loads(raw)
        except ValueError:
            req = None
        with lock:
            counts[mode] = counts.get(mode, 0) + 1
            seen = counts[mode]
            last.clear()
            last.update({"path": self.path, "body": req,
                         "authorization": self.headers.get("Authorization"),
                         "content_type": self.headers.get("Content-Type")})
        stream = bool(req and req.get("stream"))
        self.last_req = req if isinstance(req, dict) else None
        try:
            self.serve_mode(mode, seen, stream)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            self.close_connection = True

    def serve_mode(self, mode, seen, stream):
        fm = re.match(r"^(flaky|flakyra)(\d+)$", mode)
        if fm:
            if seen <= int(fm.group(2)):
                if fm.group(1) == "flaky":
                    return self.send_error_json(500, "flaky failure")
                return self.send_error_json(429, "slow down", [("Retry-After", "1")])
            mode = "ok"
        if mode == "ok":
            return self.sse_ok() if stream else self.send_json(200, whole())
        if mode == "echo":
            msgs = (self.last_req or {}).get("messages") or [{}]
            said = "You said: " + str(msgs[-1].get("content", ""))
            if not stream:
                return self.send_json(200, json.dumps({
                    "id": "chatcmpl-echo", "object": "chat.completion", "created": 0,
                    "model": "fault", "choices": [{"index": 0, "message": {
                        "role": "assistant", "content": said}, "finish_reason": "stop"}]}).encode())
            self.start_sse()
            for i in range(0, len(said), 3):
                self.ev(chunk(content=said[i:i + 3]))
            self.ev(chunk(finish="stop"))
            self.wfile.write(b"data: [DONE]\n\n")
            return
        if mode == "nostream":
            return self.send_json(200, whole())
        if mode == "quirky":
            self.start_sse()
            w = self.wfile
            w.write(b"\xef\xbb\xbf: a comment first\r\nretry: 1000\r\n\r\n")
            for i, t in enumerate(TEXT):
                s = chunk(content=t)
                half = s.index(', "model"') + 1  # between tokens: the "\n" join stays JSON
                w.write(b"id: %d\r\nevent: message\r\ndata: " % i + s[:half].encode() +
                        b"\r\ndata:" + s[half:].encode() + b"\r\n\r\n")
                w.write(b": keep-alive\r\n\r\n")
                w.flush()
            w.write(b"event: ping\r\ndata: {}\r\n\r\n")
            w.write(b"data: " + chunk(finish="stop", usage=USAGE).encode() + b"\r\n\r\n")
            w.write(b"data: [DONE]\r\n\r\n")
            return
        if mode == "s500":
            return self.send_error_json(500, "internal failure")
        if mode == "s503ra":
            return self.send_error_json(503, "unavailable", [("Retry-After", "1")])
        if mode == "s429":
            return self.send_error_json(429, "rate limited")
        if mode == "s429ra":
            return self.send_error_json(429, "rate limited", [("Retry-After", "1")])
        if mode == "s429long":
            return self.send_error_json(429, "rate limited", [("Retry-After", "3600")])
        if mode == "s400":
            return self.send_error_json(400, "bad request")
        if mode == "echokey":
            return self.send_error_json(
                401, "Incorrect API key provided: %s (%s)" % (
                    self.headers.get("Authorization"), self.headers.get("Authorization")))
        if mode == "malformed":
            body = b'{"choices": [{"message": {"content": "Hel'
            return self.send_json(200, body)
        if mode == "badchunk":
            self.start_sse()
            self.ev(chunk(content="Hello"))
            self.ev('{"choices": [ {"delta": ')
            self.ev(chunk(content=" world"))
            self.wfile.write(b"data: [DONE]\n\n")
            return
        if mode == "broken":
            self.start_sse()
            self.ev(chunk(content="Hello"))
            self.ev(chunk(content=" from"))
            self.wfile.write(b'data: {"choices": [{"delta": {"content": " th')
            self.wfile.flush()
            return
        if mode == "brokenchunked":
            self.start_sse(chunked=True)
            for t in ("Hello", " from"):
                data = ("data: " + chunk(content=t) + "\n\n").encode()
                self.wfile.write(b"%x\r\n" % len(data) + data + b"\r\n")
            self.wfile.write(b"100\r\ndata: {\"choi")
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if mode == "midstreamerr":
            self.start_sse()
            self.ev(chunk(content="Hello"))
            self.ev(json.dumps({"error": {"message": "the model is overloaded", "type": "server_error"}}))
            return
        if mode == "endless":
            self.start_sse()
            for _ in range(100000):
                self.ev(chunk(content="x"))
                time.sleep(0.05)
            return
        if mode == "trickle":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            for _ in range(100000):
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(0.05)
            return
        if mode == "hang":
            self.wait_gone()
            self.close_connection = True
            return
        if mode == "huge":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(64 << 20))
            self.end_headers()
            self.wfile.write(b'{"choices": [{"message": {"content": "' + b"x" * (64 << 20))
            return
        if mode == "hugenolen":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            self.wfile.write(b'{"choices": [{"message": {"content": "')
            for _ in range(64):
                self.wfile.write(b"x" * (1 << 20))
            self.wfile.write(b'"}}]}')
            return
        if mode == "hugesse":
            self.start_sse()
            big = chunk(content="y" * 16384)
            for _ in range(2000):
                self.ev(big)
            return
        if mode == "longline":
            self.start_sse()
            self.wfile.write(b"data: " + b"z" * (8 << 20))
            self.wfile.flush()
            return
        return self.send_error_json(404, "unknown mode " + mode)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        pass  # a client that gave up is expected here


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    ap.add_argument("--max-seconds", type=float, default=900)
    a = ap.parse_args()
    srv = Server(("127.0.0.1", a.port), Handler)
    if a.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.tls[0], a.tls[1])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True, do_handshake_on_connect=False)
    print(srv.server_address[1], flush=True)

    # Never outlive the test that started it, even if that test crashed.
    def watchdog(parent=os.getppid(), end=time.time() + a.max_seconds):
        while os.getppid() == parent and time.time() < end:
            time.sleep(0.5)
        os._exit(0)
    threading.Thread(target=watchdog, daemon=True).start()
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
