#!/usr/bin/env bash
# test_recommend.sh: `hearth models recommend` (and `hearth recommend`) on
# generated models (registry-installed and -m FILE) plus the shipped
# catalog: the --json schema, the best model under generous limits, under
# --max-ram and --max-latency-ms (both taken from the first run's own
# figures, so the test does not depend on this machine's speed), the clear
# message and exit status when nothing fits, the device measurement cached
# in $HEARTH_HOME/device.json and reused (same measured_at, file untouched)
# until --remeasure or a different thread count, and bad arguments.
set -euo pipefail
: "${HEARTH_BIN:?}" "${HEARTH_GENMODEL:?}" "${HEARTH_SOURCE_DIR:?}"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export HEARTH_HOME=$TMP/home HEARTH_CONFIG=$TMP/config HEARTH_SYSFS_ROOT=$TMP/nosys
export HEARTH_DEVICE_PROBE_MB=4 # a small probe: the figures' size, not their accuracy, is tested
unset HEARTH_MODEL HEARTH_THREADS
: > "$HEARTH_CONFIG"
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok - $*"; }
H() { "$HEARTH_BIN" "$@"; }
PY=/usr/bin/python3

"$HEARTH_GENMODEL" --arch qwen2 --preset tiny256 --type Q4_0 -q -o "$TMP/tiny-q4_0.gguf"
"$HEARTH_GENMODEL" --arch qwen2 --preset tiny256 --type Q8_0 -q -o "$TMP/tiny-q8_0.gguf"
"$HEARTH_GENMODEL" --arch qwen2 --preset tiny256 --type Q4_K_M -q -o "$TMP/tiny-q4_k_m.gguf"
"$HEARTH_GENMODEL" --arch llama --preset small --type Q8_0 -q -o "$TMP/small-q8_0.gguf"
H models add "$TMP/tiny-q4_0.gguf" --name tiny:q4_0 >/dev/null
H models add "$TMP/tiny-q8_0.gguf" --name tiny:q8_0 >/dev/null
H models add "$TMP/small-q8_0.gguf" --name small:q8_0 >/dev/null

# 1. the table, as JSON, with generous limits
H models recommend -m "$TMP/tiny-q4_k_m.gguf" --max-latency-ms 100000000 --max-ram 1000000 --json -t 1 \
    > "$TMP/r1.json" || fail "recommend failed"
$PY - "$TMP/r1.json" <<'PY' || fail "schema"
import json, sys
o = json.load(open(sys.argv[1]))
for k, t in [("device", dict), ("limits", dict), ("power", dict), ("models", list)]:
    assert isinstance(o[k], t), k
d = o["device"]
assert isinstance(d["cpu"], str) and d["kernels"] in ("amx", "avx512", "avxvnni", "avx2", "i8mm", "dotprod", "neon", "scalar")
assert d["threads"] == 1 and d["bandwidth_gbps"] > 0 and d["cached"] is False
assert d["measured_at"].endswith("Z")
assert o["limits"] == {"max_latency_ms": 100000000, "max_ram_mb": 1000000, "n_ctx": 4096, "n_prompt": 512}
assert o["power"]["source"] == "unknown" and o["power"]["percent"] is None
keys = {"name": str, "source": str, "arch": str, "quant": str, "size_mb": float, "params": int,
        "bytes_per_token": int, "ms_per_token": float, "tokens_per_s": float, "prompt_ms": float,
        "min_ram_mb": int, "kv_cache_mb": float, "fits": bool}
for m in o["models"]:
    for k, t in keys.items():
        assert isinstance(m[k], t), (m["name"], k, m[k])
    assert m["ms_per_token"] > 0 and abs(m["tokens_per_s"] * m["ms_per_token"] - 1000) < 1e-3
    assert m["min_ram_mb"] * 1048576 >= m["size_mb"] * 1048576 * 0.99
    assert m["ppl_delta"] is None or isinstance(m["ppl_delta"], float)
    assert m["fits"], m
by = {}
for m in o["models"]:
    by.setdefault(m["source"], []).append(m)
assert len(by["catalog"]) == 24, len(by["catalog"])
names = sorted(m["name"] for m in by["installed"])
assert names == ["small:q8_0", "tiny:q4_0", "tiny:q8_0"], names
assert [m["quant"] for m in by["file"]] == ["Q4_K_M"]
q = {m["quant"]: m for m in by["installed"] if m["name"].startswith("tiny")}
# the same shape: Q8_0 reads more bytes per token than Q4_0
assert q["Q8_0"]["bytes_per_token"] > q["Q4_0"]["bytes_per_token"]
assert q["Q8_0"]["ppl_delta"] < q["Q4_0"]["ppl_delta"]
cat = {(m["name"], m["quant"]): m for m in by["catalog"]}
seven = cat[("Qwen2.5-7B-Instruct", "Q4_K_M")]
half = cat[("Qwen2.5-0.5B-Instruct", "Q4_K_M")]
assert seven["ms_per_token"] > 5 * half["ms_per_token"] and seven["min_ram_mb"] > 4000
assert 7.5e9 < seven["params"] < 7.7e9
# everything fits: the most parameters (Qwen2.5-7B), least ppl increase (F16)
assert o["best"] == "Qwen2.5-7B-Instruct" and o["best_quant"] == "F16", o["best"]
assert o["best_installed"].endswith(".gguf") or "blobs" in o["best_installed"]
PY
ok "recommend --json: schema, catalog and installed rows, best under generous limits"

# best installed is the bigger model (small: 4 layers x 512)
$PY - "$TMP/r1.json" <<'PY' || fail "best installed"
import json, sys
o = json.load(open(sys.argv[1]))
inst = {m["path"]: m for m in o["models"] if m["source"] == "installed"}
assert inst[o["best_installed"]]["name"] == "small:q8_0", o["best_installed"]
PY
ok "best installed: most parameters"

# KV cache types: a Q8_0 cache (flags, or the settings) is sized at 34/64 of
# F16's; a cache type a key cannot have is refused
H models recommend --no-catalog --json -t 1 --max-latency-ms 100000000 -c 8192 > "$TMP/kv16.json"
H models recommend --no-catalog --json -t 1 --max-latency-ms 100000000 -c 8192 -ctk q8_0 -ctv q8_0 > "$TMP/kv8.json"
HEARTH_CACHE_TYPE_K=q8_0 HEARTH_CACHE_TYPE_V=q8_0 \
    H models recommend --no-catalog --json -t 1 --max-latency-ms 100000000 -c 8192 > "$TMP/kv8s.json"
$PY - "$TMP/kv16.json" "$TMP/kv8.json" "$TMP/kv8s.json" <<'PY' || fail "cache types"
import json, sys
rows = [{m["path"]: m for m in json.load(open(f))["models"]} for f in sys.argv[1:]]
for p, m in rows[0].items():
    for other in rows[1:]:
        r = other[p]["kv_cache_mb"] / m["kv_cache_mb"]
        assert abs(r - 34 / 64) < 1e-6, (p, r)
        assert other[p]["min_ram_mb"] < m["min_ram_mb"], p
PY
if H models recommend --no-catalog -t 1 -ctk q4_0 > "$TMP/bad.out" 2>&1; then fail "-ctk q4_0 accepted"; fi
grep -q "KV cache type 'q4_0' for keys" "$TMP/bad.out" || fail "-ctk q4_0: $(cat "$TMP/bad.out")"
ok "recommend sizes the KV cache in the configured types (-ctk/-ctv, settings)"

# 2. device cache: reused, untouched
[ -s "$HEARTH_HOME/device.json" ] || fail "no device.json"
m1=$(stat -c %Y.%s "$HEARTH_HOME/device.json")
at1=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["device"]["measured_at"])' "$TMP/r1.json")
sleep 1.1
H models recommend --no-catalog --json -t 1 --max-latency-ms 100000000 > "$TMP/r2.json"
$PY - "$TMP/r2.json" "$at1" <<'PY' || fail "cache not reused"
import json, sys
d = json.load(open(sys.argv[1]))["device"]
assert d["cached"] is True and d["measured_at"] == sys.argv[2], d
PY
[ "$(stat -c %Y.%s "$HEARTH_HOME/device.json")" = "$m1" ] || fail "device.json rewritten"
H models recommend --no-catalog --json -t 1 --max-latency-ms 100000000 --remeasure > "$TMP/r3.json"
$PY -c 'import json,sys; d=json.load(open(sys.argv[1]))["device"]; assert d["cached"] is False and d["measured_at"] != sys.argv[2], d' \
    "$TMP/r3.json" "$at1" || fail "--remeasure did not measure"
H models recommend --no-catalog --json -t 2 --max-latency-ms 100000000 > "$TMP/r4.json"
$PY -c 'import json,sys; d=json.load(open(sys.argv[1]))["device"]; assert d["cached"] is False and d["threads"] == 2, d' \
    "$TMP/r4.json" || fail "another thread count reused the cache"
# a damaged cache is measured again, not trusted
echo '{"cpu": 3}' > "$HEARTH_HOME/device.json"
H models recommend --no-catalog --json -t 2 --max-latency-ms 100000000 > "$TMP/r5.json"
$PY -c 'import json,sys; d=json.load(open(sys.argv[1]))["device"]; assert d["cached"] is False, d' "$TMP/r5.json" \
    || fail "damaged cache"
$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["threads"] == 2 and d["types"]["Q8_0"]["gemv_gbps"] > 0' \
    "$HEARTH_HOME/device.json" || fail "cache not rewritten"
ok "device.json: reused, --remeasure, other -t, damaged file"

# 3. --max-ram between the two installed shapes excludes the big one
H models recommend --no-catalog -t 2 --json --max-latency-ms 100000000 > "$TMP/r6.json"
read -r small_ram tiny_ram < <($PY - "$TMP/r6.json" <<'PY'
import json, sys
o = json.load(open(sys.argv[1]))
r = {m["name"]: m["min_ram_mb"] for m in o["models"]}
print(r["small:q8_0"], max(r["tiny:q4_0"], r["tiny:q8_0"]))
PY
)
[ "$small_ram" -gt "$tiny_ram" ] || fail "small model needs no more RAM ($small_ram <= $tiny_ram)"
lim=$(( (small_ram + tiny_ram) / 2 ))
[ "$lim" -gt "$tiny_ram" ] || lim=$tiny_ram
H models recommend --no-catalog -t 2 --json --max-latency-ms 100000000 --max-ram "$lim" > "$TMP/r7.json" \
    || fail "recommend --max-ram $lim failed"
$PY - "$TMP/r7.json" <<'PY' || fail "--max-ram"
import json, sys
o = json.load(open(sys.argv[1]))
r = {m["name"]: m for m in o["models"]}
assert not r["small:q8_0"]["fits"] and "RAM" in r["small:q8_0"]["why"], r["small:q8_0"]
b = [m for m in o["models"] if m["path"] == o["best"]][0]
# the tiny model's Q8_0: same parameters, less perplexity increase
assert b["name"] == "tiny:q8_0", b["name"]
PY
ok "--max-ram excludes the model that does not fit"

# 4. --max-latency-ms between the tiny variants' speeds: the faster one wins
read -r fast slow < <($PY - "$TMP/r6.json" <<'PY'
import json, sys
o = json.load(open(sys.argv[1]))
r = {m["name"]: m["ms_per_token"] for m in o["models"]}
print(r["tiny:q4_0"], r["small:q8_0"])
PY
)
lat=$($PY -c "import math,sys; print(max(1, math.ceil(float(sys.argv[1]))))" "$fast")
$PY -c "import sys; sys.exit(0 if float(sys.argv[1]) < float(sys.argv[2]) else 1)" "$lat" "$slow" \
    || { echo "SKIP part: latencies too close ($fast vs $slow ms)"; lat=; }
if [ -n "$lat" ]; then
    H models recommend --no-catalog -t 2 --json --max-latency-ms "$lat" > "$TMP/r8.json" || true
    $PY - "$TMP/r8.json" <<'PY' || fail "--max-latency-ms"
import json, sys
o = json.load(open(sys.argv[1]))
r = {m["name"]: m for m in o["models"]}
assert not r["small:q8_0"]["fits"] and "ms/token" in r["small:q8_0"]["why"]
assert r["tiny:q4_0"]["fits"]
b = [m for m in o["models"] if m["path"] == o["best"]][0]
assert b["name"].startswith("tiny:"), b
PY
    ok "--max-latency-ms excludes the slow model"
fi

# 5. nothing fits: a clear message and exit status 1
set +e
H models recommend --no-catalog --max-ram 1 > "$TMP/none.txt" 2>&1
rc=$?
H models recommend --no-catalog --max-ram 1 --json > "$TMP/none.json" 2>/dev/null
rcj=$?
set -e
[ $rc = 1 ] && [ $rcj = 1 ] || fail "nothing fits: exit $rc/$rcj"
grep -q "^no model fits: none runs under .* within 1 MB RAM" "$TMP/none.txt" || fail "message: $(cat "$TMP/none.txt")"
$PY -c 'import json,sys; o=json.load(open(sys.argv[1])); assert o["best"] is None and o["reason"]' "$TMP/none.json" \
    || fail "json none"
ok "no model fits: message and exit status"

# 6. the human table and the standalone command
H recommend -t 2 --max-latency-ms 100000000 > "$TMP/t.txt"
grep -q "^model  *quant  *source  *size MB  *params  *ms/tok  *tok/s  *prompt s  *RAM MB  *+ppl  *fits" "$TMP/t.txt" \
    || fail "table header: $(head -5 "$TMP/t.txt")"
grep -q "^Qwen2.5-7B-Instruct  *Q4_K_M  *catalog" "$TMP/t.txt" || fail "catalog row"
grep -q "^tiny:q4_0  *Q4_0  *installed" "$TMP/t.txt" || fail "installed row"
grep -q "^best: Qwen2.5-7B-Instruct F16 (catalog" "$TMP/t.txt" || fail "best line"
grep -q "^best installed: small:q8_0 Q8_0" "$TMP/t.txt" || fail "best installed line"
ok "table"

# 7. battery below the level: the smallest installed variant of the best installed model
mkdir -p "$TMP/sys/class/power_supply/BAT0"
echo Battery > "$TMP/sys/class/power_supply/BAT0/type"
echo Discharging > "$TMP/sys/class/power_supply/BAT0/status"
echo 10 > "$TMP/sys/class/power_supply/BAT0/capacity"
HEARTH_SYSFS_ROOT=$TMP/sys H models recommend --no-catalog --json --max-latency-ms 100000000 --max-ram "$lim" \
    > "$TMP/b.json"
$PY - "$TMP/b.json" <<'PY' || fail "battery pick"
import json, sys
o = json.load(open(sys.argv[1]))
assert o["power"] == {"source": "battery", "percent": 10, "policy_applies": True}, o["power"]
r = {m["path"]: m for m in o["models"]}
assert r[o["best_installed"]]["name"] == "tiny:q8_0"
assert r[o["battery_pick"]]["name"] == "tiny:q4_0", o.get("battery_pick")
PY
ok "battery: smaller variant picked"

# 8. bad arguments and catalogs
set +e
H models recommend --max-ram 0 >/dev/null 2>&1; [ $? = 2 ] || fail "--max-ram 0"
H models recommend --max-latency-ms x >/dev/null 2>&1; [ $? = 2 ] || fail "--max-latency-ms x"
H models recommend --frobnicate >/dev/null 2>&1; [ $? = 2 ] || fail "unknown flag"
H models recommend -m "$TMP/missing.gguf" >/dev/null 2>"$TMP/e.txt"; [ $? = 1 ] || fail "missing file"
echo '{"models": 1}' > "$TMP/badcat.json"
H models recommend --catalog "$TMP/badcat.json" >/dev/null 2>"$TMP/e2.txt"; [ $? = 1 ] || fail "bad catalog"
set -e
grep -q "missing.gguf" "$TMP/e.txt" || fail "missing file message: $(cat "$TMP/e.txt")"
grep -q "catalog" "$TMP/e2.txt" || fail "bad catalog message"
ok "bad arguments"

# a file written by hearth quantize: its stated accuracy (hearth.quantize.*)
# in the JSON and under the table; a generated file (no keys) shows none
"$HEARTH_GENMODEL" --arch llama --preset tiny --type F16 --seed 9 -q -o "$TMP/f16.gguf"
head -c 6000 "$HEARTH_SOURCE_DIR/models/quant-eval.txt" > "$TMP/qeval.txt"
H quantize "$TMP/f16.gguf" "$TMP/hq.gguf" Q4_0 --eval "$TMP/qeval.txt" -c 64 --eval-chunks 2 -t 1 > "$TMP/hq.txt" 2>&1 \
    || { cat "$TMP/hq.txt"; fail "quantize"; }
H models recommend -m "$TMP/hq.gguf" -m "$TMP/f16.gguf" --no-catalog --max-latency-ms 100000000 --max-ram 1000000 \
    -t 1 --json > "$TMP/st.json" || fail "recommend (stated)"
$PY - "$TMP/st.json" "$TMP/hq.gguf" <<'PY' || fail "stated JSON: $(cat "$TMP/st.json")"
import json, sys
m = {x["path"]: x for x in json.load(open(sys.argv[1]))["models"]}
s = m[sys.argv[2]]["stated_by_quantize"]
assert s["ppl_ratio"] > 0 and s["kld_mean"] > 0 and s["eval_tokens"] > 0, s
assert all("stated_by_quantize" not in x for k, x in m.items() if k != sys.argv[2])
PY
H models recommend -m "$TMP/hq.gguf" -m "$TMP/f16.gguf" --no-catalog --max-latency-ms 100000000 --max-ram 1000000 \
    -t 1 > "$TMP/st.txt" || fail "recommend text (stated)"
grep -q "^stated by hearth quantize at write time: hq.gguf: ppl ratio [0-9]" "$TMP/st.txt" || fail "no stated line: $(cat "$TMP/st.txt")"
grep -q "stated by hearth quantize.*f16.gguf" "$TMP/st.txt" && fail "stated line for a file without the keys"
ok "stated quantize figures"
