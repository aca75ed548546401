/*
 * safe_text.c: printing text that hearth did not write (session names,
 * messages, task titles and tags, GGUF keys and strings) so that it cannot
 * drive the terminal. Such text may come from anywhere: a web page can POST
 * a chat request with a session name holding ESC [ 2J, a GGUF file can name
 * a tensor ESC ] 0 ; title BEL. Every byte that a terminal could act on is
 * shown as a visible escape instead:
 *
 *   C0 controls and DEL     \n \r \t as such, the rest \xNN (ESC is \x1b)
 *   C1 controls U+0080-9F   \uNNNN (U+009B is an 8-bit CSI in UTF-8 terminals)
 *   bytes not valid UTF-8   \xNN (a lone 0x9B is CSI to an 8-bit terminal);
 *                           overlong forms, surrogates and values past
 *                           U+10FFFF count as invalid
 *
 * Everything else (printable ASCII, valid UTF-8 from U+00A0 up) is written
 * unchanged. The human output of the CLI escapes always, whether or not
 * stdout is a terminal: text piped to a file or a pager reaches a terminal
 * later just the same. JSON output needs none of this (jansson writes
 * control characters as \uNNNN), only valid UTF-8: cli_json_str puts
 * U+FFFD in place of each byte that is not (jansson refuses such a string,
 * and a json_stringn_nocheck one makes the whole json_dumps fail).
 */
#include "cli.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at s[0..n) (0 if the bytes there are
 * not one); *cp gets its code point. */
static size_t utf8_seq(const unsigned char *s, size_t n, uint32_t *cp) {
    unsigned char c = s[0];
    size_t len;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) len = 2, v = c & 0x1F, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF) len = 3, v = c & 0x0F, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4) len = 4, v = c & 0x07, min = 0x10000;
    else return 0;
    if (len > n) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
    *cp = v;
    return len;
}

/* Appends text[0..n) to out (or counts it when out is NULL). */
static void emit(char *out, size_t *k, const char *text, size_t n) {
    if (out) memcpy(out + *k, text, n);
    *k += n;
}

/* The escaped form of s[0..n) into out (NULL: only measure); returns its
 * length. Every input byte turns into at most 6 output bytes. */
static size_t escape(const char *s, size_t n, cli_safe_mode mode, char *out) {
    const unsigned char *u = (const unsigned char *)s;
    size_t k = 0;
    char buf[8];
    for (size_t i = 0; i < n;) {
        uint32_t cp = 0;
        size_t len = utf8_seq(u + i, n - i, &cp);
        if (len == 0) {
            snprintf(buf, sizeof buf, "\\x%02x", u[i]);
            emit(out, &k, buf, 4);
            i++;
            continue;
        }
        if (cp == '\n' && mode == CLI_SAFE_TEXT) emit(out, &k, "\n", 1);
        else if (cp == '\t' && mode == CLI_SAFE_TEXT) emit(out, &k, "\t", 1);
        else if (cp == '\n') emit(out, &k, "\\n", 2);
        else if (cp == '\t') emit(out, &k, "\\t", 2);
        else if (cp == '\r') emit(out, &k, "\\r", 2);
        else if ((cp == '"' || cp == '\\') && mode == CLI_SAFE_QUOTED) {
            buf[0] = '\\';
            buf[1] = (char)cp;
            emit(out, &k, buf, 2);
        } else if (cp < 0x20 || cp == 0x7F) {
            snprintf(buf, sizeof buf, "\\x%02x", (unsigned)cp);
            emit(out, &k, buf, 4);
        } else if (cp >= 0x80 && cp <= 0x9F) {
            snprintf(buf, sizeof buf, "\\u%04x", (unsigned)cp);
            emit(out, &k, buf, 6);
        } else {
            emit(out, &k, s + i, len);
        }
        i += len;
    }
    return k;
}

void cli_put_safe(FILE *f, const char *s, size_t n, cli_safe_mode mode) {
    if (!s) return;
    char stackbuf[1024];
    /* short strings in one go; long ones in slices that end on a sequence
     * boundary, so nothing is allocated */
    for (size_t i = 0; i < n;) {
        size_t take = n - i < 160 ? n - i : 160;
        /* do not split a valid sequence: back up over continuation bytes */
        if (i + take < n) {
            size_t t = take;
            while (t > take - 4 && t > 1 && ((unsigned char)s[i + t] & 0xC0) == 0x80) t--;
            take = t;
        }
        size_t m = escape(s + i, take, mode, stackbuf);
        fwrite(stackbuf, 1, m, f);
        i += take;
    }
}

char *cli_safe_dup(const char *s, cli_safe_mode mode) {
    if (!s) s = "";
    size_t n = strlen(s);
    size_t m = escape(s, n, mode, NULL);
    char *out = malloc(m + 1);
    if (!out) return NULL;
    escape(s, n, mode, out);
    out[m] = '\0';
    return out;
}

json_t *cli_json_str(const char *s) {
    if (!s) s = "";
    json_t *j = json_string(s);
    if (j) return j;
    size_t n = strlen(s), k = 0;
    char *fixed = malloc(3 * n + 1); /* each bad byte becomes EF BF BD */
    if (!fixed) return NULL;
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t len = utf8_seq(u + i, n - i, &cp);
        if (len == 0) {
            memcpy(fixed + k, "\xEF\xBF\xBD", 3);
            k += 3;
            i++;
        } else {
            memcpy(fixed + k, s + i, len);
            k += len;
            i += len;
        }
    }
    fixed[k] = '\0';
    j = json_string(fixed);
    free(fixed);
    return j;
}
