/*
 * test_think.c: Qwen3's reasoning blocks: the streaming filter hides
 * "<think>...</think>" (and the newlines after it) however the text is cut
 * into pieces, passes everything with show, and gives back held bytes that
 * were no tag; a ChatML template that mentions <think> is the qwen3 family,
 * whose rendering leaves earlier answers' blocks out of the history (and
 * keeps everything else); think_answer_start finds the answer.
 */
#include "agent/template.h"
#include "agent/think.h"
#include "test.h"

#include "hearth.h"

#include <string.h>

/* Runs text through a filter in pieces of `step` bytes. */
static void filtered(const char *text, size_t step, bool show, char *out) {
    think_filter f;
    think_filter_init(&f, show);
    size_t n = strlen(text), o = 0;
    for (size_t at = 0; at < n; at += step) {
        size_t k = n - at < step ? n - at : step;
        o += think_filter_feed(&f, text + at, k, out + o);
    }
    o += think_filter_flush(&f, out + o);
    out[o] = '\0';
}

int main(void) {
    static const struct {
        const char *in, *hidden;
    } cases[] = {
        {"<think>\nplan it\n</think>\n\nThe answer.", "The answer."},
        {"no block at all < > <t <thin", "no block at all < > <t <thin"},
        {"a<<think>x</think>b", "a<b"},
        {"<think></think>\n\n", ""},
        {"x </thinkk> <think>y", "x </thinkk> "}, /* an unclosed block hides the rest */
        {"1 < 2 and <b>bold</b>", "1 < 2 and <b>bold</b>"},
    };
    char out[256];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (size_t step = 1; step <= 9; step++) {
            filtered(cases[i].in, step, false, out);
            CHECKF(!strcmp(out, cases[i].hidden), "case %zu step %zu: '%s'", i, step, out);
            filtered(cases[i].in, step, true, out);
            CHECKF(!strcmp(out, cases[i].in), "show, case %zu step %zu: '%s'", i, step, out);
        }

    const char *a = "<think>\nhm\n</think>\n\nYes.";
    CHECK_EQ_INT(think_answer_start(a, strlen(a)), strlen(a) - 4);
    CHECK_EQ_INT(think_answer_start("Yes.", 4), 0);

    bool known = false;
    CHECK_EQ_INT(hearth_template_detect("{{'<|im_start|>'}}{% if x %}<think>{% endif %}", &known),
                 HEARTH_TEMPLATE_QWEN3);
    CHECK(known);
    CHECK_EQ_INT(hearth_template_detect("{{'<|im_start|>'}}", NULL), HEARTH_TEMPLATE_CHATML);
    CHECK_STR(hearth_template_name(HEARTH_TEMPLATE_QWEN3), "qwen3");

    hearth_chat_message msgs[] = {{"user", "Hi"}, {"assistant", a}, {"user", "<think>keep</think>"}};
    tmpl_pieces p;
    REQUIRE(tmpl_pieces_render(HEARTH_TEMPLATE_QWEN3, msgs, 3, false, &p, NULL) == HEARTH_OK);
    char flat[512];
    size_t o = 0;
    for (size_t i = 0; i < p.n; i++) {
        memcpy(flat + o, p.v[i].text, p.v[i].len);
        o += p.v[i].len;
    }
    flat[o] = '\0';
    CHECK_STR(flat, "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nYes.<|im_end|>\n"
                    "<|im_start|>user\n<think>keep</think><|im_end|>\n<|im_start|>assistant\n");
    tmpl_pieces_free(&p);
    return test_done();
}
