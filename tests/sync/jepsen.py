#!/usr/bin/env python3
"""jepsen.py: the Jepsen-style test of hearth sync (issue 12; stdlib only).

One run, from one seed:
  1. a real `hearth sync-server` (SQLite file or a fresh PostgreSQL database)
     and 3 to 5 devices, each with its own HEARTH_HOME, paired through its own
     fault proxy (faultproxy.py) with all three collections enabled;
  2. rounds in which every device, at once, does one random write through
     hearth-sync-device (tasks, sessions, messages, settings), or syncs
     (`hearth sync --json`), or idles; meanwhile the proxies drop, delay,
     duplicate and reorder requests and responses and cut connections,
     partitions come and go, devices are SIGKILLed (mid-sync at a random
     moment; right after a local commit, before anything is pushed, through
     HEARTH_SYNC_DEVICE_CRASH) and the server is SIGKILLed at random and
     armed to die between a commit and its ack
     (HEARTH_SYNC_SERVER_CRASH=after_commit:N), then restarted;
  3. heal: faults off, held requests delivered, the server up, every device
     syncs until a whole pass moves nothing (conflicts left open are
     resolved with --keep server, as a user would), then the checks:
       - every device's `hearth sync dump --json` is identical, and so is the
         canonical dump of the test's rows (hearth-sync-device dump);
       - no write committed locally is silently gone: each value a committed
         write set is the final value, or was overwritten by a write that had
         seen it, or appears in a recorded conflict
         (`hearth sync conflicts --all --json`); a write with no record of its
         commit (killed in between) may be absent;
       - nothing applied twice: one row per task, each message once;
       - order: no overwritten value comes back; each device's messages keep
         its order in every session, on every device;
       - no phantom values (every final value was written by someone).
The plan (devices, rounds, every action, kill, crash hook, fault seed) comes
from the seed alone: a failing run prints its seed and `--seed N` replays the
same plan (timing between processes is the machine's).

  jepsen.py --seed N            one run; exit 1 if it fails
  jepsen.py --runs K [--seed-base B]   K runs with seeds B..B+K-1, counts at the end
  --backend sqlite|postgresql (with --pg-url postgresql://... of a database
  in which the driver may CREATE DATABASE), --hearth BIN, --device-tool BIN
Exit status: 0 all passed, 1 a run failed, 77 the sync commands are missing.
"""
import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faultproxy  # noqa: E402

PASSPHRASE = "jepsen correct horse"
TASK_FIELDS = ("notes", "status", "priority", "due_ms")
DELETED = "<deleted>"


class Infra(Exception):
    """The run could not be carried out (not a sync bug)."""


# ---------------------------------------------------------------------------
# processes

class Server:
    def __init__(self, hearth, db, log_dir, env):
        self.hearth, self.db, self.log_dir, self.env = hearth, db, log_dir, env
        self.proc = None
        self.port = 0
        self.starts = 0
        self.killed = False  # the last stop was the driver's SIGKILL

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self, crash_n=None):
        env = dict(self.env)
        env.pop("HEARTH_SYNC_SERVER_CRASH", None)
        if crash_n:
            env["HEARTH_SYNC_SERVER_CRASH"] = "after_commit:%d" % crash_n
        self.starts += 1
        self.killed = False
        err = open(os.path.join(self.log_dir, "server.%d.log" % self.starts), "wb")
        # The same port again when there was one, so a client that kept it
        # (and the proxies) find the new server; port 0 if it is taken.
        for port in ([self.port, 0] if self.port else [0]):
            p = subprocess.Popen([self.hearth, "sync-server", "--host", "127.0.0.1",
                                  "--port", str(port), "--db", self.db],
                                 stdout=subprocess.PIPE, stderr=err, env=env)
            got = self._read_port(p)
            if got:
                self.proc, self.port = p, got
                err.close()
                return got
            p.kill()
            p.wait()
        err.close()
        raise Infra("sync-server did not start (see %s)" % err.name)

    @staticmethod
    def _read_port(p):
        result = []
        found = threading.Event()

        def reader():
            for line in p.stdout:
                m = re.search(rb"(\d{2,5})\s*$", line.strip())
                if m:
                    result.append(int(m.group(1)))
                    break
            found.set()  # the port, or the server's end
            # keep draining so the server never blocks on a full pipe
            for _ in p.stdout:
                pass
        threading.Thread(target=reader, daemon=True).start()
        found.wait(15)
        return result[0] if result else 0

    def kill(self):
        self.killed = True
        if self.alive():
            self.proc.send_signal(signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait()


def run_cmd(argv, env, timeout, stdin=None):
    """Runs argv; returns (rc, stdout, stderr); rc None after a timeout."""
    try:
        p = subprocess.run(argv, env=env, capture_output=True, timeout=timeout, input=stdin)
        return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")
    except subprocess.TimeoutExpired as e:
        return None, (e.stdout or b"").decode(errors="replace"), (e.stderr or b"").decode(errors="replace")


def last_json(text):
    for line in reversed(text.strip().splitlines()):
        try:
            return json.loads(line)
        except ValueError:
            continue
    try:
        return json.loads(text)
    except ValueError:
        return None


class Device:
    def __init__(self, idx, root, hearth, tool, base_env):
        self.idx = idx
        self.home = os.path.join(root, "dev%d" % idx)
        os.makedirs(self.home, mode=0o700)
        self.log = os.path.join(root, "dev%d.log" % idx)
        self.hearth, self.tool = hearth, tool
        self.env = dict(base_env)
        self.env.update(HEARTH_HOME=self.home, HOME=self.home,
                        XDG_CONFIG_HOME=os.path.join(self.home, ".config"),
                        HEARTH_SYNC_PASSPHRASE=PASSPHRASE, HEARTH_SYNC_KDF="fast")
        self.proxy = None

    def hearth_cmd(self, args, timeout=60):
        return run_cmd([self.hearth] + args, self.env, timeout)

    def popen(self, argv, extra_env=None):
        env = self.env
        if extra_env:
            env = dict(env)
            env.update(extra_env)
        return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)


# ---------------------------------------------------------------------------
# the plan: everything random is drawn here, before anything runs

def make_plan(seed, args):
    rng = random.Random(seed)
    plan = {"seed": seed}
    plan["n_dev"] = args.devices or rng.randint(3, 4 if args.short else 5)
    plan["rounds"] = args.rounds or (rng.randint(5, 9) if args.short else rng.randint(8, 16))
    plan["rate"] = rng.uniform(0.1, 0.45)
    # how same-field conflicts are settled, per collection (the same on every
    # device); None: the default (lww)
    choices = (None, None) + tuple(args.rules.split(",")) if args.rules else (None,)
    plan["rules"] = {c: rng.choice(choices) for c in ("tasks", "conversations", "settings")}
    plan["proxy_seeds"] = [rng.randrange(1 << 30) for _ in range(plan["n_dev"])]
    # crash hook for each successive server start (None: not armed)
    plan["server_hooks"] = [rng.randint(1, 6) if rng.random() < 0.45 else None
                            for _ in range(64)]
    wid = [0] * plan["n_dev"]
    rounds = []
    for _ in range(plan["rounds"]):
        acts = []
        for d in range(plan["n_dev"]):
            r = rng.random()
            if r < 0.55:
                wid[d] += 1
                c = rng.random()
                crash = "after_commit" if c < 0.10 else "before_commit" if c < 0.14 else None
                acts.append({"a": "op", "wid": wid[d], "seed": rng.randrange(1 << 40),
                             "crash": crash})
            elif r < 0.92:
                kill = rng.uniform(0.005, 0.25) if rng.random() < 0.2 else None
                acts.append({"a": "sync", "kill": kill})
            else:
                acts.append({"a": "idle"})
        ev = {"acts": acts}
        ev["partition"] = rng.randrange(plan["n_dev"]) if rng.random() < 0.15 else None
        ev["unpartition"] = rng.random() < 0.3
        ev["kill_server"] = rng.uniform(0.0, 0.2) if rng.random() < 0.12 else None
        ev["restart_server"] = rng.random() < 0.7
        rounds.append(ev)
    plan["round_list"] = rounds
    return plan


# ---------------------------------------------------------------------------
# one run

class Run:
    def __init__(self, seed, args):
        self.seed, self.args = seed, args
        self.plan = make_plan(seed, args)
        self.t0 = time.monotonic()
        self.faults = {}
        self.failures = []
        self.stats = {"lost": 0, "divergent": 0, "duplicates": 0, "order": 0,
                      "resurrected": 0, "phantom": 0, "hangs": 0, "writes": 0,
                      "maybe_writes": 0, "syncs": 0, "conflicts": 0}

    def note(self, msg):
        if self.args.verbose:
            print("  [%6.2f s] %s" % (time.monotonic() - self.t0, msg), flush=True)

    def fault(self, kind, n=1):
        self.faults[kind] = self.faults.get(kind, 0) + n

    def fail(self, what, msg):
        self.stats[what] = self.stats.get(what, 0) + 1
        if len(self.failures) < 40:
            self.failures.append("%s: %s" % (what, msg))

    def execute(self):
        a = self.args
        root = tempfile.mkdtemp(prefix="hearth-jepsen-%d-" % self.seed, dir=a.workdir)
        self.root = root
        base_env = {k: v for k, v in os.environ.items()
                    if not k.startswith("HEARTH_") or k in ("HEARTH_BIN",)}
        base_env["HEARTH_SYNC_KDF"] = "fast"
        db = self.make_db(root)
        self.server = Server(a.hearth, db, root, base_env)
        proxies = []
        try:
            rc, out, err = run_cmd([a.hearth, "sync-server", "--db", db, "token", "jepsen"],
                                   base_env, 30)
            if rc != 0 or not out.strip():
                raise Infra("token: rc %s: %s" % (rc, err.strip()[-300:]))
            token = out.strip().splitlines()[-1].strip().split()[-1]
            hooks = iter(self.plan["server_hooks"])
            self.hooks = hooks
            self.server.start(None)
            devs = [Device(i, root, a.hearth, a.device_tool, base_env)
                    for i in range(self.plan["n_dev"])]
            self.devs = devs
            for d in devs:
                d.proxy = faultproxy.FaultProxy(self.server.port, self.plan["proxy_seeds"][d.idx],
                                                0.0, name="dev%d" % d.idx)
                proxies.append(d.proxy)
            for d in devs:
                url = "http://127.0.0.1:%d" % d.proxy.port
                rc, out, err = d.hearth_cmd(["sync", "pair", "--server", url, "--token", token,
                                             "--name", "dev%d" % d.idx])
                if rc != 0:
                    raise Infra("dev%d: sync pair: rc %s: %s" % (d.idx, rc, err.strip()[-300:]))
                for coll in ("tasks", "conversations", "settings"):
                    rc, out, err = d.hearth_cmd(["sync", "enable", coll])
                    if rc != 0:
                        raise Infra("dev%d: sync enable %s: rc %s: %s" %
                                    (d.idx, coll, rc, err.strip()[-300:]))
                    rule = self.plan["rules"][coll]
                    if rule:
                        rc, out, err = d.hearth_cmd(["sync", "rule", coll, rule])
                        if rc != 0:
                            raise Infra("dev%d: sync rule %s %s: rc %s: %s" %
                                        (d.idx, coll, rule, rc, err.strip()[-300:]))
            # the server that carries on is armed by the plan's first hook
            self.server.kill()
            self.server.start(next(hooks))
            for d in devs:
                d.proxy.set_upstream(self.server.port)
                d.proxy.set_rate(self.plan["rate"])
            self.note("set up: server on %d, %d devices paired" % (self.server.port, len(devs)))
            for i, ev in enumerate(self.plan["round_list"]):
                self.round(ev)
                self.note("round %d" % i)
            self.heal()
            self.note("healed")
            self.check()
            self.note("checked")
        finally:
            for d in getattr(self, "devs", []):
                if d.proxy:
                    for k, v in d.proxy.counts.items():
                        if v:
                            self.fault(k, v)
            for p in proxies:
                p.stop()
            self.server.kill()
            self.drop_db()
            if not a.keep and not self.failures:
                shutil.rmtree(root, ignore_errors=True)

    # -- backends ------------------------------------------------------------
    def make_db(self, root):
        if self.args.backend == "sqlite":
            return "sqlite:" + os.path.join(root, "server.db")
        name = "jepsen_%d_%d" % (self.seed, os.getpid())
        self.pg_name = name
        rc, out, err = run_cmd([self.args.psql, self.args.pg_url, "-qAtc",
                                "DROP DATABASE IF EXISTS %s; " % name], os.environ, 30)
        rc, out, err = run_cmd([self.args.psql, self.args.pg_url, "-qAtc",
                                "CREATE DATABASE %s" % name], os.environ, 30)
        if rc != 0:
            raise Infra("CREATE DATABASE: %s" % err.strip())
        return _pg_url_with_db(self.args.pg_url, name)

    def drop_db(self):
        if self.args.backend != "sqlite" and getattr(self, "pg_name", None):
            run_cmd([self.args.psql, self.args.pg_url, "-qAtc",
                     "DROP DATABASE IF EXISTS %s WITH (FORCE)" % self.pg_name], os.environ, 30)

    # -- chaos ---------------------------------------------------------------
    def ensure_server(self, restart):
        if not self.server.alive():
            if self.server.proc is not None and not self.server.killed:
                # died by itself: the armed crash hook (or a crash: its log says)
                self.fault("server_died_after_commit")
            if restart:
                self.server.start(next(self.hooks, None))
                for d in self.devs:
                    d.proxy.set_upstream(self.server.port)
                return True
        return False

    def round(self, ev):
        self.ensure_server(ev["restart_server"])
        if ev["unpartition"]:
            for d in self.devs:
                d.proxy.set_partition(False)
        if ev["partition"] is not None:
            self.fault("partition")
            self.devs[ev["partition"]].proxy.set_partition(True)
        procs = []
        timers = []
        for d, act in zip(self.devs, ev["acts"]):
            if act["a"] == "op":
                extra = {"HEARTH_SYNC_DEVICE_CRASH": act["crash"]} if act["crash"] else None
                if act["crash"]:
                    self.fault("device_crash_" + act["crash"])
                p = d.popen([d.tool, "op", "--device", str(d.idx), "--wid", str(act["wid"]),
                             "--seed", str(act["seed"]), "--log", d.log], extra)
                procs.append((d, act, p))
            elif act["a"] == "sync":
                self.stats["syncs"] += 1
                p = d.popen([d.hearth, "sync", "--json"])
                procs.append((d, act, p))
                if act["kill"] is not None:
                    t = threading.Timer(act["kill"], _kill_quiet, (p,))
                    t.start()
                    timers.append(t)
        if ev["kill_server"] is not None and self.server.alive():
            srv = self.server

            def kill_server():
                if srv.alive():
                    self.fault("kill_server")
                    srv.kill()
            server_timer = threading.Timer(ev["kill_server"], kill_server)
            server_timer.start()
        else:
            server_timer = None
        for d, act, p in procs:
            try:
                out, err = p.communicate(timeout=self.args.op_timeout)
            except subprocess.TimeoutExpired:
                _kill_quiet(p)
                out, err = p.communicate()
                self.stats["hangs"] += 1
                self.fault("hang_killed")
                continue
            rc = p.returncode
            if rc == -signal.SIGKILL and act["a"] == "sync":
                self.fault("kill_device_mid_sync")
            elif act["a"] == "op" and rc not in (0, 3) and \
                    not (act["crash"] and rc == -signal.SIGKILL):
                raise Infra("dev%d: hearth-sync-device rc %s: %s" %
                            (d.idx, rc, err.decode(errors="replace")[-300:]))
        for t in timers:
            t.cancel()
        if server_timer is not None:
            server_timer.join()  # the kill lands in this round, or just after

    # -- heal and quiesce ----------------------------------------------------
    def sync_all(self, timeout):
        moved = False
        for d in self.devs:
            rc, out, err = d.hearth_cmd(["sync", "--json"], timeout)
            j = last_json(out)
            if rc == 3 and isinstance(j, dict):
                j["status"] = "offline"
            elif rc != 0 or not isinstance(j, dict):
                self.fail("sync_error", "dev%d: hearth sync after heal: rc %s: %s %s" %
                          (d.idx, rc, out.strip()[-200:], err.strip()[-300:]))
                return True
            if j.get("status") == "offline":
                srv = self.server.proc
                srv = self.server.proc
                diag = os.path.join(self.root, "dev%d.proxy-events" % d.idx)
                with open(diag, "w") as f:
                    f.write("\n".join(d.proxy.errors) + "\n")
                self.fail("sync_error", "dev%d: offline after heal: %s (server %s; the proxy's "
                          "last events in %s)" % (d.idx, out.strip(), "running" if
                                                  self.server.alive() else "exited with %s" %
                                                  (srv.returncode if srv else None), diag))
                return True
            if j.get("pushed") or j.get("pulled") or j.get("resolved") or \
                    j.get("status") not in ("no_changes",):
                moved = True
        return moved

    def heal(self):
        self.note("heal at %.3f" % time.monotonic())
        for d in self.devs:
            d.proxy.heal(deliver_held=True)
        if not self.server.alive():
            self.ensure_server(False)
            self.server.start(None)
            for d in self.devs:
                d.proxy.set_upstream(self.server.port)
        elif self.server.proc is not None:
            # disarm a pending crash hook: restart plainly
            self.server.kill()
            self.server.start(None)
            for d in self.devs:
                d.proxy.set_upstream(self.server.port)
        quiet = False
        for _ in range(self.args.max_passes):
            if self.failures:
                return
            moved = self.sync_all(120)
            if self.failures:
                return
            if not moved:
                if self.resolve_open_conflicts():
                    continue
                quiet = True
                break
        if not quiet:
            self.fail("divergent", "no quiescence after %d passes" % self.args.max_passes)

    def resolve_open_conflicts(self):
        any_open = False
        for d in self.devs:
            rc, out, err = d.hearth_cmd(["sync", "conflicts", "--json"])
            j = last_json(out) if rc == 0 else None
            items = _conflict_items(j)
            for c in items:
                cid = c.get("id", c.get("conflict_id")) if isinstance(c, dict) else None
                if cid is None:
                    continue
                any_open = True
                rc2, out2, err2 = d.hearth_cmd(["sync", "resolve", str(cid), "--keep", "server"])
                if rc2 != 0:
                    self.fail("sync_error", "dev%d: sync resolve %s: %s" % (d.idx, cid, err2.strip()))
        return any_open

    # -- checks --------------------------------------------------------------
    def check(self):
        if self.failures:
            return
        # 1. identical ends
        dumps, tool_dumps = [], []
        for d in self.devs:
            rc, out, err = d.hearth_cmd(["sync", "dump", "--json"])
            j = last_json(out) if rc == 0 else None
            if j is None:
                self.fail("sync_error", "dev%d: sync dump --json: rc %s: %s" % (d.idx, rc, err.strip()))
                return
            dumps.append(json.dumps(j, sort_keys=True))
            rc, out, err = run_cmd([d.tool, "dump"], d.env, 60)
            if rc != 0:
                raise Infra("dev%d: hearth-sync-device dump: %s" % (d.idx, err.strip()))
            tool_dumps.append(json.loads(out))
        for i in range(1, len(dumps)):
            if dumps[i] != dumps[0]:
                self.fail("divergent", "sync dump of dev%d differs from dev0: %s" %
                          (i, _first_diff(dumps[0], dumps[i])))
        canon = [_canon_tool_dump(t) for t in tool_dumps]
        for i in range(1, len(canon)):
            if canon[i] != canon[0]:
                self.fail("divergent", "store content of dev%d differs from dev0: %s" %
                          (i, _first_diff(json.dumps(canon[0], sort_keys=True),
                                          json.dumps(canon[i], sort_keys=True))))
        # 2. conflicts recorded anywhere
        leaves = set()
        for d in self.devs:
            rc, out, err = d.hearth_cmd(["sync", "conflicts", "--all", "--json"])
            j = last_json(out) if rc == 0 else None
            if j is None:
                self.fail("sync_error", "dev%d: sync conflicts --all --json: rc %s: %s" %
                          (d.idx, rc, err.strip()))
                return
            self.stats["conflicts"] += len(_conflict_items(j))
            _leaves(j, leaves)
        # 3. the writes
        writes = []
        for d in self.devs:
            writes += _read_log(d.log)
        self.stats["writes"] = sum(1 for w in writes if w["done"])
        self.stats["maybe_writes"] = sum(1 for w in writes if not w["done"])
        for i, t in enumerate(tool_dumps):
            check_writes(self, writes, t, leaves, "dev%d" % i)

    def report(self):
        return {"seed": self.seed, "failures": self.failures, "faults": self.faults,
                "stats": self.stats}


def _pg_url_with_db(url, name):
    # postgresql://user@host:port/db?params -> the same with db = name
    m = re.match(r"^(postgres(?:ql)?://[^/?]*)(/[^?]*)?(\?.*)?$", url)
    if not m:
        raise Infra("bad --pg-url %s" % url)
    return m.group(1) + "/" + name + (m.group(3) or "")


def _kill_quiet(p):
    try:
        p.send_signal(signal.SIGKILL)
    except (OSError, ProcessLookupError):
        pass


def _conflict_items(j):
    if isinstance(j, list):
        return j
    if isinstance(j, dict):
        for k in ("conflicts", "items", "open", "all"):
            if isinstance(j.get(k), list):
                return j[k]
    return []


def _leaves(j, out):
    """Every scalar in j, and in any string of j that is itself JSON."""
    if isinstance(j, dict):
        for v in j.values():
            _leaves(v, out)
    elif isinstance(j, list):
        for v in j:
            _leaves(v, out)
    elif isinstance(j, str):
        out.add(j)
        s = j.strip()
        if s[:1] in ("{", "["):
            try:
                _leaves(json.loads(s), out)
            except ValueError:
                pass
    elif isinstance(j, bool) or j is None:
        pass
    else:
        out.add(j)


def _first_diff(a, b):
    n = min(len(a), len(b))
    i = next((k for k in range(n) if a[k] != b[k]), n)
    return "at char %d: ...%s... vs ...%s..." % (i, a[max(0, i - 60):i + 60], b[max(0, i - 60):i + 60])


def _canon_tool_dump(t):
    """Messages as sorted lists: local order may differ across devices."""
    c = dict(t)
    c["sessions"] = {k: sorted(v) for k, v in t["sessions"].items()}
    return c


def _read_log(path):
    intents, done = {}, set()
    if not os.path.exists(path):
        return []
    with open(path, "rb") as f:
        for line in f:
            try:
                r = json.loads(line)
            except ValueError:
                continue  # a line cut by SIGKILL
            key = (r.get("d"), r.get("w"))
            if r.get("t") == "intent":
                intents[key] = r
            elif r.get("t") == "done":
                done.add(key)
    out = []
    for key, r in intents.items():
        r = dict(r)
        r["done"] = key in done
        out.append(r)
    out.sort(key=lambda r: (r["d"], r["w"]))
    return out


def _effects(w):
    """(cell, prev, new) of a write; cells are ('task', title, field) or
    ('setting', key)."""
    op, row, prev, new = w["op"], w["row"], w.get("prev"), w.get("new")
    eff = []
    if op == "task_add":
        for f in TASK_FIELDS:
            eff.append((("task", row, f), None, new[f]))
    elif op == "task_update":
        for f in TASK_FIELDS:
            if new[f] != prev[f]:
                eff.append((("task", row, f), prev[f], new[f]))
    elif op == "task_delete":
        for f in TASK_FIELDS:
            eff.append((("task", row, f), prev[f], DELETED))
    elif op in ("setting_set", "setting_unset"):
        if prev["value"] != new["value"]:
            eff.append((("setting", row), prev["value"], new["value"]))
    return eff


def _final(dump, cell):
    if cell[0] == "task":
        t = dump["tasks"].get(cell[1])
        if t is None:
            return DELETED
        if isinstance(t, list):
            t = t[0]
        return t.get(cell[2])
    return dump["settings"].get(cell[1])


def _unique(v):
    return v is not None and v != DELETED


def check_writes(run, writes, dump, leaves, where):
    # duplicates in the store
    for title, t in dump["tasks"].items():
        if isinstance(t, list):
            run.fail("duplicates", "%s: task %s exists %d times" % (where, title, len(t)))
    for name, msgs in dump["sessions"].items():
        seen = {}
        for m in msgs:
            seen[m] = seen.get(m, 0) + 1
        for m, k in seen.items():
            if k > 1:
                run.fail("duplicates", "%s: message %s in %s %d times" % (where, m, name, k))
    # every write's effects by cell
    by_cell = {}
    for w in writes:
        for cell, prev, new in _effects(w):
            by_cell.setdefault(cell, []).append((w, prev, new))
    leaf_str = [x for x in leaves if isinstance(x, str)]

    def in_conflicts(v):
        if v in leaves:
            return True
        if isinstance(v, str):
            return any(v in s for s in leaf_str)
        return False

    # established writes: committed, or a maybe-write whose value was seen
    est = {(w["d"], w["w"]) for w in writes if w["done"]}
    changed = True
    while changed:
        changed = False
        for w in writes:
            k = (w["d"], w["w"])
            if k in est:
                continue
            seen = False
            if w["op"] == "message_add":
                seen = w["new"]["content"] in dump["sessions"].get(w["row"], [])
            elif w["op"] == "session_add":
                seen = w["row"] in dump["sessions"]
            for cell, prev, new in _effects(w):
                if _unique(new) and (_final(dump, cell) == new or in_conflicts(new) or any(
                        (x["d"], x["w"]) in est and p == new for x, p, _ in by_cell[cell])):
                    seen = True
                elif not _unique(new) and (
                        _final(dump, cell) == new or cell[1] in leaves or
                        any((x["d"], x["w"]) in est and p == new for x, p, _ in by_cell[cell])):
                    # a delete or unset that may have committed: the row or
                    # key is gone, or a later write found it gone, or a
                    # conflict on the row is recorded (the delete losing it).
                    # Any of these may be its doing; it can not be told apart.
                    seen = True
            if seen:
                est.add(k)
                changed = True
    # Rows deleted by a write that counts, yet present at the end: the delete
    # lost a conflict to an update (checked as a lost write below), and the
    # row came back as the updating device had it, older fields included.
    revived = {w["row"] for w in writes if w["op"] == "task_delete" and
               (w["d"], w["w"]) in est and w["row"] in dump["tasks"]}
    # lost and resurrected values
    # one report per write (and per resurrected cell) in a run, whichever
    # device shows it first
    if not hasattr(run, "seen_reports"):
        run.seen_reports = set()
    lost_seen = run.seen_reports
    for cell, effs in sorted(by_cell.items(), key=lambda kv: json.dumps(kv[0])):
        final = _final(dump, cell)
        succ = {}
        for x, p, n in effs:
            if (x["d"], x["w"]) in est and p != n:
                succ.setdefault(json.dumps(p), []).append((x, n))
        for w, prev, new in effs:
            if (w["d"], w["w"]) not in est:
                continue
            if final == new:
                continue
            if json.dumps(new) in succ:
                continue
            if _unique(new) and in_conflicts(new):
                continue
            if not _unique(new) and (cell[1] in leaves or in_conflicts(cell[1])):
                continue  # a delete/unset that lost a recorded conflict on this row
            if (w["d"], w["w"]) in lost_seen:
                continue  # one report per write, not per field
            lost_seen.add((w["d"], w["w"]))
            run.fail("lost", "%s: %s by dev%d write %d set %r (was %r); final %r, never "
                     "overwritten by a write that saw it, in no recorded conflict" %
                     (where, "/".join(map(str, cell)), w["d"], w["w"], new, prev, final))
        if cell[0] == "task" and cell[1] in revived:
            continue  # restored from a device that never saw the later values
        if _unique(final) and json.dumps(final) in succ:
            over = [(x, n) for x, n in succ[json.dumps(final)] if n != DELETED]
            if over and not all(in_conflicts(n) for x, n in over if _unique(n)) and \
                    ("resurrected", cell) not in lost_seen:
                lost_seen.add(("resurrected", cell))
                x, n = over[0]
                run.fail("resurrected", "%s: %s is %r, which dev%d write %d had overwritten with %r" %
                         (where, "/".join(map(str, cell)), final, x["d"], x["w"], n))
    # phantom values: every final value comes from some write
    written = {}
    for cell, effs in by_cell.items():
        for _, _, n in effs:
            written.setdefault(cell, set()).add(json.dumps(n))
    for title, t in dump["tasks"].items():
        t = t[0] if isinstance(t, list) else t
        for f in TASK_FIELDS:
            if json.dumps(t.get(f)) not in written.get(("task", title, f), ()):
                run.fail("phantom", "%s: task %s %s = %r written by no one" % (where, title, f, t.get(f)))
    for k, v in dump["settings"].items():
        if json.dumps(v) not in written.get(("setting", k), ()):
            run.fail("phantom", "%s: setting %s = %r written by no one" % (where, k, v))
    # sessions and messages: committed ones present once, each device's in order
    for w in writes:
        k = (w["d"], w["w"])
        if w["op"] == "session_add" and w["done"] and w["row"] not in dump["sessions"]:
            run.fail("lost", "%s: session %s (dev%d write %d) missing" % (where, w["row"], w["d"], w["w"]))
        if w["op"] == "message_add" and k in est:
            if w["new"]["content"] not in dump["sessions"].get(w["row"], []):
                run.fail("lost", "%s: message %s in %s (dev%d write %d) missing" %
                         (where, w["new"]["content"], w["row"], w["d"], w["w"]))
    pat = re.compile(r"^m-d(\d+)-w(\d+)$")
    for name, msgs in dump["sessions"].items():
        last = {}
        for m in msgs:
            mm = pat.match(m)
            if not mm:
                run.fail("phantom", "%s: message %r in %s written by no one" % (where, m, name))
                continue
            dv, wv = int(mm.group(1)), int(mm.group(2))
            if wv < last.get(dv, -1):
                run.fail("order", "%s: in %s dev%d's message w%d comes after its w%d" %
                         (where, name, dv, wv, last[dv]))
            last[dv] = max(wv, last.get(dv, -1))


# ---------------------------------------------------------------------------

def have_sync_commands(hearth, device_tool):
    if not os.access(hearth, os.X_OK) or not os.access(device_tool, os.X_OK):
        return "missing %s or %s" % (hearth, device_tool)
    for args in (["sync", "--help"], ["sync-server", "--help"]):
        rc, out, err = run_cmd([hearth] + args, os.environ, 20)
        text = (out + err).lower()
        if rc is None or "unknown command" in text or "unknown subcommand" in text \
                or ("usage" not in text and rc != 0):
            return "`hearth %s` is not available" % args[0]
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, help="one run with this seed")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--seed-base", type=int, default=None)
    ap.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    ap.add_argument("--pg-url", default=os.environ.get("HEARTH_TEST_PG_URL", ""))
    ap.add_argument("--psql", default=shutil.which("psql") or "psql")
    bdir = os.environ.get("HEARTH_BUILD_DIR", "build")
    ap.add_argument("--hearth", default=os.environ.get("HEARTH_BIN", os.path.join(bdir, "hearth")))
    ap.add_argument("--device-tool", default=os.path.join(bdir, "hearth-sync-device"))
    ap.add_argument("--devices", type=int, default=0, help="3..5; 0: from the seed")
    ap.add_argument("--rounds", type=int, default=0, help="0: from the seed (8..16)")
    ap.add_argument("--rules", default=os.environ.get("HEARTH_JEPSEN_RULES",
                                                     "lww,server,device,manual"),
                    help="conflict rules a run may draw per collection, besides the "
                         "default (comma-separated; HEARTH_JEPSEN_RULES)")
    ap.add_argument("--short", action="store_true",
                    help="3-4 devices, 5-9 rounds (the ctest run)")
    ap.add_argument("--op-timeout", type=float, default=30)
    ap.add_argument("--max-passes", type=int, default=12)
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--keep", action="store_true", help="keep each run's directory")
    ap.add_argument("--json", action="store_true", help="print the summary as JSON")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()
    if a.backend == "postgresql" and not a.pg_url:
        ap.error("--backend postgresql needs --pg-url (or HEARTH_TEST_PG_URL)")
    why = have_sync_commands(a.hearth, a.device_tool)
    if why:
        print("jepsen: SKIP: %s" % why)
        return 77
    if a.seed is not None:
        seeds = [a.seed]
    else:
        base = a.seed_base if a.seed_base is not None else random.randrange(1 << 31)
        seeds = list(range(base, base + a.runs))
    total = {"runs": 0, "failed_runs": 0, "infra_errors": 0}
    faults, stats = {}, {}
    failed_seeds = []
    t0 = time.monotonic()
    for s in seeds:
        r = Run(s, a)
        try:
            r.execute()
        except Infra as e:
            r.failures.append("infra: %s" % e)
            total["infra_errors"] += 1
        total["runs"] += 1
        for k, v in r.faults.items():
            faults[k] = faults.get(k, 0) + v
        for k, v in r.stats.items():
            stats[k] = stats.get(k, 0) + v
        if r.failures:
            total["failed_runs"] += 1
            failed_seeds.append(s)
            print("FAIL seed=%d backend=%s devices=%d rounds=%d rules=%s (kept in %s)" %
                  (s, a.backend, r.plan["n_dev"], r.plan["rounds"],
                   ",".join("%s:%s" % (c, v or "default") for c, v in r.plan["rules"].items()),
                   getattr(r, "root", "?")))
            for f in r.failures:
                print("  " + f)
            print("  replay: python3 %s --seed %d%s%s --backend %s%s" %
                  (os.path.relpath(__file__), s, " --short" if a.short else "",
                   " --rules %s" % a.rules if a.rules != ap.get_default("rules") else "",
                   a.backend,
                   " --pg-url '%s'" % a.pg_url if a.backend != "sqlite" else ""))
            sys.stdout.flush()
        elif a.verbose:
            print("ok seed=%d devices=%d rounds=%d writes=%d maybe=%d conflicts=%d faults=%s" %
                  (s, r.plan["n_dev"], r.plan["rounds"], r.stats["writes"],
                   r.stats["maybe_writes"], r.stats["conflicts"], sum(r.faults.values())))
            sys.stdout.flush()
    summary = dict(total)
    summary.update(backend=a.backend, seconds=round(time.monotonic() - t0, 1),
                   faults_injected=sum(faults.values()), faults=dict(sorted(faults.items())),
                   lost_writes=stats.get("lost", 0), divergent_ends=stats.get("divergent", 0),
                   duplicates=stats.get("duplicates", 0),
                   order_violations=stats.get("order", 0) + stats.get("resurrected", 0),
                   phantoms=stats.get("phantom", 0), hangs=stats.get("hangs", 0),
                   writes_committed=stats.get("writes", 0),
                   writes_maybe=stats.get("maybe_writes", 0), syncs=stats.get("syncs", 0),
                   conflicts_recorded=stats.get("conflicts", 0), failed_seeds=failed_seeds)
    if a.json:
        print(json.dumps(summary, indent=1))
    else:
        print("jepsen (%s): %d runs, %d failed, in %.1f s" %
              (a.backend, summary["runs"], summary["failed_runs"], summary["seconds"]))
        print("  faults injected: %d (%s)" % (summary["faults_injected"], ", ".join(
            "%s %d" % kv for kv in summary["faults"].items())))
        print("  lost writes %d, divergent ends %d, duplicates %d, order violations %d, "
              "phantoms %d, hangs %d" % (summary["lost_writes"], summary["divergent_ends"],
                                          summary["duplicates"], summary["order_violations"],
                                          summary["phantoms"], summary["hangs"]))
        print("  writes committed %d (+%d maybe), syncs %d, conflicts recorded %d" %
              (summary["writes_committed"], summary["writes_maybe"], summary["syncs"],
               summary["conflicts_recorded"]))
        if failed_seeds:
            print("  failed seeds: %s" % " ".join(map(str, failed_seeds)))
    return 1 if failed_seeds else 0


if __name__ == "__main__":
    sys.exit(main())
