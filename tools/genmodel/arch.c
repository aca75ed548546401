/*
 * arch.c: the architecture names of hearth-genmodel (general.architecture).
 * (The mix rules that used to share this file moved into the library,
 * src/quant/mix.c, which `hearth quantize` uses too.)
 */
#include "genmodel.h"

static const char *const arch_names[GM_ARCH_COUNT] = {
    [GM_ARCH_LLAMA] = "llama",
    [GM_ARCH_QWEN2] = "qwen2",
    [GM_ARCH_QWEN3] = "qwen3",
    [GM_ARCH_GEMMA3] = "gemma3",
    [GM_ARCH_PHI3] = "phi3",
};

const char *gm_arch_name(gm_arch a) {
    return (unsigned)a < GM_ARCH_COUNT ? arch_names[a] : "?";
}
