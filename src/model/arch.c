/*
 * arch.c: the architecture table, indexed by hearth_arch. Adding an
 * architecture is an enum value (model_int.h), a row here and its
 * arch_<name>.c; shared code never tests which architecture it runs.
 */
#include "model/model_int.h"

#include <string.h>

hearth_status hearth_arch_llama_load(struct hearth_model *m, hearth_error *err);
hearth_status hearth_arch_qwen2_load(struct hearth_model *m, hearth_error *err);
hearth_status hearth_arch_bert_load(struct hearth_model *m, hearth_error *err);

static const hearth_arch_info archs[HEARTH_ARCH_COUNT] = {
    [HEARTH_ARCH_LLAMA] = {.name = "llama", .rope_type = HEARTH_ROPE_NORMAL,
                           .load = hearth_arch_llama_load},
    [HEARTH_ARCH_QWEN2] = {.name = "qwen2", .rope_type = HEARTH_ROPE_NEOX,
                           .load = hearth_arch_qwen2_load},
    [HEARTH_ARCH_BERT] = {.name = "bert", .load = hearth_arch_bert_load, .encoder = true},
};

const hearth_arch_info *hearth_arch_get(hearth_arch arch) {
    if ((int)arch < 0 || arch >= HEARTH_ARCH_COUNT) return NULL;
    return &archs[arch];
}

bool hearth_arch_find(const char *name, hearth_arch *out) {
    for (int i = 0; i < HEARTH_ARCH_COUNT; i++) {
        if (!strcmp(archs[i].name, name)) {
            *out = (hearth_arch)i;
            return true;
        }
    }
    return false;
}
