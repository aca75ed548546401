#!/usr/bin/env bash
# bench_web.sh (issue 19): generation speed in the browser (the wasm engine
# in Debian's headless chromium, 1 thread and 2 threads) against the native
# engine on 1 thread, same model, same prompt, greedy; the .wasm/.js sizes;
# INIT -> READY time. Usage: bench/bench_web.sh [BUILD] [WEB_BUILD]
# (defaults build, build-web; `make web-bench`). Models (BENCH_WEB_MODELS, default the
# demo models and small-q8_0 small-q4_0 small-q4_k; small-TYPE is a generated llama
# "small" model of that type). BENCH_WEB_TOKENS tokens per run (128),
# best of BENCH_WEB_REPS runs (3; more on a busy machine). BENCH_WEB_BASE=DIR
# (another web build, e.g. of the commit before a change) adds its wasm
# 1-thread figure in the same run (column base-1t, and wasm-1t / base-1t).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
web=$(cd "${2:-$src/build-web}" && pwd)
n=${BENCH_WEB_TOKENS:-128}
reps=${BENCH_WEB_REPS:-3}
work=$(mktemp -d /tmp/hearth-webbench-XXXXXX)
pid=
cleanup() { [ -z "$pid" ] || kill "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
export HEARTH_HOME="$work/home" HEARTH_CONFIG="$work/no-config"
unset HEARTH_MODEL HEARTH_WEB_DIR
app="$work/app"
mkdir -p "$app/models"
cp "$web"/*.html "$web"/*.js "$web"/*.wasm "$app/"
rm -f "$app"/test-*.js
base=${BENCH_WEB_BASE:+$(cd "$BENCH_WEB_BASE" && pwd)}
if [ -n "$base" ]; then
    mkdir -p "$app/base"
    cp "$base"/*.html "$base"/*.js "$base"/*.wasm "$app/base/"
    rm -f "$app"/base/test-*.js
fi
cp "$src/models/hearth-demo.gguf" "$src/models/hearth-demo-256.gguf" "$app/models/"
models=${BENCH_WEB_MODELS:-"hearth-demo hearth-demo-256 small-q8_0 small-q4_0 small-q4_k"}
# small-TYPE: a generated llama "small" model of that type (any hearth-genmodel --type)
for m in $models; do
    case $m in
    small-*) t=$(echo "${m#small-}" | tr a-z A-Z)
        "$build/hearth-genmodel" --arch llama --preset small --type "$t" --seed 1 -o "$app/models/$m.gguf" \
            >/dev/null 2>&1 || { echo "bench_web: hearth-genmodel --type $t failed" >&2; exit 1; } ;;
    esac
done
prompt="Once upon a time"

# the file exists before the server starts: sed reads it at once
: >"$work/serve.out"
"$build/hearth" serve --port 0 -m "$app/models/hearth-demo.gguf" --web "$app" >"$work/serve.out" 2>&1 &
pid=$!
port=
for _ in $(seq 1 200); do
    port=$(sed -n 's/^listening on http:\/\/127.0.0.1:\([0-9]*\)$/\1/p' "$work/serve.out")
    [ -n "$port" ] && break
    sleep 0.05
done
[ -n "$port" ] || { cat "$work/serve.out"; exit 1; }

sizes() {
    [ -f "$web/$1.wasm" ] || return 0
    printf 'sizes: %s.wasm %d B, %s.js %d B; %s-mt.wasm %d B, %s-mt.js %d B (+ worker %d B)\n' \
        "$1" "$(stat -c %s "$web/$1.wasm")" "$1" "$(stat -c %s "$web/$1.js")" \
        "$1" "$(stat -c %s "$web/$1-mt.wasm")" "$1" "$(stat -c %s "$web/$1-mt.js")" \
        "$(stat -c %s "$web/$1-mt.worker.js")"
}
sizes hearth-wasm
sizes hearth-wasm-relaxed
printf '%-16s %10s %10s %10s %10s %10s %8s %8s %8s %10s' model native-1t scalar-1t simd128-1t wasm-1t wasm-2t \
    ratio128 ratio-1t gain-2t init-ready
[ -z "$base" ] && echo || printf ' %10s %8s %8s\n' base-1t base-ratio speedup
# native_tps MODEL [ENV...]: best of $reps (one thread, decode steps only)
native_tps() {
    local f=$1 best=0 t; shift
    for _ in $(seq 1 "$reps"); do
        t=$(env "$@" "$build/hearth" run --raw --json --temp 0 -n "$n" -t 1 -m "$f" "$prompt" |
            sed -n 's/.*"gen_tps":\([0-9.]*\).*/\1/p')
        best=$(awk -v a="$best" -v b="$t" 'BEGIN { print (b > a ? b : a) }')
    done
    echo "$best"
}
for m in $models; do
    f="$app/models/$m.gguf"
    nat=$(native_tps "$f")
    sca=$(native_tps "$f" HEARTH_FORCE_SCALAR=1)
    read -r w0 w1 w2 kernels ready < <(cd "$src/tests/web" && node "$src/bench/bench_web.mjs" \
        "http://127.0.0.1:$port/web/" "models/$m.gguf" "$prompt" "$n" "$reps")
    awk -v m="$m" -v a="$nat" -v s="$sca" -v w="$w0" -v b="$w1" -v c="$w2" -v r="$ready" 'BEGIN {
        printf "%-16s %10.1f %10.1f %10.1f %10.1f %10.1f %7.2fx %7.2fx %7.2fx %8.0f ms", m, a, s, w, b, c,
            w / a, b / a, c / b, r }'
    if [ -n "$base" ]; then
        read -r _ b1 _ _ _ < <(cd "$src/tests/web" && node "$src/bench/bench_web.mjs" \
            "http://127.0.0.1:$port/web/base/" "../models/$m.gguf" "$prompt" "$n" "$reps" 1)
        awk -v a="$nat" -v b="$w1" -v c="$b1" 'BEGIN { printf " %10.1f %7.2fx %7.2fx\n", c, c / a, b / c }'
    else
        echo
    fi
done
echo "(tokens/s of the decode steps, $n tokens greedy from '$prompt'; best of $reps each; native-1t: the"
echo " native build's kernels ($("$build/hearth" --version 2>/dev/null | grep -o 'kernels [a-z0-9]*' || echo 'best')), scalar-1t: HEARTH_FORCE_SCALAR=1;"
echo " simd128-1t: the SIMD128 modules (relaxedSimd: false); wasm-1t, wasm-2t: the modules the worker picks"
echo " (kernels ${kernels:-?}); ratio128, ratio-1t: simd128-1t, wasm-1t / native-1t;"
echo " wasm in headless chromium $(/usr/bin/chromium --version 2>/dev/null | awk '{print $2}'), $(nproc) CPUs; init-ready: INIT to READY, model from the cache)"
