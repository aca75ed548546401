#!/usr/bin/env python3
"""faultproxy.py: an HTTP/1.1 proxy on 127.0.0.1 that injects network faults
between sync clients and `hearth sync-server` (the Jepsen-style test,
tests/sync/jepsen.py, runs one per device; stdlib only).

It understands just enough HTTP to treat a request and a response as units
(Content-Length or chunked bodies, keep-alive, Expect: 100-continue answered
here so bodies never stall), so it can act on whole messages:

  drop_request     the request never reaches the server; the client's
                   connection is closed
  delay_request    the request waits 20-300 ms before it is forwarded
  dup_request      the request is delivered twice (the client gets the first
                   answer): a retry the server must apply once
  reorder          the request is held back (the client's connection is
                   closed, as if lost) and delivered later, after the next
                   request from this client: the server sees them out of order
  replay           a request delivered earlier is delivered again, late, after
                   a newer one (a stale duplicate)
  drop_response    the server handled the request, the client never hears:
                   the lost acknowledgement
  delay_response   the answer waits 20-300 ms
  cut_response     half the answer is sent, then the connection is cut
  partition        (a state, not a draw) every connection is refused at once

Every choice comes from one random.Random(seed) per proxy, drawn in the order
the proxy's requests arrive, so a sequential client meets the same faults
on a replay. Counters of each injected fault are in .counts.

Standalone: faultproxy.py --upstream PORT [--listen PORT] [--seed N]
[--rate P] prints "port N" and proxies until killed.
"""
import argparse
import random
import socket
import threading
import time

KINDS = ("drop_request", "delay_request", "dup_request", "reorder", "replay",
         "drop_response", "delay_response", "cut_response")
# Relative weights of the kinds when a fault is drawn.
WEIGHTS = (3, 3, 3, 2, 2, 4, 2, 2)
MAX_HEADER = 64 * 1024
MAX_BODY = 64 << 20


class Closed(Exception):
    pass


def _read_until(sock, buf, marker, limit):
    while marker not in buf:
        if len(buf) > limit:
            raise Closed("header too long")
        chunk = sock.recv(65536)
        if not chunk:
            raise Closed("eof")
        buf += chunk
    i = buf.index(marker) + len(marker)
    return buf[:i], buf[i:]


def _read_exact(sock, buf, n):
    while len(buf) < n:
        chunk = sock.recv(max(65536, n - len(buf)))
        if not chunk:
            raise Closed("eof in body")
        buf += chunk
    return buf[:n], buf[n:]


def _read_chunked(sock, buf):
    """Reads a chunked body; returns (raw chunked bytes, rest)."""
    out = b""
    while True:
        line, buf = _read_until(sock, buf, b"\r\n", MAX_HEADER)
        out += line
        size = int(line.split(b";")[0].strip(), 16)
        if size == 0:
            # trailers up to an empty line
            while True:
                line, buf = _read_until(sock, buf, b"\r\n", MAX_HEADER)
                out += line
                if line == b"\r\n":
                    return out, buf
        data, buf = _read_exact(sock, buf, size + 2)
        out += data
        if len(out) > MAX_BODY:
            raise Closed("body too long")


def _headers(head):
    lines = head.split(b"\r\n")
    h = {}
    for ln in lines[1:]:
        if b":" in ln:
            k, v = ln.split(b":", 1)
            h[k.strip().lower()] = v.strip()
    return lines[0], h


def read_message(sock, buf, is_response=False, request_line=b""):
    """Reads one HTTP message; returns (bytes, headers, rest of buf)."""
    head, buf = _read_until(sock, buf, b"\r\n\r\n", MAX_HEADER)
    first, h = _headers(head)
    if is_response:
        parts = first.split()
        status = int(parts[1]) if len(parts) > 1 else 0
        if 100 <= status < 200:
            # an interim answer: skip it, read the real one
            return read_message(sock, buf, True, request_line)
        if status in (204, 304) or request_line.startswith(b"HEAD "):
            return head, h, buf
    te = h.get(b"transfer-encoding", b"").lower()
    if b"chunked" in te:
        body, buf = _read_chunked(sock, buf)
        return head + body, h, buf
    if b"content-length" in h:
        n = int(h[b"content-length"])
        if n > MAX_BODY:
            raise Closed("body too long")
        body, buf = _read_exact(sock, buf, n)
        return head + body, h, buf
    if is_response:
        # body until the server closes
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            buf += chunk
        return head + buf, h, b""
    return head, h, buf


def strip_expect(req):
    """Drops an Expect: 100-continue header (this proxy answered it)."""
    head, sep, body = req.partition(b"\r\n\r\n")
    lines = [ln for ln in head.split(b"\r\n")
             if not ln.lower().startswith(b"expect:")]
    return b"\r\n".join(lines) + sep + body


class FaultProxy:
    """One proxy: listen on 127.0.0.1 (port 0: any), forward to upstream."""

    def __init__(self, upstream_port, seed=0, rate=0.0, name="proxy", listen_port=0):
        self.upstream_port = upstream_port
        self.rng = random.Random(seed)
        self.rate = rate
        self.name = name
        self.partitioned = False
        self.counts = {k: 0 for k in KINDS + ("partition",)}
        self.requests = 0
        self.lock = threading.Lock()
        self.errors = []      # the last requests and failures, for diagnosis
        self.held = []        # requests held back (reorder)
        self.delivered = []   # recent requests, for replay
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", listen_port))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.stopping = False
        self.conns = set()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    # ---- control (any thread) ---------------------------------------------
    def set_upstream(self, port):
        with self.lock:
            self.upstream_port = port

    def set_rate(self, rate):
        with self.lock:
            self.rate = rate

    def set_partition(self, on):
        with self.lock:
            self.partitioned = on
            conns = list(self.conns) if on else []
        for c in conns:  # a partition cuts the connections open now too
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def heal(self, deliver_held=True):
        """No more faults; held requests are delivered (late) or dropped."""
        with self.lock:
            self.rate = 0.0
            self.partitioned = False
            held, self.held = self.held, []
        if deliver_held:
            for req in held:
                self._forward_quiet(req)

    def stop(self):
        self.stopping = True
        # shutdown first: close() alone leaves the socket listening (and
        # accepting) for as long as the accept thread is blocked in it
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass
        self.thread.join(5)
        with self.lock:
            conns = list(self.conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    # ---- work -----------------------------------------------------------
    def _accept(self):
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except OSError as e:
                if self.stopping:
                    return
                self._event("accept failed: %s" % e)
                time.sleep(0.01)
                continue
            with self.lock:
                part = self.partitioned
                if part:
                    self.counts["partition"] += 1
                    self.errors.append("%.3f refused (partition)" % time.monotonic())
                else:
                    self.conns.add(c)
            if part:
                c.close()
                continue
            self._event("accepted fd %d" % c.fileno())
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _draw(self):
        """One draw per request: (fault kind or None, delay seconds)."""
        with self.lock:
            self.requests += 1
            r = self.rng.random()
            kind = None
            if r < self.rate:
                kind = self.rng.choices(KINDS, WEIGHTS)[0]
                self.counts[kind] += 1
            delay = self.rng.uniform(0.02, 0.3)
            replay_pick = self.rng.random()
            return kind, delay, replay_pick

    def _event(self, what):
        with self.lock:
            self.errors.append("%.3f %s" % (time.monotonic(), what))
            del self.errors[:-30]

    def _upstream(self, req):
        with self.lock:
            port = self.upstream_port
        u = socket.create_connection(("127.0.0.1", port), timeout=30)
        try:
            u.sendall(req)
            resp, _, _ = read_message(u, b"", True, req.split(b"\r\n", 1)[0])
            return resp
        finally:
            u.close()

    def _forward_quiet(self, req):
        try:
            self._upstream(req)
        except (OSError, Closed, ValueError):
            pass

    def _serve(self, c):
        buf = b""
        try:
            c.settimeout(60)
            while True:
                try:
                    req, h, buf = self._read_request(c, buf)
                except (Closed, ValueError) as e:
                    self._event("request not read: %s %r" % (e, buf[:100]))
                    return
                kind, delay, pick = self._draw()
                self._event("%s %s" % (req.split(b"\r\n", 1)[0].decode(errors="replace"),
                                       kind or "pass"))
                if kind == "drop_request":
                    return
                if kind == "reorder":
                    with self.lock:
                        self.held.append(req)
                    return
                if kind == "delay_request":
                    time.sleep(delay)
                try:
                    resp = self._upstream(req)
                except (OSError, Closed, ValueError) as e:
                    self._event("%s: %s" % (req.split(b"\r\n", 1)[0].decode(
                        errors="replace"), e))
                    return  # server down: the client sees a cut connection
                with self.lock:
                    if self.rate > 0:
                        self.delivered.append(req)
                        del self.delivered[:-8]
                    held, self.held = self.held, []
                    old = (self.delivered[int(pick * len(self.delivered))]
                           if kind == "replay" else None)
                if kind == "dup_request":
                    self._forward_quiet(req)
                for hreq in held:  # after a newer request: out of order
                    self._forward_quiet(hreq)
                if old is not None:
                    self._forward_quiet(old)
                if kind == "drop_response":
                    return
                if kind == "delay_response":
                    time.sleep(delay)
                if kind == "cut_response":
                    c.sendall(resp[: max(1, len(resp) // 2)])
                    return
                c.sendall(resp)
                self._event("answered %d bytes: %r" % (len(resp), resp.split(b"\r\n\r\n", 1)[0]))
                if h.get(b"connection", b"").lower() == b"close":
                    return
        except OSError as e:
            self._event("connection error: %s" % e)
            return
        finally:
            self._event("closed fd %d" % c.fileno())
            with self.lock:
                self.conns.discard(c)
            try:
                c.close()
            except OSError:
                pass

    def _read_request(self, c, buf):
        head, buf = _read_until(c, buf, b"\r\n\r\n", MAX_HEADER)
        first, h = _headers(head)
        if h.get(b"expect", b"").lower() == b"100-continue":
            c.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        rest = head + buf
        req, h, buf = read_message(c, rest)
        if b"expect" in h:
            req = strip_expect(req)
        return req, h, buf


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--upstream", type=int, required=True)
    ap.add_argument("--listen", type=int, default=0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--rate", type=float, default=0.3,
                    help="probability that a request meets a fault")
    a = ap.parse_args()
    p = FaultProxy(a.upstream, a.seed, a.rate, listen_port=a.listen)
    print("port %d" % p.port, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        p.stop()


if __name__ == "__main__":
    main()
