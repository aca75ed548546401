/*
 * verify_int.h: the pieces hearth_verify_file (verify.c) is built from, each
 * in a file of its own: hashing (sha256.c), strict base64 (base64.c), the
 * minisign formats (minisign.c), the OpenSSF model-signing bundle
 * (sigstore.c) and the verified-state memory (verify_state.c). Parsers take
 * (buf, len) so that the fuzz targets can call them on any bytes; none of
 * them reads past len or needs a NUL terminator.
 */
#ifndef HEARTH_SECURITY_VERIFY_INT_H
#define HEARTH_SECURITY_VERIFY_INT_H

#include "hearth.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- hashing (sha256.c) -------------------------------------------------- */

typedef struct {
    uint8_t sha256[32];
    uint8_t blake2b[64]; /* BLAKE2b-512, only when asked for */
    uint64_t size;       /* bytes hashed */
} sec_digests;

/* Hashes everything readable from fd (from its current offset to EOF) with
 * SHA-256 and, if want_blake2b, BLAKE2b-512 (a regular file from offset 0
 * is mapped, BLAKE2b on a second thread; else read in blocks). name is used
 * in messages only. Errors: HEARTH_E_IO (read), HEARTH_E_NOMEM,
 * HEARTH_E_UNSUPPORTED (libcrypto has no SHA-256). Any thread. */
hearth_status sec_hash_fd(int fd, const char *name, bool want_blake2b, sec_digests *out,
                          hearth_error *err);

/* n bytes as 2n lowercase hex digits plus a NUL. */
void sec_hex(const uint8_t *d, size_t n, char *out);

/* ---- base64 (base64.c) ------------------------------------------------------ */

/* Decodes standard base64 (RFC 4648 section 4, '=' padding required to a
 * multiple of 4) from in[0..len) into out (capacity cap). url_ok also
 * accepts the URL-safe alphabet ('-', '_') and missing padding, as
 * protobuf's JSON form allows. False on any other character, bad padding,
 * non-zero trailing bits or an output longer than cap. OUT: *out_len. */
bool sec_b64_decode(const char *in, size_t len, bool url_ok, uint8_t *out, size_t cap,
                    size_t *out_len);

/* ---- minisign (minisign.c) ------------------------------------------------------ */

#define SEC_MINISIGN_COMMENT_MAX 8192 /* minisign's own limit for the trusted comment */

typedef struct {
    uint8_t key_id[8]; /* as stored (little-endian) */
    uint8_t pk[32];    /* Ed25519 public key */
} sec_minisign_key;

typedef struct {
    bool prehashed;    /* "ED": the signature is over BLAKE2b-512 of the file */
    uint8_t key_id[8];
    uint8_t sig[64];   /* over the file (or its BLAKE2b-512) */
    char trusted_comment[SEC_MINISIGN_COMMENT_MAX + 1]; /* NUL-terminated */
    size_t trusted_comment_len;
    uint8_t global_sig[64]; /* over sig || trusted comment */
} sec_minisign_sig;

/* Parses a minisign public key file ("untrusted comment:" line, optional,
 * then the base64 of "Ed" + key id + key). HEARTH_E_FORMAT with what is
 * wrong (and the line) in err. Any thread. */
hearth_status sec_minisign_key_parse(const void *buf, size_t len, sec_minisign_key *out,
                                     hearth_error *err);

/* Parses a .minisig file (four lines: untrusted comment, base64 signature
 * with its algorithm "Ed" or "ED" and key id, trusted comment, base64
 * global signature). HEARTH_E_FORMAT with what is wrong in err. */
hearth_status sec_minisign_sig_parse(const void *buf, size_t len, sec_minisign_sig *out,
                                     hearth_error *err);

/* True when the global signature (over sig || trusted comment) verifies
 * under k: the signature lines are exactly as the key's holder wrote them. */
bool sec_minisign_global_ok(const sec_minisign_sig *s, const sec_minisign_key *k);

/* True when s's file signature verifies under k: for "ED" over blake2b (64
 * bytes), for legacy "Ed" over msg[0..len). */
bool sec_minisign_file_ok(const sec_minisign_sig *s, const sec_minisign_key *k,
                          const uint8_t blake2b[64], const void *msg, size_t len);

/* The key id as minisign prints it (16 uppercase hex digits). */
void sec_minisign_key_id_str(const uint8_t id[8], char out[17]);

/* ---- OpenSSF model-signing bundle (sigstore.c) ---------------------------------- */

typedef struct sec_bundle sec_bundle;
struct evp_pkey_st;

/* Parses a sigstore bundle (JSON) holding a DSSE envelope: payloadType,
 * payload and signatures decoded; the statement inside is not read yet.
 * OUT: *out owns the bundle (sec_bundle_free). HEARTH_E_FORMAT with what
 * is wrong; HEARTH_E_NOMEM. Any thread. */
hearth_status sec_bundle_parse(const void *buf, size_t len, sec_bundle **out, hearth_error *err);
void sec_bundle_free(sec_bundle *b);

/* The key hint (verificationMaterial.publicKey.hint: lowercase hex SHA-256
 * of the signer's PEM public key) or NULL when the bundle has none.
 * Borrowed from b. */
const char *sec_bundle_hint(const sec_bundle *b);

/* True when one of the envelope's signatures is a valid ECDSA P-256 /
 * SHA-256 signature (DER, or 64-byte r||s as WebCrypto writes it) of the
 * DSSE PAE of the payload under key. */
bool sec_bundle_sig_ok(const sec_bundle *b, struct evp_pkey_st *key);

/* Looks for the SHA-256 sha_hex (lowercase) among the files the signed
 * in-toto statement lists. HEARTH_OK when found (the resource's name into
 * name, capacity cap); HEARTH_E_NOTFOUND when not listed; HEARTH_E_FORMAT
 * when the statement is malformed (wrong types, a root digest that does not
 * match the resources, an unsupported predicate or serialization). Call only
 * after sec_bundle_sig_ok: the statement is trusted input from then on, but
 * is still parsed with every check. */
hearth_status sec_bundle_find_digest(const sec_bundle *b, const char *sha_hex, char *name,
                                     size_t cap, hearth_error *err);

/* Parses a PEM public key that must be EC P-256. OUT: *out owns the key
 * (EVP_PKEY_free); hint gets the lowercase hex SHA-256 of the key in
 * canonical PEM (SubjectPublicKeyInfo), the form model_signing's hint uses.
 * HEARTH_E_FORMAT when it is not a P-256 PEM public key. */
hearth_status sec_pem_key_parse(const void *buf, size_t len, struct evp_pkey_st **out,
                                char hint[65], hearth_error *err);

/* ---- verified-state memory (verify_state.c) --------------------------------------- */

/* What identifies a file's bytes without reading them, plus what it was
 * verified with. */
typedef struct {
    uint64_t dev, ino, size;
    int64_t mtime_ns, ctime_ns;
    char sha256[65];
    int kind;            /* hearth_sig_kind */
    char sig_fp[65];     /* SHA-256 of the signature file's bytes ("-" unsigned) */
    char key_fp[65];     /* SHA-256 of the key file's bytes ("-" unsigned) */
    char key_name[128];
} sec_state_entry;

/* Finds path's entry in the state file. True and *out filled when there is
 * one; false when none, the file is missing or unreadable (the state is an
 * optimization: reading it never fails the caller). Any thread. */
bool sec_state_lookup(const char *state_path, const char *path, sec_state_entry *out);

/* Records (e non-NULL) or forgets (e NULL) path's entry: under an exclusive
 * lock on state_path.lock, the file is rewritten to a temporary and renamed
 * over, so readers see the old or the new file whole. HEARTH_E_IO on
 * failure (callers may ignore it). Any thread, any process. */
hearth_status sec_state_store(const char *state_path, const char *path,
                              const sec_state_entry *e, hearth_error *err);

/* Parses the state file's bytes (the fuzzable part): calls fn for each
 * well-formed entry; malformed lines are skipped. */
void sec_state_parse(const char *buf, size_t len,
                     void (*fn)(void *user, const char *path, const sec_state_entry *e),
                     void *user);

#endif
