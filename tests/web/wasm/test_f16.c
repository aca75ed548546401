/*
 * test_f16.c: kernels/wasm/f16_wasm.h's binary16 -> binary32 conversions
 * (the exact one and the fast path for finite values) against the
 * reference hearth_f16_to_f32, bit for bit, on all 65,536 values (NaNs: a
 * NaN). Built only by the browser build (web/CMakeLists.txt, for node) and
 * run by tests/web/test_kernels.sh.
 */
#include "test.h"

#include "kernels/fp16.h"
#include "kernels/wasm/f16_wasm.h"

#include <stdint.h>
#include <string.h>

static bool same(float got, float want) {
    uint32_t g, w;
    memcpy(&g, &got, 4);
    memcpy(&w, &want, 4);
    return g == w || (got != got && want != want);
}

int main(void) {
    int bad_exact = 0, bad_fast = 0, bad_load = 0, infnan = 0, flagged = 0;
    for (uint32_t base = 0; base < 65536; base += 8) {
        uint16_t h[8];
        bool any = false;
        for (int i = 0; i < 8; i++) {
            h[i] = (uint16_t)(base + i);
            bool special = (h[i] & 0x7c00) == 0x7c00;
            any |= special;
            infnan += special;
        }
        v128_t v = wasm_v128_load(h);
        flagged += hearth_wasm_f16x8_any_infnan(v) != any;
        float ex[8], fast[8], ld[8];
        wasm_v128_store(ex, hearth_wasm_f16x4_to_f32(wasm_u32x4_extend_low_u16x8(v)));
        wasm_v128_store(ex + 4, hearth_wasm_f16x4_to_f32(wasm_u32x4_extend_high_u16x8(v)));
        wasm_v128_store(fast, hearth_wasm_f16x8_lo_finite(v));
        wasm_v128_store(fast + 4, hearth_wasm_f16x8_hi_finite(v));
        wasm_v128_store(ld, hearth_wasm_load_f16x4(h));
        wasm_v128_store(ld + 4, hearth_wasm_load_f16x4(h + 4));
        for (int i = 0; i < 8; i++) {
            float want = hearth_f16_to_f32(h[i]);
            bad_exact += !same(ex[i], want);
            if ((h[i] & 0x7c00) != 0x7c00) bad_fast += !same(fast[i], want);
            bad_load += !same(ld[i], want);
        }
    }
    fprintf(stderr, "65536 values (%d inf/NaN): exact %d wrong, fast path %d wrong (finite), "
                    "load %d wrong, inf/NaN flag %d wrong\n", infnan, bad_exact, bad_fast, bad_load, flagged);
    CHECK(infnan == 2048);
    CHECK(bad_exact == 0);
    CHECK(bad_fast == 0);
    CHECK(bad_load == 0);
    CHECK(flagged == 0);
    return test_done();
}
