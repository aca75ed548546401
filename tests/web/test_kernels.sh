#!/usr/bin/env bash
# test_kernels.sh (issue 19): the WebAssembly SIMD128 kernels
# (src/kernels/wasm/) against the reference, as x86/ and arm/ are: the
# kernel tests (tests/kernels/test_dot.c, test_quants.c) built by the browser
# build for node (build-web/test-kernels-*.js) and run there. Skips (77)
# only without emscripten or chromium (make deps-web).
set -euo pipefail
: "${HEARTH_SOURCE_DIR:?}"
work=$(mktemp -d /tmp/hearth-webk-XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
. "$HEARTH_SOURCE_DIR/tests/web/webbuild.sh"
for t in dot quants; do
    node "$web/test-kernels-$t.js" >"$work/$t.log" 2>&1 || { cat "$work/$t.log"; fail "kernels $t"; }
    tail -n 1 "$work/$t.log"
done
grep -q '^chosen implementation: wasm128$' "$work/dot.log" || fail "wasm128 kernels not chosen"
grep -q 'Q8_0  wasm128 max' "$work/dot.log" || fail "wasm128 not compared with the reference"
