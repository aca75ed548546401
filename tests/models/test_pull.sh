# test_pull.sh: `hearth pull` against tests/models/modelserver.py on 127.0.0.1:
# a pull that works; a cut mid-file, then the same pull downloads only the
# rest (bytes counted by the server); a server that refuses Range restarts
# from zero and says so; wrong bytes / wrong --sha256 refused with nothing
# visible; a good signature, a bad one and an untrusted key; a file larger
# than the free disk space refused before its body is written (fake
# Content-Length); HTTP 404; a stalled server; policy_pull = never sends
# nothing; each pull leaves an audit record.
source "$(dirname "$0")/lib.sh"

gen tiny 1
gen other 2
SIZE=$(size "$WWW/tiny.gguf")
SHA=$(sha "$WWW/tiny.gguf")
sign "$WWW/tiny.gguf"
start_server

# ---- a pull that works -------------------------------------------------------------
faults '{}'
out=$(H pull -q "$URL/tiny.gguf" --sha256 "$SHA" --sig "$URL/tiny.gguf.minisig")
echo "$out"
[[ $out == *"pulled tiny:latest"* ]] || fail "pull output: $out"
[[ $out == *"signed by"* ]] || fail "no signer in: $out"
[ "$(active tiny)" = "$SHA" ] || fail "active hash"
cmp "$WWW/tiny.gguf" "$HEARTH_HOME/models/blobs/sha256-$SHA" || fail "blob differs"
[ -f "$HEARTH_HOME/models/blobs/sha256-$SHA.minisig" ] || fail "signature not kept with the blob"
[ "$(served /tiny.gguf body_bytes)" = "$SIZE" ] || fail "served $(served /tiny.gguf body_bytes) != $SIZE"
H run -m tiny -n 2 --temp 0 -q "hi" >/dev/null || fail "run -m tiny"
ok "pull, verified, runs by name"
H models rm tiny >/dev/null
[ "$(blobs)" = 0 ] || fail "rm left a blob"

# ---- cut mid-file, then resumed: only the rest is downloaded -------------------------
CUT=$((SIZE / 3))
faults "{\"/tiny.gguf\": {\"cut_at\": $CUT, \"times\": 1}}"
if H pull -q --retries 0 "$URL/tiny.gguf" 2>"$TMP/err"; then fail "a cut pull succeeded"; fi
cat "$TMP/err"
grep -q "connection cut after" "$TMP/err" || fail "no 'connection cut' message"
grep -q "the same pull resumes" "$TMP/err" || fail "no resume hint"
[ "$(blobs)" = 0 ] || fail "a partial file is visible"
first=$(served /tiny.gguf body_bytes)
H pull -q --retries 0 "$URL/tiny.gguf" 2>"$TMP/err" || { cat "$TMP/err"; fail "resume failed"; }
total=$(served /tiny.gguf body_bytes)
second=$((total - first))
redl=$((total - SIZE))
echo "resume: file $SIZE bytes, cut at $first, second request sent $second, re-downloaded $redl"
[ "$first" = "$CUT" ] || fail "first request sent $first, expected $CUT"
[ "$second" = $((SIZE - CUT)) ] || fail "resume downloaded $second bytes, expected $((SIZE - CUT))"
[ "$(served /tiny.gguf requests)" = 2 ] || fail "requests"
[ "$(active tiny)" = "$SHA" ] || fail "resumed file's hash"
ok "resume after a cut re-downloads 0 bytes ($second of $SIZE in the second request)"

# ---- automatic resume within one pull (retries) --------------------------------------
H models rm tiny >/dev/null
faults "{\"/tiny.gguf\": {\"cut_at\": 100000, \"times\": 2}}"
H pull -q --retries 3 "$URL/tiny.gguf" 2>"$TMP/err" || { cat "$TMP/err"; fail "retries"; }
[ "$(served /tiny.gguf body_bytes)" = "$SIZE" ] || fail "retries re-downloaded bytes"
[ "$(served /tiny.gguf requests)" = 3 ] || fail "retries: $(served /tiny.gguf requests) requests"
ok "a pull resumes by itself after two cuts, no byte twice"

# ---- Range refused: restart from zero, said so ---------------------------------------
H models rm tiny >/dev/null
faults "{\"/tiny.gguf\": {\"cut_at\": $CUT, \"times\": 1}}"
H pull -q --retries 0 "$URL/tiny.gguf" 2>/dev/null && fail "cut pull succeeded"
faults '{"/tiny.gguf": {"no_range": true}}'
H pull -q --retries 0 "$URL/tiny.gguf" 2>"$TMP/err" || { cat "$TMP/err"; fail "no_range pull"; }
grep -q "server refused Range" "$TMP/err" || fail "no 'refused Range' notice: $(cat "$TMP/err")"
[ "$(served /tiny.gguf body_bytes)" = "$SIZE" ] || fail "restart sent $(served /tiny.gguf body_bytes)"
[ "$(active tiny)" = "$SHA" ] || fail "restarted file's hash"
ok "Range refused: restarted from zero, whole file once, right hash"
H models rm tiny >/dev/null

# ---- wrong bytes, wrong hash ---------------------------------------------------------
faults '{"/tiny.gguf": {"wrong_at": 1000}}'
H pull -q "$URL/tiny.gguf" --sha256 "$SHA" 2>"$TMP/err" && fail "wrong bytes accepted"
grep -q "wrong bytes: sha256" "$TMP/err" || fail "message: $(cat "$TMP/err")"
[ "$(blobs)" = 0 ] || fail "wrong bytes visible"
[ -z "$(ls "$HEARTH_HOME/models/tmp")" ] || fail "wrong bytes kept in tmp: $(ls "$HEARTH_HOME/models/tmp")"
H models list | grep -q tiny && fail "wrong bytes named"
faults '{}'
H pull -q "$URL/tiny.gguf" --sha256 "$(sha "$WWW/other.gguf")" 2>"$TMP/err" && fail "wrong --sha256 accepted"
grep -q "wrong bytes" "$TMP/err" || fail "message: $(cat "$TMP/err")"
[ "$(blobs)" = 0 ] || fail "wrong hash visible"
H pull -q "$URL/tiny.gguf" --size $((SIZE + 1)) 2>"$TMP/err" && fail "wrong --size accepted"
grep -q "expected $((SIZE + 1))" "$TMP/err" || fail "size message: $(cat "$TMP/err")"
ok "wrong bytes / hash / size refused, nothing visible"

# ---- signatures ----------------------------------------------------------------------
cp "$WWW/tiny.gguf.minisig" "$TMP/good.minisig"
cp "$WWW/other.gguf" "$WWW/tiny2.gguf"
cp "$TMP/good.minisig" "$WWW/tiny2.gguf.minisig"   # the signature of another file
H pull -q "$URL/tiny2.gguf" --sig "$URL/tiny2.gguf.minisig" 2>"$TMP/err" && fail "other file's signature accepted"
cat "$TMP/err"
grep -q "signature refused" "$TMP/err" || fail "message"
sign "$WWW/tiny2.gguf" "$TMP/evil.key"
H pull -q "$URL/tiny2.gguf" --sig "$URL/tiny2.gguf.minisig" 2>"$TMP/err" && fail "untrusted key accepted"
grep -q "untrusted key" "$TMP/err" || fail "message: $(cat "$TMP/err")"
H pull -q "$URL/tiny2.gguf" --sig "$URL/nothing.minisig" 2>"$TMP/err" && fail "missing signature accepted"
grep -q "HTTP 404" "$TMP/err" || fail "message: $(cat "$TMP/err")"
[ "$(blobs)" = 0 ] || fail "refused file visible"
echo "require_signature = 1" > "$HEARTH_CONFIG"
H pull -q "$URL/tiny.gguf" 2>"$TMP/err" && fail "unsigned pull accepted under require_signature"
grep -q "unsigned" "$TMP/err" || fail "message: $(cat "$TMP/err")"
H pull -q "$URL/tiny.gguf" --sig "$URL/tiny.gguf.minisig" >/dev/null || fail "signed pull under require_signature"
H run -m tiny -n 2 --temp 0 -q hi >/dev/null || fail "require_signature refused a pulled, signed model"
: > "$HEARTH_CONFIG"
H models rm tiny >/dev/null
ok "bad signature, untrusted key, missing and required signatures"

# ---- disk space: a Content-Length larger than the free space -------------------------
free_bytes=$(( $(stat -f -c '%a * %S' "$HEARTH_HOME/models/tmp") ))
faults "{\"/tiny.gguf\": {\"fake_length\": $((free_bytes + 1000000))}}"
curl -fsS "$URL/_reset" >/dev/null
H pull -q "$URL/tiny.gguf" 2>"$TMP/err" && fail "pull larger than the disk accepted"
grep -q "not enough disk space" "$TMP/err" || fail "message: $(cat "$TMP/err")"
[ "$(stat -c %s "$HEARTH_HOME"/models/tmp/*.partial 2>/dev/null || echo 0)" = 0 ] || fail "bytes written"
faults '{}'
H pull -q "$URL/tiny.gguf" --size $((free_bytes + 1000000)) 2>"$TMP/err" && fail "--size > free accepted"
grep -q "not enough disk space" "$TMP/err" || fail "message: $(cat "$TMP/err")"
[ "$(served /tiny.gguf requests)" = 0 ] || fail "--size larger than the disk still connected"
ok "disk-space check (announced size, and --size before connecting)"

# ---- HTTP errors, a stall -------------------------------------------------------------
H pull -q "$URL/missing.gguf" 2>"$TMP/err" && fail "404 accepted"
grep -q "HTTP 404" "$TMP/err" || fail "message: $(cat "$TMP/err")"
faults '{"/tiny.gguf": {"status": 503}}'
H pull -q "$URL/tiny.gguf" 2>"$TMP/err" && fail "503 accepted"
grep -q "HTTP 503" "$TMP/err" || fail "message: $(cat "$TMP/err")"
faults '{"/tiny.gguf": {"stall_at": 50000, "times": 1}}'
H pull -q --retries 0 --stall-timeout 1 "$URL/tiny.gguf" 2>"$TMP/err" && fail "stall accepted"
grep -q "stalled: no data for 1 s after" "$TMP/err" || fail "message: $(cat "$TMP/err")"
H pull -q --retries 0 "$URL/tiny.gguf" >/dev/null || fail "resume after the stall"
[ "$(active tiny)" = "$SHA" ] || fail "hash after stall"
H models rm tiny >/dev/null
# nothing listens here
H pull -q "http://127.0.0.1:1/x.gguf" 2>"$TMP/err" && fail "connect to nothing"
grep -q "cannot connect" "$TMP/err" || fail "message: $(cat "$TMP/err")"
ok "HTTP 404/503, stall then resume, connection refused"

# ---- progress: a bar with rate and time left on a terminal, plain lines otherwise ---------
H models rm tiny >/dev/null 2>&1 || true
faults "{\"/tiny.gguf\": {\"rate\": $((SIZE * 2))}}"
if command -v script >/dev/null; then
    printf '#!/bin/bash\nexec "%s" pull "%s/tiny.gguf"\n' "$HEARTH_BIN" "$URL" > "$TMP/pull_tty.sh"
    chmod +x "$TMP/pull_tty.sh"
    script -qec "$TMP/pull_tty.sh" /dev/null > "$TMP/tty.out" 2>&1 || fail "pull on a terminal"
    grep -aq $'\r\[#' "$TMP/tty.out" || fail "no progress bar on a terminal: $(head -c 300 "$TMP/tty.out")"
    grep -aqE '[0-9]+% .*/s .* left' "$TMP/tty.out" || fail "no rate / time left on the bar"
    H models rm tiny >/dev/null
else
    echo "script(1) missing: terminal bar not checked"
fi
# a second pull of the same URL while the first runs is refused, the first completes
"$HEARTH_BIN" pull -q "$URL/tiny.gguf" >/dev/null 2>"$TMP/first.err" &
first=$!
for _ in $(seq 100); do [ -n "$(ls "$HEARTH_HOME"/models/tmp/*.partial 2>/dev/null)" ] && break; sleep 0.02; done
H pull -q "$URL/tiny.gguf" 2>"$TMP/second.err" && fail "two pulls of one URL at once"
grep -q "another pull of .* is running" "$TMP/second.err" || fail "message: $(cat "$TMP/second.err")"
wait "$first" || { cat "$TMP/first.err"; fail "the first pull failed"; }
[ "$(active tiny)" = "$SHA" ] || fail "first pull's file"
H models rm tiny >/dev/null
H pull "$URL/tiny.gguf" 2>"$TMP/plain.err" >/dev/null || fail "plain pull"
grep -q $'\r' "$TMP/plain.err" && fail "carriage returns without a terminal"
grep -qE '^hearth pull: .* of .* \(100%\), .*/s' "$TMP/plain.err" || fail "no plain progress lines: $(cat "$TMP/plain.err")"
H models rm tiny >/dev/null
ok "progress bar on a terminal, plain lines otherwise; one pull of a URL at a time"

# ---- policy and audit ------------------------------------------------------------------
faults '{}'
echo "policy_pull = never" > "$HEARTH_CONFIG"
H pull -q "$URL/tiny.gguf" 2>"$TMP/err" && fail "policy_pull = never pulled"
grep -q "blocked by the privacy policy" "$TMP/err" || fail "message: $(cat "$TMP/err")"
[ "$(served /tiny.gguf requests)" = 0 ] || fail "a blocked pull reached the server"
: > "$HEARTH_CONFIG"
H audit --json > "$TMP/audit.json"
python3 - "$TMP/audit.json" <<'EOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
if len(recs) == 1 and isinstance(recs[0], list): recs = recs[0]
pulls = [r for r in recs if r.get("kind") == "pull"]
assert pulls, "no pull records"
assert pulls[-1]["decision"] == "blocked", pulls[-1]
sent = [r for r in pulls if r["decision"] == "sent"]
assert sent and all(r["host"].startswith("127.0.0.1:") for r in sent), sent[:1]
assert any(r["bytes_in"] > 0 for r in sent)
print("audit: %d pull records, %d sent, last blocked" % (len(pulls), len(sent)))
EOF
ok "policy_pull = never sends nothing; pulls are audited"
echo "all pull tests passed"
