/*
 * act_arm.h: the activation quantizers of the ARM kernels (Q8_0, Q8_1,
 * Q8_K) with NEON, byte for byte as kernels/ref/ quantizes: the same
 * amax (fmaxnm ignores NaN lanes as fmaxf does), the same d = amax/127 and
 * id = 1/d, the same round-to-nearest-even through the 1.5*2^23 trick, the
 * same clamp to [-127, 127]. The build turns off floating-point contraction
 * on AArch64 (CMakeLists.txt), so neither side fuses x*id + 1.5*2^23 into
 * one rounding. Included by dot_arm.h only.
 */

/* amax of 4*nv floats at x: max(0, |x_i|) ignoring NaN, as the reference. */
INLINE float amax_f32(const float *x, int nv) {
    float32x4_t m = vdupq_n_f32(0.f);
    for (int i = 0; i < nv; i++) m = vmaxnmq_f32(m, vabsq_f32(vld1q_f32(x + 4 * i)));
    return vmaxnmvq_f32(m);
}

/* 16 floats at x times id, rounded to nearest even and clamped to +-127. */
INLINE int8x16_t round16(const float *x, float32x4_t vid) {
    const float32x4_t magic = vdupq_n_f32(12582912.f);
    const uint32x4_t mant = vdupq_n_u32(0x007fffff);
    const int32x4_t off = vdupq_n_s32(0x00400000), lo = vdupq_n_s32(-127), hi = vdupq_n_s32(127);
    int32x4_t q[4];
    for (int k = 0; k < 4; k++) {
        float32x4_t v = vaddq_f32(vmulq_f32(vld1q_f32(x + 4 * k), vid), magic);
        int32x4_t i = vsubq_s32(vreinterpretq_s32_u32(vandq_u32(vreinterpretq_u32_f32(v), mant)), off);
        q[k] = vminq_s32(vmaxq_s32(i, lo), hi);
    }
    int16x8_t a = vcombine_s16(vmovn_s32(q[0]), vmovn_s32(q[1]));
    int16x8_t b = vcombine_s16(vmovn_s32(q[2]), vmovn_s32(q[3]));
    return vcombine_s8(vmovn_s16(a), vmovn_s16(b));
}

INLINE void st_f16(uint8_t *p, float f) {
    uint16_t h = hearth_f32_to_f16(f);
    memcpy(p, &h, 2);
}

static void quant_q8_0(const float *x, void *dst, int64_t n) {
    uint8_t *o = dst;
    for (int64_t b = 0; b < n / 32; b++, x += 32, o += 34) {
        float d = amax_f32(x, 8) / 127.f, id = d != 0.f ? 1.f / d : 0.f;
        float32x4_t vid = vdupq_n_f32(id);
        st_f16(o, d);
        vst1q_s8((int8_t *)(o + 2), round16(x, vid));
        vst1q_s8((int8_t *)(o + 18), round16(x + 16, vid));
    }
}

static void quant_q8_1(const float *x, void *dst, int64_t n) {
    uint8_t *o = dst;
    for (int64_t b = 0; b < n / 32; b++, x += 32, o += 36) {
        float d = amax_f32(x, 8) / 127.f, id = d != 0.f ? 1.f / d : 0.f;
        float32x4_t vid = vdupq_n_f32(id);
        int8x16_t q0 = round16(x, vid), q1 = round16(x + 16, vid);
        uint16_t dh = hearth_f32_to_f16(d);
        memcpy(o, &dh, 2);
        int sum = vaddlvq_s8(q0) + vaddlvq_s8(q1);
        st_f16(o + 2, hearth_f16_to_f32(dh) * (float)sum);
        vst1q_s8((int8_t *)(o + 4), q0);
        vst1q_s8((int8_t *)(o + 20), q1);
    }
}

static void quant_q8_K(const float *x, void *dst, int64_t n) {
    uint8_t *o = dst;
    for (int64_t b = 0; b < n / QK_K; b++, x += QK_K, o += Q8K_SIZE) {
        float d = amax_f32(x, QK_K / 4) / 127.f, id = d != 0.f ? 1.f / d : 0.f;
        float32x4_t vid = vdupq_n_f32(id);
        memcpy(o, &d, 4);
        for (int g = 0; g < QK_K / 16; g++) {
            int8x16_t q = round16(x + 16 * g, vid);
            vst1q_s8((int8_t *)(o + Q8K_QS + 16 * g), q);
            int16_t s = vaddlvq_s8(q);
            memcpy(o + Q8K_BSUMS + 2 * g, &s, 2);
        }
    }
}
