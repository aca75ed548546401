#!/bin/bash
# test_scalar.sh: the engine and model tests again on the scalar reference
# kernels (HEARTH_FORCE_SCALAR=1), so the forward pass is checked on the
# path every SIMD kernel is compared against. (model_reference is left out:
# it takes long under ASan, and the kernels are compared scalar vs SIMD in
# tests/kernels.)
set -e
export HEARTH_FORCE_SCALAR=1
for t in engine_decode engine_generate engine_alloc_fail model_stories model_load_errors; do
  echo "== $t (HEARTH_FORCE_SCALAR=1)"
  "$HEARTH_BUILD_DIR/$t"
done
