#!/usr/bin/env bash
# test_kernels.sh (issue 19): the WebAssembly SIMD128 and relaxed-SIMD kernels
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
# The relaxed-SIMD kernels (src/kernels/wasm/dot_relaxed.c), built where a
# clang >= 16 is installed (make deps-web installs clang-19), run in a page
# of headless chromium (node 20 cannot run them right): the same test, both
# wasm levels against the reference.
if [ -f "$web/test-kernels-dot-relaxed.js" ]; then
    web_npm
    node "$HEARTH_SOURCE_DIR/tests/web/page_test.mjs" "$web/test-kernels-dot-relaxed.js" >"$work/relaxed.log" 2>&1 ||
        { cat "$work/relaxed.log"; fail "kernels-dot-relaxed (chromium)"; }
    tail -n 1 "$work/relaxed.log"
    grep -q '^chosen implementation: wasm-relaxed$' "$work/relaxed.log" || fail "wasm-relaxed kernels not chosen"
    for t in Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q2_K Q3_K Q4_K Q5_K Q6_K; do
        grep -q "^$t  wasm-relaxed max |got-ref| 0 " "$work/relaxed.log" ||
            fail "$t wasm-relaxed not bit-identical to the reference"
    done
    grep -q 'Q8_0  wasm128 max' "$work/relaxed.log" || fail "wasm128 not compared in the relaxed build"
else
    echo "relaxed-SIMD kernels not built (HEARTH_WASM_RELAXED=OFF or no clang >= 16): not tested"
fi
! grep -q 'no SIMD attention kernel' "$work/model-attn.log" || fail "no SIMD128 attention kernel"
