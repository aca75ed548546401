#!/usr/bin/env bash
# test_kernels.sh (issue 19): the WebAssembly SIMD128 kernels
# (src/kernels/wasm/) and attention (src/model/attn_wasm.c) against the
# reference, as x86/ and arm/ are: the tests tests/kernels/test_dot.c,
# test_quants.c, tests/model/test_attn.c and tests/web/wasm/test_f16.c (the
# SIMD128 f16 conversions, all 65,536 values) built by the browser build for
# node (build-web/test-*.js) and run there. Skips (77)
# only without emscripten or chromium (make deps-web).
set -euo pipefail
: "${HEARTH_SOURCE_DIR:?}"
work=$(mktemp -d /tmp/hearth-webk-XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
. "$HEARTH_SOURCE_DIR/tests/web/webbuild.sh"
for t in kernels-dot kernels-quants model-attn web-wasm-f16; do
    node "$web/test-$t.js" >"$work/$t.log" 2>&1 || { cat "$work/$t.log"; fail "$t"; }
    tail -n 1 "$work/$t.log"
done
grep -q '^chosen implementation: wasm128$' "$work/kernels-dot.log" || fail "wasm128 kernels not chosen"
grep -q 'Q8_0  wasm128 max' "$work/kernels-dot.log" || fail "wasm128 not compared with the reference"
! grep -q 'no SIMD attention kernel' "$work/model-attn.log" || fail "no SIMD128 attention kernel"
