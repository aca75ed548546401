/*
 * webdir.c: static files of the web app under /web/ (webdir.h). Every
 * answer carries Cross-Origin-Opener-Policy: same-origin and
 * Cross-Origin-Embedder-Policy: require-corp (the page is then
 * crossOriginIsolated: SharedArrayBuffer, hence wasm threads) and
 * Cache-Control: no-cache (the service worker keeps the offline copy).
 */
#include "server/webdir.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool srv_web_path(const char *url) {
    size_t n = strlen(SRV_WEB_PREFIX) - 1; /* "/web" */
    return !strncmp(url, SRV_WEB_PREFIX, n) && (url[n] == '\0' || url[n] == '/');
}

static const char *mime_of(const char *path) {
    static const struct { const char *ext, *type; } types[] = {
        {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"}, {".wasm", "application/wasm"},
        {".css", "text/css; charset=utf-8"}, {".json", "application/json"},
        {".png", "image/png"}, {".svg", "image/svg+xml"}, {".txt", "text/plain; charset=utf-8"},
    };
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (!strcmp(dot, types[i].ext)) return types[i].type;
    return "application/octet-stream";
}

static void add_headers(struct MHD_Response *r) {
    MHD_add_response_header(r, "Cross-Origin-Opener-Policy", "same-origin");
    MHD_add_response_header(r, "Cross-Origin-Embedder-Policy", "require-corp");
    MHD_add_response_header(r, "Cross-Origin-Resource-Policy", "same-origin");
    MHD_add_response_header(r, "Cache-Control", "no-cache");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
}

static struct MHD_Response *text(unsigned code, const char *msg, unsigned *status) {
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(msg), (void *)msg, MHD_RESPMEM_PERSISTENT);
    if (!r) return NULL;
    MHD_add_response_header(r, "Content-Type", "text/plain; charset=utf-8");
    add_headers(r);
    *status = code;
    return r;
}

/* A relative path with no segment starting with '.' and no backslash. */
static bool safe_rel(const char *rel) {
    if (strchr(rel, '\\')) return false;
    for (const char *p = rel; *p;) {
        if (*p == '.') return false;
        const char *slash = strchr(p, '/');
        if (!slash) break;
        p = slash + 1;
    }
    return true;
}

struct MHD_Response *srv_web_answer(const char *dir, const char *url, unsigned *status) {
    size_t n = strlen(SRV_WEB_PREFIX) - 1;
    if (url[n] == '\0') {
        struct MHD_Response *r = text(301, "see /web/\n", status);
        if (r) MHD_add_response_header(r, "Location", SRV_WEB_PREFIX);
        return r;
    }
    const char *rel = url + n + 1;
    if (!safe_rel(rel)) return text(404, "not found\n", status);
    char root[PATH_MAX], path[PATH_MAX], real[PATH_MAX];
    if (!realpath(dir, root)) return text(404, "not found\n", status);
    int len = snprintf(path, sizeof path, "%s/%s%s", root, rel,
                       (!*rel || rel[strlen(rel) - 1] == '/') ? "index.html" : "");
    if (len < 0 || (size_t)len >= sizeof path || !realpath(path, real))
        return text(404, "not found\n", status);
    size_t rl = strlen(root);
    if (strncmp(real, root, rl) || real[rl] != '/') return text(404, "not found\n", status);
    int fd = open(real, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0) return text(404, "not found\n", status);
    if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        close(fd);
        return text(404, "not found\n", status);
    }
    /* the response owns fd from here (MHD closes it) */
    struct MHD_Response *r = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
    if (!r) {
        close(fd);
        return NULL;
    }
    MHD_add_response_header(r, "Content-Type", mime_of(real));
    add_headers(r);
    *status = 200;
    return r;
}
