#!/usr/bin/env bash
# test_storage_prune.sh: `hearth storage` lists every model version with its
# role (active, previous = the rollback target, old) and the quotas;
# `hearth storage --prune` removes old versions oldest first only until
# under models_quota_mb (a blob another name uses is kept), all old
# versions without a quota, never the active or previous one (rollback
# still works and the model loads after a prune that could not reach the
# quota), blobs no name uses; and evicts the least recently used response
# cache entries (LRU order read back from the real SQLite file) down to
# cache_quota_mb.
set -euo pipefail
: "${HEARTH_BIN:?}" "${HEARTH_GENMODEL:?}" "${HEARTH_SOURCE_DIR:?}"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export HEARTH_HOME=$TMP/home HEARTH_CONFIG=$TMP/config
unset HEARTH_MODEL HEARTH_MODELS_QUOTA_MB HEARTH_CACHE_QUOTA_MB
: > "$HEARTH_CONFIG"
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok - $*"; }
H() { "$HEARTH_BIN" "$@"; }
PY=/usr/bin/python3
J() { $PY -c "import json,sys; o=json.load(sys.stdin); print(json.dumps($1))"; }
roles() { H storage --json | J '[[n["name"]] + [v["role"] for v in n["versions"]] for n in o["models"]["names"]]'; }

for s in 1 2 3 4 5 6; do
    "$HEARTH_GENMODEL" --arch llama --type Q8_0 --seed "$s" -q -o "$TMP/v$s.gguf"
done
for s in 1 2 3 4; do H models add "$TMP/v$s.gguf" --name tiny >/dev/null; done
H models add "$TMP/v1.gguf" --name other >/dev/null # shares v1's blob
blob=$(stat -c %s "$TMP/v1.gguf")

[ "$(roles)" = '[["other:latest", "active"], ["tiny:latest", "old", "old", "previous", "active"]]' ] \
    || fail "roles: $(roles)"
H storage | grep -q "^  tiny:latest  *old " || fail "text listing: $(H storage)"
H storage | grep -qE "^           [0-9.]+ KiB \(no quota: models_quota_mb\)$" || fail "no-quota line"
bytes=$(H storage --json | J 'o["models"]["bytes"]')
[ "$bytes" -ge $((4 * blob)) ] || fail "models bytes $bytes < 4 blobs"
ok "storage lists versions and roles"

# a quota above the usage: nothing to do
echo "models_quota_mb = 100" > "$HEARTH_CONFIG"
[ "$(H storage --prune --json | J 'o["pruned"]["versions"]')" = '[]' ] || fail "pruned under quota"
[ "$(roles)" = '[["other:latest", "active"], ["tiny:latest", "old", "old", "previous", "active"]]' ] || fail "changed"

# a quota half a blob under the usage: the oldest old version (its blob is
# other's too, so nothing is freed) and the next one go, then it stops
q=$($PY -c "print(($bytes - $blob / 2) / 1048576)")
echo "models_quota_mb = $q" > "$HEARTH_CONFIG"
out=$(H storage --prune --json)
[ "$(J 'len(o["pruned"]["versions"])' <<<"$out")" = 2 ] || fail "prune to quota: $out"
[ "$(J 'o["pruned"]["model_bytes_freed"]' <<<"$out")" = "$blob" ] || fail "freed: $out"
[ "$(roles)" = '[["other:latest", "active"], ["tiny:latest", "previous", "active"]]' ] || fail "after quota prune: $(roles)"
H models show other >/dev/null || fail "other lost"
H inspect "$TMP/home/models/blobs/sha256-$(sha256sum "$TMP/v1.gguf" | cut -c1-64)" >/dev/null || fail "shared blob gone"
ok "prune to the quota, oldest first, shared blob kept"

# no quota: every old version goes
for s in 5 6; do H models add "$TMP/v$s.gguf" --name tiny >/dev/null; done
: > "$HEARTH_CONFIG"
out=$(H storage --prune)
grep -q "^pruned     2 old model versions" <<<"$out" || fail "no-quota prune: $out"
[ "$(roles)" = '[["other:latest", "active"], ["tiny:latest", "previous", "active"]]' ] || fail "after full prune: $(roles)"

# a quota that can not be reached: active and previous stay, rollback works
echo "models_quota_mb = 0.001" > "$HEARTH_CONFIG"
out=$(H storage --prune)
grep -q "still over the models quota" <<<"$out" || fail "over-quota note: $out"
[ "$(roles)" = '[["other:latest", "active"], ["tiny:latest", "previous", "active"]]' ] || fail "kept: $(roles)"
v5=$(sha256sum "$TMP/v5.gguf" | cut -c1-64)
H models rollback tiny >/dev/null || fail "rollback after prune"
H models show tiny --json | grep -q "$v5" || fail "rollback target"
H run -m tiny -n 2 --temp 0 hi >/dev/null 2>&1 || fail "the rolled-back model does not load"
ok "no quota: all old versions; unreachable quota: active and previous kept, rollback works"

# a blob no name uses is removed
: > "$HEARTH_CONFIG"
junk=$TMP/home/models/blobs/sha256-$(printf '0%.0s' $(seq 64))
cp "$TMP/v2.gguf" "$junk"
H storage --prune >/dev/null
[ ! -e "$junk" ] || fail "unreferenced blob kept"
ok "unreferenced blob removed"

# the response cache: LRU down to cache_quota_mb
demo=$HEARTH_SOURCE_DIR/models/hearth-demo.gguf
H storage --clear-cache >/dev/null
for i in 1 2 3 4; do H run -m "$demo" --session "s$i" --temp 0 -n 6 "What is $i plus $i?" >/dev/null 2>&1 || fail "run $i"; done
[ "$(H storage --json | J 'o["cache"]["entries"]')" = 4 ] || fail "cache entries: $(H storage --json | J 'o["cache"]')"
H run -m "$demo" --session again --temp 0 -n 6 "What is 1 plus 1?" >/dev/null 2>&1 # a hit: entry 1 is now the most recent
lru() { $PY - "$HEARTH_HOME/hearth.db" <<'PY'
import sqlite3, sys
c = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
print(" ".join("%s:%d" % r for r in c.execute("SELECT key, size FROM response_cache ORDER BY tick")))
PY
}
order=$(lru)
read -r -a ent <<<"$order"
[ ${#ent[@]} = 4 ] || fail "lru: $order"
keep_bytes=$(( ${ent[2]##*:} + ${ent[3]##*:} ))
q=$($PY -c "print($keep_bytes / 1048576)")
echo "cache_quota_mb = $q" > "$HEARTH_CONFIG"
out=$(H storage --prune --json)
[ "$(J 'o["pruned"]["cache_entries_evicted"]' <<<"$out")" = 2 ] || fail "evicted: $out"
[ "$(J 'o["cache"]["bytes"] <= o["cache_quota_bytes"]' <<<"$out")" = true ] || fail "over cache quota: $out"
[ "$(lru)" = "${ent[2]} ${ent[3]}" ] || fail "kept $(lru), want the two most recent ${ent[2]} ${ent[3]}"
H run -m "$demo" --session again2 --temp 0 -n 6 --json "What is 1 plus 1?" 2>/dev/null | grep -q '"source": *"cache"' \
    || fail "the most recently used entry is not a cache hit after the prune"
H storage | grep -q "^cache      2 entries, .* of quota " || fail "cache quota line: $(H storage | grep cache)"
ok "cache pruned LRU-first to cache_quota_mb"

# bad quota settings
set +e
HEARTH_MODELS_QUOTA_MB=-1 H storage >/dev/null 2>&1; r1=$?
HEARTH_CACHE_QUOTA_MB=lots H storage >/dev/null 2>&1; r2=$?
set -e
[ $r1 = 1 ] && [ $r2 = 1 ] || fail "bad quotas accepted ($r1 $r2)"
ok "bad quotas refused"
