/*
 * test_reference.c: the engine against the plain float32 reference forward
 * pass (ref_forward.c) on generator models of both architectures, for every
 * weight type the engine runs (F32 F16 BF16 Q8_0 Q4_0 Q4_1 Q5_0 Q5_1 Q2_K Q3_K
 * Q4_K Q5_K Q6_K, several per model through per-class type overrides):
 *  - prefill logits of every prompt position within a per-type tolerance,
 *    relative to the largest reference logit (quantized types differ from
 *    the reference by their activation quantization, not just rounding);
 *  - for F32 and F16 weights, 32 greedy steps: at every step the reference,
 *    given the same prefix, picks the same token (teacher forcing, so one
 *    reference run checks the whole greedy path).
 */
#include "genutil.h"
#include "ref_cases.h"
#include "test.h"

int main(void) {
    const char *archs[] = {"llama", "qwen2"};
    for (int a = 0; a < 2; a++) {
        char args[64];
        snprintf(args, sizeof args, "--arch %s --preset tiny256", archs[a]);
        for (size_t i = 0; i < ref_n_cases; i++) ref_run_case(archs[a], args, 64, 1.0, &ref_cases[i]);
    }
    tmpdir_cleanup();
    return test_done();
}
