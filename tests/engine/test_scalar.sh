#!/bin/bash
# test_scalar.sh: the engine and model tests again on the scalar reference
# kernels (HEARTH_FORCE_SCALAR=1), so the forward pass is checked on the
# path every SIMD kernel is compared against.
set -e
export HEARTH_FORCE_SCALAR=1
for t in engine_decode engine_generate model_stories model_reference; do
  echo "== $t (HEARTH_FORCE_SCALAR=1)"
  "$HEARTH_BUILD_DIR/$t"
done
