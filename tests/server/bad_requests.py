#!/usr/bin/env python3
"""bad_requests.py: sends several hundred malformed, truncated and oversized
requests to a running `hearth serve` and checks that each gets a clean answer
(an HTTP error status with OpenAI's error JSON, or a closed connection for
garbage that is not HTTP), then that the server still answers correctly.
Usage: bad_requests.py PORT MODEL_ID   (exit status 0 when every check holds)
"""
import http.client
import json
import random
import socket
import sys

PORT = int(sys.argv[1])
MODEL = sys.argv[2]
failures = []
sent = 0


def post(path, body, headers=None, expect=None):
    """POSTs body (bytes); checks the status is in expect and the body is an
    OpenAI error object."""
    global sent
    sent += 1
    c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
    h = {"Content-Type": "application/json"}
    h.update(headers or {})
    c.request("POST", path, body=body, headers=h)
    r = c.getresponse()
    data = r.read()
    c.close()
    if expect and r.status not in expect:
        failures.append(f"{path} {body[:80]!r}: status {r.status}, want {expect}: {data[:200]!r}")
        return r.status, None
    try:
        doc = json.loads(data)
    except ValueError:
        failures.append(f"{path} {body[:80]!r}: status {r.status}, body not JSON: {data[:200]!r}")
        return r.status, None
    if r.status >= 400:
        err = doc.get("error") if isinstance(doc, dict) else None
        if not isinstance(err, dict) or not isinstance(err.get("message"), str) or "type" not in err:
            failures.append(f"{path} {body[:80]!r}: error body not OpenAI's shape: {doc!r}")
    return r.status, doc


def raw(data, read=True):
    """Sends raw bytes on a fresh socket; returns what came back (may be b'')."""
    global sent
    sent += 1
    s = socket.create_connection(("127.0.0.1", PORT), timeout=30)
    out = b""
    try:
        # The server may answer and hang up before it has read everything
        # (a header over its limit, say): then sending or shutting down fails,
        # and what it answered is still read below.
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    try:
        while read:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    except OSError:
        pass
    s.close()
    return out


rng = random.Random(1234)
chat = json.dumps({"model": MODEL, "messages": [{"role": "user", "content": "What is 2+2?"}],
                   "max_tokens": 4, "temperature": 0}).encode()
BAD = {400}

# 1. Every truncation of a valid body is malformed JSON: 400.
for n in range(0, len(chat)):
    post("/v1/chat/completions", chat[:n], expect=BAD)

# 2. Random bytes and random JSON-ish noise.
for i in range(60):
    junk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400)))
    post("/v1/chat/completions", junk, expect=BAD)
for i in range(40):
    alphabet = b'{}[]",:0123456789.eE-+truefalsn \\u'
    junk = bytes(rng.choice(alphabet) for _ in range(rng.randrange(1, 300)))
    post("/v1/completions", junk, expect=BAD)

# 3. Well-formed JSON with wrong types, ranges and missing fields.
base = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}
mutations = [
    {"model": None}, {"model": 3}, {"model": ["x"]}, {"messages": None}, {"messages": "hi"},
    {"messages": []}, {"messages": [None]}, {"messages": [{"role": "user"}]},
    {"messages": [{"content": "x"}]}, {"messages": [{"role": "wizard", "content": "x"}]},
    {"messages": [{"role": "user", "content": {"a": 1}}]}, {"stream": "true"}, {"stream": 1},
    {"max_tokens": -1}, {"max_tokens": 0}, {"max_tokens": 1e30}, {"max_tokens": "10"},
    {"temperature": -1}, {"temperature": 1e9}, {"temperature": [1]}, {"top_p": 2},
    {"seed": "s"}, {"seed": 0.5}, {"stop": 1}, {"stop": [1, 2]}, {"stop": ["a"] * 9},
    {"presence_penalty": 5}, {"frequency_penalty": "x"}, {"n": 3}, {"session": 5},
    {"session": "x" * 1000}, {"stream_options": "yes"},
]
for m in mutations:
    body = dict(base)
    body.update(m)
    for k, v in list(body.items()):
        if v is None:
            del body[k]
    post("/v1/chat/completions", json.dumps(body).encode(), expect=BAD)
for body in [[], "x", 1, None, {"prompt": "x"}, {"model": MODEL}, {"model": MODEL, "prompt": 3},
             {"model": MODEL, "prompt": ["a", "b"]}]:
    post("/v1/completions", json.dumps(body).encode(), expect=BAD)
for body in [{"model": MODEL}, {"model": MODEL, "input": []}, {"model": MODEL, "input": [1, 2]},
             {"model": MODEL, "input": 5}, {"model": MODEL, "input": "x", "encoding_format": "int8"},
             {"model": MODEL, "input": "x", "dimensions": 3}]:
    post("/v1/embeddings", json.dumps(body).encode(), expect=BAD)
# Deep nesting, a NUL escape, duplicate keys, invalid UTF-8.
post("/v1/chat/completions", b"[" * 100000 + b"]" * 100000, expect=BAD)
post("/v1/chat/completions", json.dumps(dict(base, messages=[{"role": "user", "content": "a\u0000b"}])).encode(), expect=BAD)
post("/v1/chat/completions", b'{"model":"x","model":"y","messages":[]}', expect=BAD)
post("/v1/chat/completions", b'{"model":"\xff\xfe","messages":[]}', expect=BAD)

# 4. Unknown model: 404 model_not_found.
st, doc = post("/v1/chat/completions", json.dumps(dict(base, model="gpt-17")).encode(), expect={404})
if doc and doc["error"].get("code") != "model_not_found":
    failures.append(f"unknown model: code {doc['error'].get('code')!r}")

# 4b. Text the server quotes back, cut inside a UTF-8 character at the quoting
# limit (model names at 200 bytes, roles at 32): still a JSON answer, never a
# connection closed without one.
for n in range(196, 203):
    for ch in ("\u00e9", "\u20ac", "\U0001F600"):
        name = "a" * n + ch + "b"
        for path, body in (("/v1/chat/completions", dict(base, model=name)),
                           ("/v1/completions", {"model": name, "prompt": "x"}),
                           ("/v1/embeddings", {"model": name, "input": "x"})):
            st, doc = post(path, json.dumps(body).encode(), expect={404})
            if doc and doc["error"].get("code") != "model_not_found":
                failures.append(f"cut model name: {doc!r}")
for n in range(28, 34):
    for ch in ("\u00e9", "\U0001F600"):
        body = dict(base, messages=[{"role": "a" * n + ch, "content": "x"}])
        post("/v1/chat/completions", json.dumps(body).encode(), expect=BAD)

# 5. A body over the 8 MiB limit: 413, before or after it is sent.
big = b'{"model":"' + MODEL.encode() + b'","messages":[{"role":"user","content":"' + b"a" * (9 << 20) + b'"}]}'
# The server may answer as soon as it sees Content-Length and close while the
# body is still being sent, so write and read on a raw socket.
for declared in (True, False):
    sent += 1
    s = socket.create_connection(("127.0.0.1", PORT), timeout=60)
    head = b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\n"
    head += (b"Content-Length: %d\r\n\r\n" % len(big)) if declared else b"Transfer-Encoding: chunked\r\n\r\n"
    body = big if declared else b"%x\r\n" % len(big) + big + b"\r\n0\r\n\r\n"
    try:
        s.sendall(head + body)
    except (BrokenPipeError, ConnectionResetError):
        pass
    out = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    except ConnectionResetError:
        pass
    s.close()
    if not out.startswith(b"HTTP/1.1 413"):
        failures.append(f"oversized body (declared length {declared}): {out[:120]!r}")

# 6. Garbage at the HTTP level: the server answers an error or closes.
for data in [b"\r\n\r\n", b"GARBAGE\r\n\r\n", b"GET\r\n\r\n", b"POST /v1/chat/completions HTTP/9.9\r\n\r\n",
             b"POST /v1/chat/completions HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"model\":",
             b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -5\r\n\r\n",
             b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nxx\r\n",
             b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nX: " + b"a" * 200000 + b"\r\n\r\n",
             bytes(rng.randrange(256) for _ in range(5000))]:
    out = raw(data)
    if out and not out.startswith(b"HTTP/1."):
        failures.append(f"raw {data[:40]!r}: answer is not HTTP: {out[:80]!r}")
for i in range(30):
    raw(chat[: rng.randrange(len(chat))], read=False)  # hang up early

# 7. Routes and methods.
for path, method, want in [("/nope", "GET", 404), ("/v1/chat/completions", "GET", 405), ("/health", "POST", 405)]:
    c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    c.request(method, path)
    r = c.getresponse()
    r.read()
    sent += 1
    if r.status != want:
        failures.append(f"{method} {path}: {r.status}, want {want}")

# 8. Still healthy and answering correctly.
st, doc = post("/v1/chat/completions", chat, expect={200})
if not doc or doc["object"] != "chat.completion" or not isinstance(doc["choices"][0]["message"]["content"], str):
    failures.append(f"server no longer answers correctly: {doc!r}")

print(f"{sent} requests sent, {len(failures)} failures")
for f in failures[:30]:
    print("FAIL:", f)
sys.exit(1 if failures else 0)
