/*
 * kscales_x86.h: the 6-bit scales and mins of a Q4_K/Q5_K block as AVX2
 * int32 lanes, shared by dot_x86.h's kernels and gemv_vbmi.c's Q4_K gemv.
 * The including file defines INLINE and is compiled with AVX2.
 */
#ifndef HEARTH_KERNELS_X86_KSCALES_X86_H
#define HEARTH_KERNELS_X86_KSCALES_X86_H
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

/* 8 scales and 8 mins (6 bits each) of a Q4_K/Q5_K block, as int32 lanes.
 * Built from registers (see dot_x86.h's q3_scales on store forwarding). */
INLINE void k4_scales(const uint8_t *s12, __m256i *sc32, __m256i *mn32) {
    uint32_t u[3];
    memcpy(u, s12, 12);
    const uint32_t km1 = 0x3f3f3f3f, km2 = 0x0f0f0f0f, km3 = 0x03030303;
    uint32_t o0 = u[0] & km1;
    uint32_t o1 = (u[2] & km2) | (((u[0] >> 6) & km3) << 4);
    uint32_t o2 = u[1] & km1;
    uint32_t o3 = ((u[2] >> 4) & km2) | (((u[1] >> 6) & km3) << 4);
    *sc32 = _mm256_cvtepu8_epi32(_mm_set_epi32(0, 0, (int)o1, (int)o0));
    *mn32 = _mm256_cvtepu8_epi32(_mm_set_epi32(0, 0, (int)o3, (int)o2));
}

#endif
