#!/usr/bin/env bash
# test_browser.sh (issue 19): the browser build in Debian's headless chromium,
# driven by playwright-core (npm), the page served by a real `hearth serve
# --web` on 127.0.0.1: INIT's PROGRESS and READY, an answer, streamed tokens,
# history and tasks across a reload, offline use, the worker's errors and
# cancellation, and the wasm engine's greedy token ids against the native
# engine's (browser.mjs has the checks). The emscripten build is the one in
# build-web/ (`make web`), rebuilt here if a source changed (cached).
# Skips (77) only when emcc or chromium is not installed (make deps-web).
set -euo pipefail
: "${HEARTH_BIN:?}" "${HEARTH_GENMODEL:?}" "${HEARTH_SOURCE_DIR:?}" "${HEARTH_BUILD_DIR:?}"
here="$HEARTH_SOURCE_DIR/tests/web"
work=$(mktemp -d /tmp/hearth-web-XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
export HEARTH_HOME="$work/home" HEARTH_CONFIG="$work/no-config"
unset HEARTH_MODEL HEARTH_API_KEY HEARTH_SECURITY_LOG HEARTH_WEB_DIR
. "$here/webbuild.sh"
web_npm

# The app in a directory of its own, with the test's models beside it.
app="$work/app"
mkdir -p "$app/models"
cp "$web"/index.html "$web"/hearth.js "$web"/hearth-worker.js "$web"/sw.js "$web"/hearth-wasm.js \
   "$web"/hearth-wasm.wasm "$web"/hearth-wasm-mt.js "$web"/hearth-wasm-mt.wasm \
   "$web"/hearth-wasm-mt.worker.js "$app/"
# the relaxed-SIMD modules, which the worker picks in chromium, where the
# build has them (web/CMakeLists.txt: a clang >= 16)
export KERNELS=wasm128
if [ -f "$web/hearth-wasm-relaxed.js" ]; then
    cp "$web"/hearth-wasm-relaxed.js "$web"/hearth-wasm-relaxed.wasm "$web"/hearth-wasm-relaxed-mt.js \
       "$web"/hearth-wasm-relaxed-mt.wasm "$web"/hearth-wasm-relaxed-mt.worker.js "$app/"
    KERNELS=wasm-relaxed
fi
cp "$HEARTH_SOURCE_DIR/models/hearth-demo.gguf" "$app/models/"
"$HEARTH_GENMODEL" --arch qwen2 --preset tiny256 --type Q4_K --n-ctx 1024 --seed 7 \
    -o "$app/models/gen-q4k.gguf" >/dev/null
"$HEARTH_GENMODEL" --arch llama --preset small --type Q8_0 --n-ctx 1024 --seed 5 \
    -o "$app/models/gen-q8.gguf" >/dev/null
printf 'this is not a GGUF file, only text\n' >"$app/models/not-a-model.gguf"

# Signatures by the real minisign (Makefile DEPS): the demo model signed in
# minisign's default prehashed form, gen-q8 in the legacy form, a copy of the
# demo's signature with one byte of the signature changed and one with its
# trusted comment changed, and a second key that signed nothing here.
command -v minisign >/dev/null || fail "minisign not installed (make deps)"
minisign -G -W -p "$work/pub" -s "$work/sec" >/dev/null </dev/null || fail "minisign -G"
minisign -G -W -p "$work/other.pub" -s "$work/other.sec" >/dev/null </dev/null || fail "minisign -G"
minisign -S -s "$work/sec" -m "$app/models/hearth-demo.gguf" -t "hearth-demo, web test" >/dev/null ||
    fail "minisign -S"
minisign -S -l -s "$work/sec" -m "$app/models/gen-q8.gguf" -t "gen-q8, legacy" >/dev/null ||
    fail "minisign -S -l"
"$HEARTH_BIN" verify "$app/models/hearth-demo.gguf" --pubkey "$work/pub" >/dev/null ||
    fail "native verify of the demo model's signature"
awk 'NR == 2 { c = substr($0, 41, 1); $0 = substr($0, 1, 40) (c == "A" ? "B" : "A") substr($0, 42) } 1' \
    "$app/models/hearth-demo.gguf.minisig" >"$app/models/tampered.minisig"
sed '3s/web test/web TEST/' "$app/models/hearth-demo.gguf.minisig" >"$app/models/comment.minisig"
export PUBKEY OTHER_PUB
PUBKEY=$(sed -n 2p "$work/pub")   # the key line alone
OTHER_PUB=$(cat "$work/other.pub") # the whole .pub file, comment line and all

# Native greedy ids for the fixed prompt, one thread (the reference the wasm
# engine must equal).
prompt="Once upon a time"
native() {
    "$HEARTH_BIN" run --raw --json --temp 0 -n 24 -t 1 -m "$1" "$prompt" |
        sed -n 's/.*"ids":\[\([0-9,]*\)\].*/[\1]/p'
}
export NATIVE_DEMO NATIVE_GEN NATIVE_GEN8
NATIVE_DEMO=$(native "$app/models/hearth-demo.gguf")
NATIVE_GEN=$(native "$app/models/gen-q4k.gguf")
NATIVE_GEN8=$(native "$app/models/gen-q8.gguf")
[ -n "$NATIVE_DEMO" ] && [ -n "$NATIVE_GEN" ] && [ -n "$NATIVE_GEN8" ] ||
    fail "native ids: '$NATIVE_DEMO' '$NATIVE_GEN' '$NATIVE_GEN8'"

# the files exist before the server starts: sed reads serve.out at once
: >"$work/serve.out"
: >"$work/serve.out" # before the loop reads it: the job's redirection may come late
"$HEARTH_BIN" serve --port 0 -m "$app/models/hearth-demo.gguf" --web "$app" \
    >"$work/serve.out" 2>"$work/serve.err" &
pids+=("$!")
PORT=
for _ in $(seq 1 600); do
    PORT=$(sed -n 's/^listening on http:\/\/127.0.0.1:\([0-9]*\)$/\1/p' "$work/serve.out" 2>/dev/null || true)
    [ -n "$PORT" ] && break
    kill -0 "${pids[0]}" 2>/dev/null || fail "hearth serve exited: $(cat "$work/serve.err")"
    sleep 0.05
done
[ -n "$PORT" ] || fail "hearth serve did not start"

mkdir -p "$HEARTH_BUILD_DIR/web-test"
export DEMO_SHA256=$(sha256sum "$app/models/hearth-demo.gguf" | cut -d' ' -f1)
export WEB_URL="http://127.0.0.1:$PORT/web/" PROMPT="$prompt"
export SCREENSHOT="$HEARTH_BUILD_DIR/web-test/chat.png" PROFILE="$work/profile"
node "$here/browser.mjs" || fail "browser checks"
echo "screenshot: $SCREENSHOT"
