#!/usr/bin/env python3
"""bench_sync.py: sync throughput and convergence on loopback (issue 12's
figures; never run by the tests).

  1. push: one device with N pending task changes (default 100,000, made by
     hearth-sync-device bulk) runs `hearth sync`: changes/s pushed;
  2. pull: a second device paired to the same user runs `hearth sync`:
     changes/s pulled;
  3. reconnect: 3 devices, each with 1,000 changes made while the server was
     down; from the moment the server is back, the time until every device
     holds all 3,000 (syncing in turn until a pass moves nothing).
Each figure is the whole `hearth sync` process as a user runs it: the
store reads, encryption, HTTP on 127.0.0.1, the server's durable commits,
and the pulling side's decryption and local transaction. Backends: SQLite
(a file) and PostgreSQL (--pg-url; bench_sync.sh starts one with tests/sync/pg.sh).

  bench_sync.py [--n 100000] [--reconnect-n 1000] [--backend sqlite|postgresql|both]
                [--pg-url URL] [--json]
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

PASSPHRASE = "bench passphrase"


def run(argv, env, timeout=3600):
    p = subprocess.run(argv, env=env, capture_output=True, timeout=timeout)
    if p.returncode != 0:
        raise SystemExit("bench_sync: %s failed (rc %d): %s" %
                         (" ".join(argv[:3]), p.returncode, p.stderr.decode(errors="replace")[-500:]))
    return p.stdout.decode()


def last_json(text):
    for line in reversed(text.strip().splitlines()):
        try:
            return json.loads(line)
        except ValueError:
            pass
    return json.loads(text)


class Server:
    def __init__(self, hearth, db, env):
        self.hearth, self.db, self.env = hearth, db, env
        self.proc, self.port = None, 0

    def start(self):
        for port in ([self.port, 0] if self.port else [0]):
            p = subprocess.Popen([self.hearth, "sync-server", "--host", "127.0.0.1", "--port",
                                  str(port), "--db", self.db], stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, env=self.env)
            got = []
            found = threading.Event()

            def reader():
                for line in p.stdout:
                    m = re.search(rb"(\d{2,5})\s*$", line.strip())
                    if m:
                        got.append(int(m.group(1)))
                        break
                found.set()
                for _ in p.stdout:
                    pass
            threading.Thread(target=reader, daemon=True).start()
            found.wait(30)
            if got:
                self.proc, self.port = p, got[0]
                return
            p.kill()
            p.wait()
        raise SystemExit("bench_sync: sync-server did not start")

    def stop(self):
        if self.proc:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


class Dev:
    def __init__(self, root, name, hearth, tool, base_env):
        self.home = os.path.join(root, name)
        os.makedirs(self.home)
        self.name, self.hearth, self.tool = name, hearth, tool
        self.env = dict(base_env, HEARTH_HOME=self.home, HOME=self.home,
                        XDG_CONFIG_HOME=os.path.join(self.home, ".config"),
                        HEARTH_SYNC_PASSPHRASE=PASSPHRASE)

    def pair(self, port, token):
        run([self.hearth, "sync", "pair", "--server", "http://127.0.0.1:%d" % port, "--token",
             token, "--name", self.name], self.env)
        run([self.hearth, "sync", "enable", "tasks"], self.env)

    def bulk(self, idx, n):
        run([self.tool, "bulk", "--device", str(idx), "--n", str(n)], self.env)

    def sync(self):
        t0 = time.perf_counter()
        out = run([self.hearth, "sync", "--json"], self.env)
        return last_json(out), time.perf_counter() - t0

    def sync_all(self):
        """Syncs until nothing moves (one `hearth sync` may stop after a
        number of pages); returns (pushed, pulled, seconds, runs)."""
        pushed = pulled = runs = 0
        t0 = time.perf_counter()
        while runs < 1000:
            j, _ = self.sync()
            runs += 1
            if not (j.get("pushed") or j.get("pulled")):
                break
            pushed += j.get("pushed") or 0
            pulled += j.get("pulled") or 0
        return pushed, pulled, time.perf_counter() - t0, runs


def pg_db_url(url, name):
    m = re.match(r"^(postgres(?:ql)?://[^/?]*)(/[^?]*)?(\?.*)?$", url)
    return m.group(1) + "/" + name + (m.group(3) or "")


def make_db(backend, root, tag, a):
    if backend == "sqlite":
        return "sqlite:" + os.path.join(root, tag + ".db")
    name = "bench_%s_%d" % (tag, os.getpid())
    subprocess.run([a.psql, a.pg_url, "-qAtc", "DROP DATABASE IF EXISTS %s" % name],
                   capture_output=True)
    run([a.psql, a.pg_url, "-qAtc", "CREATE DATABASE %s" % name], os.environ)
    return pg_db_url(a.pg_url, name)


def bench_backend(backend, a, base_env):
    root = tempfile.mkdtemp(prefix="hearth-bench-sync-")
    res = {"backend": backend}
    try:
        # -- push and pull -----------------------------------------------------
        db = make_db(backend, root, "tp", a)
        token = run([a.hearth, "sync-server", "--db", db, "token", "bench"], base_env
                    ).strip().splitlines()[-1].split()[-1]
        srv = Server(a.hearth, db, base_env)
        srv.start()
        try:
            d1 = Dev(root, "push", a.hearth, a.tool, base_env)
            d1.pair(srv.port, token)
            d1.bulk(1, a.n)
            pushed, _, dt, runs = d1.sync_all()
            res["push_changes"] = pushed
            res["push_s"] = round(dt, 3)
            res["push_runs"] = runs
            res["push_per_s"] = round(pushed / dt)
            d2 = Dev(root, "pull", a.hearth, a.tool, base_env)
            d2.pair(srv.port, token)
            _, pulled, dt, runs = d2.sync_all()
            res["pull_changes"] = pulled
            res["pull_s"] = round(dt, 3)
            res["pull_runs"] = runs
            res["pull_per_s"] = round(pulled / dt)
        finally:
            srv.stop()
        # -- reconnect to converged ---------------------------------------------
        db = make_db(backend, root, "rc", a)
        token = run([a.hearth, "sync-server", "--db", db, "token", "bench"], base_env
                    ).strip().splitlines()[-1].split()[-1]
        srv = Server(a.hearth, db, base_env)
        srv.start()
        devs = [Dev(root, "rc%d" % i, a.hearth, a.tool, base_env) for i in range(3)]
        try:
            for d in devs:
                d.pair(srv.port, token)
            srv.stop()  # offline: each device writes its backlog
            for i, d in enumerate(devs):
                d.bulk(10 + i, a.reconnect_n)
            srv.start()
            t0 = time.perf_counter()
            converged_at = None
            passes = 0
            for _ in range(10):
                passes += 1
                moved = False
                for d in devs:
                    j, _ = d.sync()
                    if j.get("pushed") or j.get("pulled"):
                        moved = True
                        converged_at = time.perf_counter()
                if not moved:
                    break
            res["reconnect_devices"] = len(devs)
            res["reconnect_pending_each"] = a.reconnect_n
            res["reconnect_to_converged_s"] = round((converged_at or t0) - t0, 3)
            res["reconnect_passes"] = passes
            counts = []
            for d in devs:
                q = json.loads(run([a.hearth, "tasks", "list", "--json"], d.env))
                counts.append(len(q) if isinstance(q, list) else len(q.get("tasks", [])))
            res["reconnect_tasks_per_device"] = counts
        finally:
            srv.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)
        if backend != "sqlite":
            for tag in ("tp", "rc"):
                subprocess.run([a.psql, a.pg_url, "-qAtc", "DROP DATABASE IF EXISTS bench_%s_%d"
                                % (tag, os.getpid())], capture_output=True)
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    bdir = os.environ.get("HEARTH_BUILD_DIR", "build")
    ap.add_argument("--hearth", default=os.path.join(bdir, "hearth"))
    ap.add_argument("--tool", default=os.path.join(bdir, "hearth-sync-device"))
    ap.add_argument("--n", type=int, default=100000)
    ap.add_argument("--reconnect-n", type=int, default=1000)
    ap.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    ap.add_argument("--pg-url", default=os.environ.get("HEARTH_TEST_PG_URL", ""))
    ap.add_argument("--psql", default=shutil.which("psql") or "psql")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("HEARTH_")}
    # The real Argon2id costs: pairing pays them once per device, as for a user.
    backends = ["sqlite", "postgresql"] if a.backend == "both" else [a.backend]
    if "postgresql" in backends and not a.pg_url:
        if a.backend == "both":
            print("bench_sync: no --pg-url: PostgreSQL skipped (bench/bench_sync.sh starts one)",
                  file=sys.stderr)
            backends = ["sqlite"]
        else:
            ap.error("--backend postgresql needs --pg-url")
    out = [bench_backend(b, a, base_env) for b in backends]
    if a.json:
        print(json.dumps(out, indent=1))
        return
    for r in out:
        print("%-10s push %7d changes in %7.2f s (%d hearth sync runs): %8d changes/s" %
              (r["backend"], r["push_changes"], r["push_s"], r["push_runs"], r["push_per_s"]))
        print("%-10s pull %7d changes in %7.2f s (%d hearth sync runs): %8d changes/s" %
              (r["backend"], r["pull_changes"], r["pull_s"], r["pull_runs"], r["pull_per_s"]))
        print("%-10s reconnect: %d devices x %d pending -> converged in %.2f s (%d passes; "
              "tasks per device %s)" % (r["backend"], r["reconnect_devices"],
                                        r["reconnect_pending_each"], r["reconnect_to_converged_s"],
                                        r["reconnect_passes"], r["reconnect_tasks_per_device"]))


if __name__ == "__main__":
    main()
