/*
 * seclog.c: append-only security log (see seclog.h).
 */
#include "server/seclog.h"

#include "util/alloc.h"
#include "util/error.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct srv_seclog {
    int fd;
    pthread_mutex_t mu;
};

hearth_status srv_seclog_open(const char *path, srv_seclog **out, hearth_error *err) {
    *out = NULL;
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return HEARTH_FAIL(err, HEARTH_E_IO, "security log '%s': %s", path, strerror(errno));
    srv_seclog *l = hearth_calloc(1, sizeof *l);
    if (!l) {
        close(fd);
        return HEARTH_FAIL(err, HEARTH_E_NOMEM, "out of memory");
    }
    l->fd = fd;
    pthread_mutex_init(&l->mu, NULL);
    *out = l;
    return HEARTH_OK;
}

void srv_seclog_free(srv_seclog *l) {
    if (!l) return;
    close(l->fd);
    pthread_mutex_destroy(&l->mu);
    hearth_free(l);
}

/* Copies s into dst keeping printable ASCII only, so a client can't forge
 * log lines. */
static void clean(char *dst, size_t cap, const char *s) {
    size_t j = 0;
    for (size_t i = 0; s && s[i] && j + 1 < cap; i++)
        dst[j++] = (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"') ? s[i] : '?';
    dst[j] = '\0';
}

void srv_seclog_write(srv_seclog *l, const char *client, const char *route, unsigned status,
                      const char *reason) {
    if (!l) return;
    char c[64], r[64], why[160], ts[32], line[400];
    clean(c, sizeof c, client);
    clean(r, sizeof r, route);
    clean(why, sizeof why, reason);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    int n = snprintf(line, sizeof line, "%s client=%s route=%s status=%u reason=\"%s\"\n", ts, c,
                     r, status, why);
    if (n < 0) return;
    if ((size_t)n >= sizeof line) n = sizeof line - 1;
    pthread_mutex_lock(&l->mu);
    /* One write per line with O_APPEND keeps lines whole. */
    ssize_t w = write(l->fd, line, (size_t)n);
    (void)w;
    pthread_mutex_unlock(&l->mu);
}
