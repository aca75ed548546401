/*
 * kv_state.c: saving a sequence's keys and values and restoring them into
 * an empty sequence of another context (hearth_ctx_seq_state_*), so a new
 * process continues a conversation without evaluating its history again.
 *
 * Format (little-endian, version 2):
 *   [0, 4)   magic "HKVS"
 *   [4, 8)   u32 version (2)
 *   [8, 16)  u64 model fingerprint (fingerprint() below)
 *   [16, 20) u32 key type (hearth_type: F32, F16, Q8_0)
 *   [20, 24) u32 value type (hearth_type: F32, F16, Q8_0, Q4_0)
 *   [24, 28) u32 n_layer
 *   [28, 32) u32 kv_dim (values per row: n_head_kv * head_dim)
 *   [32, 36) u32 key row bytes (hearth_type_row_size(key type, kv_dim))
 *   [36, 40) u32 value row bytes
 *   [40, 44) u32 n (positions)
 *   [44, 48) u32 flags (bit 0, 1: which RoPE factors the keys were rotated
 *            with, for LongRoPE models whose choice depends on the context
 *            size; 0 for every other model)
 *   then per layer: n rows of keys, n rows of values
 *   then u64 checksum of everything before it (kvh below).
 * Version 1 (before the quantized cache: one KV type, a 40-byte header)
 * is refused as another version; the agent's saved sessions then evaluate
 * their history again once. A state only loads into a context with the
 * same key and value types (rows are not converted).
 * The engine knows nothing of what tokens the rows stand for; the caller
 * keeps that. Loading checks every header field against the context before
 * touching the cache, reads the rows into place, and only sets the
 * sequence's length once the checksum matched, so a rejected state leaves
 * the sequence empty.
 */
#include "engine/ctx_int.h"

#include "util/cursor.h"
#include "util/error.h"

#include <errno.h>
#include <string.h>

#define KVS_MAGIC "HKVS"
#define KVS_VERSION 2u
enum { KVS_HEADER = 48, KVS_TRAILER = 8 };

/* ---- checksum: four independent multiply-xor lanes over 8-byte words, so
 * hashing runs near memory speed (a restore of a long history is a few MB).
 * Not cryptographic: it catches truncation and damage, not an attacker (a
 * state file is the user's own). Streaming: the same value whatever the
 * pieces fed. */

typedef struct {
    uint64_t h[4];
    uint8_t tail[32];
    size_t nt;
    uint64_t total;
} kvh;

static const uint64_t KVH_P1 = 0x9E3779B185EBCA87ull, KVH_P2 = 0xC2B2AE3D27D4EB4Full;

static void kvh_init(kvh *s) {
    memset(s, 0, sizeof *s);
    for (int i = 0; i < 4; i++) s->h[i] = KVH_P1 * (uint64_t)(i + 1);
}

static inline uint64_t kvh_round(uint64_t h, uint64_t w) {
    h ^= w * KVH_P2;
    h = (h << 31) | (h >> 33);
    return h * KVH_P1;
}

static void kvh_block(kvh *s, const uint8_t *p) {
    for (int i = 0; i < 4; i++) {
        uint64_t w;
        memcpy(&w, p + 8 * i, 8);
        s->h[i] = kvh_round(s->h[i], w);
    }
}

static void kvh_feed(kvh *s, const void *data, size_t n) {
    const uint8_t *p = data;
    s->total += n;
    if (s->nt) {
        size_t take = 32 - s->nt < n ? 32 - s->nt : n;
        memcpy(s->tail + s->nt, p, take);
        s->nt += take;
        p += take;
        n -= take;
        if (s->nt < 32) return;
        kvh_block(s, s->tail);
        s->nt = 0;
    }
    for (; n >= 32; p += 32, n -= 32) kvh_block(s, p);
    memcpy(s->tail, p, n);
    s->nt = n;
}

static uint64_t kvh_final(const kvh *s) {
    uint64_t h = s->total * KVH_P1;
    for (int i = 0; i < 4; i++) h = kvh_round(h, s->h[i]);
    for (size_t i = 0; i < s->nt; i++) h = kvh_round(h, s->tail[i]);
    h ^= h >> 33;
    h *= KVH_P2;
    h ^= h >> 29;
    return h;
}

/* ---- what a state must match ------------------------------------------------ */

static uint64_t mix(uint64_t h, uint64_t v) { return kvh_round(h ^ (h >> 29), v + 0x165667B19E3779F9ull); }

static uint64_t mix_f(uint64_t h, float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return mix(h, u);
}

/* Up to 64 bytes at the start of a matrix and of its last row. */
static uint64_t mix_mat(uint64_t h, const hearth_mat *w) {
    if (!w->data || w->nrows < 1) return mix(h, 0);
    size_t n = w->row_size < 64 ? w->row_size : 64;
    kvh s;
    kvh_init(&s);
    kvh_feed(&s, w->data, n);
    kvh_feed(&s, (const uint8_t *)w->data + (size_t)(w->nrows - 1) * w->row_size, n);
    h = mix(h, kvh_final(&s));
    return mix(mix(h, (uint64_t)w->type), (uint64_t)w->nrows);
}

/* The model's identity as far as keys and values depend on it: the shape,
 * RoPE and every hyper-parameter of the forward pass, the weight bytes and
 * samples of the embedding and of each layer's K and V projections. Two
 * different files of one shape differ in their weights, and the caller keys
 * its files by the model file's hash as well. */
static uint64_t fingerprint(const hearth_model *m) {
    const hearth_hparams *hp = &m->hp;
    uint64_t h = mix(0x4845415254484b56ull, (uint64_t)m->arch);
    const int32_t ints[] = {hp->n_vocab, hp->n_embd, hp->n_layer, hp->n_head, hp->n_head_kv,
                            hp->head_dim, hp->n_ff, hp->n_rot, (int32_t)hp->rope_type,
                            (int32_t)hp->act, hp->n_rope_sets, hp->n_ctx_orig};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) h = mix(h, (uint32_t)ints[i]);
    const float fl[] = {hp->rope_freq_base, hp->rope_freq_scale, hp->rms_eps, hp->embd_scale,
                        hp->attn_scale, hp->rope_mscale, hp->rope_base[0], hp->rope_base[1],
                        hp->rope_scale[0], hp->rope_scale[1]};
    for (size_t i = 0; i < sizeof fl / sizeof fl[0]; i++) h = mix_f(h, fl[i]);
    h = mix(h, m->weight_bytes);
    h = mix_mat(h, &m->tok_embd);
    for (int32_t il = 0; il < hp->n_layer; il++) {
        h = mix_mat(h, &m->layers[il].wk);
        h = mix_mat(h, &m->layers[il].wv);
        h = mix(h, (uint32_t)m->layers[il].n_swa);
    }
    return h;
}

/* LongRoPE models rotate keys with the long or the short factors depending
 * on the context's size (forward.c); a state is only valid with the same. */
static uint32_t rope_flags(const hearth_ctx *c) {
    if (!c->m->rope_long) return 0;
    return c->cap > c->m->hp.n_ctx_orig ? 2u : 1u;
}

/* Rows of layer il, sequence seq start here (keys or values: stride is
 * kv.k_row or kv.v_row). */
static uint8_t *rows_at(const hearth_ctx *c, void *base, size_t stride, int32_t il, int32_t seq) {
    return (uint8_t *)base + (((size_t)il * (size_t)c->kv.n_seq + (size_t)seq) * (size_t)c->kv.cap) * stride;
}

static void put_u32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

static void make_header(const hearth_ctx *c, int32_t n, uint8_t h[KVS_HEADER]) {
    memcpy(h, KVS_MAGIC, 4);
    put_u32(h + 4, KVS_VERSION);
    uint64_t fp = fingerprint(c->m);
    memcpy(h + 8, &fp, 8);
    put_u32(h + 16, (uint32_t)c->kv.type_k);
    put_u32(h + 20, (uint32_t)c->kv.type_v);
    put_u32(h + 24, (uint32_t)c->kv.n_layer);
    put_u32(h + 28, (uint32_t)c->kv.kv_dim);
    put_u32(h + 32, (uint32_t)c->kv.k_row);
    put_u32(h + 36, (uint32_t)c->kv.v_row);
    put_u32(h + 40, (uint32_t)n);
    put_u32(h + 44, rope_flags(c));
}

size_t hearth_ctx_seq_state_size(const hearth_ctx *c, int32_t n) {
    if (!c || n < 0 || !c->kv.k) return 0;
    size_t rows, bytes;
    if (__builtin_mul_overflow((size_t)n, (size_t)c->kv.n_layer, &rows) ||
        __builtin_mul_overflow(rows, c->kv.k_row + c->kv.v_row, &bytes) ||
        bytes > SIZE_MAX - KVS_HEADER - KVS_TRAILER)
        return 0;
    return KVS_HEADER + bytes + KVS_TRAILER;
}

static hearth_status check_save(const hearth_ctx *c, int32_t seq, int32_t n, hearth_error *err) {
    if (!c) return HEARTH_FAIL(err, HEARTH_E_ARG, "state save: context is NULL");
    if (!c->kv.k)
        return HEARTH_FAIL(err, HEARTH_E_UNSUPPORTED, "state save: an embedding model keeps no KV cache");
    if (seq < 0 || seq >= c->n_seq)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "state save: sequence %d outside [0, %d)", seq, c->n_seq);
    if (n < 0 || n > c->kv.len[seq])
        return HEARTH_FAIL(err, HEARTH_E_ARG, "state save: %d positions of sequence %d, which holds %d",
                           n, seq, c->kv.len[seq]);
    return HEARTH_OK;
}

/* Where the bytes go: a buffer or a FILE. */
typedef struct {
    uint8_t *buf;
    size_t cap, at;
    FILE *f;
    kvh h;
    bool failed;
} sink;

static void sink_put(sink *s, const void *p, size_t n, bool hash) {
    if (s->failed || n == 0) return;
    if (hash) kvh_feed(&s->h, p, n);
    if (s->f) {
        if (fwrite(p, 1, n, s->f) != n) s->failed = true;
    } else {
        memcpy(s->buf + s->at, p, n);
    }
    s->at += n;
}

static void write_state(const hearth_ctx *c, int32_t seq, int32_t n, sink *s) {
    uint8_t head[KVS_HEADER];
    make_header(c, n, head);
    kvh_init(&s->h);
    sink_put(s, head, sizeof head, true);
    size_t kb = (size_t)n * c->kv.k_row, vb = (size_t)n * c->kv.v_row;
    for (int32_t il = 0; il < c->kv.n_layer; il++) {
        sink_put(s, rows_at(c, c->kv.k, c->kv.k_row, il, seq), kb, true);
        sink_put(s, rows_at(c, c->kv.v, c->kv.v_row, il, seq), vb, true);
    }
    uint64_t sum = kvh_final(&s->h);
    sink_put(s, &sum, sizeof sum, false);
}

hearth_status hearth_ctx_seq_state_save(const hearth_ctx *c, int32_t seq, int32_t n, void *buf,
                                        size_t cap, size_t *written, hearth_error *err) {
    if (written) *written = 0;
    hearth_status st = check_save(c, seq, n, err);
    if (st) return st;
    size_t need = hearth_ctx_seq_state_size(c, n);
    if (!buf || cap < need)
        return HEARTH_FAIL(err, HEARTH_E_LIMIT, "state save: %zu bytes needed, buffer holds %zu", need,
                           buf ? cap : 0);
    sink s = {.buf = buf, .cap = cap};
    write_state(c, seq, n, &s);
    if (written) *written = s.at;
    return HEARTH_OK;
}

hearth_status hearth_ctx_seq_state_save_file(const hearth_ctx *c, int32_t seq, int32_t n, FILE *f,
                                             hearth_error *err) {
    hearth_status st = check_save(c, seq, n, err);
    if (st) return st;
    if (!f) return HEARTH_FAIL(err, HEARTH_E_ARG, "state save: FILE is NULL");
    sink s = {.f = f};
    write_state(c, seq, n, &s);
    if (s.failed) return HEARTH_FAIL(err, HEARTH_E_IO, "state save: write failed: %s", strerror(errno));
    return HEARTH_OK;
}

/* ---- load ------------------------------------------------------------------- */

static hearth_status check_load(hearth_ctx *c, int32_t seq, hearth_error *err) {
    if (!c) return HEARTH_FAIL(err, HEARTH_E_ARG, "state load: context is NULL");
    if (!c->kv.k)
        return HEARTH_FAIL(err, HEARTH_E_UNSUPPORTED, "state load: an embedding model keeps no KV cache");
    if (seq < 0 || seq >= c->n_seq)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "state load: sequence %d outside [0, %d)", seq, c->n_seq);
    if (c->kv.len[seq] != 0)
        return HEARTH_FAIL(err, HEARTH_E_STATE, "state load: sequence %d holds %d positions; clear it first",
                           seq, c->kv.len[seq]);
    return HEARTH_OK;
}

static const char *tname(uint32_t t) {
    const char *n = t < 64 ? hearth_type_name((int)t) : NULL;
    return n ? n : "?";
}

/* Checks a header against the context. OUT: *n. */
static hearth_status parse_header(const hearth_ctx *c, const uint8_t *hb, int32_t *n, hearth_error *err) {
    rd r = rd_init(hb, KVS_HEADER);
    const uint8_t *magic;
    uint32_t version, tk, tv, n_layer, kv_dim, rbk, rbv, npos, flags;
    uint64_t fp;
    if (!rd_take(&r, 4, &magic) || memcmp(magic, KVS_MAGIC, 4))
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "state load: not a saved KV state (bad magic)");
    if (!rd_u32(&r, &version) || version != KVS_VERSION)
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "state load: format version %u, this hearth reads %u",
                           version, KVS_VERSION);
    if (!rd_u64(&r, &fp) || !rd_u32(&r, &tk) || !rd_u32(&r, &tv) || !rd_u32(&r, &n_layer) ||
        !rd_u32(&r, &kv_dim) || !rd_u32(&r, &rbk) || !rd_u32(&r, &rbv) || !rd_u32(&r, &npos) ||
        !rd_u32(&r, &flags))
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "state load: header cut short");
    if (fp != fingerprint(c->m))
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "state load: saved with another model");
    if (tk != (uint32_t)c->kv.type_k || tv != (uint32_t)c->kv.type_v)
        return HEARTH_FAIL(err, HEARTH_E_FORMAT,
                           "state load: KV cache types %s/%s (keys/values), the context uses %s/%s; "
                           "make the context with the same cache types",
                           tname(tk), tname(tv), tname((uint32_t)c->kv.type_k), tname((uint32_t)c->kv.type_v));
    if (n_layer != (uint32_t)c->kv.n_layer || kv_dim != (uint32_t)c->kv.kv_dim || rbk != c->kv.k_row ||
        rbv != c->kv.v_row)
        return HEARTH_FAIL(err, HEARTH_E_FORMAT,
                           "state load: shape %u layers x %u values (%u + %u bytes a row), the context has "
                           "%d x %d (%zu + %zu)", n_layer, kv_dim, rbk, rbv, c->kv.n_layer, c->kv.kv_dim,
                           c->kv.k_row, c->kv.v_row);
    if (flags != rope_flags(c))
        return HEARTH_FAIL(err, HEARTH_E_FORMAT,
                           "state load: keys rotated for a context %s the model's original length; "
                           "this one is %s", flags == 2 ? "above" : "within",
                           rope_flags(c) == 2 ? "above" : "within");
    if (npos > (uint32_t)c->cap)
        return HEARTH_FAIL(err, HEARTH_E_LIMIT, "state load: %u positions, the sequence holds %d",
                           npos, c->cap);
    *n = (int32_t)npos;
    return HEARTH_OK;
}

hearth_status hearth_ctx_seq_state_load(hearth_ctx *c, int32_t seq, const void *buf, size_t len,
                                        int32_t *n_out, hearth_error *err) {
    if (n_out) *n_out = 0;
    hearth_status st = check_load(c, seq, err);
    if (st) return st;
    if (!buf && len) return HEARTH_FAIL(err, HEARTH_E_ARG, "state load: buffer is NULL");
    rd r = rd_init(buf, len);
    const uint8_t *hb;
    if (!rd_take(&r, KVS_HEADER, &hb))
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "state load: %zu bytes, shorter than a header", len);
    int32_t n;
    if ((st = parse_header(c, hb, &n, err))) return st;
    size_t need = hearth_ctx_seq_state_size(c, n);
    if (len != need)
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "state load: %zu bytes, a state of %d positions has %zu",
                           len, n, need);
    kvh h;
    kvh_init(&h);
    kvh_feed(&h, hb, KVS_HEADER);
    size_t kb = (size_t)n * c->kv.k_row, vb = (size_t)n * c->kv.v_row;
    for (int32_t il = 0; il < c->kv.n_layer; il++) {
        const uint8_t *k, *v;
        if (!rd_take(&r, kb, &k) || !rd_take(&r, vb, &v))
            return HEARTH_FAIL(err, HEARTH_E_FORMAT, "state load: rows cut short");
        kvh_feed(&h, k, kb);
        kvh_feed(&h, v, vb);
        memcpy(rows_at(c, c->kv.k, c->kv.k_row, il, seq), k, kb);
        memcpy(rows_at(c, c->kv.v, c->kv.v_row, il, seq), v, vb);
    }
    uint64_t sum;
    if (!rd_u64(&r, &sum) || sum != kvh_final(&h))
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "state load: checksum mismatch (damaged state)");
    c->kv.len[seq] = n;
    if (n_out) *n_out = n;
    return HEARTH_OK;
}

static bool read_exact(FILE *f, void *p, size_t n, hearth_status *st, hearth_error *err) {
    if (n == 0 || fread(p, 1, n, f) == n) return true;
    *st = ferror(f) ? HEARTH_FAIL(err, HEARTH_E_IO, "state load: read failed: %s", strerror(errno))
                    : HEARTH_FAIL(err, HEARTH_E_FORMAT, "state load: file ends early (truncated)");
    return false;
}

hearth_status hearth_ctx_seq_state_load_file(hearth_ctx *c, int32_t seq, FILE *f, int32_t *n_out,
                                             hearth_error *err) {
    if (n_out) *n_out = 0;
    hearth_status st = check_load(c, seq, err);
    if (st) return st;
    if (!f) return HEARTH_FAIL(err, HEARTH_E_ARG, "state load: FILE is NULL");
    uint8_t hb[KVS_HEADER];
    if (!read_exact(f, hb, sizeof hb, &st, err)) return st;
    int32_t n;
    if ((st = parse_header(c, hb, &n, err))) return st;
    kvh h;
    kvh_init(&h);
    kvh_feed(&h, hb, KVS_HEADER);
    size_t kb = (size_t)n * c->kv.k_row, vb = (size_t)n * c->kv.v_row;
    /* straight into the cache: the length is only set once all is checked */
    for (int32_t il = 0; il < c->kv.n_layer; il++) {
        uint8_t *k = rows_at(c, c->kv.k, c->kv.k_row, il, seq), *v = rows_at(c, c->kv.v, c->kv.v_row, il, seq);
        if (!read_exact(f, k, kb, &st, err) || !read_exact(f, v, vb, &st, err)) return st;
        kvh_feed(&h, k, kb);
        kvh_feed(&h, v, vb);
    }
    uint64_t sum;
    if (!read_exact(f, &sum, sizeof sum, &st, err)) return st;
    if (sum != kvh_final(&h))
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "state load: checksum mismatch (damaged state)");
    c->kv.len[seq] = n;
    if (n_out) *n_out = n;
    return HEARTH_OK;
}
