#!/usr/bin/env bash
# test_verify_sigstore.sh: OpenSSF model-signing bundles made with the
# openssl CLI (P-256 keys) and Debian's python3-cryptography
# (make_bundle.py: sigstore bundle, DSSE envelope, in-toto statement) are
# verified by `hearth verify`, and every damaged one is refused with the
# right kind: a digest that does not match (another file's bundle, the model
# modified after signing), a bundle signed by another key, an altered
# payload or signature, malformed bundles and statements, malformed or
# wrong-curve key files. A signed model runs under require_signature.
set -euo pipefail
: "${HEARTH_BIN:?}" "${HEARTH_GENMODEL:?}" "${HEARTH_SOURCE_DIR:?}"
PY=/usr/bin/python3
command -v openssl >/dev/null || { echo "SKIP: no openssl CLI"; exit 77; }
$PY -c 'import cryptography' 2>/dev/null || { echo "SKIP: no python3-cryptography"; exit 77; }
MB="$PY $HEARTH_SOURCE_DIR/tests/security/make_bundle.py"
work=$(mktemp -d /tmp/hearth-sigstore-XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"
export HEARTH_HOME="$work/home" HEARTH_CONFIG="$work/no-config"
unset HEARTH_MODEL HEARTH_REQUIRE_SIGNATURE HEARTH_TRUSTED_KEYS
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

"$HEARTH_GENMODEL" -q --arch llama --preset tiny --type F32 -o base.gguf
cp base.gguf other.gguf; printf 'other' >> other.gguf
for k in k k2; do
    openssl ecparam -name prime256v1 -genkey -noout -out $k.key 2>/dev/null
    openssl ec -in $k.key -pubout -out $k.pem 2>/dev/null
done
openssl ecparam -name secp384r1 -genkey -noout -out p384.key 2>/dev/null
openssl ec -in p384.key -pubout -out p384.pem 2>/dev/null
openssl genrsa -out rsa.key 2048 2>/dev/null
openssl rsa -in rsa.key -pubout -out rsa.pem 2>/dev/null
mkdir -p home/trusted-keys
cp k.pem home/trusted-keys/publisher.pem

expect() { # expect NAME WANT [hearth verify args...]
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
    if [ "$want" = ok ]; then
        [ $rc -eq 0 ] || fail "$name: verified but exit status $rc"
        printf '%s' "$out" | grep -q '"signature":"sigstore"' || fail "$name: not reported as sigstore: $out"
    else
        [ $rc -eq 1 ] || fail "$name: refused but exit status $rc"
        printf '%s' "$out" | grep -q "\"error\":\"$want" || fail "$name: message does not start with '$want': $out"
    fi
    echo "$name: $got"
}

cp base.gguf m.gguf
bundle() { rm -f m.gguf.sig; $MB --key k.key --out m.gguf.sig "$@"; }

# ---- good bundles ---------------------------------------------------------------------------
bundle m.gguf
expect "v1.0 statement" ok m.gguf
expect "v1.0, --pubkey" ok m.gguf --pubkey k.pem
"$HEARTH_BIN" verify m.gguf | grep -q "key        publisher.pem" || fail "key name not shown"
bundle --predicate v0.1 m.gguf
expect "v0.1 statement (model_signing 0.2)" ok m.gguf
bundle m.gguf other.gguf --digest "config.json=$(printf '{}' | sha256sum | cut -d' ' -f1)"
expect "a statement of several files" ok m.gguf
bundle --raw-sig m.gguf
expect "r||s signature (WebCrypto)" ok m.gguf
bundle --no-hint m.gguf
expect "no key hint" ok m.gguf
mv m.gguf.sig elsewhere.json
expect "--sig names the bundle" ok m.gguf --sig elsewhere.json
rm -f elsewhere.json

# ---- digests that do not match -------------------------------------------------------------------
bundle other.gguf
expect "bundle of another file" "modified after signing" m.gguf
bundle m.gguf
printf 'x' | dd of=m.gguf bs=1 seek=1000 conv=notrunc 2>/dev/null
expect "model modified after signing" "modified after signing" m.gguf
cp base.gguf m.gguf
bundle m.gguf
truncate -s -1 m.gguf
expect "model truncated" "modified after signing" m.gguf
cp base.gguf m.gguf

# ---- keys ------------------------------------------------------------------------------------------------
rm -f m.gguf.sig; $MB --key k2.key --out m.gguf.sig m.gguf
expect "signed by another key" "untrusted key" m.gguf
expect "signed by another key, --pubkey" "untrusted key" m.gguf --pubkey k.pem
expect "the key that signed it, given" ok m.gguf --pubkey k2.pem
rm -f m.gguf.sig; $MB --key k2.key --no-hint --out m.gguf.sig m.gguf
expect "another key, no hint" "bad signature" m.gguf
rm -f m.gguf.sig; $MB --key k2.key --hint-key k.key --out m.gguf.sig m.gguf
expect "another key claiming the trusted key's hint" "bad signature" m.gguf
expect "malformed key: RSA" "malformed key file" m.gguf --pubkey rsa.pem
expect "malformed key: P-384" "malformed key file" m.gguf --pubkey p384.pem
expect "malformed key: a private key" "malformed key file" m.gguf --pubkey k.key
printf -- '-----BEGIN PUBLIC KEY-----\nnot base64!!\n-----END PUBLIC KEY-----\n' > junk.pem
expect "malformed key: bad PEM" "malformed key file" m.gguf --pubkey junk.pem
head -c 60 k.pem > short.pem
expect "malformed key: short PEM" "malformed key file" m.gguf --pubkey short.pem

# ---- altered bundles ------------------------------------------------------------------------------------
bundle --tamper-payload m.gguf
expect "payload altered after signing" "bad signature" m.gguf
bundle --tamper-sig m.gguf
expect "signature altered" "bad signature" m.gguf

# ---- malformed (well signed, but not what hearth accepts) -----------------------------------------------
bundle --bad-root m.gguf
expect "root digest does not match the resources" "malformed signature file" m.gguf
bundle --method shards m.gguf
expect "shard serialization" "malformed signature file" m.gguf
bundle --statement-type https://in-toto.io/Statement/v0.9 m.gguf
expect "statement type" "malformed signature file" m.gguf
bundle --payload-type application/json m.gguf
expect "payload type" "malformed signature file" m.gguf
bundle --predicate other m.gguf
expect "another predicate type" "malformed signature file" m.gguf

# ---- malformed bundle files -----------------------------------------------------------------------------------
bundle m.gguf
cp m.gguf.sig good.sig
edit() { # edit NAME PYTHON-ON-b (the bundle dict)
    $PY - good.sig m.gguf.sig "$2" <<'PYEOF'
import sys, json
b = json.load(open(sys.argv[1]))
exec(sys.argv[3])
open(sys.argv[2], 'w').write(json.dumps(b) if not isinstance(b, str) else b)
PYEOF
    expect "malformed bundle: $1" "malformed signature file" m.gguf
}
edit "not JSON" 'b = "{not json"'
edit "truncated JSON" 'b = json.dumps(b)[:100]'
edit "wrong mediaType" 'b["mediaType"] = "application/json"'
edit "no envelope" 'del b["dsseEnvelope"]'
edit "payload not base64" 'b["dsseEnvelope"]["payload"] = "!!!"'
edit "payload a number" 'b["dsseEnvelope"]["payload"] = 5'
edit "no signatures" 'b["dsseEnvelope"]["signatures"] = []'
edit "signature not base64" 'b["dsseEnvelope"]["signatures"][0]["sig"] = "%%%"'
edit "hint not hex" 'b["verificationMaterial"]["publicKey"]["hint"] = "xyz"'
edit "a JSON array" 'b = "[1,2,3]"'
edit "duplicate keys" 'b = json.dumps(b)[:-1] + ", \"mediaType\": \"x\"}"'
printf '{' > m.gguf.sig; head -c 3000 /dev/urandom | base64 -w0 >> m.gguf.sig
expect "malformed bundle: junk" "malformed signature file" m.gguf

# ---- policy -----------------------------------------------------------------------------------------------------
cp base.gguf r.gguf
$MB --key k.key --out r.gguf.sig r.gguf
HEARTH_REQUIRE_SIGNATURE=1 "$HEARTH_BIN" run --raw -m r.gguf -p "hi" -n 1 >/dev/null 2>&1 ||
    fail "a model with a good bundle did not run under require_signature"
rm -f r.gguf.sig; $MB --key k2.key --out r.gguf.sig r.gguf
out=$(HEARTH_REQUIRE_SIGNATURE=1 "$HEARTH_BIN" run --raw -m r.gguf -p "hi" -n 1 2>&1) &&
    fail "a model signed by another key ran"
printf '%s\n' "$out" | grep -q "refusing model 'r.gguf': untrusted key" || fail "run: $out"
echo "run: bundle policy enforced"

[ $fails -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all sigstore checks passed"
