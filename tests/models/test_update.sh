# test_update.sh: signed updates with rollback against modelserver.py: an
# update that works (manifest signed with minisign, relative URL, model
# signature), up to date, rollback and a held version, `use NAME@VERSION`;
# a manifest signed by an untrusted key, modified after signing or without
# its .minisig, a model that loads but is broken (NaN weights: smoke test),
# an interrupted download (then resumed), a manifest needing a newer hearth
# or naming another model: each leaves the old version active and loadable.
source "$(dirname "$0")/lib.sh"

gen v1 1; gen v2 2; gen v3 3; gen v4 4
cp "$WWW/v4.gguf" "$WWW/nan.gguf"; nanify "$WWW/nan.gguf"
V1=$(sha "$WWW/v1.gguf") V2=$(sha "$WWW/v2.gguf") V3=$(sha "$WWW/v3.gguf") V4=$(sha "$WWW/v4.gguf")
start_server
check_active() { # NAME SHA: active is SHA and the model loads
    [ "$(active "$1")" = "$2" ] || fail "active $(active "$1"), expected $2"
    H run -m "$1" -n 2 --temp 0 -q hi >/dev/null || fail "$1 does not load"
}

H pull -q "$URL/v1.gguf" --name tiny --channel "$URL/tiny.json" >/dev/null
check_active tiny "$V1"

# ---- an update that works ------------------------------------------------------------
manifest tiny 2 v2.gguf
out=$(H models update tiny -q) || fail "update: $out"
echo "$out"
[[ $out == *"updated to version 2"* ]] || fail "output: $out"
[[ $out == *"notes: test release 2"* ]] || fail "notes: $out"
check_active tiny "$V2"
H models show tiny --json | python3 -c "
import json,sys; m=json.load(sys.stdin)
assert m['previous']=='$V1', m
v=[x for x in m['versions'] if x['sha256']=='$V2'][0]
assert v['version']=='2' and v['signed_by'].startswith('test.pub'), v"
out=$(H models update tiny -q); [[ $out == *"up to date (version 2)"* ]] || fail "up to date: $out"
ok "update to a signed version; previous kept; up to date"

# ---- rollback, held, use NAME@VERSION --------------------------------------------------
out=$(H models rollback tiny); echo "$out"
check_active tiny "$V1"
out=$(H models update tiny -q); [[ $out == *"rolled back from"* ]] || fail "held: $out"
check_active tiny "$V1"
H models use tiny@2 >/dev/null
check_active tiny "$V2"
H models rollback tiny >/dev/null; H models rollback tiny >/dev/null
check_active tiny "$V2"
ok "rollback, a rolled-back version is not re-applied, use tiny@2, rollback twice"

# ---- bad manifest signatures: nothing downloaded, old version stays ----------------------
manifest tiny 3 v3.gguf "$TMP/evil.key"
H models update tiny -q 2>"$TMP/err" && fail "untrusted manifest accepted"
grep -q "untrusted key" "$TMP/err" || fail "message: $(cat "$TMP/err")"
manifest tiny 3 v3.gguf
sed -i 's/test release 3/test release 3, edited/' "$WWW/tiny.json"
H models update tiny -q 2>"$TMP/err" && fail "edited manifest accepted"
grep -q "manifest .* refused" "$TMP/err" || fail "message: $(cat "$TMP/err")"
manifest tiny 3 v3.gguf; rm "$WWW/tiny.json.minisig"
H models update tiny -q 2>"$TMP/err" && fail "unsigned manifest accepted"
grep -q "manifest signature" "$TMP/err" || fail "message: $(cat "$TMP/err")"
[ "$(served /v3.gguf requests)" = 0 ] || fail "a refused manifest's model was downloaded"
check_active tiny "$V2"
ok "manifest: untrusted key, edited after signing, no signature: refused before any download"

# ---- a model that loads but is broken: the smoke test refuses it -------------------------
manifest tiny 5 nan.gguf
H models update tiny -q 2>"$TMP/err" && fail "NaN model installed"
cat "$TMP/err"
grep -q "smoke test" "$TMP/err" || fail "message: $(cat "$TMP/err")"
check_active tiny "$V2"
H models show tiny --json | grep -q "$(sha "$WWW/nan.gguf")" && fail "NaN model named"
H models gc >/dev/null
[ "$(blobs)" = 2 ] || fail "gc left $(blobs) blobs"
ok "NaN weights: smoke test fails, old version active, gc removes the blob"

# ---- interrupted download, then resumed ------------------------------------------------
manifest tiny 3 v3.gguf
S3=$(size "$WWW/v3.gguf")
faults "{\"/v3.gguf\": {\"cut_at\": $((S3 / 2)), \"times\": 1}}"
echo "download_retries = 0" > "$HEARTH_CONFIG"
H models update tiny -q 2>"$TMP/err" && fail "cut update installed"
grep -q "connection cut" "$TMP/err" || fail "message: $(cat "$TMP/err")"
check_active tiny "$V2"
out=$(H models update tiny -q) || fail "resumed update"
: > "$HEARTH_CONFIG"
check_active tiny "$V3"
[ "$(served /v3.gguf body_bytes)" = "$S3" ] || fail "update resume re-downloaded: $(served /v3.gguf body_bytes) != $S3"
ok "interrupted update keeps the old version; the next one resumes (0 bytes twice)"

# ---- model signature in the manifest (relative URL) ----------------------------------------
sign "$WWW/v4.gguf"
manifest tiny 4 v4.gguf "" '"signature": "v4.gguf.minisig"'
out=$(H models update tiny -q) || fail "signed model update"
check_active tiny "$V4"
[ -f "$HEARTH_HOME/models/blobs/sha256-$V4.minisig" ] || fail "model signature not kept"
sign "$WWW/v1.gguf" "$TMP/evil.key"
cp "$WWW/v1.gguf.minisig" "$WWW/v2.gguf.minisig"
H models rm tiny >/dev/null
H models add "$WWW/v1.gguf" --name tiny --channel "$URL/tiny.json" >/dev/null
manifest tiny 2 v2.gguf "" '"signature": "v2.gguf.minisig"'
H models update tiny -q 2>"$TMP/err" && fail "model signed by an untrusted key installed"
grep -q "signature refused" "$TMP/err" || fail "message: $(cat "$TMP/err")"
check_active tiny "$V1"
ok "the model's own signature: checked (good key installs, untrusted key refused)"

# ---- newer hearth needed, another model's manifest, policy ------------------------------
manifest tiny 9 v3.gguf "" '"min_hearth_version": "99.0.0"'
sed -i 's/"min_hearth_version": "0.1.0", //' "$WWW/tiny.json"; sign "$WWW/tiny.json"
H models update tiny -q 2>"$TMP/err" && fail "min_hearth_version ignored"
grep -q "needs hearth >= 99.0.0" "$TMP/err" || fail "message: $(cat "$TMP/err")"
manifest other 3 v3.gguf; cp "$WWW/other.json" "$WWW/tiny.json"; cp "$WWW/other.json.minisig" "$WWW/tiny.json.minisig"
H models update tiny -q 2>"$TMP/err" && fail "another model's manifest accepted"
grep -q "the manifest is for 'other'" "$TMP/err" || fail "message: $(cat "$TMP/err")"
check_active tiny "$V1"
curl -fsS "$URL/_reset" >/dev/null
echo "policy_pull = never" > "$HEARTH_CONFIG"
H models update tiny -q 2>"$TMP/err" && fail "update under policy_pull = never"
grep -q "blocked by the privacy policy" "$TMP/err" || fail "message: $(cat "$TMP/err")"
[ "$(served /tiny.json requests)" = 0 ] || fail "blocked update reached the server"
: > "$HEARTH_CONFIG"
H models channel tiny >/dev/null
H models update tiny 2>"$TMP/err" && fail "update without a channel"
grep -q "no update channel" "$TMP/err" || fail "message: $(cat "$TMP/err")"
check_active tiny "$V1"
ok "min_hearth_version, wrong name, policy_pull = never, no channel: old version stays"
echo "all update tests passed"
