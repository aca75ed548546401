#!/bin/bash
# test_archs_scalar.sh: model_archs (the qwen3, gemma3, phi3 and Llama 3
# reference comparisons, every weight type) again on the scalar reference
# kernels and attention (HEARTH_FORCE_SCALAR=1).
set -e
HEARTH_FORCE_SCALAR=1 "$HEARTH_BUILD_DIR/model_archs"
