/*
 * seed.c: the per-process seed of the tokenizer's hash tables (vocabulary
 * texts, merges, the BPE word cache). It is drawn once (call_once) from the
 * kernel's random source, falling back to the clock and an address, and
 * never written again; so a model file or a prompt cannot be crafted in
 * advance to put many keys into one probe chain.
 */
#include "tokenizer/tokenizer_int.h"

#include <sys/random.h>
#include <threads.h>
#include <time.h>

static uint64_t g_seed; /* written once, inside call_once */
static once_flag g_seed_once = ONCE_FLAG_INIT;

static void draw_seed(void) {
    uint64_t s = 0;
    if (getrandom(&s, sizeof s, GRND_NONBLOCK) != (ssize_t)sizeof s) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        s = (uint64_t)(uintptr_t)&ts * 0x9e3779b97f4a7c15ull ^ (uint64_t)ts.tv_nsec ^
            ((uint64_t)ts.tv_sec << 32);
    }
    g_seed = hearth_tok_fmix(s ^ 0x6a09e667f3bcc909ull);
}

uint64_t hearth_tok_seed(void) {
    call_once(&g_seed_once, draw_seed);
    return g_seed;
}
