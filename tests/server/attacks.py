#!/usr/bin/env python3
"""attacks.py: attacks on a running `hearth serve` that once worked, each
checked to fail now (issue 10). test_hardening.sh starts the servers.

  attacks.py empty PORT MODEL            an answer that is empty (the first token
                                         completes the stop string): 200, "text": ""
  attacks.py origin PORT MODEL ALLOWED HEARTH_BIN   DNS rebinding (a foreign Host) and
                                         cross-site posts (a foreign Origin) are
                                         refused; the allowed origin gets CORS
  attacks.py abandon PORT MODEL          an embeddings request dropped by its
                                         client stops between inputs
  attacks.py slowloris PORT              half-open connections trickling bytes do
                                         not keep /health from answering

Exit status 0 when every check holds. Nothing here measures time: waits are
bounded polls, and the work an attack asks for is far more than a wait.
"""
import http.client
import json
import select
import socket
import subprocess
import sys
import threading
import time

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def request(port, method, path, body=None, headers=None, timeout=60):
    """One request on a fresh connection; returns (status, headers, body bytes)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, data


def metric(port, name):
    _, _, text = request(port, "GET", "/metrics")
    for line in text.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0.0


def done():
    print(f"{len(failures)} failures")
    sys.exit(1 if failures else 0)


# ---- 2. an empty answer -----------------------------------------------------

def empty(port, model):
    body = json.dumps({"model": model, "prompt": "Hello", "max_tokens": 8, "temperature": 0,
                       "stop": ["!"]})
    # Before the fix most of these got no response at all and some returned
    # heap bytes; every one must be a clean, empty answer.
    for i in range(20):
        try:
            st, _, data = request(port, "POST", "/v1/completions", body,
                                  {"Content-Type": "application/json"})
        except (OSError, http.client.HTTPException) as e:
            check(False, f"empty answer {i}: no response ({e!r})")
            continue
        check(st == 200, f"empty answer {i}: status {st}: {data[:200]!r}")
        try:
            doc = json.loads(data)
        except ValueError:
            check(False, f"empty answer {i}: not JSON: {data[:200]!r}")
            continue
        check(doc["choices"][0]["text"] == "", f"empty answer {i}: text {doc['choices'][0]['text']!r}")
        check(doc["choices"][0]["finish_reason"] == "stop", f"empty answer {i}: {doc!r}")
    # The same through chat, streamed and not: nothing to say is still an answer.
    for stream in (False, True):
        st, _, data = request(port, "POST", "/v1/chat/completions", json.dumps(
            {"model": model, "messages": [{"role": "user", "content": "Hello"}], "max_tokens": 8,
             "temperature": 0, "stop": ["!"], "stream": stream}))
        check(st == 200, f"chat stream={stream}: status {st}: {data[:200]!r}")
    done()


# ---- 3. DNS rebinding and cross-site requests --------------------------------

def origin(port, model, allowed, hearth_bin):
    chat = json.dumps({"model": model, "session": "default", "max_tokens": 2,
                       "messages": [{"role": "user", "content": "ATTACKER-WROTE-THIS"}]})
    me = f"127.0.0.1:{port}"

    def expect(want, method, path, body, headers, what, code=None):
        st, h, data = request(port, method, path, body, headers)
        check(st == want, f"{what}: status {st}, want {want}: {data[:200]!r}")
        if code and st >= 400:
            try:
                doc = json.loads(data)
                check(doc["error"]["code"] == code, f"{what}: code {doc['error'].get('code')!r}")
            except (ValueError, KeyError, TypeError):
                check(False, f"{what}: error body not OpenAI's shape: {data[:200]!r}")
        return st, h, data

    # DNS rebinding: the page's requests carry its own host name.
    for host in ("evil.example", "evil.example:%d" % port, "127.0.0.1.evil.example",
                 "localhost.evil.example", "[::2]:%d" % port, "localhost:bad"):
        for method, path, body in (("POST", "/v1/chat/completions", chat),
                                   ("GET", "/v1/models", None), ("GET", "/metrics", None),
                                   ("GET", "/health", None)):
            expect(403, method, path, body, {"Host": host}, f"Host {host} {path}", "host_not_allowed")
    for host in (me, f"localhost:{port}", "localhost", "LOCALHOST", f"[::1]:{port}", "127.0.0.1",
                 "rebind.allowed.example", f"rebind.allowed.example:{port}"):
        expect(200, "GET", "/v1/models", None, {"Host": host}, f"Host {host}")

    # Cross-site posts: a page on another origin, with a JSON body and with the
    # text/plain body a form or a "simple" fetch sends without a preflight.
    for org in ("http://evil.example", "https://evil.example", "null",
                f"http://evil.example:{port}", f"http://127.0.0.1:{port + 1}", "http://localhost",
                allowed + ".evil.example", "file://"):
        for ctype in ("application/json", "text/plain", "application/x-www-form-urlencoded"):
            expect(403, "POST", "/v1/chat/completions", chat,
                   {"Host": me, "Origin": org, "Content-Type": ctype},
                   f"Origin {org} {ctype}", "origin_not_allowed")
        expect(403, "GET", "/v1/models", None, {"Host": me, "Origin": org}, f"Origin {org} GET",
               "origin_not_allowed")
        expect(403, "OPTIONS", "/v1/chat/completions", None,
               {"Host": me, "Origin": org, "Access-Control-Request-Method": "POST"},
               f"preflight from {org}", "origin_not_allowed")
    # None of that reached the session the CLI loads.
    out = subprocess.run([hearth_bin, "history", "--session", "default", "--json"],
                         capture_output=True, text=True)
    check("ATTACKER-WROTE-THIS" not in out.stdout, f"session 'default' written: {out.stdout[:300]}")

    # The server's own origins are same-origin.
    for org in (f"http://127.0.0.1:{port}", f"http://localhost:{port}", f"http://[::1]:{port}"):
        st, h, _ = expect(200, "GET", "/v1/models", None, {"Host": me, "Origin": org}, f"own origin {org}")

    # The allowed origin: a proper preflight, then the request with CORS headers.
    st, h, _ = expect(204, "OPTIONS", "/v1/chat/completions", None,
                      {"Host": me, "Origin": allowed, "Access-Control-Request-Method": "POST",
                       "Access-Control-Request-Headers": "authorization, content-type, x-stainless-os"},
                      "preflight")
    check(h.get("access-control-allow-origin") == allowed, f"preflight: ACAO {h!r}")
    check("POST" in h.get("access-control-allow-methods", ""), f"preflight: methods {h!r}")
    ah = h.get("access-control-allow-headers", "").lower()
    for want in ("authorization", "content-type", "x-stainless-os"):
        check(want in ah, f"preflight: allow-headers lacks {want}: {ah!r}")
    check(int(h.get("access-control-max-age", "0")) > 0, f"preflight: max-age {h!r}")
    check("origin" in h.get("vary", "").lower(), f"preflight: vary {h!r}")
    st, h, data = expect(200, "POST", "/v1/chat/completions", json.dumps(
        {"model": model, "max_tokens": 2, "messages": [{"role": "user", "content": "hi"}]}),
        {"Host": me, "Origin": allowed, "Content-Type": "application/json"}, "allowed origin POST")
    check(h.get("access-control-allow-origin") == allowed, f"allowed POST: ACAO {h!r}")
    check("origin" in h.get("vary", "").lower(), f"allowed POST: vary {h!r}")
    # Answers to others carry no grant.
    st, h, _ = request(port, "GET", "/v1/models", None, {"Host": me})
    check("access-control-allow-origin" not in h, f"no Origin: ACAO sent {h!r}")
    # A plain OPTIONS (no Origin) says what the route takes; unknown routes 404.
    expect(204, "OPTIONS", "/v1/models", None, {"Host": me}, "plain OPTIONS")
    expect(404, "OPTIONS", "/nope", None, {"Host": me, "Origin": allowed}, "OPTIONS unknown route")
    done()


# ---- 6. an abandoned embeddings request ---------------------------------------

def abandon(port, model):
    n_inputs = 2000  # SRV_MAX_INPUTS is 2048; each input takes a visible while
    text = " ".join(f"word{i}" for i in range(50))
    body = json.dumps({"model": model, "input": [text] * n_inputs}).encode()
    gone0 = metric(port, 'hearth_errors_total{kind="client_disconnected"}')
    e0 = metric(port, "hearth_embedding_inputs_total")
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"POST /v1/embeddings HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
              b"Content-Length: %d\r\n\r\n" % len(body) + body)
    # Wait until the work has started, then hang up.
    for _ in range(1200):
        if metric(port, "hearth_embedding_inputs_total") > e0:
            break
        time.sleep(0.05)
    else:
        check(False, "abandon: no input was ever embedded")
        done()
    s.close()
    # The server must notice and stop: counted as a disconnect. Before the fix
    # it never did (it went on through every input, then failed to send).
    for _ in range(1200):
        if metric(port, 'hearth_errors_total{kind="client_disconnected"}') > gone0:
            break
        time.sleep(0.05)
    else:
        check(False, "abandon: the dropped request was never stopped")
    embedded = metric(port, "hearth_embedding_inputs_total") - e0
    check(0 < embedded < n_inputs / 2, f"abandon: {embedded} of {n_inputs} inputs embedded")
    # It has stopped for good, and its queue slot is free again.
    st, _, data = request(port, "POST", "/v1/embeddings", json.dumps({"model": model, "input": "hi"}))
    check(st == 200, f"abandon: next request {st}: {data[:200]!r}")
    after = metric(port, "hearth_embedding_inputs_total") - e0
    check(after == embedded + 1, f"abandon: {after - embedded - 1} more inputs embedded after the stop")
    print(f"abandon: {embedded:.0f} of {n_inputs} inputs embedded before the stop")
    done()


# ---- 7. slowloris ------------------------------------------------------------

def slowloris(port):
    n_conns = 600          # more than the server's 512 connections in all
    attack_s = 45          # trickling this long; /health is asked meanwhile
    socks = []
    closed_by_server = 0
    refused = 0
    lock = threading.Lock()
    stop = threading.Event()

    def opener():
        nonlocal refused
        for _ in range(n_conns):
            try:
                s = socket.create_connection(("127.0.0.1", port), timeout=5)
                s.setblocking(False)
                s.send(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                with lock:
                    socks.append(s)
            except OSError:
                with lock:
                    refused += 1
                time.sleep(0.01)

    def trickler():
        nonlocal closed_by_server
        end = time.monotonic() + attack_s
        while time.monotonic() < end and not stop.is_set():
            with lock:
                live = list(socks)
            for s in live:
                try:
                    s.send(b"X-a: b\r\n")  # one header line a second: never done
                except OSError:
                    with lock:
                        socks.remove(s)
                        closed_by_server += 1
                    s.close()
                    continue
            # Closed by the server: readable with nothing to read.
            r, _, _ = select.select(live, [], [], 0) if live else ([], [], [])
            for s in r:
                try:
                    data = s.recv(4096)
                except OSError:
                    data = b""
                if not data:
                    with lock:
                        if s in socks:
                            socks.remove(s)
                            closed_by_server += 1
                    s.close()
            time.sleep(1)

    t_open = threading.Thread(target=opener)
    t_trickle = threading.Thread(target=trickler)
    t_open.start()
    t_trickle.start()
    t_open.join()  # every connection opened (or refused) before /health is asked
    opened = len(socks) + closed_by_server
    print(f"slowloris: {opened} connections open, {refused} refused")
    # /health answers everyone, several times during the attack, and so do
    # a few legitimate clients in parallel. curl's limit is generous but far
    # below the attack's length (with the old server it timed out).
    for round_ in range(3):
        r = subprocess.run(["curl", "-s", "--max-time", "15", "-o", "/dev/null", "-w", "%{http_code}",
                            f"http://127.0.0.1:{port}/health"], capture_output=True, text=True)
        check(r.stdout == "200", f"slowloris: /health round {round_}: {r.stdout!r} rc={r.returncode}")
        results = []

        def legit():
            try:
                results.append(request(port, "GET", "/v1/models", timeout=15)[0])
            except (OSError, http.client.HTTPException) as e:
                results.append(repr(e))

        ts = [threading.Thread(target=legit) for _ in range(8)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        check(results == [200] * 8, f"slowloris: parallel clients round {round_}: {results}")
        time.sleep(2)
    t_trickle.join()
    stop.set()
    with lock:
        for s in socks:
            s.close()
    # The server closed the stalled connections itself (deadline or room for
    # new clients), and said so in its metrics.
    dropped = (metric(port, 'hearth_errors_total{kind="request_timeout"}') +
               metric(port, 'hearth_errors_total{kind="connection_evicted"}'))
    print(f"slowloris: {closed_by_server} closed by the server, {dropped:.0f} dropped by its count")
    check(closed_by_server > 0 and dropped > 0, "slowloris: no stalled connection was dropped")
    done()


if __name__ == "__main__":
    what, port = sys.argv[1], int(sys.argv[2])
    if what == "empty":
        empty(port, sys.argv[3])
    elif what == "origin":
        origin(port, sys.argv[3], sys.argv[4], sys.argv[5])
    elif what == "abandon":
        abandon(port, sys.argv[3])
    elif what == "slowloris":
        slowloris(port)
    else:
        sys.exit(f"unknown attack {what}")
