# webbuild.sh: sourced by tests/web/test_*.sh: skips (77) without emscripten
# or chromium, else brings the browser build $web (default build-web/, as
# `make web`) up to date (incremental: nothing to do when make web ran).
# Needs fail() and $work from the caller.
web="${HEARTH_WEB_BUILD:-$HEARTH_SOURCE_DIR/build-web}"
command -v emcc >/dev/null && [ -x /usr/bin/chromium ] || {
    echo "SKIP: emscripten or chromium not installed (make deps-web)"; exit 77; }
export NODE_PATH="${NODE_PATH:+$NODE_PATH:}/usr/share/nodejs" # emscripten's tools: acorn
if [ ! -f "$web/Makefile" ]; then
    emcmake cmake -S "$HEARTH_SOURCE_DIR/web" -B "$web" -DCMAKE_BUILD_TYPE=Release >/dev/null ||
        fail "emcmake cmake"
fi
# one build at a time (the two web tests may start together under ctest -j)
flock "$web/.build.lock" cmake --build "$web" -j 2 >"$work/web-build.log" 2>&1 ||
    { cat "$work/web-build.log"; fail "web build"; }
# playwright-core (npm: tests/web/package-lock.json) for the chromium
# checks, installed once even when both tests start together
web_npm() {
    local dir="$HEARTH_SOURCE_DIR/tests/web"
    flock "$web/.npm.lock" sh -c "[ -d '$dir/node_modules/playwright-core' ] ||
        (cd '$dir' && npm ci --no-audit --no-fund --silent)" || fail "npm ci"
}
