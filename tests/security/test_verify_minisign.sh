#!/usr/bin/env bash
# test_verify_minisign.sh: models signed with Debian's real minisign are
# verified by `hearth verify`, and a tampered set is refused, each with the
# right kind (the JSON "refused" field and the message's first words):
# one byte changed at the start, middle and end, truncated, appended, the
# signature of another file, a key that is not trusted, altered signature
# lines, malformed signature files and key files (bad base64, wrong
# algorithm bytes, short, long lines). Then the policy: with
# require_signature on, `hearth run -m` (and serve, chat, perplexity, bench)
# refuses an unsigned model (one whose tensors are cut off, so loading it
# first would fail differently) and a
# model modified after it was verified even when its mtime is set back; a
# good signed model runs.
set -euo pipefail
: "${HEARTH_BIN:?}" "${HEARTH_GENMODEL:?}"
command -v minisign >/dev/null || { echo "SKIP: no minisign (make deps installs it)"; exit 77; }
work=$(mktemp -d /tmp/hearth-verify-XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"
export HEARTH_HOME="$work/home" HEARTH_CONFIG="$work/no-config"
unset HEARTH_MODEL HEARTH_REQUIRE_SIGNATURE HEARTH_TRUSTED_KEYS
PY=/usr/bin/python3
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

"$HEARTH_GENMODEL" -q --arch llama --preset tiny --type F32 -o base.gguf
"$HEARTH_GENMODEL" -q --arch llama --preset tiny --type F32 --seed 7 -o other.gguf 2>/dev/null ||
    { cp base.gguf other.gguf; printf 'other' >> other.gguf; }
cmp -s base.gguf other.gguf && fail "the two models are the same"
minisign -G -W -p k.pub -s k.key >/dev/null
minisign -G -W -p k2.pub -s k2.key >/dev/null
mkdir -p home/trusted-keys
cp k.pub home/trusted-keys/publisher.pub

sign() { # sign FILE [minisign args...]: FILE.minisig with k.key
    local f=$1; shift
    rm -f "$f.minisig"
    minisign -S -s k.key -m "$f" "$@" >/dev/null
}

# expect NAME WANT [hearth verify args...]: WANT is "ok" or the refusal kind
expect() {
    local name=$1 want=$2; shift 2
    local out rc=0
    out=$("$HEARTH_BIN" verify --json "$@" 2>&1) || rc=$?
    local got
    got=$(printf '%s' "$out" | $PY -c 'import json,sys
d=json.load(sys.stdin)
print("ok" if d["verified"] else (d.get("refused") or "unsigned-ok"))' 2>/dev/null) || got="bad json: $out"
    if [ "$got" != "$want" ]; then
        fail "$name: expected '$want', got '$got' (rc $rc): $out"
        return
    fi
    case $want in
    ok) [ $rc -eq 0 ] || fail "$name: verified but exit status $rc" ;;
    unsigned-ok) [ $rc -eq 3 ] || fail "$name: unsigned but exit status $rc" ;;
    *) [ $rc -eq 1 ] || fail "$name: refused but exit status $rc"
       printf '%s' "$out" | grep -q "\"error\":\"$want" || fail "$name: message does not start with '$want': $out" ;;
    esac
    echo "$name: $got"
}

# ---- good signatures --------------------------------------------------------------
cp base.gguf m.gguf
sign m.gguf -t "release 1.0"
expect "prehashed ED" ok m.gguf
out=$("$HEARTH_BIN" verify m.gguf)
printf '%s\n' "$out" | grep -q "trusted comment: release 1.0" || fail "trusted comment not shown: $out"
want=$(sha256sum m.gguf | cut -d' ' -f1)
printf '%s\n' "$out" | grep -q "sha256     $want" || fail "sha256 differs from sha256sum: $out"
id=$(head -1 k.pub | awk '{print $NF}')
printf '%s\n' "$out" | grep -q "key id $id" || fail "key id $id not shown: $out"
expect "explicit --pubkey" ok m.gguf --pubkey k.pub
expect "explicit --sig" ok m.gguf --sig m.gguf.minisig --pubkey k.pub
cp base.gguf legacy.gguf
sign legacy.gguf -l
head -c 80 legacy.gguf.minisig >/dev/null
expect "legacy Ed" ok legacy.gguf

# ---- the file changed --------------------------------------------------------------
size=$(stat -c %s base.gguf)
flip() { # flip FILE OFFSET: xor one byte
    $PY - "$1" "$2" <<'PYEOF'
import sys
p, off = sys.argv[1], int(sys.argv[2])
b = bytearray(open(p, 'rb').read())
b[off] ^= 0x01
open(p, 'wb').write(bytes(b))
PYEOF
}
for where in start middle end; do
    case $where in start) off=0 ;; middle) off=$((size / 2)) ;; end) off=$((size - 1)) ;; esac
    cp base.gguf m.gguf; sign m.gguf; flip m.gguf $off
    expect "one byte changed at the $where" "modified after signing" m.gguf
    cp base.gguf legacy.gguf; sign legacy.gguf -l; flip legacy.gguf $off
    expect "legacy: one byte changed at the $where" "modified after signing" legacy.gguf
done
cp base.gguf m.gguf; sign m.gguf; truncate -s $((size - 1)) m.gguf
expect "truncated" "modified after signing" m.gguf
cp base.gguf m.gguf; sign m.gguf; printf '\0' >> m.gguf
expect "appended" "modified after signing" m.gguf
cp base.gguf m.gguf; cp other.gguf o.gguf; sign o.gguf; cp o.gguf.minisig m.gguf.minisig
expect "signature of another file" "modified after signing" m.gguf

# ---- keys ---------------------------------------------------------------------------------
cp base.gguf m.gguf; rm -f m.gguf.minisig; minisign -S -s k2.key -m m.gguf >/dev/null
expect "signed by an untrusted key" "untrusted key" m.gguf
expect "untrusted key, --pubkey names another" "untrusted key" m.gguf --pubkey k.pub
expect "the key that signed it, given" ok m.gguf --pubkey k2.pub
HEARTH_TRUSTED_KEYS="$work/nowhere" expect "no trusted keys at all" "untrusted key" m.gguf

# ---- altered signature lines (well-formed, not the signer's) ---------------------------------
cp base.gguf m.gguf; sign m.gguf -t "release 1.0"
cp m.gguf.minisig good.minisig
sed -i '3s/release 1.0/release 9.9/' m.gguf.minisig
expect "trusted comment altered" "bad signature" m.gguf
# a different, valid base64 signature: change one character in the middle of line 2
$PY - good.minisig m.gguf.minisig <<'PYEOF'
import sys, base64
lines = open(sys.argv[1]).read().split('\n')
raw = bytearray(base64.b64decode(lines[1]))
raw[40] ^= 0x10
lines[1] = base64.b64encode(bytes(raw)).decode()
open(sys.argv[2], 'w').write('\n'.join(lines))
PYEOF
expect "signature bytes altered" "bad signature" m.gguf
$PY - good.minisig m.gguf.minisig <<'PYEOF'
import sys, base64
lines = open(sys.argv[1]).read().split('\n')
raw = bytearray(base64.b64decode(lines[3]))
raw[5] ^= 0x01
lines[3] = base64.b64encode(bytes(raw)).decode()
open(sys.argv[2], 'w').write('\n'.join(lines))
PYEOF
expect "global signature altered" "bad signature" m.gguf

# ---- malformed signature files ------------------------------------------------------------------
mal() { # mal NAME PYTHON-EXPR-ON-lines: writes m.gguf.minisig from good.minisig
    $PY - good.minisig m.gguf.minisig "$2" <<'PYEOF'
import sys, base64
lines = open(sys.argv[1]).read().split('\n')
def b64(s): return base64.b64encode(s).decode()
def raw(i): return bytearray(base64.b64decode(lines[i]))
exec(sys.argv[3])
open(sys.argv[2], 'w').write('\n'.join(lines))
PYEOF
    expect "malformed signature: $1" "malformed signature file" m.gguf
}
mal "bad base64" 'lines[1] = lines[1][:10] + "!" + lines[1][11:]'
mal "missing base64 padding" 'lines[1] = lines[1].rstrip("=")'
mal "extra base64 padding" 'lines[1] = lines[1] + "=="'
mal "wrong algorithm bytes" 'r = raw(1); r[0:2] = b"Xx"; lines[1] = b64(bytes(r))'
mal "short signature line" 'lines[1] = b64(bytes(raw(1)[:40]))'
mal "long signature line" 'lines[1] = b64(bytes(raw(1)) + b"\0" * 30)'
mal "two lines only" 'lines = lines[:2]'
mal "empty" 'lines = [""]'
mal "no untrusted comment" 'lines[0] = "comment: x"'
mal "no trusted comment prefix" 'lines[2] = "trusted: x"'
mal "very long line" 'lines[0] = "untrusted comment: " + "x" * 20000'
mal "short global signature" 'lines[3] = b64(bytes(raw(3)[:32]))'
mal "junk after the signature" 'lines.append("more")'
mal "NUL in the trusted comment" 'lines[2] = lines[2] + "\0"'
printf '\377\376binary' > m.gguf.minisig
expect "malformed signature: binary junk" "malformed signature file" m.gguf
cp good.minisig m.gguf.minisig

# ---- malformed key files ------------------------------------------------------------------------------
badkey() { # badkey NAME PYTHON: writes bad.pub from k.pub
    $PY - k.pub bad.pub "$2" <<'PYEOF'
import sys, base64
lines = open(sys.argv[1]).read().split('\n')
def b64(s): return base64.b64encode(s).decode()
def raw(i): return bytearray(base64.b64decode(lines[i]))
exec(sys.argv[3])
open(sys.argv[2], 'w').write('\n'.join(lines))
PYEOF
    expect "malformed key (--pubkey): $1" "malformed key file" m.gguf --pubkey bad.pub
}
badkey "bad base64" 'lines[1] = "*" + lines[1][1:]'
badkey "wrong algorithm bytes" 'r = raw(1); r[0:2] = b"ED"; lines[1] = b64(bytes(r))'
badkey "short" 'lines[1] = b64(bytes(raw(1)[:20]))'
badkey "long" 'lines[1] = b64(bytes(raw(1)) + b"extra")'
badkey "very long line" 'lines[1] = "A" * 30000'
badkey "empty" 'lines = [""]'
# in the trusted directory: the only key is malformed
mkdir -p badtrust
printf 'untrusted comment: x\nnot base64!\n' > badtrust/broken.pub
HEARTH_TRUSTED_KEYS="$work/badtrust" expect "malformed key in the trusted directory" "malformed key file" m.gguf
# a malformed key beside the good one does not matter
cp k.pub badtrust/good.pub
HEARTH_TRUSTED_KEYS="$work/badtrust" expect "malformed key beside a good one" ok m.gguf

# ---- unsigned -------------------------------------------------------------------------------------------
cp base.gguf u.gguf
expect "unsigned, not required" unsigned-ok u.gguf
expect "unsigned, required" unsigned u.gguf --require-signature
expect "named signature missing" unsigned u.gguf --sig nothere.minisig

# ---- policy: hearth run -m refuses before loading ---------------------------------------------
export HEARTH_REQUIRE_SIGNATURE=true
# a model cut off in its tensor data: loading it would fail with a format error
head -c $((size / 2)) base.gguf > cut.gguf
out=$("$HEARTH_BIN" run --no-sandbox -m cut.gguf "hi" 2>&1) && fail "run of an unsigned model succeeded"
printf '%s\n' "$out" | grep -q "refusing model 'cut.gguf': unsigned: " || fail "run: no 'unsigned' refusal: $out"
out=$("$HEARTH_BIN" run --raw -m cut.gguf -p "hi" -n 1 2>&1) && fail "run --raw of an unsigned model succeeded"
printf '%s\n' "$out" | grep -q "refusing model 'cut.gguf': unsigned: " || fail "run --raw: no 'unsigned' refusal: $out"
HEARTH_REQUIRE_SIGNATURE=false "$HEARTH_BIN" run --raw -m cut.gguf -p "hi" -n 1 >/dev/null 2>&1 &&
    fail "the cut model loads: the refusal test proves nothing"
echo "run: unsigned model refused before loading"
for cmd in "serve --port 0" "chat" "perplexity -f $work/k.pub" "bench -p 4 -n 2"; do
    out=$(timeout 60 "$HEARTH_BIN" $cmd -m cut.gguf </dev/null 2>&1) && fail "$cmd of an unsigned model succeeded"
    printf '%s\n' "$out" | grep -q "refusing model 'cut.gguf': unsigned: " || fail "$cmd: no 'unsigned' refusal: $out"
done
echo "serve, chat, perplexity, bench: unsigned model refused"
# a signed model runs; then modified in place with its mtime set back
cp base.gguf r.gguf; sign r.gguf
"$HEARTH_BIN" run --raw -m r.gguf -p "hi" -n 1 >/dev/null 2>&1 || fail "signed model did not run"
grep -q "r.gguf" home/verified-state || fail "no verified state recorded"
touch -r r.gguf stamp
flip r.gguf $((size / 3)); touch -r stamp r.gguf
out=$("$HEARTH_BIN" run --raw -m r.gguf -p "hi" -n 1 2>&1) && fail "run of a modified model succeeded"
printf '%s\n' "$out" | grep -q "modified after signing" || fail "run: no 'modified after signing': $out"
echo "run: modified model refused (mtime set back)"
cp base.gguf r.gguf; rm -f r.gguf.minisig; minisign -S -s k2.key -m r.gguf >/dev/null
out=$("$HEARTH_BIN" run -m r.gguf --no-sandbox "hi" 2>&1) && fail "run of an untrusted model succeeded"
printf '%s\n' "$out" | grep -q "untrusted key" || fail "run: no 'untrusted key': $out"
out=$("$HEARTH_BIN" bench -m r.gguf -p 4 -n 2 2>&1) && fail "bench of an untrusted model succeeded"
printf '%s\n' "$out" | grep -q "refusing model 'r.gguf': untrusted key" || fail "bench: no refusal: $out"
echo "run, bench: untrusted key refused"

[ $fails -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all verify checks passed"
