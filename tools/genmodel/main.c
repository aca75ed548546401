/*
 * main.c: the hearth-genmodel command line: presets, flags, --help.
 *
 * Settings resolve in this order, later wins: the architecture's defaults,
 * the preset (the "tiny" shape when none is named), the flags.
 */
#include "genmodel.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    const char *name;
    int arch;          /* gm_arch, or -1: any (from --arch) */
    int64_t n_embd, n_layer, n_head, n_head_kv, n_ff, n_vocab, n_ctx;
    float rope_theta;  /* 0: the architecture's default */
    float rms_eps;     /* 0: the architecture's default */
    int tied, bias;    /* -1: the architecture's default */
    const char *about;
    /* 0: the defaults (head_dim n_embd / n_head, n_rot head_dim, no window,
     * no soft-cap, no rope scaling, the architecture's chat flavour) */
    int64_t head_dim, n_rot, n_swa;
    float softcap;
    float l3[3];         /* Llama 3 rope scaling factor, low, high (factor 0: none) */
    int64_t l3_orig;
    int64_t lr_orig;     /* LongRoPE original context (0: none) */
    int chat;            /* gm_chat + 1, 0: the architecture's */
} preset;

static const preset presets[] = {
    {"tiny", -1, 64, 2, 4, 2, 128, 320, 256, 0, 0, -1, -1,
     "n_embd 64, 2 layers, 4 heads (2 KV), n_ff 128, vocab 320, ctx 256", .head_dim = 0},
    {"tiny256", -1, 256, 2, 4, 2, 512, 512, 512, 0, 0, -1, -1,
     "n_embd 256 (rows fit K-quants), 2 layers, 4 heads (2 KV), n_ff 512, vocab 512", .head_dim = 0},
    {"small", -1, 512, 4, 8, 4, 1536, 2048, 1024, 0, 0, -1, -1,
     "n_embd 512, 4 layers, 8 heads (4 KV), n_ff 1536, vocab 2048, ctx 1024", .head_dim = 0},
    {"qwen2.5-0.5b", GM_ARCH_QWEN2, 896, 24, 14, 2, 4864, 151936, 32768, 1e6f, 1e-6f, 1, 1,
     "Qwen2.5-0.5B-Instruct's shape: qwen2, n_embd 896, 24 layers, 14 heads (2 KV),\n"
     "                   n_ff 4864, vocab 151936, ctx 32768, tied, qkv bias", .head_dim = 0},
    {"llama3.2-1b", GM_ARCH_LLAMA, 2048, 16, 32, 8, 8192, 128256, 131072, 5e5f, 1e-5f, 1, 0,
     "Llama-3.2-1B's shape: llama, n_embd 2048, 16 layers, 32 heads (8 KV),\n"
     "                   n_ff 8192, vocab 128256, rope theta 5e5, tied, Llama 3 rope\n"
     "                   scaling (factor 32, low 1, high 4, original ctx 8192), Llama 3 chat",
     .l3 = {32, 1, 4}, .l3_orig = 8192, .chat = GM_CHAT_LLAMA3 + 1},
    {"llama3-tiny", GM_ARCH_LLAMA, 256, 2, 4, 2, 512, 512, 512, 5e5f, 1e-5f, 0, 0,
     "llama, tiny256's shape with Llama 3 rope scaling (factor 8, low 1, high 4,\n"
     "                   original ctx 64, so short tests reach it), Llama 3 chat",
     .l3 = {8, 1, 4}, .l3_orig = 64, .chat = GM_CHAT_LLAMA3 + 1},
    {"qwen3-0.6b", GM_ARCH_QWEN3, 1024, 28, 16, 8, 3072, 151936, 40960, 1e6f, 1e-6f, 1, 0,
     "Qwen3-0.6B's shape: qwen3, n_embd 1024, 28 layers, 16 heads (8 KV) of 128,\n"
     "                   n_ff 3072, vocab 151936, ctx 40960, tied, QK-norm",
     .head_dim = 128},
    {"qwen3-tiny", GM_ARCH_QWEN3, 256, 2, 4, 2, 512, 512, 512, 1e6f, 1e-6f, 1, 0,
     "qwen3, n_embd 256, 2 layers, 4 heads (2 KV) of 128, n_ff 512, vocab 512",
     .head_dim = 128},
    {"gemma3-1b", GM_ARCH_GEMMA3, 1152, 26, 4, 1, 6912, 262144, 32768, 1e6f, 1e-6f, 1, 0,
     "Gemma-3-1B's shape: gemma3, n_embd 1152, 26 layers, 4 heads (1 KV) of 256,\n"
     "                   n_ff 6912, vocab 262144, ctx 32768, tied, window 512",
     .head_dim = 256, .n_swa = 512},
    {"gemma3-tiny", GM_ARCH_GEMMA3, 256, 6, 4, 1, 512, 512, 512, 1e6f, 1e-6f, 1, 0,
     "gemma3, n_embd 256, 6 layers (5 local, 1 global), 4 heads (1 KV) of 64,\n"
     "                   n_ff 512, vocab 512, window 4, final soft-cap 5",
     .head_dim = 64, .n_swa = 4, .softcap = 5.0f},
    {"phi3-mini", GM_ARCH_PHI3, 3072, 32, 32, 32, 8192, 32064, 4096, 1e4f, 1e-5f, 0, 0,
     "Phi-3-mini-4k's shape: phi3, n_embd 3072, 32 layers, 32 heads, n_ff 8192,\n"
     "                   vocab 32064, ctx 4096, untied, fused qkv and gate/up",
     .n_swa = 2047},
    {"phi3-tiny", GM_ARCH_PHI3, 256, 2, 4, 4, 512, 512, 512, 1e4f, 1e-5f, 0, 0,
     "phi3, n_embd 256, 2 layers, 4 heads, n_ff 512, vocab 512, rotary on 48 of\n"
     "                   64 dims, LongRoPE (original ctx 128)",
     .n_rot = 48, .n_swa = 2047, .lr_orig = 128},
};

static const char *const chat_names[GM_CHAT_COUNT] = {
    [GM_CHAT_CHATML] = "chatml", [GM_CHAT_QWEN3] = "qwen3", [GM_CHAT_GEMMA] = "gemma",
    [GM_CHAT_PHI3] = "phi3",     [GM_CHAT_LLAMA3] = "llama3",
};

static void usage(FILE *f) {
    char types[256];
    gm_mix_list(types, sizeof types);
    fprintf(f,
            "usage: hearth-genmodel --arch A [--preset NAME] [shape flags]\n"
            "                       --type TYPE [--type-* T] [--vocab FILE.gguf] [--seed S] -o FILE\n"
            "\n"
            "Writes a GGUF model with deterministic random weights (same arguments, same\n"
            "bytes), named and laid out as llama.cpp writes llama/qwen2 models.\n"
            "\n"
            "  --arch A           llama (defaults: rope theta 1e4, rms eps 1e-5, untied,\n"
            "                     no bias), qwen2 (1e6, 1e-6, tied, qkv bias), qwen3 (1e6,\n"
            "                     1e-6, tied, QK-norm), gemma3 (1e6, 1e-6, tied, QK-norm,\n"
            "                     post-norms, window 512) or phi3 (1e4, 1e-5, untied, fused)\n"
            "  --preset NAME      a shape (the tiny shape when none is given):\n");
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
        fprintf(f, "    %-15s %s\n", presets[i].name, presets[i].about);
    fprintf(f,
            "  --n-embd N  --n-layer N  --n-head N  --n-head-kv N  --n-ff N\n"
            "  --n-vocab N  --n-ctx N  --rope-theta F  --rms-eps F\n"
            "  --head-dim N       per-head size (default n_embd / n_head)\n"
            "  --n-rot N          rotary dimensions (default: the head size)\n"
            "  --n-swa N          attention.sliding_window (gemma3: local layers' window)\n"
            "  --softcap F        final_logit_softcapping (default none)\n"
            "  --rope-llama3 F,LO,HI,ORIG  Llama 3 rope scaling, as rope_freqs.weight\n"
            "  --longrope ORIG    Phi-3 LongRoPE factors and keys, original context ORIG\n"
            "  --chat NAME        vocabulary flavour: chatml, qwen3, gemma, phi3, llama3\n"
            "                     (control tokens, template; default: the architecture's)\n"
            "  --pad-vocab N      N more token_embd/output rows than the tokenizer has tokens\n"
            "                     (as converters pad vocabularies; vocab_size counts them);\n"
            "                     their logits are made to beat every real token's, so a\n"
            "                     runtime that does not mask them picks them (default 0)\n"
            "  --tied | --untied  output reuses token_embd, or has its own output.weight\n"
            "  --qkv-bias | --no-qkv-bias\n"
            "  --type TYPE        %s\n"
            "                     A mix follows llama.cpp's rules: the output matrix (token_embd\n"
            "                     when tied) is Q6_K for quantized mixes but Q8_0 (Q8_0 also\n"
            "                     when its rows are not a multiple of 256); Q4_K_M/Q5_K_M give\n"
            "                     attn_v and ffn_down Q6_K in the first and last eighth of the\n"
            "                     layers and every third between; Q4_K_S gives attn_v of layers\n"
            "                     0-3 and ffn_down of the first eighth Q5_K. K-quants fall back\n"
            "                     on rows that are not a multiple of 256: Q4_K->Q5_0, Q5_K->Q5_1,\n"
            "                     Q6_K->Q8_0, Q2_K/Q3_K->Q4_0. Norms and biases are F32.\n"
            "  --pure             every matrix in TYPE's base type (no mix rules)\n"
            "  --type-embd T  --type-output T  --type-attn T  --type-attn-v T\n"
            "  --type-ffn T  --type-ffn-down T\n"
            "                     override a class (F32 F16 BF16 Q8_0 Q4_0 Q4_1 Q5_0 Q5_1\n"
            "                     Q2_K..Q6_K); attn = q,k,v,output; ffn = gate,up,down\n"
            "  --vocab FILE.gguf  copy every tokenizer.* key of FILE (n_vocab from it);\n"
            "                     default: a generated byte-level BPE vocabulary (gpt2 model,\n"
            "                     merges learned from a built-in text, then synthetic ones,\n"
            "                     then <|endoftext|> <|im_start|> <|im_end|>; ChatML template)\n"
            "  --seed S           64-bit seed (default 1)\n"
            "  --name NAME        general.name (default \"genmodel-PRESET\")\n"
            "  --threads N        quantization threads (default: online CPUs); the bytes\n"
            "                     written do not depend on it\n"
            "  -q, --quiet        no summary on stderr\n"
            "  -o FILE            output path\n",
            types);
}

static int die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "hearth-genmodel: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n(see hearth-genmodel --help)\n");
    va_end(ap);
    return 2;
}

static bool parse_i64(const char *s, int64_t *out) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 0);
    if (errno || end == s || *end) return false;
    *out = v;
    return true;
}

static bool parse_u64(const char *s, uint64_t *out) {
    char *end;
    errno = 0;
    if (*s == '-') return false;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s || *end) return false;
    *out = v;
    return true;
}

static bool parse_f32(const char *s, float *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end) return false;
    *out = (float)v;
    return true;
}

int main(int argc, char **argv) {
    /* BERT encoders have a writer of their own (bert.c). */
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], "--arch") && !strcmp(argv[i + 1], "bert")) return gm_bert_main(argc, argv);
    /* Flags that take a value, collected first so the preset and the arch can
     * be applied before the shape flags regardless of their order. */
    const char *arch = NULL, *pname = NULL, *type = NULL, *name = NULL;
    gm_config cfg;
    memset(&cfg, 0, sizeof cfg);
    for (int i = 0; i < GM_OVR_COUNT; i++) cfg.override[i] = -1;
    cfg.seed = 1;
    long nproc = sysconf(_SC_NPROCESSORS_ONLN);
    cfg.n_threads = nproc > 0 ? (nproc > 64 ? 64 : (int)nproc) : 1;

    struct {
        char flag[64];
        const char *val;
    } shape[32];
    int n_shape = 0;
    int tied = -1, bias = -1;
    const char *chat = NULL;
    float softcap = -1, l3[3] = {0};
    int64_t l3_orig = -1, lr_orig = -1;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(a, "--tied")) { tied = 1; continue; }
        if (!strcmp(a, "--untied")) { tied = 0; continue; }
        if (!strcmp(a, "--qkv-bias")) { bias = 1; continue; }
        if (!strcmp(a, "--no-qkv-bias")) { bias = 0; continue; }
        if (!strcmp(a, "--pure")) { cfg.pure = true; continue; }
        if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) { cfg.quiet = true; continue; }

        /* --flag VALUE or --flag=VALUE */
        char flag[64];
        const char *val = NULL;
        const char *eq = strchr(a, '=');
        if (eq && a[0] == '-' && a[1] == '-' && (size_t)(eq - a) < sizeof flag) {
            memcpy(flag, a, (size_t)(eq - a));
            flag[eq - a] = '\0';
            val = eq + 1;
        } else {
            snprintf(flag, sizeof flag, "%s", a);
            if (i + 1 >= argc) return die("%s needs a value", a);
            val = argv[++i];
        }
        if (!strcmp(flag, "--arch")) arch = val;
        else if (!strcmp(flag, "--chat")) chat = val;
        else if (!strcmp(flag, "--softcap")) {
            if (!parse_f32(val, &softcap) || softcap < 0) return die("--softcap %s: not a number >= 0", val);
        } else if (!strcmp(flag, "--rope-llama3")) {
            double f, lo, hi;
            long long orig;
            if (sscanf(val, "%lf,%lf,%lf,%lld", &f, &lo, &hi, &orig) != 4)
                return die("--rope-llama3 %s: expected FACTOR,LOW,HIGH,ORIG", val);
            l3[0] = (float)f, l3[1] = (float)lo, l3[2] = (float)hi, l3_orig = orig;
        } else if (!strcmp(flag, "--longrope")) {
            if (!parse_i64(val, &lr_orig) || lr_orig < 1) return die("--longrope %s: a context >= 1", val);
        }
        else if (!strcmp(flag, "--preset")) pname = val;
        else if (!strcmp(flag, "--type")) type = val;
        else if (!strcmp(flag, "--name")) name = val;
        else if (!strcmp(flag, "--vocab")) cfg.vocab_path = val;
        else if (!strcmp(flag, "-o") || !strcmp(flag, "--output")) cfg.out_path = val;
        else if (!strcmp(flag, "--seed")) {
            if (!parse_u64(val, &cfg.seed)) return die("--seed %s: not an unsigned 64-bit number", val);
        } else if (!strcmp(flag, "--threads")) {
            int64_t n;
            if (!parse_i64(val, &n) || n < 1 || n > 256) return die("--threads %s: must be in [1, 256]", val);
            cfg.n_threads = (int)n;
        } else if (!strcmp(flag, "--pad-vocab")) {
            if (!parse_i64(val, &cfg.pad_vocab) || cfg.pad_vocab < 0 || cfg.pad_vocab > (1 << 20))
                return die("--pad-vocab %s: must be in [0, %d]", val, 1 << 20);
        } else if (!strncmp(flag, "--type-", 7)) {
            static const char *const ovr[GM_OVR_COUNT] = {
                [GM_OVR_EMBD] = "--type-embd",     [GM_OVR_OUTPUT] = "--type-output",
                [GM_OVR_ATTN] = "--type-attn",     [GM_OVR_ATTN_V] = "--type-attn-v",
                [GM_OVR_FFN] = "--type-ffn",       [GM_OVR_FFN_DOWN] = "--type-ffn-down",
            };
            int k = 0;
            while (k < GM_OVR_COUNT && strcmp(flag, ovr[k])) k++;
            if (k == GM_OVR_COUNT) return die("unknown option %s", flag);
            hearth_type t;
            if (!gm_type_parse(val, &t)) return die("%s %s: not a tensor type", flag, val);
            cfg.override[k] = (int)t;
        } else if (!strncmp(flag, "--n-", 4) || !strcmp(flag, "--rope-theta") || !strcmp(flag, "--head-dim") ||
                   !strcmp(flag, "--rms-eps")) {
            if (n_shape == (int)(sizeof shape / sizeof shape[0])) return die("too many shape flags");
            snprintf(shape[n_shape].flag, sizeof shape[n_shape].flag, "%s", flag);
            shape[n_shape].val = val;
            n_shape++;
        } else {
            return die("unknown option %s", flag);
        }
    }

    const preset *p = &presets[0];
    if (pname) {
        p = NULL;
        for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
            if (!strcmp(pname, presets[i].name)) p = &presets[i];
        if (!p) return die("unknown preset '%s'", pname);
    }
    if (arch) {
        int a = 0;
        while (a < GM_ARCH_COUNT && strcmp(arch, gm_arch_name((gm_arch)a))) a++;
        if (a == GM_ARCH_COUNT) return die("--arch %s: expected llama, qwen2, qwen3, gemma3 or phi3", arch);
        cfg.arch = (gm_arch)a;
        if (p->arch >= 0 && (int)cfg.arch != p->arch)
            return die("--arch %s conflicts with preset %s", arch, p->name);
    } else if (p->arch >= 0) {
        cfg.arch = (gm_arch)p->arch;
    } else {
        return die("--arch is required (llama, qwen2, qwen3, gemma3 or phi3)");
    }
    if (!type) return die("--type is required");
    if (!(cfg.mix = gm_mix_find(type))) {
        char types[256];
        gm_mix_list(types, sizeof types);
        return die("--type %s: expected one of %s", type, types);
    }
    if (!cfg.out_path) return die("-o FILE is required");

    bool qwen = cfg.arch == GM_ARCH_QWEN2;
    bool big_base = cfg.arch == GM_ARCH_QWEN2 || cfg.arch == GM_ARCH_QWEN3 || cfg.arch == GM_ARCH_GEMMA3;
    cfg.rope_theta = p->rope_theta > 0 ? p->rope_theta : (big_base ? 1e6f : 1e4f);
    cfg.rms_eps = p->rms_eps > 0 ? p->rms_eps : (big_base ? 1e-6f : 1e-5f);
    cfg.tied = p->tied >= 0 ? p->tied : big_base;
    cfg.qkv_bias = p->bias >= 0 ? p->bias : qwen;
    static const gm_chat arch_chat[GM_ARCH_COUNT] = {
        [GM_ARCH_LLAMA] = GM_CHAT_CHATML, [GM_ARCH_QWEN2] = GM_CHAT_CHATML,
        [GM_ARCH_QWEN3] = GM_CHAT_QWEN3,  [GM_ARCH_GEMMA3] = GM_CHAT_GEMMA,
        [GM_ARCH_PHI3] = GM_CHAT_PHI3,
    };
    cfg.chat = p->chat ? (gm_chat)(p->chat - 1) : arch_chat[cfg.arch];
    if (chat) {
        int c = 0;
        while (c < GM_CHAT_COUNT && strcmp(chat, chat_names[c])) c++;
        if (c == GM_CHAT_COUNT) return die("--chat %s: expected chatml, qwen3, gemma, phi3 or llama3", chat);
        cfg.chat = (gm_chat)c;
    }
    cfg.n_swa = p->n_swa ? p->n_swa : cfg.arch == GM_ARCH_GEMMA3 ? 512 : 0;
    cfg.softcap = softcap >= 0 ? softcap : p->softcap;
    cfg.rope_llama3 = (l3_orig > 0 ? l3[0] : p->l3[0]) > 0;
    cfg.l3_factor = l3_orig > 0 ? l3[0] : p->l3[0];
    cfg.l3_low = l3_orig > 0 ? l3[1] : p->l3[1];
    cfg.l3_high = l3_orig > 0 ? l3[2] : p->l3[2];
    cfg.l3_orig_ctx = l3_orig > 0 ? l3_orig : p->l3_orig;
    cfg.lr_orig_ctx = lr_orig > 0 ? lr_orig : p->lr_orig;
    cfg.longrope = cfg.lr_orig_ctx > 0;
    cfg.n_embd = p->n_embd;
    cfg.n_layer = p->n_layer;
    cfg.n_head = p->n_head;
    cfg.n_head_kv = p->n_head_kv;
    cfg.n_ff = p->n_ff;
    cfg.n_vocab = cfg.vocab_path ? 0 : p->n_vocab;
    cfg.n_ctx = p->n_ctx;
    if (tied >= 0) cfg.tied = tied;
    if (bias >= 0) cfg.qkv_bias = bias;

    for (int i = 0; i < n_shape; i++) {
        const char *flag = shape[i].flag;
        const char *val = shape[i].val;
        if (!strcmp(flag, "--rope-theta") || !strcmp(flag, "--rms-eps")) {
            float x;
            if (!parse_f32(val, &x)) return die("%s %s: not a number", flag, val);
            *(!strcmp(flag, "--rope-theta") ? &cfg.rope_theta : &cfg.rms_eps) = x;
            continue;
        }
        static const struct {
            const char *flag;
            size_t off;
        } dims[] = {
            {"--n-embd", offsetof(gm_config, n_embd)},   {"--n-layer", offsetof(gm_config, n_layer)},
            {"--n-head", offsetof(gm_config, n_head)},   {"--n-head-kv", offsetof(gm_config, n_head_kv)},
            {"--n-ff", offsetof(gm_config, n_ff)},       {"--n-vocab", offsetof(gm_config, n_vocab)},
            {"--n-ctx", offsetof(gm_config, n_ctx)},     {"--head-dim", offsetof(gm_config, head_dim)},
            {"--n-rot", offsetof(gm_config, n_rot)},     {"--n-swa", offsetof(gm_config, n_swa)},
        };
        size_t k = 0;
        while (k < sizeof dims / sizeof dims[0] && strcmp(flag, dims[k].flag)) k++;
        if (k == sizeof dims / sizeof dims[0]) return die("unknown option %s", flag);
        int64_t v;
        if (!parse_i64(val, &v)) return die("%s %s: not an integer", flag, val);
        memcpy((char *)&cfg + dims[k].off, &v, sizeof v);
    }
    /* head size and rotary dims follow the final shape unless given */
    if (!cfg.head_dim) cfg.head_dim = p->head_dim ? p->head_dim : cfg.n_head > 0 && cfg.n_embd % cfg.n_head == 0 ? cfg.n_embd / cfg.n_head : 0;
    if (!cfg.n_rot) cfg.n_rot = p->n_rot ? p->n_rot : cfg.head_dim;
    snprintf(cfg.name, sizeof cfg.name, "%s", name ? name : "");
    if (!name) snprintf(cfg.name, sizeof cfg.name, "genmodel-%s", pname ? pname : gm_arch_name(cfg.arch));

    hearth_error err = {0};
    if (gm_model_write(&cfg, &err)) {
        fprintf(stderr, "hearth-genmodel: %s\n", err.msg);
        return 1;
    }
    return 0;
}
