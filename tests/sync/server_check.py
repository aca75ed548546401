"""server_check.py: drives a real `hearth sync-server` over HTTP and checks the
protocol of docs/sync-protocol.md. Used by test_sync_server.sh (SQLite) and
test_sync_server_pg.sh (PostgreSQL) with the same checks:

    python3 server_check.py HEARTH_BIN DB_URL WORKDIR

Registration with good and bad tokens, 401 for unknown / revoked devices,
keyinfo first writer wins (409), push applied once when repeated, each
conflict kind, append rules, pull paging and cursor, the recorded pull
position and tombstone compaction, 404/405/400/413/429 with JSON errors,
payload bytes returned exactly (never decoded), concurrent pushers, the
crash-after-commit hook, and a 5000-change push. Exits non-zero on the first
failed check, naming it.
"""
import base64
import http.client
import json
import os
import random
import signal
import subprocess
import sys
import atexit
import threading

HEARTH, DB, WORK = sys.argv[1], sys.argv[2], sys.argv[3]
checks = 0
servers = []


@atexit.register
def _kill_servers():
    # A failed check exits early: leave no server behind.
    for p in servers:
        if p.poll() is None:
            p.kill()
            p.wait()


def check(cond, what):
    global checks
    checks += 1
    if not cond:
        print("FAILED:", what, file=sys.stderr)
        sys.exit(1)


class Server:
    def __init__(self, *flags, env=None):
        e = dict(os.environ)
        e.update(env or {})
        self.p = subprocess.Popen([HEARTH, "sync-server", "--db", DB, "--port", "0", *flags],
                                  stdout=subprocess.PIPE, stderr=open(os.path.join(WORK, "server.log"), "a"),
                                  env=e, text=True)
        servers.append(self.p)
        line = self.p.stdout.readline()
        check(line.startswith("listening on http://127.0.0.1:"), "server prints its port: %r" % line)
        self.port = int(line.strip().rsplit(":", 1)[1])

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        rc = self.p.wait(timeout=60)
        check(rc == 0, "graceful stop on SIGTERM exits 0 (got %d)" % rc)

    def req(self, method, path, body=None, token=None, raw=None, headers=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        h = {"Content-Type": "application/json"}
        if token:
            h["Authorization"] = "Bearer " + token
        h.update(headers or {})
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        c.request(method, path, body=data, headers=h)
        r = c.getresponse()
        text = r.read()
        c.close()
        try:
            j = json.loads(text) if text else None
        except ValueError:
            j = None
        return r.status, j, r


def admin(*args):
    out = subprocess.run([HEARTH, "sync-server", "--db", DB, *args], capture_output=True, text=True)
    check(out.returncode == 0, "admin %s: %s" % (args, out.stderr))
    return out.stdout.strip()


def b64(b):
    return base64.b64encode(b).decode()


def ch(cid, row, op="upsert", base=0, payload=b"x", coll="tasks", hlc=None):
    c = {"change_id": cid, "collection": coll, "row": row, "op": op, "base_version": base,
         "hlc": hlc if hlc is not None else 1000 + cid}
    c["payload"] = None if op == "delete" else b64(payload)
    return c


def is_error(j, code):
    return isinstance(j, dict) and isinstance(j.get("error"), dict) and j["error"].get("code") == code \
        and isinstance(j["error"].get("message"), str)


def pull_all(s, tok, after=0, limit=None):
    out, nxt = [], after
    while True:
        q = "/v1/pull?after=%d" % nxt + ("&limit=%d" % limit if limit else "")
        st, j, _ = s.req("GET", q, token=tok)
        check(st == 200, "pull %s: %s %s" % (q, st, j))
        out += j["changes"]
        check(j["next"] >= nxt, "next never goes back")
        nxt = j["next"]
        if not j["more"]:
            return out, nxt


def main():
    s = Server()
    alice = admin("token", "alice")
    bob = admin("token", "bob")
    check(len(alice) >= 40 and alice != bob, "tokens are long and distinct")

    # ---- registration and authentication ----
    st, j, _ = s.req("POST", "/v1/register", {"token": "not-a-token", "device": "dev-a", "name": "laptop"})
    check(st == 401 and is_error(j, "unauthorized"), "bad enrollment token: 401 (%s %s)" % (st, j))
    st, j, _ = s.req("POST", "/v1/register", {"token": alice, "device": "dev-a", "name": "laptop"})
    check(st == 200 and j["user"] == "alice" and j["server_seq"] == 0, "register A: %s %s" % (st, j))
    old_a = j["device_token"]
    st, j, _ = s.req("POST", "/v1/register", {"token": alice, "device": "dev-a", "name": "laptop"})
    check(st == 200 and j["device_token"] != old_a, "re-register gives a new token")
    A = j["device_token"]
    st, j, _ = s.req("GET", "/v1/status", token=old_a)
    check(st == 401 and is_error(j, "unauthorized"), "the replaced token stops working")
    st, j, _ = s.req("POST", "/v1/register", {"token": alice, "device": "dev-b", "name": "phone"})
    B = j["device_token"]
    st, j, _ = s.req("POST", "/v1/register", {"token": bob, "device": "dev-c", "name": "bob's"})
    C = j["device_token"]
    check(st == 200 and j["user"] == "bob", "register bob's device")
    st, j, _ = s.req("POST", "/v1/register", {"token": bob, "device": "dev-a", "name": "steal"})
    check(st == 401, "a device id of another user can not be taken over (%s)" % st)
    st, j, _ = s.req("GET", "/v1/status", token=A)
    check(st == 200 and j == {"user": "alice", "device": "dev-a", "server_seq": 0, "devices": 2},
          "status: %s" % j)
    for hdrs in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic " + A}):
        st, j, _ = s.req("GET", "/v1/status", headers=hdrs)
        check(st == 401 and is_error(j, "unauthorized"), "no valid device token: 401 %s" % hdrs)
    st, j, _ = s.req("POST", "/v1/register", raw=b'{"token": 5}')
    check(st == 400 and is_error(j, "bad_request") and "token" in j["error"]["message"],
          "malformed register: 400 naming the field")

    # ---- routes ----
    st, j, _ = s.req("GET", "/v1/nothing", token=A)
    check(st == 404 and is_error(j, "not_found"), "unknown path: 404")
    st, j, r = s.req("GET", "/v1/push", token=A)
    check(st == 405 and is_error(j, "method_not_allowed") and r.getheader("Allow") == "POST", "wrong method: 405")

    # ---- keyinfo: first writer wins ----
    st, j, _ = s.req("GET", "/v1/keyinfo", token=A)
    check(st == 404, "no key info yet: 404")
    k1 = {"salt": b64(bytes(range(16))), "check": b64(b"check-1" * 9), "opslimit": 2, "memlimit": 8 << 20}
    k2 = {"salt": b64(bytes(range(16, 32))), "check": b64(b"check-2" * 9), "opslimit": 3, "memlimit": 8 << 20}
    st, j, _ = s.req("PUT", "/v1/keyinfo", k1, token=A)
    check(st == 200 and j == k1, "first keyinfo PUT stored: %s %s" % (st, j))
    st, j, _ = s.req("PUT", "/v1/keyinfo", k2, token=B)
    check(st == 409 and j == k1, "second keyinfo PUT: 409 with the first (%s %s)" % (st, j))
    st, j, _ = s.req("GET", "/v1/keyinfo", token=B)
    check(st == 200 and j == k1, "GET keyinfo returns the first")
    st, j, _ = s.req("GET", "/v1/keyinfo", token=C)
    check(st == 404, "key info is per user")
    st, j, _ = s.req("PUT", "/v1/keyinfo", {"salt": "AAAA", "check": "AAAA", "opslimit": 1, "memlimit": 1}, token=C)
    check(st == 400 and "salt" in j["error"]["message"], "bad salt: 400")

    # ---- push: applied once ----
    pay1 = bytes([0, 255, 254, 10, 0]) + os.urandom(64)  # not UTF-8, not JSON: never decoded
    body = {"changes": [ch(1, "r1", payload=pay1), ch(2, "r2", payload=b"two")]}
    st, j, _ = s.req("POST", "/v1/push", body, token=A)
    check(st == 200, "push: %s %s" % (st, j))
    res = j["results"]
    check([r["status"] for r in res] == ["applied", "applied"], "both applied")
    check(res[0]["version"] == 1 and res[1]["seq"] > res[0]["seq"], "versions and seqs")
    check(j["server_seq"] == res[1]["seq"], "server_seq is the last seq")
    first = res
    st, j, _ = s.req("POST", "/v1/push", body, token=A)
    check(st == 200 and [r["status"] for r in j["results"]] == ["duplicate", "duplicate"],
          "repeated push: duplicates")
    check([(r["seq"], r["version"]) for r in j["results"]] == [(r["seq"], r["version"]) for r in first],
          "duplicates carry the first result")
    changes, nxt = pull_all(s, B)
    check(len(changes) == 2 and changes[0]["row"] == "r1", "pulled once: %s" % changes)
    check(base64.b64decode(changes[0]["payload"]) == pay1, "payload bytes returned exactly")
    check(changes[0]["device"] == "dev-a" and changes[0]["change_id"] == 1 and changes[0]["version"] == 1,
          "pulled metadata")
    # Same change_id from another device is a different change.
    st, j, _ = s.req("POST", "/v1/push", {"changes": [ch(1, "b-own", payload=b"b")]}, token=B)
    check(j["results"][0]["status"] == "applied", "change ids are per device")

    # ---- conflicts of each kind ----
    st, j, _ = s.req("POST", "/v1/push", {"changes": [ch(2, "r1", base=0, payload=b"B's r1")]}, token=B)
    r = j["results"][0]
    check(r["status"] == "conflict" and r["kind"] == "version", "upsert on an older base: version conflict")
    check(r["current"]["version"] == 1 and r["current"]["device"] == "dev-a" and
          base64.b64decode(r["current"]["payload"]) == pay1 and r["current"]["op"] == "upsert",
          "the conflict carries the current row: %s" % r)
    st, j, _ = s.req("POST", "/v1/push", {"changes": [ch(2, "r1", base=0, payload=b"B's r1")]}, token=B)
    check(j["results"][0]["status"] == "conflict", "a conflict is not remembered: checked again")
    st, j, _ = s.req("POST", "/v1/push", {"changes": [ch(3, "r1", base=1, payload=b"B's r1 v2")]}, token=B)
    check(j["results"][0]["status"] == "applied" and j["results"][0]["version"] == 2, "update on the current base")
    st, j, _ = s.req("POST", "/v1/push", {"changes": [ch(3, "r1", op="delete", base=1)]}, token=A)
    r = j["results"][0]
    check(r["status"] == "conflict" and r["kind"] == "delete_of_updated" and r["current"]["version"] == 2,
          "delete of an updated row: %s" % r)
    st, j, _ = s.req("POST", "/v1/push", {"changes": [ch(4, "r1", op="delete", base=2)]}, token=A)
    check(j["results"][0]["status"] == "applied" and j["results"][0]["version"] == 3, "delete applied")
    tomb_seq = j["results"][0]["seq"]
    st, j, _ = s.req("POST", "/v1/push", {"changes": [ch(4, "r1", base=2, payload=b"late edit")]}, token=B)
    r = j["results"][0]
    check(r["status"] == "conflict" and r["kind"] == "update_of_deleted" and r["current"]["op"] == "delete"
          and r["current"]["payload"] is None and r["current"]["version"] == 3, "update of a deleted row: %s" % r)
    # A change that conflicts is not stored: the same change_id retried later with the right base applies.
    st, j, _ = s.req("POST", "/v1/push", {"changes": [ch(4, "r2", base=1, payload=b"B edits r2")]}, token=B)
    check(j["results"][0]["status"] == "applied", "a conflicting change_id is not burnt")
    # In one push: create then update the same row.
    st, j, _ = s.req("POST", "/v1/push", {"changes": [ch(5, "r3"), ch(6, "r3", base=1), ch(7, "r3", base=1)]}, token=A)
    check([r["status"] for r in j["results"]] == ["applied", "applied", "conflict"], "in-push order: %s" % j)
    st, j, _ = s.req("POST", "/v1/push", {"changes": [ch(600, "twice"), ch(600, "twice")]}, token=A)
    check([r["status"] for r in j["results"]] == ["applied", "duplicate"] and
          j["results"][0]["seq"] == j["results"][1]["seq"], "one change twice in a push: applied once")

    # ---- appends ----
    st, j, _ = s.req("POST", "/v1/push", {"changes": [ch(8, "m1", op="append", coll="conversations")]}, token=A)
    check(j["results"][0]["status"] == "applied", "append applied")
    st, j, _ = s.req("POST", "/v1/push", {"changes": [ch(9, "m1", op="append", coll="conversations")]}, token=A)
    check(j["results"][0]["status"] == "duplicate", "append of an existing row by its device: duplicate")
    st, j, _ = s.req("POST", "/v1/push", {"changes": [ch(10, "m1", op="append", coll="conversations")]}, token=B)
    check(st == 400 and is_error(j, "bad_request"), "append onto another device's row: 400")
    st, j, _ = s.req("POST", "/v1/push", {"changes": [ch(10, "ghost", base=5)]}, token=A)
    check(st == 400 and "ghost" in j["error"]["message"], "base version of an unknown row: 400")
    # A refused push applied nothing of its earlier changes.
    st, j, _ = s.req("POST", "/v1/push", {"changes": [ch(11, "half"), ch(12, "ghost", base=5)]}, token=A)
    check(st == 400, "refused push")
    st, j, _ = s.req("POST", "/v1/push", {"changes": [ch(11, "half")]}, token=A)
    check(j["results"][0]["status"] == "applied", "one transaction per push: nothing was applied")

    # ---- malformed bodies ----
    for raw, field in ((b"not json", "JSON"), (b'{"changes": 3}', "changes"),
                       (json.dumps({"changes": [ch(20, "bad row")]}).encode(), "changes[0].row"),
                       (json.dumps({"changes": [dict(ch(20, "r"), payload="%%%")]}).encode(), "changes[0].payload"),
                       (json.dumps({"changes": [ch(20, "r"), dict(ch(21, "r"), op="merge")]}).encode(), "changes[1].op")):
        st, j, _ = s.req("POST", "/v1/push", raw=raw, token=A)
        check(st == 400 and is_error(j, "bad_request") and field in j["error"]["message"],
              "malformed push -> 400 naming %s: %s %s" % (field, st, j))
    st, j, _ = s.req("GET", "/v1/pull?after=-1", token=A)
    check(st == 400, "pull after=-1: 400")
    st, j, _ = s.req("GET", "/v1/pull?limit=5001", token=A)
    check(st == 400, "pull limit over 5000: 400")

    # ---- pull paging and cursor ----
    st, j, _ = s.req("POST", "/v1/push", {"changes": [ch(100 + i, "p%02d" % i, payload=b"page %d" % i)
                                                      for i in range(25)]}, token=B)
    check(all(r["status"] == "applied" for r in j["results"]), "25 applied")
    full, end = pull_all(s, A)
    paged, end2 = pull_all(s, A, limit=10)
    check(paged == full and end == end2, "paged pull equals the whole pull")
    seqs = [c["seq"] for c in full]
    check(seqs == sorted(set(seqs)), "seqs strictly increase")
    st, j, _ = s.req("GET", "/v1/pull?after=0&limit=10", token=A)
    check(len(j["changes"]) == 10 and j["more"] and j["next"] == j["changes"][-1]["seq"], "a page: %s" %
          {k: j[k] for k in ("next", "more")})
    st, j2, _ = s.req("GET", "/v1/pull?after=%d&limit=10" % j["next"], token=A)
    check(j2["changes"][0]["seq"] > j["next"], "the cursor continues after next")
    st, j, _ = s.req("GET", "/v1/pull?after=%d" % end, token=A)
    check(j["changes"] == [] and not j["more"] and j["next"] == end, "nothing after the end")
    st, j, _ = s.req("GET", "/v1/pull", token=C)
    check(j["changes"] == [] and j["server_seq"] == 0, "users are isolated")

    # ---- positions and tombstone compaction ----
    check(any(c["row"] == "r1" for c in full), "r1's history is there before compaction")
    pull_all(s, A, after=end)
    pull_all(s, B, after=end)  # every active device of alice has passed the tombstone
    devs = {d["id"]: d for d in json.loads(admin("devices", "--json"))}
    check(devs["dev-a"]["pull_position"] == end and devs["dev-b"]["pull_position"] == end,
          "pull positions recorded: %s" % devs)
    check(devs["dev-a"]["stored_bytes"] > len(pay1), "stored bytes counted")
    fresh, _ = pull_all(s, A)
    check(not any(c["row"] == "r1" for c in fresh), "the deleted row's history is compacted")
    check(any(c["row"] == "r2" for c in fresh) and len(fresh) < len(full), "the rest stays")
    st, j, _ = s.req("POST", "/v1/push", {"changes": [ch(50, "r1", base=2, payload=b"late edit")]}, token=B)
    check(j["results"][0].get("kind") == "update_of_deleted", "the tombstone still detects conflicts: %s" % j)
    st, j, _ = s.req("POST", "/v1/push", {"changes": [ch(1, "r1", payload=pay1)]}, token=A)
    check(j["results"][0]["status"] == "duplicate", "idempotency survives compaction")

    # ---- concurrent pushers ----
    regs = []
    for i in range(6):
        st, j, _ = s.req("POST", "/v1/register", {"token": alice, "device": "conc-%d" % i, "name": "c"})
        regs.append(j["device_token"])
    results, errors = [], []

    def pusher(i, tok):
        try:
            for n in range(15):
                st, j, _ = s.req("POST", "/v1/push", {"changes": [
                    ch(2 * n + 1, "c%d-%d" % (i, n)),
                    ch(2 * n + 2, "shared", base=0 if n == 0 and i == 0 else 10 ** 6)]}, token=tok)
                if st != 200:
                    errors.append((st, j))
                    return
                results.append(j["results"])
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))
    # 'shared' exists only once i == 0 creates it; the others conflict (their base is bogus).
    st, j, _ = s.req("POST", "/v1/push", {"changes": [ch(500, "shared")]}, token=A)
    th = [threading.Thread(target=pusher, args=(i, t)) for i, t in enumerate(regs)]
    for t in th:
        t.start()
    for t in th:
        t.join()
    check(not errors, "concurrent pushes all answered: %s" % errors[:3])
    applied = [r for rs in results for r in rs if r["status"] == "applied"]
    check(len(applied) == 6 * 15, "every own row applied once: %d" % len(applied))
    check(len({r["seq"] for r in applied}) == len(applied), "seqs unique under concurrency")
    full2, _ = pull_all(s, A)
    s2 = [c["seq"] for c in full2]
    check(s2 == sorted(set(s2)), "log in seq order after concurrent pushes")

    # ---- two server processes on one database, racing on one row ----
    s_b = Server()
    hot_versions, hot_err = [], []

    def hot(srv, tok, base_id):
        v, cid = 0, base_id
        try:
            while len([1 for _ in hot_versions]) < 40 and cid < base_id + 400:
                cid += 1
                st, j, _ = srv.req("POST", "/v1/push", {"changes": [ch(cid, "hot", base=v, payload=b"%d" % cid)]},
                                   token=tok)
                if st != 200:
                    hot_err.append((st, j))
                    return
                r = j["results"][0]
                if r["status"] == "applied":
                    hot_versions.append(r["version"])
                    v = r["version"]
                else:
                    v = r["current"]["version"]
        except Exception as e:  # noqa: BLE001 - reported below
            hot_err.append(repr(e))
    th = [threading.Thread(target=hot, args=(srv, regs[i], 100000 * (i + 1)))
          for i, srv in enumerate([s, s_b, s, s_b])]
    for t in th:
        t.start()
    for t in th:
        t.join()
    check(not hot_err, "racing pushes through two servers answered: %s" % hot_err[:3])
    check(sorted(hot_versions) == list(range(1, len(hot_versions) + 1)),
          "each version of the hot row applied exactly once: %s" % sorted(hot_versions)[:20])
    check(len(hot_versions) >= 40, "the race made progress: %d" % len(hot_versions))
    s_b.stop()

    # ---- 413 ----
    big = os.path.join(WORK, "big.json")
    with open(big, "wb") as f:
        f.write(b'{"changes":[' + b" " * (8 << 20) + b"]}")
    out = subprocess.run(["curl", "-s", "-o", os.path.join(WORK, "big.out"), "-w", "%{http_code}",
                          "-H", "Authorization: Bearer " + A, "-H", "Content-Type: application/json",
                          "--data-binary", "@" + big, "http://127.0.0.1:%d/v1/push" % s.port],
                         capture_output=True, text=True)
    check(out.stdout == "413", "body over 8 MiB: 413 (curl: %s)" % out.stdout)
    check(is_error(json.load(open(os.path.join(WORK, "big.out"))), "too_large"), "413 body is a JSON error")
    raw = b'{"changes":[' + b",".join(b"{}" for _ in range(5001)) + b"]}"
    st, j, _ = s.req("POST", "/v1/push", raw=raw, token=A)
    check(st == 413 and is_error(j, "too_large"), "5001 changes: 413")
    over = b64(b"\0" * ((1 << 20) + 1))
    st, j, _ = s.req("POST", "/v1/push", raw=json.dumps({"changes": [dict(ch(30, "big"), payload=over)]}).encode(), token=A)
    check(st == 413 and "payload" in j["error"]["message"], "payload over 1 MiB: 413")

    # ---- 5000 changes in one push (batched; must not time out) ----
    st, j, _ = s.req("POST", "/v1/push", {"changes": [ch(10000 + i, "bulk-%d" % i, payload=os.urandom(48))
                                                      for i in range(5000)]}, token=A)
    check(st == 200 and sum(r["status"] == "applied" for r in j["results"]) == 5000, "5000-change push")
    st, j, _ = s.req("GET", "/v1/pull?after=0&limit=5000", token=B)
    check(st == 200 and len(j["changes"]) == 5000 and j["more"], "5000-change pull page")

    # ---- revocation ----
    out = admin("revoke", "dev-b")
    st, j, _ = s.req("GET", "/v1/status", token=B)
    check(st == 401 and is_error(j, "unauthorized"), "revoked device: 401")
    st, j, _ = s.req("POST", "/v1/register", {"token": alice, "device": "dev-b", "name": "phone"})
    check(st == 401, "a revoked device can not register again")
    devs = {d["id"]: d for d in json.loads(admin("devices", "--json"))}
    check(devs["dev-b"]["revoked"] and not devs["dev-a"]["revoked"], "devices shows the revocation")
    human = admin("devices")
    check("dev-b" in human and "revoked" in human, "human device list")
    r = subprocess.run([HEARTH, "sync-server", "--db", DB, "revoke", "no-such"], capture_output=True)
    check(r.returncode != 0, "revoking an unknown device fails")
    check(admin("revoke-tokens", "bob") == "revoked 1 enrollment token of bob", "revoke-tokens")
    st, j, _ = s.req("POST", "/v1/register", {"token": bob, "device": "dev-c2", "name": "new"})
    check(st == 401 and is_error(j, "unauthorized"), "a revoked enrollment token: 401")
    st, j, _ = s.req("GET", "/v1/status", token=C)
    check(st == 200, "devices keep their tokens when enrollment tokens are revoked")
    s.stop()

    # ---- tight limits: rate, quota, changes, payload ----
    s = Server("--rate", "0.2", "--burst", "3", "--quota", "100", "--max-changes", "3",
               "--max-payload", "64", "--max-body", "4096")
    st, j, _ = s.req("POST", "/v1/register", {"token": alice, "device": "tight", "name": "t"})
    T = j["device_token"]
    st, j, _ = s.req("POST", "/v1/push", {"changes": [ch(i, "q%d" % i) for i in range(1, 5)]}, token=T)
    check(st == 413 and is_error(j, "too_large"), "--max-changes: 413")
    st, j, _ = s.req("POST", "/v1/push", {"changes": [ch(1, "q1", payload=b"p" * 65)]}, token=T)
    check(st == 413 and "payload" in j["error"]["message"], "--max-payload: 413")
    st, j, _ = s.req("POST", "/v1/push", {"changes": [ch(1, "q1", payload=b"p" * 60), ch(2, "q2", payload=b"p" * 60)]},
                     token=T)
    check(st == 429 and is_error(j, "quota_exceeded") and j and _ is not None, "quota: 429 (%s %s)" % (st, j))
    st, j, r = s.req("GET", "/v1/status", token=T)
    check(st == 429 and is_error(j, "rate_limited") and int(r.getheader("Retry-After")) >= 1,
          "rate limit: 429 with Retry-After (%s)" % st)
    st, j, _ = s.req("POST", "/v1/push", raw=b"x" * 5000, token=T)
    check(st == 413, "--max-body: 413 before authentication costs a token")
    s.stop()
    s = Server()
    st, j, _ = s.req("GET", "/v1/pull?after=0", token=T)
    check(not any(c["row"] in ("q1", "q2") for c in pull_all(s, T)[0]), "over quota: nothing applied")
    s.stop()

    # ---- the crash hook: exits after the commit, before the answer ----
    s = Server(env={"HEARTH_SYNC_SERVER_CRASH": "after_commit:2"})
    st, j, _ = s.req("POST", "/v1/push", {"changes": [ch(40, "crash-1")]}, token=A)
    check(st == 200, "first push answered")
    try:
        st, j, _ = s.req("POST", "/v1/push", {"changes": [ch(41, "crash-2")]}, token=A)
        check(False, "the second push must not be answered (%s)" % st)
    except (http.client.HTTPException, ConnectionError):
        pass
    check(s.p.wait(timeout=30) == 137, "the server exited 137")
    s = Server()
    st, j, _ = s.req("POST", "/v1/push", {"changes": [ch(41, "crash-2")]}, token=A)
    check(j["results"][0]["status"] == "duplicate", "the unanswered push was durable: duplicate on retry")
    s.stop()
    print("%d checks passed against %s" % (checks, DB.split("://")[0] if "://" in DB else "sqlite"))


main()
