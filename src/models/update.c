/*
 * update.c: one signed update of a registered model (update.h). The order
 * of the steps is the safety argument: nothing the network sent is parsed
 * before its signature verifies, nothing downloaded is visible before its
 * hash (and signature) verify, and the active version changes in a single
 * atomic registry write after the new version passed the smoke test.
 */
#include "models/update.h"

#include "models/gate.h"
#include "models/manifest.h"
#include "util/alloc.h"
#include "util/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Resolves ref (absolute, "/path" or relative) against base into out. */
static bool url_join(const char *base, const char *ref, char *out, size_t cap) {
    if (strstr(ref, "://")) return snprintf(out, cap, "%s", ref) < (int)cap;
    const char *scheme = strstr(base, "://");
    if (!scheme) return false;
    const char *host_end = strchr(scheme + 3, '/');
    size_t root = host_end ? (size_t)(host_end - base) : strlen(base);
    if (ref[0] == '/') return snprintf(out, cap, "%.*s%s", (int)root, base, ref) < (int)cap;
    const char *q = strpbrk(base + root, "?#");
    size_t blen = q ? (size_t)(q - base) : strlen(base);
    size_t dir = blen;
    while (dir > root && base[dir - 1] != '/') dir--;
    if (dir == root) return snprintf(out, cap, "%.*s/%s", (int)root, base, ref) < (int)cap;
    return snprintf(out, cap, "%.*s%s", (int)dir, base, ref) < (int)cap;
}

/* Writes len bytes to path (a temp file in tmp/; not durable: it is
 * checked and deleted at once). */
static hearth_status put_file(const char *path, const char *buf, size_t len, hearth_error *err) {
    FILE *f = fopen(path, "wb");
    bool ok = f && fwrite(buf, 1, len, f) == len;
    if (f && fclose(f)) ok = false;
    if (!ok) {
        unlink(path);
        return HEARTH_FAIL(err, HEARTH_E_IO, "cannot write %s", path);
    }
    return HEARTH_OK;
}

/* Downloads the manifest and its .minisig, verifies, parses. */
static hearth_status get_manifest(registry *r, const models_update_params *p, const char *url,
                                  manifest *m, char signed_by[128], uint64_t *bytes_in,
                                  hearth_error *err) {
    char *mbuf = NULL, *sbuf = NULL;
    size_t mlen = 0, slen = 0;
    char surl[4200];
    if (snprintf(surl, sizeof surl, "%s.minisig", url) >= (int)sizeof surl)
        return HEARTH_FAIL(err, HEARTH_E_ARG, "channel URL too long");
    hearth_status st = models_fetch_small(p->net, url, MANIFEST_MAX_BYTES, &mbuf, &mlen, bytes_in, err);
    if (st) {
        hearth_error_prefix(err, "manifest");
        return st;
    }
    st = models_fetch_small(p->net, surl, 64u << 10, &sbuf, &slen, bytes_in, err);
    if (st) {
        hearth_free(mbuf);
        if (st == HEARTH_E_IO) {
            hearth_error_prefix(err, "manifest signature (the channel must serve MANIFEST.minisig)");
            return HEARTH_E_SIGNATURE;
        }
        return st;
    }
    char mpath[4200], spath[4300];
    snprintf(mpath, sizeof mpath, "%s/manifest-%d.json", registry_tmp_dir(r), (int)getpid());
    snprintf(spath, sizeof spath, "%s.minisig", mpath);
    st = put_file(mpath, mbuf, mlen, err);
    if (!st) st = put_file(spath, sbuf, slen, err);
    if (!st) {
        hearth_verify_params vp = hearth_verify_default_params();
        vp.sig_path = spath;
        vp.pubkey_path = p->pubkey_path;
        vp.trust_dir = p->trust_dir;
        vp.require_signature = true;
        hearth_verify_result vr;
        memset(&vr, 0, sizeof vr);
        st = hearth_verify_file(mpath, &vp, &vr, err);
        if (!st && !vr.signature_ok)
            st = HEARTH_FAIL(err, HEARTH_E_SIGNATURE, "unsigned: no signature was checked");
        if (st) hearth_error_prefix(err, "manifest %s refused", url);
        else snprintf(signed_by, 128, "%s", vr.key_name);
    }
    unlink(mpath);
    unlink(spath);
    if (!st) st = manifest_parse(mbuf, mlen, m, err);
    hearth_free(mbuf);
    hearth_free(sbuf);
    return st;
}

/* The NAME part of "NAME:TAG". */
static void name_part(const char *norm, char *buf, size_t cap) {
    const char *c = strrchr(norm, ':');
    size_t n = c ? (size_t)(c - norm) : strlen(norm);
    snprintf(buf, cap, "%.*s", (int)n, norm);
}

static hearth_status do_update(registry *r, const registry_model *e, const models_update_params *p,
                               models_update_result *res, uint64_t *bytes_in,
                               hearth_error *err) {
    manifest m;
    hearth_status st = get_manifest(r, p, e->channel, &m, res->signed_by, bytes_in, err);
    if (st) return st;
    char mnorm[REGISTRY_NAME_MAX + 1], a[REGISTRY_NAME_MAX + 1], b[REGISTRY_NAME_MAX + 1];
    registry_name_norm(m.name, mnorm, sizeof mnorm, NULL);
    name_part(mnorm, a, sizeof a);
    name_part(e->name, b, sizeof b);
    /* "tiny" in a manifest matches tiny:latest and tiny:q4; "tiny:q4" only that. */
    if (strchr(m.name, ':') ? strcmp(mnorm, e->name) : strcmp(a, b)) {
        st = HEARTH_FAIL(err, HEARTH_E_FORMAT, "the manifest is for '%s', not %s", m.name, e->name);
        goto out;
    }
    if (!manifest_version_ok(&m, hearth_version())) {
        st = HEARTH_FAIL(err, HEARTH_E_UNSUPPORTED, "%s %s needs hearth >= %d.%d.%d (this is %s)",
                         e->name, m.version, m.min_version[0], m.min_version[1],
                         m.min_version[2], hearth_version());
        goto out;
    }
    snprintf(res->version, sizeof res->version, "%s", m.version);
    snprintf(res->notes, sizeof res->notes, "%s", m.notes ? m.notes : "");
    memcpy(res->new_sha256, m.sha256, 65);
    if (!strcmp(e->active->sha256, m.sha256)) {
        res->outcome = MODELS_UPDATE_CURRENT;
        goto out;
    }
    if (e->previous && !strcmp(e->previous->sha256, m.sha256)) {
        /* The user rolled back from exactly this version: keep their choice. */
        res->outcome = MODELS_UPDATE_HELD;
        goto out;
    }
    char url[4200], sigurl[4200];
    if (!url_join(e->channel, m.url, url, sizeof url)) {
        st = HEARTH_FAIL(err, HEARTH_E_FORMAT, "manifest: 'url' can not be resolved");
        goto out;
    }
    models_want w = {.url = url, .sha256 = m.sha256, .size = m.size,
                     .pubkey_path = p->pubkey_path, .trust_dir = p->trust_dir};
    if (m.signature) {
        bool rel = !m.signature_is_url && !strchr(m.signature, '\n');
        if (m.signature_is_url || rel) {
            if (!url_join(e->channel, m.signature, sigurl, sizeof sigurl)) {
                st = HEARTH_FAIL(err, HEARTH_E_FORMAT, "manifest: 'signature' can not be resolved");
                goto out;
            }
            w.sig_url = sigurl;
        } else {
            w.sig_text = m.signature;
        }
    }
    models_fetched f;
    uint64_t got = 0;
    st = models_fetch(r, p->net, &w, &f, &got, err);
    *bytes_in += got;
    res->downloaded = got;
    if (st) goto out;
    if ((st = registry_commit_blob(r, f.path, f.sha256, err))) goto out;
    if (f.sig_path[0] && (st = registry_attach_signature(r, f.sha256, f.sig_path, err))) goto out;
    char blob[4096];
    registry_blob_path(r, f.sha256, blob, sizeof blob);
    if ((st = models_smoke_test(blob, p->n_threads, &res->smoke_ppl, err))) {
        /* The blob stays unreferenced (registry_gc removes it): deleting it
         * here could race another name that just added the same file. */
        hearth_error_prefix(err, "%s %s not installed", e->name, m.version);
        goto out;
    }
    registry_add_params ap = {.version = m.version, .source = url,
                              .signed_by = f.signed_by[0] ? f.signed_by : res->signed_by,
                              .activate = true};
    if ((st = registry_add_version(r, e->name, f.sha256, &ap, err))) goto out;
    res->outcome = MODELS_UPDATE_SWITCHED;
out:
    manifest_free(&m);
    return st;
}

hearth_status models_update(registry *r, const char *name, const models_update_params *p,
                            models_update_result *res, hearth_error *err) {
    if (!r || !name || !p || !res) return HEARTH_FAIL(err, HEARTH_E_ARG, "models_update: NULL");
    memset(res, 0, sizeof *res);
    res->smoke_ppl = -1;
    hearth_status st = registry_reload(r, err);
    if (st) return st;
    const registry_model *e = registry_find(r, name);
    if (!e) return HEARTH_FAIL(err, HEARTH_E_NOTFOUND, "no model named '%s'", name);
    snprintf(res->name, sizeof res->name, "%s", e->name);
    memcpy(res->old_sha256, e->active->sha256, 65);
    if (!e->channel[0])
        return HEARTH_FAIL(err, HEARTH_E_STATE,
                           "%s has no update channel (hearth models channel %s URL)", e->name,
                           e->name);
    /* Copies: the entry is borrowed and registry calls below reload it. */
    registry_version active = *e->active, prev = e->previous ? *e->previous : active;
    char chan[4097], ename[REGISTRY_NAME_MAX + 1];
    snprintf(chan, sizeof chan, "%s", e->channel);
    snprintf(ename, sizeof ename, "%s", e->name);
    registry_model copy = {.name = ename, .channel = chan, .active = &active,
                           .previous = e->previous ? &prev : NULL};
    models_gate g;
    st = models_gate_open(p->settings, "update", chan, p->background, &g, err);
    if (st) return st;
    uint64_t bytes_in = 0;
    st = do_update(r, &copy, p, res, &bytes_in, err);
    char outcome[64];
    if (!st) snprintf(outcome, sizeof outcome, "%s",
                      res->outcome == MODELS_UPDATE_SWITCHED ? "ok: switched"
                      : res->outcome == MODELS_UPDATE_HELD   ? "ok: held (rolled back)"
                                                             : "ok: current");
    else snprintf(outcome, sizeof outcome, "failed: %s", hearth_status_str(st));
    models_gate_done(&g, outcome, (int64_t)bytes_in, -1);
    return st;
}
