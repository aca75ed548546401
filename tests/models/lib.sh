# lib.sh: shared setup for the tests/models/*.sh tests (sourced, not a test).
# Makes a temp dir with its own HEARTH_HOME and config, generated models, a
# passwordless minisign key trusted by hearth, and starts modelserver.py on
# 127.0.0.1 serving $WWW with faults from $FAULTS. Cleans up on exit.
set -euo pipefail
: "${HEARTH_BIN:?}" "${HEARTH_GENMODEL:?}" "${HEARTH_SOURCE_DIR:?}"
command -v minisign >/dev/null || { echo "SKIP: minisign not installed"; exit 77; }
command -v curl >/dev/null || { echo "SKIP: curl not installed"; exit 77; }

TMP=$(mktemp -d)
SERVER_PID=
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
    [ -n "$SERVER_PID" ] && wait "$SERVER_PID" 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT
export HEARTH_HOME=$TMP/home HEARTH_CONFIG=$TMP/config
: > "$HEARTH_CONFIG"
WWW=$TMP/www FAULTS=$TMP/faults.json
mkdir -p "$WWW" "$HEARTH_HOME/trusted-keys"
echo '{}' > "$FAULTS"
H() { "$HEARTH_BIN" "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok - $*"; }

# A passwordless signing key; its public half is trusted by hearth.
minisign -G -W -p "$TMP/test.pub" -s "$TMP/test.key" >/dev/null
cp "$TMP/test.pub" "$HEARTH_HOME/trusted-keys/test.pub"
# A second key nobody trusts.
minisign -G -W -p "$TMP/evil.pub" -s "$TMP/evil.key" >/dev/null
sign() { minisign -S -s "${2:-$TMP/test.key}" -m "$1" -x "$1.minisig" -t "hearth test" >/dev/null; }

# gen NAME SEED: a tiny generated model in $WWW/NAME.gguf
gen() { "$HEARTH_GENMODEL" -q --arch llama --preset tiny --type F32 --seed "$2" -o "$WWW/$1.gguf"; }
sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }

start_server() {
    python3 "$HEARTH_SOURCE_DIR/tests/models/modelserver.py" --root "$WWW" --faults "$FAULTS" \
        --port-file "$TMP/port" &
    SERVER_PID=$!
    for _ in $(seq 100); do [ -s "$TMP/port" ] && break; sleep 0.05; done
    [ -s "$TMP/port" ] || fail "modelserver did not start"
    URL=http://127.0.0.1:$(cat "$TMP/port")
}
faults() { echo "$1" > "$FAULTS"; curl -fsS "$URL/_reset" >/dev/null; }
# served PATH FIELD: the test server's counter for PATH (requests, body_bytes)
served() {
    curl -fsS "$URL/_stats" | python3 -c "import json,sys; d=json.load(sys.stdin); print(d.get('$1',{}).get('$2',0))"
}
# blobs: how many complete blobs are visible
blobs() { find "$HEARTH_HOME/models/blobs" -name 'sha256-*' ! -name '*.*sig' 2>/dev/null | wc -l; }
# active NAME: the active sha256 of NAME
active() { H models show "$1" --json | python3 -c "import json,sys; print(json.load(sys.stdin)['active'])"; }

# manifest NAME VERSION FILE [KEY] [EXTRA_JSON]: writes $WWW/NAME.json naming
# $WWW/FILE (relative URL) and signs it with KEY (default: the trusted key).
manifest() {
    local name=$1 ver=$2 file=$3 key=${4:-$TMP/test.key} extra=${5:-}
    printf '{"name": "%s", "version": "%s", "url": "%s", "size": %s, "sha256": "%s", "min_hearth_version": "0.1.0", "notes": "test release %s"%s}\n' \
        "$name" "$ver" "$file" "$(size "$WWW/$file")" "$(sha "$WWW/$file")" "$ver" "${extra:+, $extra}" \
        > "$WWW/$name.json"
    sign "$WWW/$name.json" "$key"
}

# nanify FILE: overwrites the second half of the file (tensor data) with
# 0xFF bytes: float32 NaNs. The file still parses and loads.
nanify() {
    python3 - "$1" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
h = len(b) // 2
b[h:] = b"\xff" * (len(b) - h)
open(p, "wb").write(bytes(b))
PY
}
