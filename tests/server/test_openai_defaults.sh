#!/usr/bin/env bash
# test_openai_defaults.sh: a real `hearth serve` on 127.0.0.1 driven by the
# official OpenAI Node.js client with its defaults (node/defaults.mjs):
# embeddings without encoding_format (base64), float, dimensions, and
# models.retrieve; plus the raw wire format with curl.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib/serve.sh"
: "${HEARTH_BIN:?}" "${HEARTH_GENMODEL:?}" "${HEARTH_SOURCE_DIR:?}"
here="$HEARTH_SOURCE_DIR/tests/server"
work=$(mktemp -d /tmp/hearth-oai-XXXXXX)
pid=
cleanup() {
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
export HEARTH_HOME="$work/home" HEARTH_CONFIG="$work/no-config"
unset HEARTH_MODEL HEARTH_API_KEY HEARTH_SECURITY_LOG

if [ ! -d "$here/node/node_modules/openai" ]; then
    (cd "$here/node" && npm ci --no-audit --no-fund --silent) || fail "npm ci"
fi

model="$work/tiny-chat.gguf"
"$HEARTH_GENMODEL" --arch qwen2 --preset tiny --type Q8_0 --n-ctx 512 --seed 3 -o "$model" >/dev/null
: >"$work/out" # exists before sed reads it (set -e)
"$HEARTH_BIN" serve --port 0 -m "$model" -c 256 >"$work/out" 2>"$work/err" &
pid=$!
serve_port "$pid" "$work/out" "$work/err"
port=$PORT
base="http://127.0.0.1:$port"
serve_healthy "$work/err"

node "$here/node/defaults.mjs" "$base/v1" || fail "OpenAI client with its defaults"

# The wire: no encoding_format is float (as OpenAI); base64 is a string.
curl -s "$base/v1/embeddings" -d '{"model":"tiny-chat","input":"hi"}' \
    | grep -q '"embedding": *\[' || fail "default encoding is not float"
curl -s "$base/v1/embeddings" -d '{"model":"tiny-chat","input":"hi","encoding_format":"base64"}' \
    | grep -q '"embedding": *"' || fail "base64 is not a string"
code=$(curl -s -o "$work/body" -w '%{http_code}' "$base/v1/models/nope")
[ "$code" = 404 ] || fail "/v1/models/nope: $code"
grep -q '"code": *"model_not_found"' "$work/body" || fail "404 body: $(cat "$work/body")"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$base/v1/models/tiny-chat")" = 200 ] || fail "/v1/models/tiny-chat"
echo ok
