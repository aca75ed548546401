/*
 * sigstore.c: the OpenSSF model-signing format (sigstore/model-transparency)
 * as hearth accepts it, verified with a public key (no certificates, no
 * transparency log):
 *
 *   bundle (JSON)   mediaType "application/vnd.dev.sigstore.bundle..."
 *                   verificationMaterial.publicKey.hint (optional): hex
 *                     SHA-256 of the signer's PEM public key
 *                   dsseEnvelope: payloadType "application/vnd.in-toto+json",
 *                     payload (base64), signatures[].sig (base64)
 *   signature       ECDSA P-256 over SHA-256 of the DSSE PAE:
 *                   "DSSEv1" SP len(type) SP type SP len(payload) SP payload
 *   statement       _type "https://in-toto.io/Statement/v1", and either
 *                   predicateType "https://model_signing/signature/v1.0":
 *                     one subject whose digest.sha256 is SHA-256 over the
 *                     concatenated raw digests of predicate.resources[]
 *                     ({name, algorithm "sha256", digest}), serialization
 *                     method "files"
 *                   or "https://model_signing/Digests/v0.1": one subject
 *                     {name, digest.sha256} per file.
 * The model file is accepted when its SHA-256 is one of the listed files'.
 * docs/model-trust.md says the same for users. Everything is size-limited;
 * jansson parses, with duplicate keys refused.
 */
#include "security/verify_int.h"

#include "util/alloc.h"
#include "util/error.h"

#include <jansson.h>
#include <limits.h>
#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <string.h>

#define BUNDLE_MAX (16u << 20)  /* bytes of a bundle file */
#define MAX_SIGS 8              /* envelope signatures tried */
#define SIG_MAX 160             /* bytes of one decoded signature */
#define MAX_RESOURCES 100000    /* files one statement may list */

static const char PAYLOAD_TYPE[] = "application/vnd.in-toto+json";
static const char STATEMENT_V1[] = "https://in-toto.io/Statement/v1";
static const char PRED_V1[] = "https://model_signing/signature/v1.0";
static const char PRED_V01[] = "https://model_signing/Digests/v0.1";
static const char MEDIA_PREFIX[] = "application/vnd.dev.sigstore.bundle";

struct sec_bundle {
    uint8_t *payload; /* owned, decoded */
    size_t payload_len;
    char *payload_type; /* owned */
    uint8_t sig[MAX_SIGS][SIG_MAX];
    size_t sig_len[MAX_SIGS];
    int n_sigs;
    char hint[65];
    bool has_hint;
};

void sec_bundle_free(sec_bundle *b) {
    if (!b) return;
    hearth_free(b->payload);
    hearth_free(b->payload_type);
    hearth_free(b);
}

const char *sec_bundle_hint(const sec_bundle *b) { return b && b->has_hint ? b->hint : NULL; }

static const char *get_str(json_t *o, const char *key, size_t *len) {
    json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;
    if (!json_is_string(v)) return NULL;
    if (len) *len = json_string_length(v);
    return json_string_value(v);
}

static bool is_hex(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return false;
    return true;
}

hearth_status sec_bundle_parse(const void *buf, size_t len, sec_bundle **out, hearth_error *err) {
    *out = NULL;
    if (len > BUNDLE_MAX)
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "bundle larger than %u bytes", BUNDLE_MAX);
    json_error_t je;
    json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "not JSON (line %d: %s)", je.line, je.text);
    hearth_status st = HEARTH_OK;
    sec_bundle *b = hearth_calloc(1, sizeof *b);
    if (!b) {
        st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "bundle: out of memory");
        goto out;
    }
    if (!json_is_object(root)) {
        st = HEARTH_FAIL(err, HEARTH_E_FORMAT, "not a JSON object");
        goto out;
    }
    size_t ml;
    const char *media = get_str(root, "mediaType", &ml);
    if (!media || ml < sizeof MEDIA_PREFIX - 1 || memcmp(media, MEDIA_PREFIX, sizeof MEDIA_PREFIX - 1)) {
        st = HEARTH_FAIL(err, HEARTH_E_FORMAT, "mediaType is not a sigstore bundle's");
        goto out;
    }
    json_t *vm = json_object_get(root, "verificationMaterial");
    if (vm && !json_is_object(vm)) {
        st = HEARTH_FAIL(err, HEARTH_E_FORMAT, "verificationMaterial is not an object");
        goto out;
    }
    json_t *pk = vm ? json_object_get(vm, "publicKey") : NULL;
    if (pk) {
        size_t hl;
        const char *hint = get_str(pk, "hint", &hl);
        if (json_object_get(pk, "hint") && !hint) {
            st = HEARTH_FAIL(err, HEARTH_E_FORMAT, "publicKey.hint is not a string");
            goto out;
        }
        if (hint && hl) {
            if (hl != 64 || !is_hex(hint, 64)) {
                st = HEARTH_FAIL(err, HEARTH_E_FORMAT, "publicKey.hint is not 64 hex digits");
                goto out;
            }
            memcpy(b->hint, hint, 65);
            b->has_hint = true;
        }
    }
    json_t *env = json_object_get(root, "dsseEnvelope");
    if (!json_is_object(env)) {
        st = HEARTH_FAIL(err, HEARTH_E_FORMAT, "no dsseEnvelope object");
        goto out;
    }
    size_t tl = 0, pl = 0;
    const char *type = get_str(env, "payloadType", &tl);
    const char *payload = get_str(env, "payload", &pl);
    if (!type || !payload) {
        st = HEARTH_FAIL(err, HEARTH_E_FORMAT, "dsseEnvelope needs payloadType and payload strings");
        goto out;
    }
    if (strlen(type) != tl) {
        st = HEARTH_FAIL(err, HEARTH_E_FORMAT, "payloadType holds a NUL");
        goto out;
    }
    b->payload_type = hearth_strdup(type);
    b->payload = hearth_malloc(pl / 4 * 3 + 3);
    if (!b->payload_type || !b->payload) {
        st = HEARTH_FAIL(err, HEARTH_E_NOMEM, "bundle: out of memory");
        goto out;
    }
    if (!sec_b64_decode(payload, pl, true, b->payload, pl / 4 * 3 + 3, &b->payload_len)) {
        st = HEARTH_FAIL(err, HEARTH_E_FORMAT, "dsseEnvelope.payload is not base64");
        goto out;
    }
    json_t *sigs = json_object_get(env, "signatures");
    if (!json_is_array(sigs) || json_array_size(sigs) == 0) {
        st = HEARTH_FAIL(err, HEARTH_E_FORMAT, "dsseEnvelope.signatures is not a non-empty array");
        goto out;
    }
    if (json_array_size(sigs) > MAX_SIGS) {
        st = HEARTH_FAIL(err, HEARTH_E_FORMAT, "more than %d signatures", MAX_SIGS);
        goto out;
    }
    for (size_t i = 0; i < json_array_size(sigs); i++) {
        size_t sl;
        const char *s = get_str(json_array_get(sigs, i), "sig", &sl);
        if (!s) {
            st = HEARTH_FAIL(err, HEARTH_E_FORMAT, "signatures[%zu].sig is not a string", i);
            goto out;
        }
        if (!sec_b64_decode(s, sl, true, b->sig[i], SIG_MAX, &b->sig_len[i]) || !b->sig_len[i]) {
            st = HEARTH_FAIL(err, HEARTH_E_FORMAT, "signatures[%zu].sig is not base64 of a signature", i);
            goto out;
        }
        b->n_sigs++;
    }
out:
    json_decref(root);
    if (st) {
        sec_bundle_free(b);
        return st;
    }
    *out = b;
    return HEARTH_OK;
}

/* A 64-byte r||s signature (WebCrypto's form) as DER. */
static bool raw_to_der(const uint8_t *raw, uint8_t *der, size_t cap, size_t *len) {
    ECDSA_SIG *s = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(raw, 32, NULL), *q = BN_bin2bn(raw + 32, 32, NULL);
    bool ok = s && r && q && ECDSA_SIG_set0(s, r, q);
    if (ok) r = q = NULL; /* owned by s now */
    int n = ok ? i2d_ECDSA_SIG(s, NULL) : -1;
    if (n <= 0 || (size_t)n > cap) ok = false;
    if (ok) {
        unsigned char *p = der;
        *len = (size_t)i2d_ECDSA_SIG(s, &p);
    }
    BN_free(r);
    BN_free(q);
    ECDSA_SIG_free(s);
    return ok;
}

bool sec_bundle_sig_ok(const sec_bundle *b, struct evp_pkey_st *key) {
    if (!b || !key) return false;
    char head[96];
    size_t tl = strlen(b->payload_type);
    int hn = snprintf(head, sizeof head, "DSSEv1 %zu ", tl);
    char mid[32];
    int mn = snprintf(mid, sizeof mid, " %zu ", b->payload_len);
    if (hn < 0 || mn < 0) return false;
    bool ok = false;
    for (int i = 0; i < b->n_sigs && !ok; i++) {
        const uint8_t *sig = b->sig[i];
        size_t sl = b->sig_len[i];
        uint8_t der[SIG_MAX];
        size_t dl;
        /* A DER signature starts with a SEQUENCE tag; 64 bytes that do not
         * are taken as r||s. */
        if (sl == 64 && sig[0] != 0x30 && raw_to_der(sig, der, sizeof der, &dl)) {
            sig = der;
            sl = dl;
        }
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        if (!md) return false;
        ok = EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
             EVP_DigestVerifyUpdate(md, head, (size_t)hn) == 1 &&
             EVP_DigestVerifyUpdate(md, b->payload_type, tl) == 1 &&
             EVP_DigestVerifyUpdate(md, mid, (size_t)mn) == 1 &&
             EVP_DigestVerifyUpdate(md, b->payload, b->payload_len) == 1 &&
             EVP_DigestVerifyFinal(md, sig, sl) == 1;
        EVP_MD_CTX_free(md);
    }
    ERR_clear_error();
    return ok;
}

/* The lowercase-hex sha256 of a digest object {"sha256": "..."}; NULL if
 * absent or not 64 hex digits. */
static const char *sha_of(json_t *digest) {
    size_t n;
    const char *h = get_str(digest, "sha256", &n);
    return h && n == 64 && is_hex(h, 64) ? h : NULL;
}

static void put_name(const char *s, char *name, size_t cap) {
    if (!cap) return;
    snprintf(name, cap, "%s", s ? s : "");
}

static bool hex_to_bytes(const char *h, uint8_t out[32]) {
    for (int i = 0; i < 32; i++) {
        int hi = h[2 * i] <= '9' ? h[2 * i] - '0' : h[2 * i] - 'a' + 10;
        int lo = h[2 * i + 1] <= '9' ? h[2 * i + 1] - '0' : h[2 * i + 1] - 'a' + 10;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

static hearth_status find_v1(json_t *st, const char *sha_hex, char *name, size_t cap,
                             hearth_error *err) {
    json_t *subj = json_object_get(st, "subject");
    if (!json_is_array(subj) || json_array_size(subj) != 1)
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "statement: v1.0 needs exactly one subject");
    const char *root = sha_of(json_object_get(json_array_get(subj, 0), "digest"));
    if (!root) return HEARTH_FAIL(err, HEARTH_E_FORMAT, "statement: subject has no sha256 digest");
    json_t *pred = json_object_get(st, "predicate");
    if (!json_is_object(pred)) return HEARTH_FAIL(err, HEARTH_E_FORMAT, "statement: no predicate");
    json_t *ser = json_object_get(pred, "serialization");
    const char *method = get_str(ser, "method", NULL);
    if (!method) return HEARTH_FAIL(err, HEARTH_E_FORMAT, "statement: no serialization.method");
    if (strcmp(method, "files"))
        return HEARTH_FAIL(err, HEARTH_E_FORMAT,
                           "statement: serialization method '%.32s' (only \"files\" is supported)",
                           method);
    const char *ht = get_str(ser, "hash_type", NULL);
    if (ht && strcmp(ht, "sha256"))
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "statement: hash_type '%.32s' (only sha256)", ht);
    json_t *res = json_object_get(pred, "resources");
    if (!json_is_array(res) || json_array_size(res) > MAX_RESOURCES)
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "statement: predicate.resources is not an array of at most %d", MAX_RESOURCES);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
        EVP_MD_CTX_free(md);
        return HEARTH_FAIL(err, HEARTH_E_NOMEM, "statement: SHA-256 unavailable");
    }
    hearth_status found = HEARTH_E_NOTFOUND;
    for (size_t i = 0; i < json_array_size(res); i++) {
        json_t *r = json_array_get(res, i);
        const char *alg = get_str(r, "algorithm", NULL);
        size_t dn = 0;
        const char *d = get_str(r, "digest", &dn);
        const char *nm = get_str(r, "name", NULL);
        if (!alg || strcmp(alg, "sha256") || !d || dn != 64 || !is_hex(d, 64) || !nm) {
            EVP_MD_CTX_free(md);
            return HEARTH_FAIL(err, HEARTH_E_FORMAT,
                               "statement: resources[%zu] is not {name, algorithm \"sha256\", digest}", i);
        }
        uint8_t raw[32];
        hex_to_bytes(d, raw);
        EVP_DigestUpdate(md, raw, 32);
        if (found && !strcmp(d, sha_hex)) {
            found = HEARTH_OK;
            put_name(nm, name, cap);
        }
    }
    uint8_t got[32];
    unsigned int gl = 0;
    bool fin = EVP_DigestFinal_ex(md, got, &gl) && gl == 32;
    EVP_MD_CTX_free(md);
    char got_hex[65];
    if (fin) sec_hex(got, 32, got_hex);
    if (!fin || strcmp(got_hex, root))
        return HEARTH_FAIL(err, HEARTH_E_FORMAT,
                           "statement: the subject's digest does not match its resources");
    return found;
}

static hearth_status find_v01(json_t *st, const char *sha_hex, char *name, size_t cap,
                              hearth_error *err) {
    json_t *subj = json_object_get(st, "subject");
    if (!json_is_array(subj) || json_array_size(subj) == 0 ||
        json_array_size(subj) > MAX_RESOURCES)
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "statement: subject is not a non-empty array");
    hearth_status found = HEARTH_E_NOTFOUND;
    for (size_t i = 0; i < json_array_size(subj); i++) {
        json_t *s = json_array_get(subj, i);
        const char *d = sha_of(json_object_get(s, "digest"));
        const char *nm = get_str(s, "name", NULL);
        if (!d || !nm)
            return HEARTH_FAIL(err, HEARTH_E_FORMAT, "statement: subject[%zu] has no name and sha256", i);
        if (found && !strcmp(d, sha_hex)) {
            found = HEARTH_OK;
            put_name(nm, name, cap);
        }
    }
    return found;
}

hearth_status sec_bundle_find_digest(const sec_bundle *b, const char *sha_hex, char *name,
                                     size_t cap, hearth_error *err) {
    if (cap) name[0] = '\0';
    if (strcmp(b->payload_type, PAYLOAD_TYPE))
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "payloadType '%.64s', expected %s",
                           b->payload_type, PAYLOAD_TYPE);
    json_error_t je;
    json_t *st = json_loadb((const char *)b->payload, b->payload_len, JSON_REJECT_DUPLICATES, &je);
    if (!st) return HEARTH_FAIL(err, HEARTH_E_FORMAT, "statement is not JSON (%s)", je.text);
    hearth_status r;
    const char *type = get_str(st, "_type", NULL);
    const char *pred = get_str(st, "predicateType", NULL);
    if (!json_is_object(st) || !type || strcmp(type, STATEMENT_V1))
        r = HEARTH_FAIL(err, HEARTH_E_FORMAT, "statement: _type is not %s", STATEMENT_V1);
    else if (pred && !strcmp(pred, PRED_V1)) r = find_v1(st, sha_hex, name, cap, err);
    else if (pred && !strcmp(pred, PRED_V01)) r = find_v01(st, sha_hex, name, cap, err);
    else
        r = HEARTH_FAIL(err, HEARTH_E_FORMAT, "statement: predicateType '%.80s' is not model_signing's",
                        pred ? pred : "(none)");
    json_decref(st);
    return r;
}

hearth_status sec_pem_key_parse(const void *buf, size_t len, struct evp_pkey_st **out,
                                char hint[65], hearth_error *err) {
    *out = NULL;
    if (len > (64u << 10) || len > INT_MAX)
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "larger than 64 KiB");
    BIO *in = BIO_new_mem_buf(buf, (int)len);
    if (!in) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "key: out of memory");
    EVP_PKEY *k = PEM_read_bio_PUBKEY(in, NULL, NULL, NULL);
    BIO_free(in);
    if (!k) {
        ERR_clear_error(); /* the reason is ours to give, not the thread's queue */
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "not a PEM public key");
    }
    char curve[64] = "";
    size_t cl = 0;
    if (EVP_PKEY_get_base_id(k) != EVP_PKEY_EC ||
        !EVP_PKEY_get_utf8_string_param(k, "group", curve, sizeof curve, &cl) ||
        strcmp(curve, "prime256v1")) {
        EVP_PKEY_free(k);
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "not an EC P-256 key%s%s", *curve ? ": curve " : "",
                           curve);
    }
    /* The hint is over the key as PEM_write_bio_PUBKEY writes it, which is
     * the SubjectPublicKeyInfo PEM that model_signing hashes. */
    BIO *mem = BIO_new(BIO_s_mem());
    char *pem = NULL;
    long pn = 0;
    if (!mem || !PEM_write_bio_PUBKEY(mem, k) || (pn = BIO_get_mem_data(mem, &pem)) <= 0) {
        BIO_free(mem);
        EVP_PKEY_free(k);
        return HEARTH_FAIL(err, HEARTH_E_NOMEM, "key: out of memory");
    }
    uint8_t d[32];
    unsigned int dl = 0;
    bool ok = EVP_Digest(pem, (size_t)pn, d, &dl, EVP_sha256(), NULL) && dl == 32;
    BIO_free(mem);
    if (!ok) {
        EVP_PKEY_free(k);
        return HEARTH_FAIL(err, HEARTH_E_UNSUPPORTED, "SHA-256 unavailable");
    }
    sec_hex(d, 32, hint);
    *out = k;
    return HEARTH_OK;
}
