/*
 * load_progress.c: a progress line while a large model file is first read
 * (cli_load_progress in cli.h). Reading it once through the page cache, with
 * the line updated as it goes, is what makes the loads after it (hashing
 * for the response cache, mapping, the first answer) quick; on a pipe, or
 * for a small file, nothing is read here and nothing printed.
 */
#include "cli.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MIN_BYTES (256ull << 20) /* smaller files load in a blink */
#define CHUNK (4u << 20)

void cli_load_progress(const char *cmd, const char *path, bool quiet) {
    if (quiet || !path || !isatty(STDERR_FILENO)) return;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return; /* the real open reports why */
    struct stat st;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode) || (unsigned long long)st.st_size < MIN_BYTES) {
        close(fd);
        return;
    }
    char *buf = malloc(CHUNK);
    if (!buf) {
        close(fd);
        return;
    }
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    unsigned long long total = (unsigned long long)st.st_size, have = 0;
    int last = -1;
    bool color = cli_color();
    for (;;) {
        ssize_t n = read(fd, buf, CHUNK);
        if (n <= 0) break;
        have += (unsigned long long)n;
        int pct = (int)(100.0 * (double)have / (double)total);
        if (pct == last) continue;
        last = pct;
        char bar[31];
        for (int i = 0; i < 30; i++) bar[i] = i < pct * 30 / 100 ? '#' : '.';
        bar[30] = '\0';
        fprintf(stderr, "\r%shearth %s: loading ", color ? "\033[2m" : "", cmd);
        cli_put_safe(stderr, name, strlen(name), CLI_SAFE_LINE);
        fprintf(stderr, " [%s] %3d%% of %.1f GiB%s", bar, pct, (double)total / (1 << 30),
                color ? "\033[0m" : "");
    }
    /* the line is gone once the model is in */
    fputs("\r\033[K", stderr);
    free(buf);
    close(fd);
}
