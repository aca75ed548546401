/*
 * minisign.c: minisign's public key and signature files, and the Ed25519
 * checks on them (libsodium).
 *
 * Public key file: an optional "untrusted comment: ..." line, then one line
 * of base64 of 42 bytes: "Ed" (the algorithm), the 8-byte key id, the
 * 32-byte Ed25519 key.
 * Signature file (.minisig), four lines:
 *   untrusted comment: <anything>
 *   base64 of 74 bytes: "ED" (prehashed: the file's BLAKE2b-512 is signed)
 *                       or "Ed" (legacy: the file itself is signed),
 *                       the key id, the 64-byte signature
 *   trusted comment: <text>
 *   base64 of the 64-byte global signature over signature || <text>
 * Lines end in "\n" (or "\r\n"); empty lines after the fourth are allowed,
 * anything else is refused. All reading goes through the cursor.
 */
#include "security/verify_int.h"

#include "util/cursor.h"
#include "util/error.h"

#include <sodium.h>
#include <string.h>

#define LINE_MAX_BYTES (SEC_MINISIGN_COMMENT_MAX + 64)

static const char UNTRUSTED[] = "untrusted comment: ";
static const char TRUSTED[] = "trusted comment: ";

/* Takes the next line (without its "\n" / "\r\n") from r. False at the end
 * of the input. *too_long when the line is longer than LINE_MAX_BYTES;
 * *has_nul when it holds a NUL byte. */
static bool next_line(rd *r, const char **line, size_t *len, bool *too_long, bool *has_nul) {
    *too_long = *has_nul = false;
    if (r->left == 0) return false;
    const uint8_t *nl = memchr(r->p, '\n', r->left);
    size_t n = nl ? (size_t)(nl - r->p) : r->left;
    const uint8_t *p;
    if (!rd_take(r, n, &p)) return false;
    if (nl) rd_skip(r, 1);
    if (n && p[n - 1] == '\r') n--;
    *line = (const char *)p;
    *len = n;
    *too_long = n > LINE_MAX_BYTES;
    *has_nul = memchr(p, '\0', n) != NULL;
    return true;
}

static bool starts_with(const char *s, size_t n, const char *prefix) {
    size_t pl = strlen(prefix);
    return n >= pl && !memcmp(s, prefix, pl);
}

/* Only empty lines may follow. */
static bool rest_empty(rd *r) {
    const char *l;
    size_t n;
    bool tl, nul;
    while (next_line(r, &l, &n, &tl, &nul))
        if (n) return false;
    return true;
}

hearth_status sec_minisign_key_parse(const void *buf, size_t len, sec_minisign_key *out,
                                     hearth_error *err) {
    memset(out, 0, sizeof *out);
    rd r = rd_init(buf, len);
    const char *l;
    size_t n;
    bool tl, nul;
    int lineno = 1;
    if (!next_line(&r, &l, &n, &tl, &nul))
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "empty key file");
    if (tl || nul)
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "line 1: %s", tl ? "too long" : "NUL byte");
    if (starts_with(l, n, UNTRUSTED)) {
        lineno = 2;
        if (!next_line(&r, &l, &n, &tl, &nul))
            return HEARTH_FAIL(err, HEARTH_E_FORMAT, "no key line after the comment");
        if (tl || nul)
            return HEARTH_FAIL(err, HEARTH_E_FORMAT, "line 2: %s", tl ? "too long" : "NUL byte");
    }
    uint8_t raw[64];
    size_t rl = 0;
    if (!sec_b64_decode(l, n, false, raw, sizeof raw, &rl))
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "line %d: not base64", lineno);
    if (rl != 42)
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "line %d: %zu bytes, a minisign key has 42",
                           lineno, rl);
    if (raw[0] != 'E' || raw[1] != 'd')
        return HEARTH_FAIL(err, HEARTH_E_FORMAT,
                           "line %d: algorithm 0x%02x%02x, expected \"Ed\" (Ed25519)", lineno,
                           raw[0], raw[1]);
    if (!rest_empty(&r))
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "unexpected text after the key line");
    memcpy(out->key_id, raw + 2, 8);
    memcpy(out->pk, raw + 10, 32);
    return HEARTH_OK;
}

hearth_status sec_minisign_sig_parse(const void *buf, size_t len, sec_minisign_sig *out,
                                     hearth_error *err) {
    memset(out, 0, sizeof *out);
    rd r = rd_init(buf, len);
    const char *line[4];
    size_t n[4];
    for (int i = 0; i < 4; i++) {
        bool tl, nul;
        if (!next_line(&r, &line[i], &n[i], &tl, &nul))
            return HEARTH_FAIL(err, HEARTH_E_FORMAT, "%d lines, a minisign signature has 4", i);
        if (tl) return HEARTH_FAIL(err, HEARTH_E_FORMAT, "line %d: too long", i + 1);
        if (nul) return HEARTH_FAIL(err, HEARTH_E_FORMAT, "line %d: NUL byte", i + 1);
    }
    if (!starts_with(line[0], n[0], UNTRUSTED))
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "line 1: expected \"%s...\"", UNTRUSTED);
    uint8_t raw[80];
    size_t rl = 0;
    if (!sec_b64_decode(line[1], n[1], false, raw, sizeof raw, &rl))
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "line 2: not base64");
    if (rl != 74)
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "line 2: %zu bytes, a signature has 74", rl);
    if (raw[0] == 'E' && raw[1] == 'D') out->prehashed = true;
    else if (raw[0] == 'E' && raw[1] == 'd') out->prehashed = false;
    else
        return HEARTH_FAIL(err, HEARTH_E_FORMAT,
                           "line 2: algorithm 0x%02x%02x, expected \"ED\" or \"Ed\"", raw[0],
                           raw[1]);
    memcpy(out->key_id, raw + 2, 8);
    memcpy(out->sig, raw + 10, 64);
    if (!starts_with(line[2], n[2], TRUSTED))
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "line 3: expected \"%s...\"", TRUSTED);
    size_t tl = n[2] - strlen(TRUSTED);
    if (tl > SEC_MINISIGN_COMMENT_MAX)
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "line 3: trusted comment longer than %d bytes",
                           SEC_MINISIGN_COMMENT_MAX);
    memcpy(out->trusted_comment, line[2] + strlen(TRUSTED), tl);
    out->trusted_comment[tl] = '\0';
    out->trusted_comment_len = tl;
    if (!sec_b64_decode(line[3], n[3], false, raw, sizeof raw, &rl))
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "line 4: not base64");
    if (rl != 64)
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "line 4: %zu bytes, a global signature has 64",
                           rl);
    memcpy(out->global_sig, raw, 64);
    if (!rest_empty(&r))
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "unexpected text after line 4");
    return HEARTH_OK;
}

bool sec_minisign_global_ok(const sec_minisign_sig *s, const sec_minisign_key *k) {
    if (sodium_init() < 0) return false;
    uint8_t msg[64 + SEC_MINISIGN_COMMENT_MAX];
    memcpy(msg, s->sig, 64);
    memcpy(msg + 64, s->trusted_comment, s->trusted_comment_len);
    return crypto_sign_verify_detached(s->global_sig, msg, 64 + s->trusted_comment_len, k->pk) ==
           0;
}

bool sec_minisign_file_ok(const sec_minisign_sig *s, const sec_minisign_key *k,
                          const uint8_t blake2b[64], const void *msg, size_t len) {
    if (sodium_init() < 0) return false;
    if (s->prehashed) return blake2b && crypto_sign_verify_detached(s->sig, blake2b, 64, k->pk) == 0;
    if (!msg && len) return false;
    return crypto_sign_verify_detached(s->sig, msg ? msg : (const void *)"", len, k->pk) == 0;
}

void sec_minisign_key_id_str(const uint8_t id[8], char out[17]) {
    /* minisign prints the id as a little-endian 64-bit number in hex
     * without leading zeros (printf's PRIX64), in its key files' comments
     * too: the same digits here, so a user can compare them */
    static const char hx[] = "0123456789ABCDEF";
    char full[16];
    for (int i = 0; i < 8; i++) {
        full[2 * i] = hx[id[7 - i] >> 4];
        full[2 * i + 1] = hx[id[7 - i] & 15];
    }
    int skip = 0;
    while (skip < 15 && full[skip] == '0') skip++;
    memcpy(out, full + skip, (size_t)(16 - skip));
    out[16 - skip] = '\0';
}
