#!/usr/bin/env bash
# test_install.sh: `cmake --install` into a temporary prefix, then the
# prefix is moved elsewhere (so neither the source nor the build tree nor the
# first prefix can be what is used): the moved hearth answers "What is 2+2?"
# with the demo model from PREFIX/share/hearth, prints its version, and
# installed its man page and completions; its read-only data names no source
# path; a tiny C program builds against the installed pkg-config file
# (shared libhearth) and a CMake project with find_package(hearth) (shared
# and static), and they run.
set -euo pipefail
: "${HEARTH_BIN:?}" "${HEARTH_BUILD_DIR:?}" "${HEARTH_SOURCE_DIR:?}"
work=$(mktemp -d /tmp/hearth-install-XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
export HEARTH_HOME="$work/home" HEARTH_CONFIG="$work/no-config" HEARTH_TEMP=0
unset HEARTH_MODEL || true

cmake --install "$HEARTH_BUILD_DIR" --prefix "$work/first" >"$work/install.log" || fail "cmake --install: $(cat "$work/install.log")"
mv "$work/first" "$work/moved"
p="$work/moved"
for f in bin/hearth include/hearth.h share/hearth/hearth-demo.gguf share/hearth/catalog.json share/hearth/quant-eval.txt \
         share/man/man1/hearth.1 share/bash-completion/completions/hearth share/zsh/site-functions/_hearth; do
    [ -f "$p/$f" ] || fail "not installed: $f"
done
libdir=$(cd "$p" && ls -d lib*/pkgconfig | head -n 1 | xargs dirname)
[ -n "$libdir" ] || fail "no pkgconfig directory"
for f in libhearth.a libhearth.so pkgconfig/hearth.pc cmake/hearth/hearthConfig.cmake; do
    [ -e "$p/$libdir/$f" ] || fail "not installed: $libdir/$f"
done

# A sanitizer build keeps source paths for its reports, and its libhearth
# needs the sanitizer runtime to link against: those checks are for the
# plain builds.
sanitized=0
grep -Eq '^HEARTH_(SANITIZE|FUZZ):BOOL=ON' "$HEARTH_BUILD_DIR/CMakeCache.txt" && sanitized=1

# The installed binary holds no path into the source or build tree in its
# read-only data (debug info may name sources; that is not looked up).
if [ "$sanitized" = 0 ]; then
    objcopy -O binary --only-section=.rodata "$p/bin/hearth" "$work/rodata"
    ! grep -aqF "$HEARTH_SOURCE_DIR" "$work/rodata" || fail "the binary's data names the source tree"
fi

# It answers with its own demo model.
out=$("$p/bin/hearth" run "What is 2+2?" 2>"$work/err") || fail "hearth run: $(cat "$work/err")"
echo "$out"
grep -q '4' <<<"$out" || fail "answer: $out"
"$p/bin/hearth" --version >"$work/version"
grep -q '^hearth [0-9]' "$work/version" || fail "version"
grep -Eq '^commit [0-9a-f]+|^commit unknown' "$work/version" || fail "version: no commit: $(cat "$work/version")"
grep -Eq 'build, kernels: (scalar|avx2|avx512|[a-z0-9]+)' "$work/version" || fail "version: no build type or kernels"
# the man page is a man page
if command -v man >/dev/null 2>&1; then
    MANPAGER=cat MANWIDTH=80 man -l "$p/share/man/man1/hearth.1" 2>/dev/null | grep -q 'privacy-first' || fail "man page"
fi

if [ "$sanitized" = 1 ]; then
    echo "sanitizer build: client programs skipped" >&2
    echo ok
    exit 0
fi

cat >"$work/client.c" <<'C'
#include <hearth.h>
#include <stdio.h>
#include <string.h>
int main(void) {
    const char *v = hearth_version();
    printf("libhearth %s\n", v);
    return v && strlen(v) > 0 ? 0 : 1;
}
C
export PKG_CONFIG_PATH="$p/$libdir/pkgconfig"
pkg-config --exists hearth || fail "pkg-config does not find hearth"
# shellcheck disable=SC2046
cc -o "$work/client" "$work/client.c" $(pkg-config --cflags --libs hearth) || fail "build with pkg-config"
LD_LIBRARY_PATH="$p/$libdir" "$work/client" | grep -q '^libhearth [0-9]' || fail "client (pkg-config)"

mkdir "$work/proj"
cp "$work/client.c" "$work/proj/client.c"
cat >"$work/proj/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.20)
project(client C)
find_package(hearth REQUIRED)
add_executable(client_shared client.c)
target_link_libraries(client_shared PRIVATE hearth::hearth)
add_executable(client_static client.c)
target_link_libraries(client_static PRIVATE hearth::hearth_static)
CM
cmake -S "$work/proj" -B "$work/proj/b" -DCMAKE_PREFIX_PATH="$p" >"$work/cmake.log" 2>&1 || fail "find_package(hearth): $(cat "$work/cmake.log")"
cmake --build "$work/proj/b" >"$work/build.log" 2>&1 || fail "client build: $(cat "$work/build.log")"
LD_LIBRARY_PATH="$p/$libdir" "$work/proj/b/client_shared" | grep -q '^libhearth' || fail "client_shared"
"$work/proj/b/client_static" | grep -q '^libhearth' || fail "client_static"
echo ok
