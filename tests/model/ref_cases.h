/*
 * ref_cases.h: the weight-type cases of the reference comparison and the
 * function that runs one (a generator model, prefill logits of every prompt
 * position within a per-type tolerance relative to the largest reference
 * logit, and for F32/F16 32 greedy steps that the reference agrees with).
 */
#ifndef HEARTH_TEST_REF_CASES_H
#define HEARTH_TEST_REF_CASES_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    const char *name;
    const char *args;
    double max_tol, rms_tol;
    bool greedy; /* also check 32 greedy steps */
} type_case;

/* F32, F16, BF16/F16/F32, Q8_0..Q5_1 and Q2_K..Q6_K mixes. */
extern const type_case ref_cases[];
extern const size_t ref_n_cases;

/* Generates hearth-genmodel model_args + the case's type flags (label names
 * the file and the log lines), runs the engine with an n_ctx context and
 * the reference, and CHECKs the agreement; qscale multiplies the
 * tolerances of the quantized cases (1 for llama/qwen2). Returns the number of failed
 * checks of this case (already counted in test.h's counters, which the whole
 * test program shares). */
int ref_run_case(const char *label, const char *model_args, int n_ctx, double qscale,
                 const type_case *tc);

#endif
