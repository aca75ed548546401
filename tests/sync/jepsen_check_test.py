#!/usr/bin/env python3
"""jepsen_check_test.py: the Jepsen driver's checker (jepsen.check_writes)
on hand-made histories, so that it is known to catch what it claims to:
a lost write, a lost delete, a value that comes back after being
overwritten, a task or message applied twice, messages out of their
device's order, a value nobody wrote; and to pass legitimate histories:
causal overwrites, field merges, losers recorded as conflicts, writes that
may not have committed. Run by test_jepsen_check.sh. Exit 1 on a miss."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jepsen  # noqa: E402


class FakeRun:
    def __init__(self):
        self.stats = {}
        self.failures = []

    def fail(self, what, msg):
        self.stats[what] = self.stats.get(what, 0) + 1
        self.failures.append("%s: %s" % (what, msg))


def fields(d, w):
    return {"notes": "n-d%d-w%d" % (d, w), "status": "s_%d_%d" % (d, w),
            "priority": (d + 1) * 1000000 + w, "due_ms": 1700000000000 + d * 10**9 + w}


def add(d, w, done=True):
    return {"d": d, "w": w, "op": "task_add", "row": "jt-d%d-w%d" % (d, w), "prev": None,
            "new": fields(d, w), "done": done}


def upd(d, w, row, prev, **chg):
    new = dict(prev)
    new.update(chg)
    return {"d": d, "w": w, "op": "task_update", "row": row, "prev": dict(prev), "new": new,
            "done": True}


def dele(d, w, row, prev, done=True):
    return {"d": d, "w": w, "op": "task_delete", "row": row, "prev": dict(prev), "new": None,
            "done": done}


def sset(d, w, key, prev, value, done=True):
    return {"d": d, "w": w, "op": "setting_set", "row": key, "prev": {"value": prev},
            "new": {"value": value}, "done": done}


def msg(d, w, session, done=True):
    return {"d": d, "w": w, "op": "message_add", "row": session,
            "new": {"content": "m-d%d-w%d" % (d, w)}, "done": done}


def sess(d, w, done=True):
    return {"d": d, "w": w, "op": "session_add", "row": "j-d%d-w%d" % (d, w),
            "new": {"name": "j-d%d-w%d" % (d, w)}, "done": done}


def dump(tasks=None, sessions=None, settings=None):
    return {"tasks": tasks or {}, "sessions": sessions or {}, "settings": settings or {}}


def run(writes, d, leaves=()):
    r = FakeRun()
    jepsen.check_writes(r, writes, d, set(leaves), "dev0")
    return r


failures = 0


def expect(name, r, kind):
    global failures
    got = set(r.stats)
    ok = (kind in got) if kind else not got
    print("%s %s: %s" % ("ok  " if ok else "MISS", name, r.failures or "clean"))
    if not ok:
        failures += 1


T = "jt-d0-w1"
f0 = fields(0, 1)

# -- legitimate histories ----------------------------------------------------
expect("create, present", run([add(0, 1)], dump({T: f0})), None)
u = upd(1, 2, T, f0, notes="n-d1-w2")
expect("causal overwrite by another device", run([add(0, 1), u], dump({T: u["new"]})), None)
a = upd(1, 2, T, f0, notes="n-d1-w2")
b = upd(2, 3, T, f0, priority=3000003)
merged = dict(f0, notes="n-d1-w2", priority=3000003)
expect("field-level merge", run([add(0, 1), a, b], dump({T: merged})), None)
a = upd(1, 2, T, f0, notes="n-d1-w2")
b = upd(2, 3, T, f0, notes="n-d2-w3")
expect("concurrent same field, loser recorded",
       run([add(0, 1), a, b], dump({T: b["new"]}), leaves={"n-d1-w2"}), None)
expect("concurrent same field, loser in a JSON string of the record",
       run([add(0, 1), a, b], dump({T: b["new"]}),
           leaves={'{"notes": "n-d1-w2", "priority": 1}'}), None)
expect("delete, gone", run([add(0, 1), dele(1, 2, T, f0)], dump()), None)
expect("maybe-committed create, absent", run([add(0, 1, done=False)], dump()), None)
m = upd(0, 2, T, f0, notes="n-d0-w2")
m["done"] = False
nxt = upd(1, 3, T, m["new"], notes="n-d1-w3")
expect("maybe-committed overwrite seen by a later write",
       run([add(0, 1), m, nxt], dump({T: nxt["new"]})), None)
expect("settings LWW, loser recorded",
       run([sset(0, 1, "j.k0", None, "v-d0-w1"), sset(1, 2, "j.k0", None, "v-d1-w2")],
           dump(settings={"j.k0": "v-d1-w2"}), leaves={"v-d0-w1"}), None)
s = "j-d0-w1"
expect("messages of two devices, each in order",
       run([sess(0, 1), msg(0, 2, s), msg(1, 3, s), msg(0, 4, s)],
           dump(sessions={s: ["m-d0-w2", "m-d1-w3", "m-d0-w4"]})), None)
expect("delete lost to a recorded delete_of_updated",
       run([add(0, 1), dele(1, 2, T, f0), upd(2, 3, T, f0, notes="n-d2-w3")],
           dump({T: dict(f0, notes="n-d2-w3")}), leaves={T}), None)

u = upd(1, 2, T, f0, notes="n-d1-w2")
expect("a delete lost to an older update revives the older fields",
       run([add(0, 1), u, dele(1, 3, T, u["new"]), upd(2, 4, T, f0, priority=3000004)],
           dump({T: dict(f0, priority=3000004)}), leaves={T}), None)

# -- histories the checker must refuse -------------------------------------
a = upd(1, 2, T, f0, notes="n-d1-w2")
b = upd(2, 3, T, f0, notes="n-d2-w3")
expect("concurrent same field, loser silently gone",
       run([add(0, 1), a, b], dump({T: b["new"]})), "lost")
expect("committed create missing", run([add(0, 1)], dump()), "lost")
expect("delete silently undone",
       run([add(0, 1), dele(1, 2, T, f0)], dump({T: f0})), "lost")
u = upd(0, 2, T, f0, notes="n-d0-w2")
expect("own later update reverted (order)",
       run([add(0, 1), u], dump({T: f0})), "resurrected")
expect("task applied twice", run([add(0, 1)], dump({T: [f0, f0]})), "duplicates")
expect("setting silently gone",
       run([sset(0, 1, "j.k0", None, "v-d0-w1"), sset(1, 2, "j.k0", None, "v-d1-w2")],
           dump(settings={"j.k0": "v-d1-w2"})), "lost")
expect("phantom value",
       run([add(0, 1)], dump({T: dict(f0, notes="n-d9-w9")}), leaves={"n-d0-w1"}), "phantom")
expect("message applied twice",
       run([sess(0, 1), msg(0, 2, s)], dump(sessions={s: ["m-d0-w2", "m-d0-w2"]})), "duplicates")
expect("message lost", run([sess(0, 1), msg(0, 2, s)], dump(sessions={s: []})), "lost")
expect("messages out of their device's order",
       run([sess(0, 1), msg(0, 2, s), msg(0, 3, s)],
           dump(sessions={s: ["m-d0-w3", "m-d0-w2"]})), "order")
expect("session lost", run([sess(0, 1)], dump()), "lost")

print("%d misses" % failures)
sys.exit(1 if failures else 0)
