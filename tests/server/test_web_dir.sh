#!/usr/bin/env bash
# test_web_dir.sh: hearth serve --web DIR (issue 19) with curl: files under
# /web/ with their types and the COOP/COEP headers, index.html for a
# directory, /web redirected, nothing outside DIR (dot segments, encoded
# ones, symbolic links out, hidden files), GET/HEAD only, no API key needed,
# and the API beside it unchanged. No browser needed (tests/web has those).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib/serve.sh"
: "${HEARTH_BIN:?}" "${HEARTH_SOURCE_DIR:?}"
work=$(mktemp -d /tmp/hearth-webdir-XXXXXX)
pid=
cleanup() { [ -z "$pid" ] || kill -9 "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
export HEARTH_HOME="$work/home" HEARTH_CONFIG="$work/no-config"
unset HEARTH_MODEL HEARTH_API_KEY HEARTH_SECURITY_LOG HEARTH_WEB_DIR

app="$work/app"
mkdir -p "$app/sub" "$app/.hidden"
echo '<p>hello</p>' >"$app/index.html"
printf '\0asm\1\0\0\0' >"$app/m.wasm"
echo 'export {}' >"$app/sub/a.js"
echo 'secret' >"$work/secret.txt"
echo 'hidden' >"$app/.hidden/x.txt"
ln -s "$work/secret.txt" "$app/link.txt"

# the file exists before the server starts: sed reads it at once
: >"$work/out"
HEARTH_API_KEY=k "$HEARTH_BIN" serve --port 0 -m "$HEARTH_SOURCE_DIR/models/hearth-demo.gguf" \
    --web "$app" >"$work/out" 2>"$work/err" &
pid=$!
serve_port "$pid" "$work/out" "$work/err"
port=$PORT
base="http://127.0.0.1:$port"
code() { curl -s -o /dev/null -w '%{http_code}' --path-as-is "$@"; }

hdrs=$(curl -s -D - -o "$work/body" "$base/web/")
grep -q '^HTTP/1.1 200' <<<"$hdrs" || fail "/web/: $hdrs"
grep -qi '^content-type: text/html' <<<"$hdrs" || fail "/web/ type: $hdrs"
grep -qi '^cross-origin-opener-policy: same-origin' <<<"$hdrs" || fail "COOP: $hdrs"
grep -qi '^cross-origin-embedder-policy: require-corp' <<<"$hdrs" || fail "COEP: $hdrs"
grep -q hello "$work/body" || fail "/web/ body"
curl -s -D - -o /dev/null "$base/web/m.wasm" | grep -qi '^content-type: application/wasm' || fail "wasm type"
curl -s -D - -o /dev/null "$base/web/sub/a.js" | grep -qi '^content-type: text/javascript' || fail "js type"
[ "$(code -I "$base/web/sub/a.js")" = 200 ] || fail "HEAD"
hdrs=$(curl -s -D - -o /dev/null "$base/web")
grep -q '^HTTP/1.1 301' <<<"$hdrs" && grep -qi '^location: /web/' <<<"$hdrs" || fail "/web redirect: $hdrs"
for p in /web/../secret.txt /web/sub/../index.html /web/%2e%2e/secret.txt /web/link.txt \
         /web/.hidden/x.txt /web/missing.js /web/sub '/web/sub\a.js'; do
    [ "$(code "$base$p")" = 404 ] || fail "$p: $(code "$base$p")"
done
[ "$(code -X POST "$base/web/index.html")" = 405 ] || fail "POST /web/"
# the API is unchanged beside it (and still wants its key)
[ "$(code "$base/v1/models")" = 401 ] || fail "API without key"
[ "$(code -H 'Authorization: Bearer k' "$base/v1/models")" = 200 ] || fail "API with key"
[ "$(code "$base/webx")" = 404 ] || fail "/webx"
echo "ok"
