#!/usr/bin/env python3
"""bench_serve.py: aggregate generation speed of `hearth serve` with 1, 4 and
8 concurrent streaming clients (continuous batching), as issue 7 measures it.

usage: bench/bench_serve.py HEARTH_BIN MODEL.gguf [--tokens N] [--threads T]

Starts `hearth serve` on a free loopback port with 8 slots, warms up, then for
each client count runs that many streaming chat requests at once (greedy,
max_tokens N, distinct prompts, cache off by distinct seeds) and prints the
generated tokens per second summed over clients, and the ratio to one client.
"""
import argparse
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

ap = argparse.ArgumentParser()
ap.add_argument("hearth")
ap.add_argument("model")
ap.add_argument("--tokens", type=int, default=64)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--clients", default="1,4,8")
args = ap.parse_args()

home = tempfile.mkdtemp(prefix="hearth-bench-")
env = dict(os.environ, HEARTH_HOME=home, HEARTH_CONFIG=os.path.join(home, "none"))
srv = subprocess.Popen([args.hearth, "serve", "--port", "0", "-m", args.model, "--slots", "8",
                        "-c", "1024", "-t", str(args.threads)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
line = srv.stdout.readline()
if not line.startswith("listening on"):
    sys.exit("server did not start: " + line + srv.stderr.read())
port = int(line.rsplit(":", 1)[1])
for _ in range(6000):
    c = http.client.HTTPConnection("127.0.0.1", port)
    c.request("GET", "/health")
    r = c.getresponse()
    r.read()
    if r.status == 200:
        break
    time.sleep(0.1)
c = http.client.HTTPConnection("127.0.0.1", port)
c.request("GET", "/v1/models")
model_id = json.loads(c.getresponse().read())["data"][0]["id"]


def stream(i, counts):
    body = json.dumps({"model": model_id, "stream": True, "max_tokens": args.tokens,
                       "temperature": 0.7, "seed": 1000 + i, "stream_options": {"include_usage": True},
                       "messages": [{"role": "user", "content": f"Write a story number {i}."}]})
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    c.request("POST", "/v1/chat/completions", body=body)
    r = c.getresponse()
    n = 0
    for raw in r:
        raw = raw.strip()
        if not raw.startswith(b"data: ") or raw == b"data: [DONE]":
            continue
        ev = json.loads(raw[6:])
        if ev.get("usage"):
            n = ev["usage"]["completion_tokens"]
    counts[i] = n


def run(k):
    counts = [0] * k
    ths = [threading.Thread(target=stream, args=(i, counts)) for i in range(k)]
    t0 = time.perf_counter()
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    dt = time.perf_counter() - t0
    return sum(counts), dt


run(1)  # warm-up: page in the weights
base = None
print(f"model {os.path.basename(args.model)}, {args.threads} threads, {args.tokens} tokens per client")
for k in [int(x) for x in args.clients.split(",")]:
    n, dt = run(k)
    tps = n / dt
    base = base or tps
    print(f"clients {k}: {n} tokens in {dt:.2f} s = {tps:.1f} tok/s aggregate ({tps / base:.2f}x one client)")
srv.terminate()
srv.wait(timeout=60)
