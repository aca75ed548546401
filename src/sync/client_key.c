/*
 * client_key.c: the sync key on the device. The passphrase is never
 * stored. The derived key is cached in a file (default
 * $HEARTH_HOME/sync.key, mode 0600, beside the store) so that background
 * sync (hearth serve --sync-every) runs without asking: the file guards the
 * key exactly as well as the store file guards the plaintext it encrypts
 * (same owner, same permissions), so it gives an attacker nothing the
 * database does not. Deleting the file makes the next sync ask for the
 * passphrase again (HEARTH_SYNC_PASSPHRASE, --passphrase-file, or a prompt).
 *
 * File: "hearth-sync-key 1 <salt hex> <key hex>\n".
 */
#include "sync/client_int.h"

#include "util/error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void hex(const uint8_t *b, size_t n, char *out) {
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[b[i] >> 4];
        out[2 * i + 1] = d[b[i] & 15];
    }
    out[2 * n] = '\0';
}

static bool unhex(const char *s, uint8_t *out, size_t n) {
    if (strlen(s) != 2 * n) return false;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1) return false;
        out[i] = (uint8_t)v;
    }
    return true;
}

hearth_status sync_key_save(hearth_sync *s, const uint8_t salt[SYNC_SALT_BYTES],
                            hearth_error *err) {
    char tmp[4200], sh[2 * SYNC_SALT_BYTES + 1], kh[2 * SYNC_KEY_BYTES + 1];
    snprintf(tmp, sizeof tmp, "%s.tmp", s->key_file);
    hex(salt, SYNC_SALT_BYTES, sh);
    hex(s->key.key, SYNC_KEY_BYTES, kh);
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return HEARTH_FAIL(err, HEARTH_E_IO, "%s: %s", tmp, strerror(errno));
    char line[256];
    int n = snprintf(line, sizeof line, "hearth-sync-key 1 %s %s\n", sh, kh);
    bool ok = write(fd, line, (size_t)n) == n && fsync(fd) == 0;
    memset(line, 0, sizeof line);
    memset(kh, 0, sizeof kh);
    close(fd);
    if (!ok || rename(tmp, s->key_file) != 0) {
        unlink(tmp);
        return HEARTH_FAIL(err, HEARTH_E_IO, "%s: cannot write the key file", s->key_file);
    }
    return HEARTH_OK;
}

/* Reads the key file; false when absent or malformed. */
static bool key_read(hearth_sync *s, uint8_t salt[SYNC_SALT_BYTES]) {
    FILE *f = fopen(s->key_file, "re");
    if (!f) return false;
    char line[256] = "", sh[80] = "", kh[80] = "";
    int ver = 0;
    bool ok = fgets(line, sizeof line, f) &&
              sscanf(line, "hearth-sync-key %d %70s %70s", &ver, sh, kh) == 3 && ver == 1 &&
              unhex(sh, salt, SYNC_SALT_BYTES) && unhex(kh, s->key.key, SYNC_KEY_BYTES);
    fclose(f);
    memset(line, 0, sizeof line);
    memset(kh, 0, sizeof kh);
    if (!ok) sync_key_wipe(&s->key);
    return ok;
}

hearth_status sync_key_load(hearth_sync *s, sync_reply *r, hearth_error *err) {
    *r = (sync_reply){0};
    if (s->have_key) return HEARTH_OK;
    uint8_t salt[SYNC_SALT_BYTES];
    if (!s->passphrase && key_read(s, salt)) {
        s->have_key = true;
        return HEARTH_OK;
    }
    if (!s->passphrase)
        return HEARTH_FAIL(err, HEARTH_E_STATE,
                           "no sync key on this device (%s) and no passphrase: set "
                           "HEARTH_SYNC_PASSPHRASE or use --passphrase-file", s->key_file);
    hearth_status st = sync_request(s, "GET", "/v1/keyinfo", NULL, 0, "keyinfo", r, err);
    if (st || r->offline) return st;
    if (r->status != 200) return sync_reply_fail(r, HEARTH_E_STATE, "sync key info", err);
    sync_keyinfo ki;
    if ((st = sync_keyinfo_parse(r->body, r->len, &ki, err))) return st;
    sync_reply_free(r);
    st = sync_key_derive(s->passphrase, ki.salt, ki.opslimit, ki.memlimit, &s->key, err);
    if (!st) st = sync_keycheck_verify(&s->key, ki.check, ki.check_len, err);
    if (!st) st = sync_key_save(s, ki.salt, err);
    if (!st) s->have_key = true;
    else sync_key_wipe(&s->key);
    sync_keyinfo_free(&ki);
    return st;
}
