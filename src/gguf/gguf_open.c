/*
 * gguf_open.c: opening a GGUF file (read-only private mmap, so tensor data is
 * never copied and pages load on first touch) or a caller's buffer, and
 * freeing the handle. Validation itself is gguf_parse.c's job.
 */
#include "gguf/gguf_int.h"

#include "util/alloc.h"
#include "util/error.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static hearth_status finish_open(hearth_gguf *g, hearth_gguf **out, hearth_error *err) {
    hearth_status st = gguf_parse(g, err);
    if (st) {
        hearth_gguf_free(g);
        return st;
    }
    hearth_error_clear(err);
    *out = g;
    return HEARTH_OK;
}

hearth_gguf_params hearth_gguf_default_params(void) {
    hearth_gguf_params p = {.allow_unsupported_types = false};
    return p;
}

static hearth_status open_buffer(const void *buf, size_t len, const hearth_gguf_params *p,
                                 hearth_gguf **out, hearth_error *err) {
    if (!buf && len) return HEARTH_FAIL(err, HEARTH_E_ARG, "gguf: buffer is NULL");
    hearth_gguf *g = hearth_calloc(1, sizeof *g);
    if (!g) return HEARTH_FAIL(err, HEARTH_E_NOMEM, "gguf: out of memory");
    static const uint8_t empty[1];
    g->base = buf ? buf : empty;
    g->len = len;
    g->allow_unsupported = p->allow_unsupported_types;
    return finish_open(g, out, err);
}

static hearth_status open_file(const char *path, const hearth_gguf_params *p, hearth_gguf **out,
                               hearth_error *err) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return HEARTH_FAIL(err, HEARTH_E_IO, "%s: %s", path, strerror(errno));
    struct stat stt;
    if (fstat(fd, &stt) < 0) {
        int e = errno;
        close(fd);
        return HEARTH_FAIL(err, HEARTH_E_IO, "%s: %s", path, strerror(e));
    }
    if (!S_ISREG(stt.st_mode)) {
        close(fd);
        return HEARTH_FAIL(err, HEARTH_E_IO, "%s: not a regular file", path);
    }
    if (stt.st_size == 0) {
        close(fd);
        return HEARTH_FAIL(err, HEARTH_E_FORMAT, "%s: empty file, not GGUF", path);
    }
    size_t len = (size_t)stt.st_size;
    void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd); /* the mapping keeps the file alive */
    if (map == MAP_FAILED) return HEARTH_FAIL(err, HEARTH_E_IO, "%s: mmap: %s", path, strerror(e));

    hearth_gguf *g = hearth_calloc(1, sizeof *g);
    if (!g) {
        munmap(map, len);
        return HEARTH_FAIL(err, HEARTH_E_NOMEM, "%s: out of memory", path);
    }
    g->base = map;
    g->len = len;
    g->map = map;
    g->map_len = len;
    g->allow_unsupported = p->allow_unsupported_types;
    hearth_status st = finish_open(g, out, err);
    if (st) hearth_error_prefix(err, "%s", path);
    return st;
}

hearth_status hearth_gguf_open_ex(const char *path, const void *buf, size_t len,
                                  const hearth_gguf_params *p, hearth_gguf **out,
                                  hearth_error *err) {
    if (!out) return HEARTH_FAIL(err, HEARTH_E_ARG, "gguf: out is NULL");
    *out = NULL;
    hearth_gguf_params def = hearth_gguf_default_params();
    if (!p) p = &def;
    if (buf) return open_buffer(buf, len, p, out, err);
    if (!path) return HEARTH_FAIL(err, HEARTH_E_ARG, "gguf: neither path nor buffer given");
    return open_file(path, p, out, err);
}

hearth_status hearth_gguf_open_buffer(const void *buf, size_t len, hearth_gguf **out,
                                      hearth_error *err) {
    if (!out) return HEARTH_FAIL(err, HEARTH_E_ARG, "gguf: out is NULL");
    *out = NULL;
    return open_buffer(buf, len, &(hearth_gguf_params){0}, out, err);
}

hearth_status hearth_gguf_open(const char *path, hearth_gguf **out, hearth_error *err) {
    if (!out) return HEARTH_FAIL(err, HEARTH_E_ARG, "gguf: out is NULL");
    *out = NULL;
    if (!path) return HEARTH_FAIL(err, HEARTH_E_ARG, "gguf: path is NULL");
    return open_file(path, &(hearth_gguf_params){0}, out, err);
}

void hearth_gguf_free(hearth_gguf *g) {
    if (!g) return;
    gguf_release(g);
    if (g->map) munmap(g->map, g->map_len);
    hearth_free(g);
}

uint32_t hearth_gguf_version(const hearth_gguf *g) { return g->version; }
size_t hearth_gguf_alignment(const hearth_gguf *g) { return g->alignment; }
uint64_t hearth_gguf_data_offset(const hearth_gguf *g) { return g->data_offset; }
uint64_t hearth_gguf_file_size(const hearth_gguf *g) { return g->len; }
