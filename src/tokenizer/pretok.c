/*
 * pretok.c: the hand-written regex splitters behind pretok.h. Each matcher
 * below returns the length of the regex match that starts at cps[i] within
 * the piece cps[..e) (0: no match there), following the regex's semantics:
 * alternatives in order, greedy quantifiers that give back as needed. The
 * regex each one implements is quoted above it.
 */
#include "tokenizer/pretok.h"

#include "tokenizer/unicode.h"

#include <string.h>

typedef uint32_t (*matcher)(const uint32_t *c, uint32_t i, uint32_t e);

static inline unsigned fl(uint32_t c) { return hearth_uc_flags(c); }
static inline bool is_l(uint32_t c) { return fl(c) & HEARTH_UC_L; }
static inline bool is_n(uint32_t c) { return fl(c) & HEARTH_UC_N; }
static inline bool is_ws(uint32_t c) { return fl(c) & HEARTH_UC_WS; }
static inline bool is_p(uint32_t c) { return fl(c) & HEARTH_UC_P; }
/* [^\s\p{L}\p{N}] */
static inline bool is_other(uint32_t c) {
    return !(fl(c) & (HEARTH_UC_L | HEARTH_UC_N | HEARTH_UC_WS));
}
static inline bool is_crlf(uint32_t c) { return c == '\r' || c == '\n'; }
static inline uint32_t ascii_lower(uint32_t c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

static uint32_t run(const uint32_t *c, uint32_t j, uint32_t e, bool (*pred)(uint32_t)) {
    while (j < e && pred(c[j])) j++;
    return j;
}

/* 's|'t|'re|'ve|'m|'ll|'d, case-insensitive when icase ((?i:...) in ASCII:
 * Llama 3's own adaptation of its regex spells it '[sS]|'[tT]|...). */
static uint32_t contraction(const uint32_t *c, uint32_t i, uint32_t e, bool icase) {
    if (c[i] != '\'' || i + 1 >= e) return 0;
    uint32_t y = icase ? ascii_lower(c[i + 1]) : c[i + 1];
    if (y == 's' || y == 't' || y == 'm' || y == 'd') return 2;
    if (i + 2 >= e) return 0;
    uint32_t z = icase ? ascii_lower(c[i + 2]) : c[i + 2];
    if ((y == 'r' && z == 'e') || (y == 'v' && z == 'e') || (y == 'l' && z == 'l')) return 3;
    return 0;
}

/* \s+(?!\S)|\s+ at a white-space code point: the whole run if it ends the
 * piece, else the run less its last character (which stays to prefix the
 * next word), else (a single character before \S) just that character. */
static uint32_t ws_tail(const uint32_t *c, uint32_t i, uint32_t e) {
    uint32_t r = run(c, i + 1, e, is_ws);
    if (r == e) return r - i;
    if (r - i >= 2) return r - i - 1;
    return 1;
}

/* GPT-2:
 * 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+ */
static uint32_t m_gpt2(const uint32_t *c, uint32_t i, uint32_t e) {
    uint32_t x = c[i];
    if (x == '\'') {
        uint32_t n = contraction(c, i, e, false);
        if (n) return n;
    }
    /* " ?X+": with the space taken first; without it, a space can not start
     * any of the three classes, so one test per class covers both tries. */
    uint32_t k = i + (x == ' ');
    if (k < e) {
        unsigned f = fl(c[k]);
        if (f & HEARTH_UC_L) return run(c, k + 1, e, is_l) - i;
        if (f & HEARTH_UC_N) return run(c, k + 1, e, is_n) - i;
        if (!(f & (HEARTH_UC_L | HEARTH_UC_N | HEARTH_UC_WS))) return run(c, k + 1, e, is_other) - i;
    }
    if (is_ws(x)) return ws_tail(c, i, e);
    return 0;
}

/* Llama 3 (ndig 3) and Qwen2 (ndig 1):
 * (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,ndig}
 * | ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+ */
static uint32_t m_llama3_n(const uint32_t *c, uint32_t i, uint32_t e, uint32_t ndig) {
    uint32_t x = c[i];
    if (x == '\'') {
        uint32_t n = contraction(c, i, e, true);
        if (n) return n;
    }
    unsigned fx = fl(x);
    if (fx & HEARTH_UC_L) return run(c, i + 1, e, is_l) - i;
    if (!is_crlf(x) && !(fx & HEARTH_UC_N) && i + 1 < e && is_l(c[i + 1]))
        return run(c, i + 2, e, is_l) - i;
    if (fx & HEARTH_UC_N) {
        uint32_t j = i + 1;
        while (j < e && j - i < ndig && is_n(c[j])) j++;
        return j - i;
    }
    uint32_t k = i + (x == ' ');
    if (k < e && is_other(c[k])) {
        uint32_t j = run(c, k + 1, e, is_other);
        while (j < e && is_crlf(c[j])) j++;
        return j - i;
    }
    if (fx & HEARTH_UC_WS) {
        /* \s*[\r\n]+: the white-space run up to and including its last CR/LF. */
        uint32_t r = run(c, i + 1, e, is_ws);
        for (uint32_t q = r; q > i; q--)
            if (is_crlf(c[q - 1])) return q - i;
        return ws_tail(c, i, e);
    }
    return 0;
}
static uint32_t m_llama3(const uint32_t *c, uint32_t i, uint32_t e) { return m_llama3_n(c, i, e, 3); }
static uint32_t m_qwen2(const uint32_t *c, uint32_t i, uint32_t e) { return m_llama3_n(c, i, e, 1); }

/* [\r\n] */
static uint32_t m_crlf(const uint32_t *c, uint32_t i, uint32_t e) {
    (void)e;
    return is_crlf(c[i]) ? 1 : 0;
}

/* \p{N} */
static uint32_t m_digit1(const uint32_t *c, uint32_t i, uint32_t e) {
    (void)e;
    return is_n(c[i]) ? 1 : 0;
}

/* \p{N}+ */
static uint32_t m_digits(const uint32_t *c, uint32_t i, uint32_t e) {
    return is_n(c[i]) ? run(c, i + 1, e, is_n) - i : 0;
}

/* [0-9][0-9][0-9] */
static uint32_t m_ascii_digit3(const uint32_t *c, uint32_t i, uint32_t e) {
    if (e - i < 3) return 0;
    for (uint32_t j = i; j < i + 3; j++)
        if (c[j] < '0' || c[j] > '9') return 0;
    return 3;
}

/* \s?X+ for a class X that contains no white space. */
static uint32_t opt_ws_run(const uint32_t *c, uint32_t i, uint32_t e, bool (*x)(uint32_t)) {
    uint32_t k = i + (is_ws(c[i]) ? 1 : 0);
    if (k < e && x(c[k])) return run(c, k + 1, e, x) - i;
    return 0;
}

/* \s?\p{L}+ */
static uint32_t m_ws_letters(const uint32_t *c, uint32_t i, uint32_t e) {
    return opt_ws_run(c, i, e, is_l);
}

/* \s?\p{P}+ */
static uint32_t m_ws_punct(const uint32_t *c, uint32_t i, uint32_t e) {
    return opt_ws_run(c, i, e, is_p);
}

/* DeepSeek LLM's letter class: the cased letters, as the ranges its regex
 * lists them ([A-Za-zµÀ-ÖØ-ö...]). Sorted. */
static const uint32_t dsk_letters[][2] = {
    {0x0041, 0x005A}, {0x0061, 0x007A}, {0x00B5, 0x00B5}, {0x00C0, 0x00D6}, {0x00D8, 0x00F6},
    {0x00F8, 0x01BA}, {0x01BC, 0x01BF}, {0x01C4, 0x0293}, {0x0295, 0x02AF}, {0x0370, 0x0373},
    {0x0376, 0x0377}, {0x037B, 0x037D}, {0x037F, 0x037F}, {0x0386, 0x0386}, {0x0388, 0x038A},
    {0x038C, 0x038C}, {0x038E, 0x03A1}, {0x03A3, 0x03F5}, {0x03F7, 0x0481}, {0x048A, 0x052F},
    {0x0531, 0x0556}, {0x10A0, 0x10C5}, {0x13A0, 0x13F5}, {0x13F8, 0x13FD}, {0x1C90, 0x1CBA},
    {0x1CBD, 0x1CBF}, {0x1D00, 0x1D2B}, {0x1D6B, 0x1D77}, {0x1D79, 0x1D9A}, {0x1E00, 0x1F15},
    {0x1F18, 0x1F1D}, {0x1F20, 0x1F45}, {0x1F48, 0x1F4D}, {0x1F50, 0x1F57}, {0x1F59, 0x1F59},
    {0x1F5B, 0x1F5B}, {0x1F5D, 0x1F5D}, {0x1F5F, 0x1F7D}, {0x1F80, 0x1FB4}, {0x1FB6, 0x1FBC},
    {0x1FBE, 0x1FBE}, {0x1FC2, 0x1FC4}, {0x1FC6, 0x1FCC}, {0x1FD0, 0x1FD3}, {0x1FD6, 0x1FDB},
    {0x1FE0, 0x1FEC}, {0x1FF2, 0x1FF4}, {0x1FF6, 0x1FFC}, {0x2102, 0x2102}, {0x2107, 0x2107},
    {0x210A, 0x2113}, {0x2115, 0x2115}, {0x2119, 0x211D}, {0x2124, 0x2124}, {0x2126, 0x2126},
    {0x2128, 0x2128}, {0x212A, 0x212D}, {0x212F, 0x2134}, {0x2139, 0x2139}, {0x213C, 0x213F},
    {0x2145, 0x2149}, {0x214E, 0x214E}, {0x2183, 0x2184}, {0x2C00, 0x2C7B}, {0x2C7E, 0x2CE4},
    {0x2CEB, 0x2CEE}, {0x2CF2, 0x2CF3}, {0xA640, 0xA66D}, {0xA680, 0xA69B}, {0xA722, 0xA76F},
    {0xA771, 0xA787}, {0xA78B, 0xA78E}, {0xAB70, 0xABBF}, {0xFB00, 0xFB06}, {0xFB13, 0xFB17},
    {0xFF21, 0xFF3A}, {0xFF41, 0xFF5A}, {0x10400, 0x1044F}, {0x104B0, 0x104D3}, {0x104D8, 0x104FB},
    {0x10C80, 0x10CB2}, {0x10CC0, 0x10CF2}, {0x118A0, 0x118DF}, {0x1E900, 0x1E943},
};

static bool in_ranges(uint32_t c, const uint32_t (*r)[2], size_t n) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c < r[mid][0]) hi = mid;
        else if (c > r[mid][1]) lo = mid + 1;
        else return true;
    }
    return false;
}

static bool is_dsk_letter(uint32_t c) {
    return in_ranges(c, dsk_letters, sizeof dsk_letters / sizeof dsk_letters[0]);
}

/* [!-/:-~！-／：-～‘-‟　-。] */
static bool is_dsk_punct(uint32_t c) {
    return (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x7E) || (c >= 0xFF01 && c <= 0xFF0F) ||
           (c >= 0xFF1A && c <= 0xFF5E) || (c >= 0x2018 && c <= 0x201F) ||
           (c >= 0x3000 && c <= 0x3002);
}

/* [一-龥ࠀ-一가-퟿] */
static bool is_dsk_cjk(uint32_t c) {
    return (c >= 0x4E00 && c <= 0x9FA5) || (c >= 0x0800 && c <= 0x4E00) ||
           (c >= 0xAC00 && c <= 0xD7FF);
}

static uint32_t m_dsk_letters(const uint32_t *c, uint32_t i, uint32_t e) {
    return opt_ws_run(c, i, e, is_dsk_letter);
}
static uint32_t m_dsk_punct(const uint32_t *c, uint32_t i, uint32_t e) {
    return opt_ws_run(c, i, e, is_dsk_punct);
}
/* \s+$ */
static uint32_t m_ws_end(const uint32_t *c, uint32_t i, uint32_t e) {
    if (!is_ws(c[i])) return 0;
    uint32_t r = run(c, i + 1, e, is_ws);
    return r == e ? r - i : 0;
}
/* [一-龥ࠀ-一가-퟿]+ */
static uint32_t m_dsk_cjk(const uint32_t *c, uint32_t i, uint32_t e) {
    return is_dsk_cjk(c[i]) ? run(c, i + 1, e, is_dsk_cjk) - i : 0;
}

/* [\p{P}\$\+<=>\^~\|`]+ */
static bool is_falcon_punct(uint32_t c) {
    return is_p(c) || c == '$' || c == '+' || c == '<' || c == '=' || c == '>' || c == '^' ||
           c == '~' || c == '|' || c == '`';
}
static uint32_t m_falcon_punct(const uint32_t *c, uint32_t i, uint32_t e) {
    return is_falcon_punct(c[i]) ? run(c, i + 1, e, is_falcon_punct) - i : 0;
}

typedef struct {
    matcher stages[6];
    int n;
} pre_def;

static const pre_def pre_defs[HEARTH_PRE_COUNT] = {
    [HEARTH_PRE_GPT2] = {{m_gpt2}, 1},
    [HEARTH_PRE_LLAMA3] = {{m_llama3}, 1},
    [HEARTH_PRE_QWEN2] = {{m_qwen2}, 1},
    [HEARTH_PRE_DEEPSEEK_LLM] = {{m_crlf, m_dsk_letters, m_dsk_punct, m_ws_end, m_dsk_cjk, m_digits}, 6},
    [HEARTH_PRE_DEEPSEEK_CODER] = {{m_crlf, m_ws_letters, m_ws_punct, m_dsk_cjk, m_digit1}, 5},
    [HEARTH_PRE_FALCON] = {{m_falcon_punct, m_gpt2, m_ascii_digit3}, 3},
    [HEARTH_PRE_STARCODER] = {{m_digit1, m_gpt2}, 2},
};

static const struct {
    const char *name;
    hearth_pre_kind kind;
} pre_names[] = {
    /* "default" is what converters write when they do not know the model;
     * GPT-NeoX files carry no pre key at all. Both get the GPT-2 regex, the
     * one their ByteLevel pre-tokenizer uses. */
    {"default", HEARTH_PRE_GPT2},       {"gpt-2", HEARTH_PRE_GPT2},
    {"gpt2", HEARTH_PRE_GPT2},          {"gpt-neox", HEARTH_PRE_GPT2},
    {"mpt", HEARTH_PRE_GPT2},           {"olmo", HEARTH_PRE_GPT2},
    {"phi-2", HEARTH_PRE_GPT2},         {"jais", HEARTH_PRE_GPT2},
    {"llama-bpe", HEARTH_PRE_LLAMA3},   {"llama3", HEARTH_PRE_LLAMA3},
    {"llama-v3", HEARTH_PRE_LLAMA3},    {"dbrx", HEARTH_PRE_LLAMA3},
    {"smaug-bpe", HEARTH_PRE_LLAMA3},   {"falcon3", HEARTH_PRE_LLAMA3},
    {"qwen2", HEARTH_PRE_QWEN2},        {"deepseek-r1-qwen", HEARTH_PRE_QWEN2},
    {"stablelm2", HEARTH_PRE_QWEN2},    {"deepseek-llm", HEARTH_PRE_DEEPSEEK_LLM},
    {"deepseek-coder", HEARTH_PRE_DEEPSEEK_CODER},
    {"falcon", HEARTH_PRE_FALCON},      {"starcoder", HEARTH_PRE_STARCODER},
    {"refact", HEARTH_PRE_STARCODER},   {"smollm", HEARTH_PRE_STARCODER},
    {"command-r", HEARTH_PRE_STARCODER}, {"codeshell", HEARTH_PRE_STARCODER},
};

bool hearth_pre_find(const char *name, hearth_pre_kind *out) {
    for (size_t i = 0; i < sizeof pre_names / sizeof pre_names[0]; i++) {
        if (!strcmp(name, pre_names[i].name)) {
            *out = pre_names[i].kind;
            return true;
        }
    }
    return false;
}

bool hearth_pre_ignore_merges(hearth_pre_kind kind) { return kind == HEARTH_PRE_LLAMA3; }

/* Splits [a, b) with m, appending piece ends to out. */
static uint32_t split_stage(matcher m, const uint32_t *c, uint32_t a, uint32_t b, uint32_t *out,
                            uint32_t n_out) {
    uint32_t gap = a, i = a;
    while (i < b) {
        uint32_t len = m(c, i, b);
        if (len) {
            if (gap < i) out[n_out++] = i;
            i += len;
            out[n_out++] = i;
            gap = i;
        } else {
            i++;
        }
    }
    if (gap < b) out[n_out++] = b;
    return n_out;
}

void hearth_pre_split(hearth_pre_kind kind, const uint32_t *cps, uint32_t n, uint32_t *ends,
                      uint32_t *tmp, uint32_t *n_pieces) {
    const pre_def *d = &pre_defs[kind];
    /* Stage s reads the pieces in one buffer and writes the other; start so
     * that the last stage writes ends. */
    uint32_t *bufs[2] = {ends, tmp};
    int cur = (d->n % 2 == 1) ? 0 : 1;
    uint32_t np = split_stage(d->stages[0], cps, 0, n, bufs[cur], 0);
    for (int s = 1; s < d->n; s++) {
        uint32_t *in = bufs[cur], *out = bufs[cur ^ 1];
        uint32_t nn = 0, a = 0;
        for (uint32_t p = 0; p < np; p++) {
            nn = split_stage(d->stages[s], cps, a, in[p], out, nn);
            a = in[p];
        }
        np = nn;
        cur ^= 1;
    }
    *n_pieces = np;
}
