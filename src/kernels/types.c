/*
 * types.c: the type-traits table (see types.h). Sizes follow ggml's block
 * structs; the _Static_asserts on the structs themselves live with the
 * quantization code (quants.h), which also provides to_float/from_float_ref.
 */
#include "kernels/types.h"

#include "kernels/quants.h"

#define ROW(T, nm, blk, sz, q, sup, tof, fromf)                                          \
    [HEARTH_TYPE_##T] = {.name = nm, .blck_size = blk, .type_size = sz, .is_quantized = q, \
                         .supported = sup, .to_float = tof, .from_float_ref = fromf}

static const hearth_type_traits traits[HEARTH_TYPE_COUNT] = {
    ROW(F32, "F32", 1, 4, false, true,
        hearth_f32_to_float, hearth_f32_from_float_ref),
    ROW(F16, "F16", 1, 2, false, true,
        hearth_f16_to_float, hearth_f16_from_float_ref),
    ROW(BF16, "BF16", 1, 2, false, true,
        hearth_bf16_to_float, hearth_bf16_from_float_ref),
    ROW(Q4_0, "Q4_0", 32, 18, true, true,
        hearth_q4_0_to_float, hearth_q4_0_from_float_ref),
    ROW(Q4_1, "Q4_1", 32, 20, true, true,
        hearth_q4_1_to_float, hearth_q4_1_from_float_ref),
    ROW(Q5_0, "Q5_0", 32, 22, true, true,
        hearth_q5_0_to_float, hearth_q5_0_from_float_ref),
    ROW(Q5_1, "Q5_1", 32, 24, true, true,
        hearth_q5_1_to_float, hearth_q5_1_from_float_ref),
    ROW(Q8_0, "Q8_0", 32, 34, true, true,
        hearth_q8_0_to_float, hearth_q8_0_from_float_ref),
    ROW(Q8_1, "Q8_1", 32, 36, true, false, NULL, NULL),
    ROW(Q2_K, "Q2_K", QK_K, 84, true, true,
        hearth_q2_K_to_float, hearth_q2_K_from_float_ref),
    ROW(Q3_K, "Q3_K", QK_K, 110, true, true,
        hearth_q3_K_to_float, hearth_q3_K_from_float_ref),
    ROW(Q4_K, "Q4_K", QK_K, 144, true, true,
        hearth_q4_K_to_float, hearth_q4_K_from_float_ref),
    ROW(Q5_K, "Q5_K", QK_K, 176, true, true,
        hearth_q5_K_to_float, hearth_q5_K_from_float_ref),
    ROW(Q6_K, "Q6_K", QK_K, 210, true, true,
        hearth_q6_K_to_float, hearth_q6_K_from_float_ref),
    ROW(Q8_K, "Q8_K", QK_K, 292, true, true,
        hearth_q8_K_to_float, hearth_q8_K_from_float_ref),
    ROW(IQ2_XXS, "IQ2_XXS", QK_K, 66, true, false, NULL, NULL),
    ROW(IQ2_XS, "IQ2_XS", QK_K, 74, true, false, NULL, NULL),
    ROW(IQ3_XXS, "IQ3_XXS", QK_K, 98, true, false, NULL, NULL),
    ROW(IQ1_S, "IQ1_S", QK_K, 50, true, false, NULL, NULL),
    ROW(IQ4_NL, "IQ4_NL", 32, 18, true, false, NULL, NULL),
    ROW(IQ3_S, "IQ3_S", QK_K, 110, true, false, NULL, NULL),
    ROW(IQ2_S, "IQ2_S", QK_K, 82, true, false, NULL, NULL),
    ROW(IQ4_XS, "IQ4_XS", QK_K, 136, true, false, NULL, NULL),
    ROW(I8, "I8", 1, 1, false, false, NULL, NULL),
    ROW(I16, "I16", 1, 2, false, false, NULL, NULL),
    ROW(I32, "I32", 1, 4, false, false, NULL, NULL),
    ROW(I64, "I64", 1, 8, false, false, NULL, NULL),
    ROW(F64, "F64", 1, 8, false, false, NULL, NULL),
    ROW(IQ1_M, "IQ1_M", QK_K, 56, true, false, NULL, NULL),
    ROW(TQ1_0, "TQ1_0", QK_K, 54, true, false, NULL, NULL),
    ROW(TQ2_0, "TQ2_0", QK_K, 66, true, false, NULL, NULL),
    ROW(MXFP4, "MXFP4", 32, 17, true, false, NULL, NULL),
};

const hearth_type_traits *hearth_type_traits_get(int type) {
    if (type < 0 || type >= HEARTH_TYPE_COUNT || !traits[type].name) return NULL;
    return &traits[type];
}

const char *hearth_type_name(int type) {
    const hearth_type_traits *t = hearth_type_traits_get(type);
    return t ? t->name : NULL;
}

int64_t hearth_type_block_size(int type) {
    const hearth_type_traits *t = hearth_type_traits_get(type);
    return t ? t->blck_size : 0;
}

bool hearth_type_supported(int type) {
    const hearth_type_traits *t = hearth_type_traits_get(type);
    return t && t->supported;
}

size_t hearth_type_row_size(int type, int64_t ne0) {
    const hearth_type_traits *t = hearth_type_traits_get(type);
    if (!t || ne0 < 0 || ne0 % t->blck_size) return 0;
    size_t n;
    if (__builtin_mul_overflow((size_t)(ne0 / t->blck_size), t->type_size, &n)) return 0;
    return n;
}
