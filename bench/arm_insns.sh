#!/usr/bin/env bash
# arm_insns.sh: instructions executed per weight byte by the arm64 kernels,
# counted under qemu-aarch64 (an honest proxy where no ARM machine is at
# hand: an emulator's time is not a speed, its instruction count is the work
# the kernel asks of a CPU; it says nothing about the cycles per instruction,
# the memory bandwidth or the cache behaviour of a real core).
#
# qemu runs one instruction per translation block (-singlestep) without
# block chaining and logs each block it executes (-d exec,nochain); the
# count is the number of log lines. bench_insns is run with 1 and with 3
# calls; half the difference is one call, without the set-up.
#
# Usage: bench/arm_insns.sh [BUILD_DIR (default build-arm64)] [TYPES (default Q4_0,Q8_0,Q4_K,Q6_K,F16)]
#   ROWS, N, COLS (gemm columns) override the shapes (default 64 x 4096, 8).
set -euo pipefail
B=${1:-build-arm64}
TYPES=${2:-Q4_0,Q8_0,Q4_K,Q6_K,F16}
ROWS=${ROWS:-64} N=${N:-4096} COLS=${COLS:-8}
QEMU=$(command -v qemu-aarch64-static || command -v qemu-aarch64)
[ -x "$B/bench_insns" ] || { echo "build $B/bench_insns first (cmake --build $B --target bench_insns)" >&2; exit 1; }

count() { # impl type cols calls -> executed instructions
    QEMU_CPU=max "$QEMU" -singlestep -d exec,nochain -D /dev/fd/3 "$B/bench_insns" \
        --impl "$1" --type "$2" --rows "$ROWS" --n "$N" --cols "$3" --calls "$4" 3>&1 >/dev/null |
        grep -c '^Trace'
}

printf 'instructions executed per weight byte (gemv) and per weight byte per column (gemm, %s columns), %s x %s weights\n' \
    "$COLS" "$ROWS" "$N"
printf '%-5s %-8s %10s %10s\n' type impl gemv gemm
for t in ${TYPES//,/ }; do
    bytes=$(QEMU_CPU=max "$QEMU" "$B/bench_insns" --type "$t" --rows "$ROWS" --n "$N" --calls 0)
    for impl in scalar neon dotprod i8mm; do
        v1=$(count "$impl" "$t" 1 1) v3=$(count "$impl" "$t" 1 3)
        m1=$(count "$impl" "$t" "$COLS" 1) m3=$(count "$impl" "$t" "$COLS" 3)
        awk -v t="$t" -v i="$impl" -v b="$bytes" -v c="$COLS" -v v1="$v1" -v v3="$v3" -v m1="$m1" -v m3="$m3" \
            'BEGIN { printf "%-5s %-8s %10.2f %10.2f\n", t, i, (v3 - v1) / 2 / b, (m3 - m1) / 2 / b / c }'
    done
done
