#!/bin/bash
# test_levels.sh: the forward pass on each x86 kernel level this CPU runs
# below the one chosen (HEARTH_KERNEL_LEVEL=avx2, =avxvnni, =avx512 under
# amx): kernels_dot compares every level's kernels with the reference, this
# runs the engine's decode test and the stories model test on them (the
# default run covers the top level, test_scalar.sh the reference). On
# AVX-512 with VBMI it also runs those three with the 256-bit int8 kernels and
# with the wide ones (gemm512.h, gemv_vbmi.c: HEARTH_WIDE_INT8=0 and =1), so
# both are checked whichever dot.c picks for this CPU. Skips (77) on a CPU with neither a lower level nor
# AVX-512, or on another architecture (of the host, or of the binaries: the
# arm64 cross build runs its tests under qemu on this x86 host).
set -e
case "$(uname -m)" in x86_64|amd64) ;; *) echo "not x86: skipped"; exit 77 ;; esac
# ELF e_machine (bytes 18-19, little-endian): 62 is x86-64
machine=$(od -An -tu2 -j18 -N2 "$HEARTH_BUILD_DIR/engine_decode" | tr -d ' ')
[ "$machine" = 62 ] || { echo "binaries are not x86-64 (ELF machine $machine): skipped"; exit 77; }
has() { grep -q "^flags.* $1\( \|\$\)" /proc/cpuinfo; }
has avx2 && has fma || { echo "no AVX2: skipped"; exit 77; }
# the top level (what the default runs cover) as dot.c picks it; the lower ones
top=avx2
has avx_vnni && top=avxvnni
has avx512f && has avx512bw && has avx512vl && has avx512dq && has avx512_vnni && top=avx512
# amx: where the OS also grants the tiles (hearth --version names the level)
[ $top = avx512 ] && has amx_tile && has amx_int8 &&
  "$HEARTH_BIN" --version | grep -q 'kernels: amx' && top=amx
case $top in
  avx2) levels="" ;;
  avxvnni) levels=avx2 ;;
  avx512|amx) levels=avx2; has avx_vnni && levels="avx2 avxvnni"; [ $top = amx ] && levels="$levels avx512" ;;
esac
ran=0
# AVX-512 + VBMI: the 256-bit and the wide int8 kernels (dot.c picks by CPU;
# HEARTH_WIDE_INT8 forces either), whichever is the default here
if { [ $top = avx512 ] || [ $top = amx ]; } && has avx512vbmi; then
  for w in 0 1; do
    for t in kernels_dot engine_decode model_stories; do
      echo "== $t (HEARTH_WIDE_INT8=$w)"
      HEARTH_WIDE_INT8=$w "$HEARTH_BUILD_DIR/$t"
    done
  done
  ran=1
fi
for l in $levels; do
  for t in engine_decode model_stories; do
    echo "== $t (HEARTH_KERNEL_LEVEL=$l)"
    HEARTH_KERNEL_LEVEL=$l "$HEARTH_BUILD_DIR/$t"
  done
  ran=1
done
[ $ran = 1 ] || { echo "no level below $top: skipped"; exit 77; }
