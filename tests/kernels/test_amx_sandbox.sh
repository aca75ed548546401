#!/usr/bin/env bash
# test_amx_sandbox.sh: `hearth run` on the amx kernel level under hearth's
# seccomp sandbox (the default; --sandbox makes it fail rather than run
# without one). The tile permission (arch_prctl ARCH_REQ_XCOMP_PERM) is
# asked for when the kernels are chosen, at model load, before the filter
# is applied, and the filter does not deny arch_prctl: a tile instruction
# without the permission would kill the process with SIGILL. Q4_0 and Q8_0
# models (their prefill runs the AMX gemm: more than 6 prompt tokens), each
# answer the same with and without the sandbox. Skips (77) off x86-64 (or in
# a build without the CLI: the arm64 cross build), on a
# CPU without AMX-TILE/AMX-INT8, or where the OS does not grant the tiles
# (then dot.c stays at avx512).
set -euo pipefail
: "${HEARTH_BIN:?}" "${HEARTH_GENMODEL:?}"
case "$(uname -m)" in x86_64|amd64) ;; *) echo "not x86: skipped"; exit 77 ;; esac
# the arm64 cross build makes only its emulated tests, not the CLI
[ -e "$HEARTH_BIN" ] || { echo "no $HEARTH_BIN in this build: skipped"; exit 77; }
machine=$(od -An -tu2 -j18 -N2 "$HEARTH_BIN" | tr -d ' ')
[ "$machine" = 62 ] || { echo "binaries are not x86-64 (ELF machine $machine): skipped"; exit 77; }
has() { grep -q "^flags.* $1\( \|\$\)" /proc/cpuinfo; }
has amx_tile && has amx_int8 || { echo "no AMX-INT8 on this CPU: skipped"; exit 77; }
export HEARTH_KERNEL_LEVEL=amx
"$HEARTH_BIN" --version | grep -q 'kernels: amx' ||
    { echo "AMX not granted here ($("$HEARTH_BIN" --version | tail -1)): skipped"; exit 77; }
work=$(mktemp -d /tmp/hearth-amx-XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
export HEARTH_HOME="$work/home" HEARTH_CONFIG="$work/no-config"
unset HEARTH_MODEL HEARTH_SANDBOX || true
prompt="Name three rivers of Europe and say which of them is the longest one"
for type in Q4_0 Q8_0; do
    "$HEARTH_GENMODEL" -q --arch llama --preset tiny256 --type "$type" -o "$work/$type.gguf"
    for sb in --sandbox --no-sandbox; do
        rc=0
        "$HEARTH_BIN" run $sb -m "$work/$type.gguf" -n 8 --temp 0 "$prompt" >"$work/$type$sb.out" \
            2>"$work/$type$sb.err" || rc=$?
        [ $rc = 0 ] || fail "$type run $sb on amx: exit status $rc ($(tail -3 "$work/$type$sb.err"))"
        [ -s "$work/$type$sb.out" ] || fail "$type run $sb: no answer"
    done
    cmp -s "$work/$type--sandbox.out" "$work/$type--no-sandbox.out" ||
        fail "$type: the sandboxed answer differs: '$(cat "$work/$type--sandbox.out")' vs '$(cat "$work/$type--no-sandbox.out")'"
    echo "$type: sandboxed run on amx ok ($(wc -c <"$work/$type--sandbox.out") bytes, the same unsandboxed)"
done
