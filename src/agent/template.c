/*
 * template.c: chat template families: recognizing one from the text of a
 * model's tokenizer.chat_template, and rendering messages into pieces.
 *
 * The template text is only searched for marker strings; it is never
 * executed (rendering untrusted Jinja has led to code execution elsewhere).
 * Each family's layout follows the reference templates of the models that
 * use it (as llama.cpp renders them). Control tokens are pieces of their own;
 * message content is always a TP_TEXT piece.
 */
#include "agent/template.h"

#include "agent/think.h"

#include "util/alloc.h"
#include "util/error.h"

#include <string.h>

static const char *const names[HEARTH_TEMPLATE_COUNT] = {
    [HEARTH_TEMPLATE_CHATML] = "chatml", [HEARTH_TEMPLATE_LLAMA2] = "llama2",
    [HEARTH_TEMPLATE_LLAMA3] = "llama3", [HEARTH_TEMPLATE_MISTRAL] = "mistral",
    [HEARTH_TEMPLATE_PHI3] = "phi3",     [HEARTH_TEMPLATE_GEMMA] = "gemma",
    [HEARTH_TEMPLATE_ZEPHYR] = "zephyr", [HEARTH_TEMPLATE_QWEN3] = "qwen3",
};

const char *hearth_template_name(hearth_template t) {
    return (unsigned)t < HEARTH_TEMPLATE_COUNT ? names[t] : NULL;
}

hearth_template hearth_template_detect(const char *tmpl, bool *known) {
    /* Most specific markers first: a ChatML template may mention [INST] in a
     * comment, a Zephyr one shares <|user|> with Phi-3. */
    static const struct {
        const char *a, *b; /* both must occur (b may be NULL) */
        hearth_template t;
    } rules[] = {
        {"<|im_start|>", "<think>", HEARTH_TEMPLATE_QWEN3},
        {"<|im_start|>", NULL, HEARTH_TEMPLATE_CHATML},
        {"<|start_header_id|>", "<|end_header_id|>", HEARTH_TEMPLATE_LLAMA3},
        {"<start_of_turn>", NULL, HEARTH_TEMPLATE_GEMMA},
        {"<|assistant|>", "<|end|>", HEARTH_TEMPLATE_PHI3},
        {"<|user|>", NULL, HEARTH_TEMPLATE_ZEPHYR},
        {"[INST]", "<<SYS>>", HEARTH_TEMPLATE_LLAMA2},
        {"[INST]", NULL, HEARTH_TEMPLATE_MISTRAL},
    };
    if (known) *known = false;
    if (!tmpl) return HEARTH_TEMPLATE_CHATML;
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        if (strstr(tmpl, rules[i].a) && (!rules[i].b || strstr(tmpl, rules[i].b))) {
            if (known) *known = true;
            return rules[i].t;
        }
    }
    return HEARTH_TEMPLATE_CHATML;
}

/* First n-byte needle in [p, end), or NULL. memchr and memcmp read only
 * what they are given (strstr under ASan also measures the whole rest of
 * the haystack on every call, which is quadratic over many calls). */
static const char *find(const char *p, const char *end, const char *needle, size_t n) {
    while ((size_t)(end - p) >= n) {
        const char *c = memchr(p, needle[0], (size_t)(end - p) - n + 1);
        if (!c) return NULL;
        if (!memcmp(c + 1, needle + 1, n - 1)) return c;
        p = c + 1;
    }
    return NULL;
}

hearth_status tmpl_default_system(const char *tmpl, char **out, hearth_error *err) {
    *out = NULL;
    if (!tmpl) return HEARTH_OK;
    const char *tend = tmpl + strlen(tmpl);
    static const char open[] = "<|im_start|>system", close[] = "<|im_end|>";
    /* One pass, however many megabytes a hostile template has: the opening
     * search starts after the last opening, the closing one only runs again
     * once its last result is behind us, and the text before each closing
     * marker is checked once (backwards, for its last non-literal byte), so
     * every byte is read a bounded number of times. A closing search per
     * opening read the rest of the template once per opening. */
    const char *end = NULL, *bad = NULL;
    bool checked = false;
    for (const char *p = find(tmpl, tend, open, sizeof open - 1); p;
         p = find(p + sizeof open - 1, tend, open, sizeof open - 1)) {
        const char *q = p + sizeof open - 1;
        /* The newline is a real one or the two characters \n of a string
         * literal, depending on how the template was written. */
        if (*q == '\n') q++;
        else if (q[0] == '\\' && q[1] == 'n') q += 2;
        else continue;
        if (!end || end < q) {
            if (!(end = find(q, tend, close, sizeof close - 1))) break; /* none later either */
            checked = false;
        }
        size_t len = (size_t)(end - q);
        if (len == 0 || len > 4096) continue;
        if (!checked) {
            /* The last byte before end that is template syntax: an opening
             * at or before it has syntax in its text, one after it not. */
            bad = NULL;
            for (const char *x = end; x > q && !bad;) {
                x--;
                if (strchr("{}'\"+\\", *x)) bad = x;
            }
            checked = true;
        }
        if (bad && q <= bad) continue;
        *out = hearth_strndup(q, len);
        return *out ? HEARTH_OK : HEARTH_FAIL(err, HEARTH_E_NOMEM, "chat template: out of memory");
    }
    return HEARTH_OK;
}

const char *tmpl_end_of_turn(hearth_template t) {
    switch (t) {
    case HEARTH_TEMPLATE_CHATML:
    case HEARTH_TEMPLATE_QWEN3: return "<|im_end|>";
    case HEARTH_TEMPLATE_LLAMA3: return "<|eot_id|>";
    case HEARTH_TEMPLATE_PHI3: return "<|end|>";
    case HEARTH_TEMPLATE_GEMMA: return "<end_of_turn>";
    default: return NULL;
    }
}

void tmpl_pieces_free(tmpl_pieces *p) {
    if (!p) return;
    hearth_free(p->v);
    p->v = NULL;
    p->n = p->cap = 0;
}

static bool put(tmpl_pieces *p, tmpl_piece_kind kind, const char *text, size_t len) {
    if (kind == TP_TEXT && len == 0) return true;
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 32;
        tmpl_piece *v = hearth_realloc(p->v, cap * sizeof *v);
        if (!v) return false;
        p->v = v;
        p->cap = cap;
    }
    p->v[p->n++] = (tmpl_piece){kind, text, len};
    return true;
}

#define LIT(p, s) put((p), TP_TEXT, (s), sizeof(s) - 1)
#define CTRL(p, s) put((p), TP_CTRL, (s), sizeof(s) - 1)
#define CONTENT(p, s) put((p), TP_TEXT, (s), strlen(s))

typedef enum { R_SYSTEM, R_USER, R_ASSISTANT } role;

static int role_of(const char *r) {
    if (!r) return -1;
    if (!strcmp(r, "system")) return R_SYSTEM;
    if (!strcmp(r, "user")) return R_USER;
    if (!strcmp(r, "assistant")) return R_ASSISTANT;
    return -1;
}

/* <|im_start|>role\ncontent<|im_end|>\n ... <|im_start|>assistant\n */
static bool render_chatml(const hearth_chat_message *m, size_t n, tmpl_pieces *p) {
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) {
        ok = CTRL(p, "<|im_start|>") && CONTENT(p, m[i].role) && LIT(p, "\n") &&
             CONTENT(p, m[i].content) && CTRL(p, "<|im_end|>") && LIT(p, "\n");
    }
    return ok && CTRL(p, "<|im_start|>") && LIT(p, "assistant\n");
}

/* ChatML, with each assistant turn's reasoning block (up to its last
 * </think> and the newlines after it) left out, as Qwen3's template does:
 * the model's reasoning is never fed back as history. */
static bool render_qwen3(const hearth_chat_message *m, size_t n, tmpl_pieces *p) {
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) {
        const char *c = m[i].content;
        size_t len = strlen(c), at = 0;
        if (role_of(m[i].role) == R_ASSISTANT) at = think_answer_start(c, len);
        ok = CTRL(p, "<|im_start|>") && CONTENT(p, m[i].role) && LIT(p, "\n") &&
             put(p, TP_TEXT, c + at, len - at) && CTRL(p, "<|im_end|>") && LIT(p, "\n");
    }
    return ok && CTRL(p, "<|im_start|>") && LIT(p, "assistant\n");
}

/* <|start_header_id|>role<|end_header_id|>\n\ncontent<|eot_id|> */
static bool render_llama3(const hearth_chat_message *m, size_t n, tmpl_pieces *p) {
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) {
        ok = CTRL(p, "<|start_header_id|>") && CONTENT(p, m[i].role) &&
             CTRL(p, "<|end_header_id|>") && LIT(p, "\n\n") && CONTENT(p, m[i].content) &&
             CTRL(p, "<|eot_id|>");
    }
    return ok && CTRL(p, "<|start_header_id|>") && LIT(p, "assistant") &&
           CTRL(p, "<|end_header_id|>") && LIT(p, "\n\n");
}

/* <|system|>\ncontent<|end|>\n<|user|>\ncontent<|end|>\n<|assistant|>\n */
static bool render_phi3(const hearth_chat_message *m, size_t n, tmpl_pieces *p) {
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) {
        int r = role_of(m[i].role);
        ok = (r == R_SYSTEM ? CTRL(p, "<|system|>")
                            : r == R_USER ? CTRL(p, "<|user|>") : CTRL(p, "<|assistant|>")) &&
             LIT(p, "\n") && CONTENT(p, m[i].content) && CTRL(p, "<|end|>") && LIT(p, "\n");
    }
    return ok && CTRL(p, "<|assistant|>") && LIT(p, "\n");
}

/* <|system|>\ncontent</s>\n<|user|>\ncontent</s>\n<|assistant|>\n */
static bool render_zephyr(const hearth_chat_message *m, size_t n, tmpl_pieces *p) {
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) {
        int r = role_of(m[i].role);
        ok = (r == R_SYSTEM ? CTRL(p, "<|system|>")
                            : r == R_USER ? CTRL(p, "<|user|>") : CTRL(p, "<|assistant|>")) &&
             LIT(p, "\n") && CONTENT(p, m[i].content) && put(p, TP_EOS, "</s>", 4) &&
             LIT(p, "\n");
    }
    return ok && CTRL(p, "<|assistant|>") && LIT(p, "\n");
}

/* Gemma has no system role: the system text opens the first user turn.
 * <start_of_turn>user\ncontent<end_of_turn>\n<start_of_turn>model\n */
static bool render_gemma(const hearth_chat_message *m, size_t n, tmpl_pieces *p) {
    bool ok = true;
    const char *sys = NULL;
    for (size_t i = 0; i < n && ok; i++) {
        int r = role_of(m[i].role);
        if (r == R_SYSTEM) {
            sys = m[i].content;
            continue;
        }
        ok = CTRL(p, "<start_of_turn>") &&
             (r == R_USER ? LIT(p, "user\n") : LIT(p, "model\n"));
        if (ok && sys && r == R_USER) {
            ok = CONTENT(p, sys) && LIT(p, "\n\n");
            sys = NULL;
        }
        ok = ok && CONTENT(p, m[i].content) && CTRL(p, "<end_of_turn>") && LIT(p, "\n");
    }
    if (ok && sys) /* a system message with no user turn after it */
        ok = CTRL(p, "<start_of_turn>") && LIT(p, "user\n") && CONTENT(p, sys) &&
             CTRL(p, "<end_of_turn>") && LIT(p, "\n");
    return ok && CTRL(p, "<start_of_turn>") && LIT(p, "model\n");
}

/* Llama 2: [INST] <<SYS>>\nsys\n<</SYS>>\n\nuser [/INST] answer </s><s>[INST] ...
 * Mistral: [INST] sys\n\nuser [/INST]answer</s>[INST] ...
 * The opening BOS is the caller's (bos flag); later turns of Llama 2 open
 * with a BOS of their own, as its reference template does. */
static bool render_inst(const hearth_chat_message *m, size_t n, bool llama2, tmpl_pieces *p) {
    bool ok = true;
    const char *sys = NULL;
    bool after_answer = false;
    for (size_t i = 0; i < n && ok; i++) {
        int r = role_of(m[i].role);
        if (r == R_SYSTEM) {
            sys = m[i].content;
            continue;
        }
        if (r == R_USER) {
            if (after_answer && llama2) ok = put(p, TP_BOS, "<s>", 3);
            ok = ok && CTRL(p, "[INST]") && LIT(p, " ");
            if (ok && sys) {
                ok = llama2 ? LIT(p, "<<SYS>>\n") && CONTENT(p, sys) && LIT(p, "\n<</SYS>>\n\n")
                            : CONTENT(p, sys) && LIT(p, "\n\n");
                sys = NULL;
            }
            ok = ok && CONTENT(p, m[i].content) && LIT(p, " ") && CTRL(p, "[/INST]");
        } else {
            ok = (llama2 ? LIT(p, " ") : true) && CONTENT(p, m[i].content) &&
                 (llama2 ? LIT(p, " ") : true) && put(p, TP_EOS, "</s>", 4);
            after_answer = true;
        }
    }
    if (ok && sys) /* a system message alone: it still reaches the model */
        ok = CTRL(p, "[INST]") && LIT(p, " ") && CONTENT(p, sys) && LIT(p, " ") &&
             CTRL(p, "[/INST]");
    return ok;
}

hearth_status tmpl_pieces_render(hearth_template t, const hearth_chat_message *msgs,
                                 size_t n_msgs, bool bos, tmpl_pieces *out, hearth_error *err) {
    *out = (tmpl_pieces){0};
    if ((unsigned)t >= HEARTH_TEMPLATE_COUNT)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "chat template %d: no such family", (int)t);
    for (size_t i = 0; i < n_msgs; i++) {
        /* "ipython": Llama 3's role of tool results (template_tools.c) */
        if (role_of(msgs[i].role) < 0 &&
            !(t == HEARTH_TEMPLATE_LLAMA3 && msgs[i].role && !strcmp(msgs[i].role, "ipython")))
            return HEARTH_FAIL(err, HEARTH_E_ARG,
                               "message %zu: role '%s' is not system, user or assistant", i,
                               msgs[i].role ? msgs[i].role : "(null)");
        if (!msgs[i].content)
            return HEARTH_FAIL(err, HEARTH_E_ARG, "message %zu: content is NULL", i);
    }
    bool ok = !bos || put(out, TP_BOS, "<s>", 3);
    if (ok) {
        switch (t) {
        case HEARTH_TEMPLATE_CHATML: ok = render_chatml(msgs, n_msgs, out); break;
        case HEARTH_TEMPLATE_QWEN3: ok = render_qwen3(msgs, n_msgs, out); break;
        case HEARTH_TEMPLATE_LLAMA3: ok = render_llama3(msgs, n_msgs, out); break;
        case HEARTH_TEMPLATE_PHI3: ok = render_phi3(msgs, n_msgs, out); break;
        case HEARTH_TEMPLATE_ZEPHYR: ok = render_zephyr(msgs, n_msgs, out); break;
        case HEARTH_TEMPLATE_GEMMA: ok = render_gemma(msgs, n_msgs, out); break;
        case HEARTH_TEMPLATE_LLAMA2: ok = render_inst(msgs, n_msgs, true, out); break;
        case HEARTH_TEMPLATE_MISTRAL: ok = render_inst(msgs, n_msgs, false, out); break;
        default: ok = false; break;
        }
    }
    if (!ok) {
        tmpl_pieces_free(out);
        return HEARTH_FAIL(err, HEARTH_E_NOMEM, "chat template: out of memory");
    }
    return HEARTH_OK;
}
