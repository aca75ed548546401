#!/usr/bin/env bash
# test_exports.sh: the shared library exports only the public API: every
# defined dynamic symbol starts with hearth_ (STYLE.md: default visibility
# hidden, HEARTH_API on public functions).
set -euo pipefail
: "${HEARTH_BUILD_DIR:?}"
lib="$HEARTH_BUILD_DIR/libhearth.so"
[ -f "$lib" ] || { echo "FAIL: $lib missing"; exit 1; }
syms=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBR]$/ {print $3}')
[ -n "$syms" ] || { echo "FAIL: no symbols exported"; exit 1; }
bad=$(printf '%s\n' "$syms" | grep -v '^hearth_' || true)
if [ -n "$bad" ]; then
    echo "FAIL: exported without the hearth_ prefix:"
    printf '%s\n' "$bad"
    exit 1
fi
echo "$(printf '%s\n' "$syms" | wc -l) symbols, all hearth_*"
printf '%s\n' "$syms" | grep -qx hearth_gguf_open || { echo "FAIL: hearth_gguf_open not exported"; exit 1; }
