/*
 * redact_detect.c: the detectors behind redact_find. Hand-written scanners,
 * no regular expressions: one pass over the text visits each word start
 * once, and every detector tried there looks at a bounded window (at most a
 * few hundred bytes; a PEM block at most 16 KiB and then it is skipped), so
 * the whole scan is linear in the input.
 *
 * The pass: at every start of a run of word characters (ASCII letters and
 * digits, non-ASCII letters) the detectors for its first character are tried
 * (digits: SSN, card, IPv4/IPv6, date of birth, phone, address, postcode;
 * letters: IBAN, key prefixes and high-entropy tokens, "password: ..."
 * values, month-name dates, street-first addresses, UK/Canadian postcodes);
 * a few punctuation characters start detectors of their own ('@' e-mail,
 * '+' and '(' phone, '-' PEM blocks, ':' IPv6 "::"). The user's terms are
 * tried at every word boundary. A match moves the pass to its end.
 *
 * Candidates are then sorted; overlapping ones are merged into one span
 * (the longer one's kind), so more is redacted, never less.
 *
 * Precision guards (what must NOT be redacted): version numbers (a dotted
 * quad after "version", "v", "release"... is not an IP), dates without a
 * birth context, plain numbers, prices, arithmetic, hashes and UUIDs
 * (hex-only tokens are not secrets), code identifiers (a "password = expr"
 * whose value is an identifier or a call is not a password).
 */
#include "router/redact_int.h"

#include "util/alloc.h"
#include "util/error.h"

#include <stdlib.h>
#include <string.h>

typedef const unsigned char uc;

typedef struct {
    uc *s;
    size_t n;
    const redact_config *c;
    uint32_t kinds; /* c->kinds */
    redact_span *v;
    size_t nv, cap;
    bool failed;
    size_t tok_end; /* the high-entropy check has covered text before this */
} scan;

static void add(scan *sc, size_t start, size_t end, redact_kind k) {
    if (start >= end || !(sc->kinds & (1u << k))) return;
    if (sc->nv == sc->cap) {
        size_t cap = sc->cap ? sc->cap * 2 : 32;
        redact_span *v = hearth_realloc(sc->v, cap * sizeof *v);
        if (!v) {
            sc->failed = true;
            return;
        }
        sc->v = v;
        sc->cap = cap;
    }
    sc->v[sc->nv++] = (redact_span){start, end, k};
}

static inline bool on(const scan *sc, redact_kind k) { return (sc->kinds >> k) & 1u; }

/* Byte at i or 0 past the end: lets scanners peek without bounds noise. */
static inline unsigned char at(const scan *sc, size_t i) { return i < sc->n ? sc->s[i] : 0; }

static size_t digits_run(const scan *sc, size_t i, size_t max) {
    size_t k = 0;
    while (k < max && rx_digit(at(sc, i + k))) k++;
    return k;
}

static int num_at(const scan *sc, size_t i, size_t len) {
    int v = 0;
    for (size_t k = 0; k < len; k++) v = v * 10 + (sc->s[i + k] - '0');
    return v;
}

/* Whether a number-like match may end at e: not followed by a letter or
 * digit, nor by [.,-/] and a digit (it would be part of a longer number). */
static bool num_end_ok(const scan *sc, size_t e) {
    unsigned char c = at(sc, e);
    if (rx_word_at(sc->s, sc->n, e)) return false;
    if ((c == '.' || c == ',' || c == '-' || c == '/') && rx_digit(at(sc, e + 1))) return false;
    return true;
}

/* ASCII case-insensitive: does the text at i, before limit, start with lit
 * (lower case)? Returns its length, or 0. */
static size_t match_ci(const scan *sc, size_t i, const char *lit, size_t limit) {
    size_t k = 0;
    for (; lit[k]; k++)
        if (i + k >= limit || rx_fold(sc->s[i + k]) != (unsigned char)lit[k]) return 0;
    return k;
}

static bool starts_ci(const scan *sc, size_t i, const char *lit) {
    return match_ci(sc, i, lit, sc->n) > 0;
}

/* Whether one of kws (lower case, NULL-terminated list) occurs as a word
 * start within the window before position i: at most `window` bytes back,
 * not across a line break or a sentence end ('!' '?' or ". " after a word
 * that is not a one-letter abbreviation such as "D.O.B."). */
static bool context_before(const scan *sc, size_t i, size_t window, const char *const *kws) {
    size_t lo = i > window ? i - window : 0;
    for (size_t k = i; k > lo; k--) {
        unsigned char c = sc->s[k - 1];
        if (c == '\n' || c == '!' || c == '?') {
            lo = k;
            break;
        }
        if (c == '.' && k < i && rx_space(sc->s[k])) {
            bool abbr = k >= 2 && rx_alpha(sc->s[k - 2]) &&
                        (k < 3 || sc->s[k - 3] == '.' || rx_space(sc->s[k - 3]));
            if (!abbr) {
                lo = k;
                break;
            }
        }
    }
    for (size_t k = lo; k < i; k++) {
        unsigned char c = sc->s[k];
        if (!rx_alpha(c)) continue;
        if (k > 0 && (rx_alnum(sc->s[k - 1]) || (sc->s[k - 1] >= 0x80 && rx_word_before(sc->s, k))))
            continue;
        unsigned char f = rx_fold(c);
        for (const char *const *w = kws; *w; w++)
            if ((unsigned char)(*w)[0] == f && match_ci(sc, k, *w, i)) return true;
    }
    return false;
}

/* ---- e-mail ---------------------------------------------------------------- */

static bool email_local_ch(unsigned char c) {
    return rx_alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-' || c >= 0x80;
}

/* At '@' (position a): returns the end of the address and sets *start. */
static size_t det_email(scan *sc, size_t a, size_t *start) {
    size_t st = a;
    while (st > 0 && a - st < 64 && email_local_ch(sc->s[st - 1])) st--;
    while (st < a && ((sc->s[st] & 0xC0) == 0x80 || sc->s[st] == '.')) st++;
    if (st == a) return 0;
    size_t e = a + 1, labels = 0, last_start = e;
    while (e < sc->n && e - a < 254) {
        size_t ls = e;
        while (e < sc->n && (rx_alnum(sc->s[e]) || sc->s[e] == '-' || sc->s[e] >= 0x80) &&
               e - ls < 63)
            e++;
        if (e == ls || sc->s[ls] == '-') return 0;
        labels++;
        last_start = ls;
        if (at(sc, e) == '.' && rx_alnum(at(sc, e + 1))) {
            e++;
            continue;
        }
        break;
    }
    if (labels < 2) return 0;
    size_t tld = e - last_start;
    if (tld < 2) return 0;
    for (size_t k = last_start; k < e; k++)
        if (!rx_alpha(sc->s[k]) && !(tld > 4 && starts_ci(sc, last_start, "xn--"))) return 0;
    *start = st;
    return e;
}

/* ---- numbers with groups: phones, cards ------------------------------------ */

typedef struct {
    size_t end[24];   /* end of each group */
    int ndig[24];     /* digits up to and including each group */
    int glen[24];
    char sep[24];     /* separator before group g (0 for the first) */
    bool paren[24];
    int ng;
} groups;

/* Reads digit groups from i: separators are one of ' ', '-', '.', '/' (or
 * " - "), groups may be in parentheses. Stops past max_digits. */
static void read_groups(const scan *sc, size_t i, int max_digits, bool allow_paren, groups *g) {
    size_t p = i;
    int d = 0;
    g->ng = 0;
    char sep = 0;
    while (g->ng < 24) {
        bool paren = false;
        size_t q = p;
        if (allow_paren && at(sc, q) == '(') {
            paren = true;
            q++;
        }
        size_t k = digits_run(sc, q, 20);
        if (!k || k > 19) break;
        q += k;
        if (paren) {
            if (at(sc, q) != ')') break;
            q++;
        }
        d += (int)k;
        g->end[g->ng] = q;
        g->ndig[g->ng] = d;
        g->glen[g->ng] = (int)k;
        g->sep[g->ng] = sep;
        g->paren[g->ng] = paren;
        g->ng++;
        p = q;
        if (d >= max_digits) break;
        unsigned char c = at(sc, p);
        if (c == ' ' && at(sc, p + 1) == '-' && at(sc, p + 2) == ' ') {
            sep = '-';
            p += 3;
        } else if (c == ' ' || c == '-' || c == '.' || c == '/') {
            sep = (char)c;
            p++;
        } else if (allow_paren && c == '(') {
            sep = '(';
        } else {
            break;
        }
        if (!rx_digit(at(sc, p)) && !(allow_paren && at(sc, p) == '(')) break;
    }
}

static bool luhn(const scan *sc, size_t i, size_t e) {
    int sum = 0, alt = 0;
    for (size_t k = e; k > i; k--) {
        unsigned char c = sc->s[k - 1];
        if (!rx_digit(c)) continue;
        int v = c - '0';
        if (alt) {
            v *= 2;
            if (v > 9) v -= 9;
        }
        sum += v;
        alt ^= 1;
    }
    return sum % 10 == 0;
}

static size_t det_card(scan *sc, size_t i) {
    unsigned char f = sc->s[i];
    if (f < '2' || f > '6') return 0;
    groups g;
    read_groups(sc, i, 19, false, &g);
    for (int k = g.ng - 1; k >= 0; k--) {
        int d = g.ndig[k];
        if (d < 13 || d > 19) continue;
        bool shape = true;
        if (k > 0) {
            for (int j = 0; j <= k; j++) {
                if (g.glen[j] < 3 || g.glen[j] > 6) shape = false;
                if (j > 0 && g.sep[j] != g.sep[1]) shape = false;
            }
            if (g.sep[1] != ' ' && g.sep[1] != '-') shape = false;
        }
        if (!shape) continue;
        size_t e = g.end[k];
        if (rx_word_at(sc->s, sc->n, e)) continue;
        if (!(k > 0 && g.sep[1] == ' ') && !num_end_ok(sc, e)) continue;
        if (luhn(sc, i, e)) return e;
    }
    return 0;
}

static const char *const kw_phone[] = {"phone", "tel", "call", "mobile", "cell", "fax",
                                       "whatsapp", "sms", "text me", "ring", "dial",
                                       "contact", NULL};

/* At '+', '(' or a digit. */
static size_t det_phone(scan *sc, size_t i) {
    bool plus = sc->s[i] == '+';
    size_t p = plus ? i + 1 : i;
    if (!plus && i > 0 && (sc->s[i - 1] == '-' || sc->s[i - 1] == '.' || sc->s[i - 1] == '/' ||
                           sc->s[i - 1] == '_'))
        return 0; /* inside a longer token */
    if (!plus && i >= 2 && sc->s[i - 1] == ' ' && rx_digit(sc->s[i - 2]))
        return 0; /* the tail of a longer digit sequence (an IBAN, a card) */
    if (plus && (!rx_digit(at(sc, p)) || (i > 0 && (rx_alnum(sc->s[i - 1]) || sc->s[i - 1] == ')'))))
        return 0;
    groups g;
    read_groups(sc, p, 16, true, &g);
    if (!g.ng) return 0;
    bool ctx = false;
    int ctx_known = 0;
    for (int k = g.ng - 1; k >= 0; k--) {
        size_t e = g.end[k];
        int d = g.ndig[k];
        if (rx_word_at(sc->s, sc->n, e)) continue;
        unsigned char nx = at(sc, e);
        if ((nx == '-' || nx == '.' || nx == '/') && rx_digit(at(sc, e + 1))) continue;
        if (nx == '(') continue;
        /* '/' and '.' also separate dates and decimals: only with enough digits. */
        bool slash = false;
        for (int j = 1; j <= k; j++)
            if (g.sep[j] == '/') slash = true;
        if (plus) {
            if (d >= 8 && d <= 15 && g.glen[0] <= 4 + (k == 0 ? 11 : 0) && !slash) return e;
            continue;
        }
        const unsigned char *s = sc->s;
        if (s[p] == '0' && at(sc, p + 1) == '0' && !g.paren[0]) {
            if (d >= 10 && d <= 15 && !slash) return e;
            continue;
        }
        if (s[p] == '0' || (g.paren[0] && at(sc, p + 1) == '0')) {
            if (d >= 9 && d <= 12 && g.glen[0] >= 2) return e;
            continue;
        }
        /* NANP: (NXX) NXX-XXXX, NXX-NXX-XXXX, NXX.NXX.XXXX, NXX NXX XXXX, 1-NXX-... */
        int off = 0;
        if (k == 3 && g.glen[0] == 1 && s[p] == '1') off = 1;
        if (k - off == 2 && d - off == 10 && g.glen[off] == 3 && g.glen[off + 1] == 3 &&
            g.glen[off + 2] == 4 && !slash) {
            size_t a = off ? g.end[0] : p;
            while (a < sc->n && !rx_digit(s[a])) a++;
            bool consistent = g.paren[off] || g.sep[off + 1] == g.sep[off + 2];
            if (s[a] >= '2' && consistent) return e;
        }
        if (d >= 7 && d <= 15) {
            if (!ctx_known) {
                ctx = context_before(sc, i, 40, kw_phone);
                ctx_known = 1;
            }
            if (ctx && !slash) return e;
        }
    }
    return 0;
}

/* ---- SSN ------------------------------------------------------------------- */

static const char *const kw_ssn[] = {"ssn", "social security", "ss#", NULL};

static size_t det_ssn(scan *sc, size_t i) {
    if (i > 0 && (sc->s[i - 1] == '-' || sc->s[i - 1] == '.')) return 0;
    size_t a = digits_run(sc, i, 10);
    size_t e = 0;
    int area, grp, ser;
    unsigned char s1 = at(sc, i + 3);
    if (a == 3 && (s1 == '-' || s1 == ' ') && digits_run(sc, i + 4, 3) == 2 &&
        at(sc, i + 6) == s1 && digits_run(sc, i + 7, 5) == 4) {
        e = i + 11;
        area = num_at(sc, i, 3), grp = num_at(sc, i + 4, 2), ser = num_at(sc, i + 7, 4);
        if (s1 == ' ' && !context_before(sc, i, 32, kw_ssn)) return 0;
    } else if (a == 9) {
        e = i + 9;
        area = num_at(sc, i, 3), grp = num_at(sc, i + 3, 2), ser = num_at(sc, i + 5, 4);
        if (!context_before(sc, i, 32, kw_ssn)) return 0;
    } else {
        return 0;
    }
    if (!num_end_ok(sc, e) || at(sc, e) == '-') return 0;
    if (area == 0 || area == 666 || area >= 900 || grp == 0 || ser == 0) return 0;
    return e;
}

/* ---- IP addresses ------------------------------------------------------------ */

static const char *const kw_version[] = {"version", "ver", "v", "release", "build", "firmware",
                                         "update", "upgrade", "rev", "revision", "patch",
                                         "python", "kernel", "node", "java", "gcc", "clang",
                                         "sdk", "library", "package", "tag", "bump", "bumped",
                                         "upgraded", "updated", "downgrade", "install",
                                         "installed", "pin", "pinned", "requires", "require",
                                         "changelog", "versions", NULL};
static const char *const kw_version_after[] = {"release", "version", "build", "changelog", NULL};
static bool in_list(const scan *sc, size_t p, size_t l, const char *const *list);

/* Dotted quad at i; returns its end. */
static size_t parse_ipv4(const scan *sc, size_t i) {
    size_t p = i;
    for (int part = 0; part < 4; part++) {
        size_t k = digits_run(sc, p, 4);
        if (k == 0 || k > 3) return 0;
        if (k > 1 && sc->s[p] == '0') return 0;
        if (num_at(sc, p, k) > 255) return 0;
        p += k;
        if (part < 3) {
            if (at(sc, p) != '.') return 0;
            p++;
        }
    }
    return p;
}

/* Whether one of the 2 words before i (same line) or the word after e is a
 * version word: "version 1.2.3.4", "upgrade to 1.2.3.4", "1.2.3.4 release". */
static bool version_context(const scan *sc, size_t i, size_t e) {
    size_t k = i;
    for (int w = 0; w < 2; w++) {
        while (k > 0 && i - k < 40 && (sc->s[k - 1] == ' ' || sc->s[k - 1] == ':' ||
                                      sc->s[k - 1] == '=' || sc->s[k - 1] == '@' ||
                                      sc->s[k - 1] == '(' || sc->s[k - 1] == ','))
            k--;
        size_t we = k;
        while (k > 0 && we - k < 12 && rx_alnum(sc->s[k - 1])) k--;
        if (k == we || rx_word_before(sc->s, k)) break;
        if (in_list(sc, k, we - k, kw_version)) return true;
    }
    size_t p = e;
    while (p < sc->n && p - e < 2 && sc->s[p] == ' ') p++;
    size_t l = 0;
    while (l < 12 && rx_alpha(at(sc, p + l))) l++;
    return l && in_list(sc, p, l, kw_version_after);
}

static size_t det_ipv4(scan *sc, size_t i) {
    if (i > 0 && (sc->s[i - 1] == '.' || sc->s[i - 1] == '-')) return 0;
    size_t e = parse_ipv4(sc, i);
    if (!e) return 0;
    if (rx_word_at(sc->s, sc->n, e)) return 0;
    if (at(sc, e) == '.' && rx_digit(at(sc, e + 1))) return 0;
    if (at(sc, e) == '-' && rx_alpha(at(sc, e + 1))) return 0; /* 1.2.3.4-beta */
    if (version_context(sc, i, e)) return 0;
    return e;
}

/* At a hex digit or "::". */
static size_t det_ipv6(scan *sc, size_t i) {
    if (i > 0 && (rx_alnum(sc->s[i - 1]) || sc->s[i - 1] == ':' || sc->s[i - 1] == '.')) return 0;
    size_t p = i;
    int groups = 0, hexd = 0;
    bool dc = false, lead_dc = false;
    if (at(sc, p) == ':') {
        if (at(sc, p + 1) != ':') return 0;
        dc = lead_dc = true;
        p += 2;
    }
    size_t end = lead_dc ? p : 0;
    while (p - i < 46) {
        size_t h = 0;
        while (h < 5 && rx_hex(at(sc, p + h))) h++;
        if (h == 0 || h > 4) break;
        if (at(sc, p + h) == '.' && groups <= 6) {
            size_t e4 = parse_ipv4(sc, p);
            if (e4) {
                groups += 2;
                end = e4;
                p = e4;
                break;
            }
        }
        groups++;
        hexd += (int)h;
        p += h;
        end = p;
        if (at(sc, p) == ':' && at(sc, p + 1) == ':') {
            if (dc) break;
            dc = true;
            p += 2;
            end = p;
            continue;
        }
        if (at(sc, p) == ':' && rx_hex(at(sc, p + 1))) {
            p++;
            continue;
        }
        break;
    }
    if (!end) return 0;
    if (!dc && groups != 8) return 0;
    if (dc && (groups > 7 || (groups < 2 && !lead_dc))) return 0;
    if (dc && !lead_dc && hexd < 4) return 0; /* a::b is code */
    if (rx_word_at(sc->s, sc->n, end) || (at(sc, end) == ':' && rx_hex(at(sc, end + 1)))) return 0;
    if (at(sc, end) == '.' && rx_digit(at(sc, end + 1))) return 0;
    return end;
}

/* ---- dates (of birth) -------------------------------------------------------- */

static const char *const months[] = {"january", "february", "march",     "april",   "may",
                                     "june",    "july",     "august",    "september", "october",
                                     "november", "december", NULL};

/* Month name (full, 3-letter or "sept", optional '.') at i: returns its end. */
static size_t month_at(const scan *sc, size_t i) {
    size_t l = 0;
    while (l < 10 && rx_alpha(at(sc, i + l))) l++;
    if (l < 3 || rx_word_at(sc->s, sc->n, i + l)) return 0;
    static const unsigned char month_len[] = {7, 8, 5, 5, 3, 4, 4, 6, 9, 7, 8, 8};
    unsigned char f = rx_fold(sc->s[i]);
    for (int m = 0; months[m]; m++) {
        if ((unsigned char)months[m][0] != f) continue;
        size_t ml = month_len[m];
        bool ok = false;
        if (l == ml || l == 3 || (l == 4 && m == 8)) {
            ok = true;
            for (size_t k = 0; k < l && ok; k++) ok = rx_fold(sc->s[i + k]) == (unsigned char)months[m][k];
        }
        if (ok) {
            size_t e = i + l;
            if (l < ml && at(sc, e) == '.') e++;
            return e;
        }
    }
    return 0;
}

/* Day number with optional ordinal suffix at i: returns its end. */
static size_t day_at(const scan *sc, size_t i) {
    size_t k = digits_run(sc, i, 3);
    if (k == 0 || k > 2) return 0;
    int d = num_at(sc, i, k);
    if (d < 1 || d > 31) return 0;
    size_t e = i + k;
    if (starts_ci(sc, e, "st") || starts_ci(sc, e, "nd") || starts_ci(sc, e, "rd") ||
        starts_ci(sc, e, "th"))
        e += 2;
    if (rx_word_at(sc->s, sc->n, e)) return 0;
    return e;
}

static size_t year_at(const scan *sc, size_t i) {
    if (digits_run(sc, i, 5) != 4) return 0;
    int y = num_at(sc, i, 4);
    if (y < 1900 || y > 2099) return 0;
    return num_end_ok(sc, i + 4) ? i + 4 : 0;
}

static size_t skip_sp(const scan *sc, size_t p) {
    if (at(sc, p) == ',') p++;
    size_t k = 0;
    while (k < 2 && at(sc, p) == ' ') p++, k++;
    return k ? p : 0;
}

/* A date at i (a digit or a month name): returns its end or 0. */
static size_t parse_date(const scan *sc, size_t i) {
    if (rx_digit(sc->s[i])) {
        size_t a = digits_run(sc, i, 5);
        unsigned char s1 = at(sc, i + a);
        if (a == 4 && (s1 == '-' || s1 == '/' || s1 == '.')) {
            size_t b = digits_run(sc, i + 5, 3);
            if (b < 1 || b > 2 || at(sc, i + 5 + b) != s1) return 0;
            size_t c = digits_run(sc, i + 6 + b, 3);
            if (c < 1 || c > 2) return 0;
            int y = num_at(sc, i, 4), m = num_at(sc, i + 5, b), d = num_at(sc, i + 6 + b, c);
            size_t e = i + 6 + b + c;
            if (y < 1900 || y > 2099 || m < 1 || m > 12 || d < 1 || d > 31 || !num_end_ok(sc, e))
                return 0;
            return e;
        }
        if (a >= 1 && a <= 2 && (s1 == '-' || s1 == '/' || s1 == '.')) {
            size_t b = digits_run(sc, i + a + 1, 3);
            if (b < 1 || b > 2 || at(sc, i + a + 1 + b) != s1) return 0;
            size_t yp = i + a + 2 + b, c = digits_run(sc, yp, 5);
            if (c != 4 && c != 2) return 0;
            int x = num_at(sc, i, a), y = num_at(sc, i + a + 1, b);
            if (!((x >= 1 && x <= 31 && y >= 1 && y <= 12) || (x >= 1 && x <= 12 && y >= 1 && y <= 31)))
                return 0;
            if (c == 4 && (num_at(sc, yp, 4) < 1900 || num_at(sc, yp, 4) > 2099)) return 0;
            return num_end_ok(sc, yp + c) ? yp + c : 0;
        }
        size_t e = day_at(sc, i);
        if (!e) return 0;
        size_t p = skip_sp(sc, e);
        if (!p) return 0;
        if (starts_ci(sc, p, "of ")) p += 3;
        size_t me = month_at(sc, p);
        if (!me) return 0;
        p = skip_sp(sc, me);
        return p ? year_at(sc, p) : 0;
    }
    size_t me = month_at(sc, i);
    if (!me) return 0;
    size_t p = skip_sp(sc, me);
    if (!p) return 0;
    size_t de = day_at(sc, p);
    if (!de) return 0;
    p = skip_sp(sc, de);
    return p ? year_at(sc, p) : 0;
}

static const char *const kw_birth[] = {"born", "dob", "d.o.b", "birth", "geboren", "née", "né ",
                                       "nacido", "nata", "nato", NULL};

static size_t det_dob(scan *sc, size_t i) {
    size_t e = parse_date(sc, i);
    if (!e) return 0;
    return context_before(sc, i, 64, kw_birth) ? e : 0;
}

/* ---- street addresses and postcodes ------------------------------------------ */

static const char *const street_suffix[] = {
    "street", "st", "avenue", "ave", "road", "rd", "boulevard", "blvd", "lane", "ln", "drive",
    "dr", "court", "ct", "place", "pl", "square", "sq", "terrace", "way", "close", "crescent",
    "parkway", "pkwy", "highway", "hwy", "circle", "cir", "row", "mews", "gardens", "grove",
    "walk", "alley", "plaza", "trail", "broadway", NULL};
static const char *const romance_street[] = {
    "rue", "avenue", "av", "boulevard", "bd", "chemin", "impasse", "place", "quai", "calle",
    "avenida", "via", "viale", "piazza", "corso", "rua", "largo", "strada", "carrer", "paseo",
    "cours", "route", NULL};
static const char *const connectors[] = {"de", "la", "le", "du", "des", "del", "della", "di",
                                         "da", "do", "dos", "of", "the", "van", "von", "y",
                                         "e", NULL};
static const char *const directions[] = {"n", "s", "e", "w", "ne", "nw", "se", "sw", "north",
                                         "south", "east", "west", NULL};
static const char *const units[] = {"apt", "apartment", "suite", "ste", "unit", "flat", "floor",
                                    "fl", "room", "bldg", NULL};

/* Length of the ASCII letter run at p if it equals (case-insensitive) an
 * entry of list and ends on a word boundary; else 0. */
static size_t word_in(const scan *sc, size_t p, const char *const *list) {
    size_t l = 0;
    while (l < 16 && rx_alpha(at(sc, p + l))) l++;
    if (!l || l >= 16 || rx_word_at(sc->s, sc->n, p + l)) return 0;
    unsigned char f = rx_fold(sc->s[p]);
    for (const char *const *w = list; *w; w++) {
        if ((unsigned char)(*w)[0] != f) continue;
        size_t k = 1;
        while (k < l && (*w)[k] && rx_fold(sc->s[p + k]) == (unsigned char)(*w)[k]) k++;
        if (k == l && !(*w)[k]) return l;
    }
    return 0;
}

/* A capitalized word at p (ASCII capital, then letters, non-ASCII letters,
 * '\'' or '-'): returns its end or 0. */
static size_t cap_word(const scan *sc, size_t p) {
    if (!rx_upper(at(sc, p))) return 0;
    size_t e = p + 1;
    while (e < sc->n && e - p < 40) {
        unsigned char c = sc->s[e];
        if (rx_alpha(c)) {
            e++;
        } else if (c >= 0x80 && rx_word_at(sc->s, sc->n, e)) {
            uint32_t cp;
            e += rx_utf8(sc->s, sc->n, e, &cp);
        } else if ((c == '\'' || c == '-') && rx_alpha(at(sc, e + 1))) {
            e++;
        } else {
            break;
        }
    }
    return rx_word_at(sc->s, sc->n, e) ? 0 : e;
}

/* After an address ending at e: ", 10115 Berlin", " SW1A 1AA", ", IL 62704".
 * Adds the postcode; returns the new end. */
static size_t postcode_after(scan *sc, size_t e);

/* Extends an address end over a direction and a unit (", Apt 4B"). */
static size_t address_tail(const scan *sc, size_t e) {
    size_t l;
    if (at(sc, e) == ' ' && (l = word_in(sc, e + 1, directions)) && rx_upper(at(sc, e + 1)))
        e += 1 + l;
    size_t p = e;
    if (at(sc, p) == ',') p++;
    if (at(sc, p) == ' ') p++;
    if ((l = word_in(sc, p, units))) {
        size_t q = p + l;
        if (at(sc, q) == '.') q++;
        if (at(sc, q) == ' ') q++;
        size_t k = 0;
        while (k < 6 && rx_alnum(at(sc, q + k))) k++;
        if (k && rx_digit(at(sc, q))) return q + k;
    } else if (at(sc, p) == '#' && rx_digit(at(sc, p + 1))) {
        size_t k = 1;
        while (k < 6 && rx_alnum(at(sc, p + k))) k++;
        return p + k;
    }
    return e;
}

/* Number-first: "221B Baker Street", "12 rue de la Paix", "1600 Pennsylvania Avenue NW". */
static size_t det_address_num(scan *sc, size_t i) {
    if (i > 0 && (sc->s[i - 1] == '.' || sc->s[i - 1] == ',' || sc->s[i - 1] == '-')) return 0;
    size_t k = digits_run(sc, i, 6);
    if (!k || k > 5) return 0;
    size_t p = i + k;
    if (rx_alpha(at(sc, p)) && !rx_alpha(at(sc, p + 1))) p++;
    else if (at(sc, p) == '-' && rx_digit(at(sc, p + 1))) p += 1 + digits_run(sc, p + 1, 4);
    if (at(sc, p) == ',') p++;
    if (at(sc, p) != ' ') return 0;
    p++;
    size_t l = word_in(sc, p, romance_street);
    if (l && sc->s[p] != 'A') {
        /* "12 rue de la Paix", "5 avenue Foch", "8 Via Roma" (avenue: lower case only,
         * so that "5 Avenue" goes through the suffix rule) */
        size_t q = p + l, last = 0;
        if (at(sc, q) == '.') q++;
        for (int w = 0; w < 6 && at(sc, q) == ' '; w++) {
            size_t r = q + 1, ce = cap_word(sc, r), cl;
            if (ce) {
                last = q = ce;
            } else if ((cl = word_in(sc, r, connectors))) {
                q = r + cl;
            } else if ((rx_lower(at(sc, r)) && (at(sc, r + 1) == '\'') &&
                        rx_upper(at(sc, r + 2)))) { /* l'Église, d'Alembert */
                size_t ce2 = cap_word(sc, r + 2);
                if (!ce2) break;
                last = q = ce2;
            } else {
                break;
            }
        }
        if (last) return postcode_after(sc, address_tail(sc, last));
        return 0;
    }
    /* "Baker Street": up to 4 capitalized words (or ordinals, initials,
     * connectors), then a street suffix. */
    size_t q = p - 1;
    int words = 0;
    for (int w = 0; w < 5 && at(sc, q) == ' '; w++) {
        size_t r = q + 1;
        size_t sl = word_in(sc, r, street_suffix);
        if (sl && words > 0 && (rx_upper(sc->s[r]))) {
            size_t e = r + sl;
            if (at(sc, e) == '.' && !rx_space(at(sc, e + 1)) && at(sc, e + 1) != 0) e++;
            return postcode_after(sc, address_tail(sc, e));
        }
        size_t ce = cap_word(sc, r), cl;
        size_t dk = digits_run(sc, r, 4);
        if (ce) {
            q = ce;
        } else if (dk && (starts_ci(sc, r + dk, "st") || starts_ci(sc, r + dk, "nd") ||
                          starts_ci(sc, r + dk, "rd") || starts_ci(sc, r + dk, "th")) &&
                   !rx_word_at(sc->s, sc->n, r + dk + 2)) {
            q = r + dk + 2;
        } else if ((cl = word_in(sc, r, connectors)) && words > 0) {
            q = r + cl;
        } else {
            break;
        }
        words++;
    }
    return 0;
}

static const char *const de_suffix[] = {"straße", "strasse", "str.", "gasse", "platz", "allee",
                                        "damm", "ufer", "laan", "straat", "gracht", "plein",
                                        "steeg", "kade", "gatan", "weg", "vägen", NULL};
static const char *const street_first[] = {"calle", "via", "rua", "avenida", "piazza", "viale",
                                           "carrer", "corso", NULL};

/* Street-first at a capital letter: "Hauptstraße 5", "Calle Mayor 10",
 * "Keizersgracht 123". Returns the end. */
static size_t det_address_word(scan *sc, size_t i, size_t wend) {
    size_t q = 0, l = 0;
    unsigned char f = rx_fold(sc->s[i]);
    if (wend - i <= 7 && at(sc, wend) == ' ' && (f == 'c' || f == 'v' || f == 'r' || f == 'a' || f == 'p'))
        l = word_in(sc, i, street_first);
    if (l) {
        q = i + l;
        int words = 0;
        while (words < 4 && at(sc, q) == ' ') {
            size_t ce = cap_word(sc, q + 1), cl;
            if (ce) {
                q = ce;
                words++;
            } else if ((cl = word_in(sc, q + 1, connectors))) {
                q = q + 1 + cl;
            } else {
                break;
            }
        }
        if (!words) return 0;
    } else {
        /* fast path: a street-name word is followed by a house number */
        if (!((at(sc, wend) == ' ' && rx_digit(at(sc, wend + 1))) ||
              (at(sc, wend) == '.' && at(sc, wend + 1) == ' ' && rx_digit(at(sc, wend + 2)))))
            return 0;
        size_t we = cap_word(sc, i);
        if (!we) return 0;
        if (we < wend) return 0;
        bool ok = false;
        for (const char *const *sfx = de_suffix; *sfx && !ok; sfx++) {
            size_t sl = strlen(*sfx);
            size_t base = we;
            if ((*sfx)[sl - 1] == '.') base = we + (at(sc, we) == '.');
            if (base - i <= sl + 1) continue;
            size_t k = 0;
            while (k < sl && rx_fold(sc->s[base - sl + k]) == (unsigned char)(*sfx)[k]) k++;
            if (k == sl) {
                ok = true;
                q = base;
            }
        }
        if (!ok) return 0;
    }
    if (at(sc, q) != ' ') return 0;
    size_t k = digits_run(sc, q + 1, 5);
    if (!k || k > 4) return 0;
    size_t e = q + 1 + k;
    if (rx_alpha(at(sc, e)) && !rx_word_at(sc->s, sc->n, e + 1)) e++;
    if (rx_word_at(sc->s, sc->n, e)) return 0;
    if (at(sc, e) == '-' && rx_digit(at(sc, e + 1))) e += 1 + digits_run(sc, e + 1, 4);
    return postcode_after(sc, address_tail(sc, e));
}

static const char *const us_states[] = {
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN",
    "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH",
    "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT",
    "VT", "VA", "WA", "WV", "WI", "WY", "PR", NULL};

static bool state_at(const scan *sc, size_t p) {
    if (!rx_upper(at(sc, p)) || !rx_upper(at(sc, p + 1))) return false;
    for (const char *const *st = us_states; *st; st++)
        if (sc->s[p] == (unsigned char)(*st)[0] && sc->s[p + 1] == (unsigned char)(*st)[1])
            return true;
    return false;
}

/* UK "SW1A 1AA" / "M1 1AE" or Canadian "K1A 0B1" at i: returns the end. */
static size_t uk_ca_postcode(const scan *sc, size_t i) {
    uc *s = sc->s;
    if (!rx_upper(at(sc, i))) return 0;
    /* Canadian: A9A 9A9 */
    if (rx_digit(at(sc, i + 1)) && rx_upper(at(sc, i + 2)) && at(sc, i + 3) == ' ' &&
        rx_digit(at(sc, i + 4)) && rx_upper(at(sc, i + 5)) && rx_digit(at(sc, i + 6)) &&
        !rx_word_at(s, sc->n, i + 7) && !strchr("DFIOQUWZ", s[i]))
        return i + 7;
    /* UK outward: A9, A99, A9A, AA9, AA99, AA9A */
    size_t p = i + 1;
    if (rx_upper(at(sc, p))) p++;
    if (!rx_digit(at(sc, p))) return 0;
    p++;
    if (rx_digit(at(sc, p)) || rx_upper(at(sc, p))) p++;
    if (at(sc, p) != ' ') return 0;
    p++;
    if (!rx_digit(at(sc, p)) || !rx_upper(at(sc, p + 1)) || !rx_upper(at(sc, p + 2))) return 0;
    if (rx_word_at(s, sc->n, p + 3)) return 0;
    return p + 3;
}

static bool in_list(const scan *sc, size_t p, size_t l, const char *const *list);
/* Two capitals after four digits that are words, not Dutch postcode letters. */
static const char *const not_nl[] = {"us", "uk", "eu", "ad", "bc", "am", "pm", "tv", "ok", "id",
                                     "ss", "sa", "sd", "vs", "to", "in", "on", "at", NULL};
static const char *const kw_zip[] = {"zip", "postcode", "postal code", "post code", "plz",
                                     "code postal", "cap ", "cp ", NULL};

/* Digits-first postcodes at i: ZIP after a state ("CA 94103"), Dutch
 * "1012 AB Amsterdam", or any 4-6 digits after "zip"/"postcode". */
static size_t det_postcode_num(scan *sc, size_t i) {
    size_t k = digits_run(sc, i, 7);
    if (i > 0 && (sc->s[i - 1] == '.' || sc->s[i - 1] == '-' || sc->s[i - 1] == ',')) return 0;
    if (k == 5) {
        size_t e = i + 5;
        if (at(sc, e) == '-' && digits_run(sc, e + 1, 5) == 4) e += 5;
        if (num_end_ok(sc, e) && i >= 3 && sc->s[i - 1] == ' ' && state_at(sc, i - 3) &&
            !rx_word_before(sc->s, i - 3))
            return e;
    }
    if (k == 4 && at(sc, i + 4) == ' ' && rx_upper(at(sc, i + 5)) && rx_upper(at(sc, i + 6)) &&
        !rx_word_at(sc->s, sc->n, i + 7) && at(sc, i + 7) == ' ' && cap_word(sc, i + 8) &&
        sc->s[i] != '0' && !in_list(sc, i + 5, 2, not_nl))
        return i + 7;
    if (k >= 4 && k <= 6 && num_end_ok(sc, i + k) && context_before(sc, i, 24, kw_zip)) return i + k;
    return 0;
}

static size_t postcode_after(scan *sc, size_t e) {
    size_t p = e;
    if (at(sc, p) == ',') p++;
    if (at(sc, p) == ' ' || at(sc, p) == '\n') p++;
    else return e;
    size_t pe = uk_ca_postcode(sc, p);
    if (!pe) {
        size_t k = digits_run(sc, p, 6);
        if ((k == 4 || k == 5) && at(sc, p + k) == ' ' && cap_word(sc, p + k + 1)) pe = p + k;
        else if (k == 4 && at(sc, p + 4) == ' ' && rx_upper(at(sc, p + 5)) && rx_upper(at(sc, p + 6)) &&
                 at(sc, p + 7) == ' ')
            pe = p + 7;
    }
    if (pe) add(sc, p, pe, REDACT_POSTCODE);
    return e;
}

/* ---- secrets ------------------------------------------------------------------- */

static inline bool tok_ch(unsigned char c) {
    return rx_alnum(c) || c == '_' || c == '-' || c == '+' || c == '/';
}

static size_t run_of(const scan *sc, size_t p, size_t max, bool (*ok)(unsigned char)) {
    size_t k = 0;
    while (k < max && p + k < sc->n && ok(sc->s[p + k])) k++;
    return k;
}

static bool key_ch(unsigned char c) { return rx_alnum(c) || c == '_' || c == '-'; }
static bool alnum_ch(unsigned char c) { return rx_alnum(c); }
static bool upnum_ch(unsigned char c) { return rx_upper(c) || rx_digit(c); }

typedef struct {
    const char *prefix;
    bool (*body)(unsigned char);
    unsigned min, max; /* body length */
} key_prefix;

/* First two bytes of the prefixes below (and "eyJ"): a quick filter. */
static inline bool prefix_first(unsigned char c, unsigned char d) {
    switch (c) {
    case 's': case 'r': case 'p': return d == 'k';
    case 'g': return d == 'h' || d == 'l';
    case 'A': return d == 'K' || d == 'S' || d == 'I';
    case 'x': return d == 'o';
    case 'h': return d == 'f';
    case 'n': return d == 'p';
    case 'S': return d == 'G';
    case 'e': return d == 'y';
    default: return false;
    }
}

static const key_prefix prefixes[] = {
    {"sk-", key_ch, 20, 200},        {"sk_live_", alnum_ch, 16, 120}, {"sk_test_", alnum_ch, 16, 120},
    {"rk_live_", alnum_ch, 16, 120}, {"pk_live_", alnum_ch, 16, 120}, {"ghp_", alnum_ch, 30, 60},
    {"gho_", alnum_ch, 30, 60},      {"ghu_", alnum_ch, 30, 60},      {"ghs_", alnum_ch, 30, 60},
    {"ghr_", alnum_ch, 30, 60},      {"github_pat_", key_ch, 22, 120}, {"glpat-", key_ch, 20, 60},
    {"AKIA", upnum_ch, 16, 16},      {"ASIA", upnum_ch, 16, 16},      {"xoxb-", key_ch, 10, 120},
    {"xoxp-", key_ch, 10, 120},      {"xoxa-", key_ch, 10, 120},      {"xoxr-", key_ch, 10, 120},
    {"xoxs-", key_ch, 10, 120},      {"AIza", key_ch, 30, 40},        {"hf_", alnum_ch, 30, 60},
    {"npm_", alnum_ch, 30, 60},      {"SG.", key_ch, 20, 80},
};

/* Well-known key prefixes (case-sensitive) at i: returns the end. */
static size_t det_key_prefix(const scan *sc, size_t i) {
    if (!prefix_first(sc->s[i], at(sc, i + 1))) return 0;
    for (size_t k = 0; k < sizeof prefixes / sizeof prefixes[0]; k++) {
        const key_prefix *kp = &prefixes[k];
        if (kp->prefix[0] != (char)sc->s[i] || kp->prefix[1] != (char)at(sc, i + 1)) continue;
        size_t pl = strlen(kp->prefix);
        if (pl > sc->n - i || memcmp(sc->s + i, kp->prefix, pl)) continue;
        size_t b = run_of(sc, i + pl, kp->max + 1, kp->body);
        if (kp->prefix[0] == 'S' && kp->prefix[2] == '.') {
            /* SendGrid: SG.<22>.<43> */
            if (b < 16 || at(sc, i + pl + b) != '.') continue;
            size_t b2 = run_of(sc, i + pl + b + 1, 80, key_ch);
            if (b2 < 20) continue;
            return i + pl + b + 1 + b2;
        }
        if (b < kp->min || b > kp->max) continue;
        size_t e = i + pl + b;
        if (rx_word_at(sc->s, sc->n, e)) continue;
        return e;
    }
    /* JWT: eyJ<header>.eyJ<payload>.<signature> */
    if (sc->s[i] == 'e' && at(sc, i + 1) == 'y' && at(sc, i + 2) == 'J') {
        size_t a = run_of(sc, i, 2000, key_ch);
        if (a >= 10 && at(sc, i + a) == '.') {
            size_t b = run_of(sc, i + a + 1, 4000, key_ch);
            if (b >= 10 && at(sc, i + a + 1 + b) == '.') {
                size_t c = run_of(sc, i + a + 2 + b, 2000, key_ch);
                return i + a + 2 + b + c;
            }
        }
    }
    return 0;
}

/* A token of base64/key characters starting at i: is it random enough to be
 * a key? Hex-only tokens (hashes, UUIDs) and identifiers are not. */
static size_t det_entropy(scan *sc, size_t i, size_t *start) {
    /* a key may start with '+' or '/', which do not start a word */
    size_t b = i;
    while (b > 0 && i - b < 4 && (sc->s[b - 1] == '+' || sc->s[b - 1] == '/')) b--;
    if (b > 0 && tok_ch(sc->s[b - 1])) b = i;
    *start = b;
    i = b;
    size_t len = 0;
    while (len < 513 && i + len < sc->n && tok_ch(sc->s[i + len])) len++;
    sc->tok_end = i + len;
    while (len && (sc->s[i + len - 1] == '-' || sc->s[i + len - 1] == '_')) len--;
    if (len < 20 || len > 512) return 0;
    int up = 0, lo = 0, dg = 0, slash = 0, trans = 0, run = 0, maxrun = 0, nonhex = 0;
    int prev = -1;
    for (size_t k = 0; k < len; k++) {
        unsigned char c = sc->s[i + k];
        int cls = rx_upper(c) ? 0 : rx_lower(c) ? 1 : rx_digit(c) ? 2 : 3;
        if (cls == 0) up++;
        else if (cls == 1) lo++;
        else if (cls == 2) dg++;
        if (c == '/') slash++;
        if (!rx_hex(c) && c != '-') nonhex++;
        if (cls == prev) {
            run++;
        } else {
            if (prev >= 0) trans++;
            run = 1;
        }
        if (cls == 1 && run > maxrun) maxrun = run;
        prev = cls;
    }
    if (!nonhex) return 0;
    if (up < 2 || lo < 2) return 0;
    if (!dg && len < 32) return 0;
    if (slash > 3 || maxrun > 10) return 0;
    if ((size_t)trans * 100 < len * 35) return 0;
    if (rx_word_at(sc->s, sc->n, i + len)) return 0;
    size_t e = i + len;
    for (int k = 0; k < 2 && at(sc, e) == '='; k++) e++; /* base64 padding */
    return e;
}

/* "-----BEGIN ... PRIVATE KEY-----" .. "-----END ...-----" at i. */
static size_t det_pem(const scan *sc, size_t i) {
    if (sc->n - i < 30 || memcmp(sc->s + i, "-----BEGIN ", 11)) return 0;
    size_t lim = sc->n - i < 80 ? sc->n - i : 80;
    const unsigned char *hdr = memmem(sc->s + i + 11, lim - 11, "-----", 5);
    if (!hdr || !memmem(sc->s + i + 11, (size_t)(hdr - sc->s) - i - 11, "PRIVATE KEY", 11)) return 0;
    size_t from = (size_t)(hdr - sc->s) + 5;
    size_t span = sc->n - from < 16384 ? sc->n - from : 16384;
    const unsigned char *end = memmem(sc->s + from, span, "-----END ", 9);
    if (!end) return from + span; /* no end line in reach: redact what follows */
    size_t e = (size_t)(end - sc->s) + 9;
    const unsigned char *close = memmem(sc->s + e, sc->n - e < 80 ? sc->n - e : 80, "-----", 5);
    return close ? (size_t)(close - sc->s) + 5 : e;
}

static const char *const pw_strong[] = {"password", "passwd", "pwd", "passphrase", "passcode",
                                        "pass", "pw", NULL};
static const char *const pw_weak[] = {"secret", "token", "apikey", "pin", NULL};
static const char *const key_lead[] = {"api", "secret", "access", "private", "auth", "client",
                                       "signing", "encryption", NULL};
static const char *const code_words[] = {
    "string", "str", "int", "bool", "boolean", "null", "none", "nil", "true", "false",
    "undefined", "required", "optional", "text", "bytes", "char", "varchar", "number", "any",
    "object", "password", "secret", "token", "hidden", "redacted", "xxx", "the", "a", "an",
    "is", "not", "your", "my", "their", "its", "of", "to", "for", "empty", "blank",
    "unknown", "changed", "reset", "incorrect", "wrong", "invalid", "correct", "expired",
    "strong", "weak", "protected", "manager", NULL};

static bool in_list(const scan *sc, size_t p, size_t l, const char *const *list) {
    if (!l) return false;
    unsigned char f = rx_fold(sc->s[p]);
    for (const char *const *w = list; *w; w++) {
        if ((unsigned char)(*w)[0] != f) continue;
        size_t k = 1;
        while (k < l && (*w)[k] && rx_fold(sc->s[p + k]) == (unsigned char)(*w)[k]) k++;
        if (k == l && !(*w)[k]) return true;
    }
    return false;
}

/* A keyword ("password", "api_key", "DB_PASSWORD"...) ending at the word
 * [i, we): the value after ':' '=' or "is" is a secret. Adds it; returns
 * the value's end. */
static size_t det_password(scan *sc, size_t i, size_t we) {
    {
        /* quick: a separator must follow ("password:", "token =", "pin is") */
        size_t q = we;
        if (at(sc, q) == '"' || at(sc, q) == '\'') q++;
        while (at(sc, q) == ' ' && q - we < 4) q++;
        unsigned char c = at(sc, q);
        if (c != ':' && c != '=' && c != 'i' && c != 'I' && c != 'w' && c != 'W') return 0;
    }
    size_t l = we - i;
    bool strong = in_list(sc, i, l, pw_strong);
    bool weak = !strong && in_list(sc, i, l, pw_weak);
    if (!strong && !weak && l == 3 && starts_ci(sc, i, "key") && i >= 2 &&
        (sc->s[i - 1] == '_' || sc->s[i - 1] == '-' || sc->s[i - 1] == ' ')) {
        size_t b = i - 1, a = b;
        while (a > 0 && b - a < 12 && rx_alpha(sc->s[a - 1])) a--;
        weak = a < b && in_list(sc, a, b - a, key_lead);
    }
    if (!strong && !weak) return 0;
    if (at(sc, we) == '_' || at(sc, we) == '-' || (at(sc, we) == '.' && rx_alpha(at(sc, we + 1))))
        return 0; /* password_hash, token-limit: a different name */
    size_t p = we;
    if (at(sc, p) == '"' || at(sc, p) == '\'') p++; /* "password": "x" */
    while (at(sc, p) == ' ') p++;
    bool is_form = false;
    if (at(sc, p) == ':' && at(sc, p + 1) == '=') p += 2;
    else if (at(sc, p) == ':' || at(sc, p) == '=') p++;
    else if ((starts_ci(sc, p, "is ") || starts_ci(sc, p, "was ")) && p > we) {
        p += (at(sc, p) == 'i' || at(sc, p) == 'I') ? 3 : 4;
        is_form = true;
    } else {
        return 0;
    }
    while (at(sc, p) == ' ' || at(sc, p) == '\t') p++;
    unsigned char q = at(sc, p);
    size_t vs, ve;
    if (q == '"' || q == '\'' || q == '`') {
        vs = p + 1;
        ve = vs;
        /* no spaces: a quote after "Password: " in code closes a string literal */
        while (ve < sc->n && ve - vs < 128 && sc->s[ve] != q && !rx_space(sc->s[ve])) ve++;
        if (at(sc, ve) != q || ve == vs) return 0;
        if (sc->s[vs] == '%' || sc->s[vs] == '$' || sc->s[vs] == '{' || sc->s[vs] == '<') return 0;
        add(sc, vs, ve, REDACT_SECRET);
        return ve;
    }
    vs = p;
    ve = vs;
    while (ve < sc->n && ve - vs < 128 && !rx_space(sc->s[ve])) ve++;
    while (ve > vs && strchr(".,;:)]}>\"'", sc->s[ve - 1])) ve--;
    if (ve == vs) return 0;
    size_t vl = ve - vs;
    bool dg = false, up = false, sym = false, lo = false, idch = false;
    for (size_t k = vs; k < ve; k++) {
        unsigned char c = sc->s[k];
        if (rx_digit(c)) dg = true;
        else if (rx_upper(c)) up = true;
        else if (rx_lower(c)) lo = true;
        else if (c == '_' || c == '.') idch = true;
        else if (c == '(' || c == '[' || c == '{' || c == '$' || c == '%' || c == '<') return 0;
        else if (c >= 0x80) lo = true;
        else sym = true;
    }
    if (in_list(sc, vs, vl, code_words)) return 0;
    if (l <= 3 && starts_ci(sc, i, "pin")) {
        if (!(dg && !up && !lo && vl >= 4 && vl <= 8)) return 0;
    }
    if (!dg && !up && !sym && lo) {
        /* identifier-like (self.password, user_input) or a plain word */
        if (idch || !strong || is_form) return 0;
        size_t r = ve;
        while (at(sc, r) == ' ') r++;
        if (rx_lower(at(sc, r))) return 0; /* the start of a phrase */
        if (vl < 4) return 0;
    }
    if (idch && !dg && !sym && !(up && lo)) return 0;
    if (weak && !(dg || sym || (up && lo)) && vl < 16) return 0;
    if (is_form && !(dg || sym || (up && lo))) return 0;
    add(sc, vs, ve, REDACT_SECRET);
    return ve;
}

/* ---- IBAN ---------------------------------------------------------------------- */

static int iban_val(unsigned char c) {
    if (rx_digit(c)) return c - '0';
    return rx_fold(c) - 'a' + 10;
}

/* "DE89 3704 0044 0532 0130 00" or contiguous, mod-97 checked. */
static size_t det_iban(const scan *sc, size_t i) {
    uc *s = sc->s;
    if (!rx_alpha(at(sc, i)) || !rx_alpha(at(sc, i + 1)) || !rx_digit(at(sc, i + 2)) ||
        !rx_digit(at(sc, i + 3)))
        return 0;
    if (rx_upper(s[i]) != rx_upper(s[i + 1])) return 0;
    /* collect alnum chars, groups separated by single spaces */
    size_t pos[34];
    size_t ends[34];
    int nch = 0, ncut = 0;
    size_t p = i;
    while (p < sc->n && nch < 34) {
        size_t g = 0;
        while (p + g < sc->n && rx_alnum(s[p + g]) && nch + (int)g < 34) g++;
        if (!g) break;
        for (size_t k = 0; k < g; k++) pos[nch++] = p + k;
        p += g;
        ends[ncut++] = p;
        if (at(sc, p) == ' ' && rx_alnum(at(sc, p + 1)) && g <= 4) p++;
        else break;
        if (ncut >= 34) break;
    }
    for (int c = ncut - 1; c >= 0; c--) {
        size_t e = ends[c];
        int len = 0;
        while (len < nch && pos[len] < e) len++;
        if (len < 15 || len > 34) continue;
        if (rx_word_at(s, sc->n, e)) continue;
        unsigned rem = 0;
        for (int k = 0; k < len; k++) {
            int v = iban_val(s[pos[(k + 4) % len]]);
            rem = v >= 10 ? (rem * 100 + (unsigned)v) % 97 : (rem * 10 + (unsigned)v) % 97;
        }
        if (rem == 1) return e;
    }
    return 0;
}

/* ---- user terms -------------------------------------------------------------- */

static size_t det_term(const scan *sc, size_t i) {
    const redact_config *c = sc->c;
    unsigned b = rx_fold(sc->s[i]);
    for (uint32_t k = c->first[b]; k < c->first[b + 1]; k++) {
        const redact_term *t = &c->terms[c->order[k]];
        if (t->len > sc->n - i) continue;
        size_t j = 0;
        while (j < t->len && rx_fold(sc->s[i + j]) == (unsigned char)t->fold[j]) j++;
        if (j < t->len) continue;
        /* word boundary at the end if the term ends in a word character */
        bool end_word = rx_word_before((uc *)t->fold, t->len);
        if (end_word && rx_word_at(sc->s, sc->n, i + t->len)) continue;
        return i + t->len;
    }
    return 0;
}

/* ---- the pass --------------------------------------------------------------- */

/* Detectors for a word starting with a digit. */
static size_t digit_word(scan *sc, size_t i, size_t we) {
    size_t e = 0, r;
    /* Quick filters on the digit count and the byte after: most numbers in
     * ordinary text fit no detector's shape, and skip them all. */
    size_t k = digits_run(sc, i, 20);
    unsigned char nx = at(sc, i + k), f = sc->s[i];
    bool nd = rx_digit(at(sc, i + k + 1));
    bool sep = (nx == ' ' || nx == '-' || nx == '.' || nx == '/');
    if (on(sc, REDACT_SSN) && ((k == 3 && (nx == '-' || nx == ' ')) || k == 9) && (r = det_ssn(sc, i)))
        add(sc, i, r, REDACT_SSN), e = r;
    if (!e && on(sc, REDACT_CARD) && f >= '2' && f <= '6' &&
        ((k >= 13 && k <= 19) || (k >= 3 && k <= 6 && (nx == ' ' || nx == '-') && nd)) &&
        (r = det_card(sc, i)))
        add(sc, i, r, REDACT_CARD), e = r;
    if (!e && on(sc, REDACT_IP) && k <= 3 && nx == '.' && nd && (r = det_ipv4(sc, i)))
        add(sc, i, r, REDACT_IP), e = r;
    if (!e && on(sc, REDACT_IP) && k <= 4 && (nx == ':' || rx_hex(nx)) && (r = det_ipv6(sc, i)))
        add(sc, i, r, REDACT_IP), e = r;
    if (!e && on(sc, REDACT_DOB) &&
        ((k == 4 && (nx == '-' || nx == '/' || nx == '.')) || (k <= 2 && (sep || rx_alpha(nx)))) &&
        (r = det_dob(sc, i)))
        add(sc, i, r, REDACT_DOB), e = r;
    if (!e && on(sc, REDACT_PHONE) && (k >= 7 || (sep && nd) || (nx == ' ' && at(sc, i + k + 1) == '(')) &&
        (r = det_phone(sc, i)))
        add(sc, i, r, REDACT_PHONE), e = r;
    if (!e && on(sc, REDACT_ADDRESS) && k <= 5 && (nx == ' ' || nx == ',' || nx == '-' || rx_alpha(nx)) &&
        (r = det_address_num(sc, i)))
        add(sc, i, r, REDACT_ADDRESS), e = r;
    if (!e && on(sc, REDACT_POSTCODE) && k >= 4 && k <= 6 && (r = det_postcode_num(sc, i)))
        add(sc, i, r, REDACT_POSTCODE), e = r;
    size_t st;
    if (!e && on(sc, REDACT_SECRET) && i >= sc->tok_end && (we - i >= 20 || tok_ch(at(sc, we))) &&
        (r = det_entropy(sc, i, &st)))
        add(sc, st, r, REDACT_SECRET), e = r;
    return e;
}

static bool pw_first(unsigned char c) {
    switch (rx_fold(c)) {
    case 'p': case 's': case 't': case 'a': case 'k': return true;
    default: return false;
    }
}

/* Whether the word [i, we) may be a month name: 3..9 letters starting with
 * a month's first three (a quick filter before month_at). */
static bool month_first(const scan *sc, size_t i, size_t we) {
    if (we - i < 3 || we - i > 9) return false;
    uint32_t k = (uint32_t)rx_fold(sc->s[i]) << 16 | (uint32_t)rx_fold(sc->s[i + 1]) << 8 |
                 rx_fold(sc->s[i + 2]);
#define M3(a, b, c) ((uint32_t)(a) << 16 | (uint32_t)(b) << 8 | (uint32_t)(c))
    switch (k) {
    case M3('j', 'a', 'n'): case M3('f', 'e', 'b'): case M3('m', 'a', 'r'): case M3('a', 'p', 'r'):
    case M3('m', 'a', 'y'): case M3('j', 'u', 'n'): case M3('j', 'u', 'l'): case M3('a', 'u', 'g'):
    case M3('s', 'e', 'p'): case M3('o', 'c', 't'): case M3('n', 'o', 'v'): case M3('d', 'e', 'c'):
        return true;
    default:
        return false;
    }
#undef M3
}

/* Detectors for a word starting with a letter; the alnum run is [i, we). */
static size_t alpha_word(scan *sc, size_t i, size_t we) {
    size_t e = 0, r, st;
    unsigned char c = sc->s[i];
    if (on(sc, REDACT_IBAN) && rx_upper(c) && rx_digit(at(sc, i + 2)) && (r = det_iban(sc, i)))
        add(sc, i, r, REDACT_IBAN), e = r;
    if (!e && on(sc, REDACT_SECRET)) {
        if ((r = det_key_prefix(sc, i))) add(sc, i, r, REDACT_SECRET), e = r;
        else if (i >= sc->tok_end && (we - i >= 20 || tok_ch(at(sc, we))) &&
                 (r = det_entropy(sc, i, &st)))
            add(sc, st, r, REDACT_SECRET), e = r;
        else if (we - i <= 10 && pw_first(c) && (r = det_password(sc, i, we))) e = r;
    }
    if (!e && on(sc, REDACT_POSTCODE) && rx_upper(c) && we - i <= 4 && (r = uk_ca_postcode(sc, i)))
        add(sc, i, r, REDACT_POSTCODE), e = r;
    if (!e && on(sc, REDACT_DOB) && month_first(sc, i, we) &&
        (r = det_dob(sc, i)))
        add(sc, i, r, REDACT_DOB), e = r;
    if (!e && on(sc, REDACT_ADDRESS) && rx_upper(c) && (r = det_address_word(sc, i, we)))
        add(sc, i, r, REDACT_ADDRESS), e = r;
    return e;
}

static int cmp_span(const void *a, const void *b) {
    const redact_span *x = a, *y = b;
    if (x->start != y->start) return x->start < y->start ? -1 : 1;
    if (x->end != y->end) return x->end > y->end ? -1 : 1;
    return (int)x->kind - (int)y->kind;
}

hearth_status redact_find(const redact_config *c, const char *text, size_t len,
                          redact_span **out, size_t *n, hearth_error *err) {
    if (!c || !out || !n || (!text && len))
        return HEARTH_FAIL(err, HEARTH_E_ARG, "redact_find: NULL argument");
    *out = NULL;
    *n = 0;
    scan sc = {.s = (uc *)text, .n = len, .c = c, .kinds = c->kinds};
    bool terms = c->n_terms && (c->kinds & (1u << REDACT_TERM));
    size_t i = 0;
    while (i < len && !sc.failed) {
        unsigned char ch = sc.s[i];
        size_t clen = 1;
        bool word;
        if (ch < 0x80) {
            word = rx_alnum(ch);
        } else {
            uint32_t cp;
            clen = rx_utf8(sc.s, len, i, &cp);
            word = rx_word_cp(cp);
        }
        size_t e = 0, r;
        if (terms && c->first[rx_fold(ch)] != c->first[rx_fold(ch) + 1] &&
            !rx_word_before(sc.s, i) && (r = det_term(&sc, i))) {
            add(&sc, i, r, REDACT_TERM);
            e = r;
        }
        if (!word) {
            if (!e) {
                size_t st = 0;
                if (ch == '@' && on(&sc, REDACT_EMAIL) && (r = det_email(&sc, i, &st)))
                    add(&sc, st, r, REDACT_EMAIL), e = r;
                else if ((ch == '+' || ch == '(') && on(&sc, REDACT_PHONE) &&
                         !rx_word_before(sc.s, i) && (r = det_phone(&sc, i)))
                    add(&sc, i, r, REDACT_PHONE), e = r;
                else if (ch == '-' && on(&sc, REDACT_SECRET) && (r = det_pem(&sc, i)))
                    add(&sc, i, r, REDACT_SECRET), e = r;
                else if (ch == ':' && at(&sc, i + 1) == ':' && on(&sc, REDACT_IP) &&
                         (r = det_ipv6(&sc, i)))
                    add(&sc, i, r, REDACT_IP), e = r;
            }
            i = e > i ? e : i + clen;
            continue;
        }
        /* the run of word characters [i, we) */
        size_t we = i + clen;
        while (we < len) {
            unsigned char d = sc.s[we];
            if (d < 0x80) {
                if (!rx_alnum(d)) break;
                we++;
            } else {
                uint32_t cp;
                size_t l = rx_utf8(sc.s, len, we, &cp);
                if (!rx_word_cp(cp)) break;
                we += l;
            }
        }
        if (!e) {
            if (rx_digit(ch)) e = digit_word(&sc, i, we);
            else if (rx_alpha(ch)) e = alpha_word(&sc, i, we);
            else if (on(&sc, REDACT_ADDRESS) && (r = det_address_word(&sc, i, we)))
                add(&sc, i, r, REDACT_ADDRESS), e = r;
            /* IPv6 may start with a letter a-f; e-mail local parts are found at '@'. */
            if (!e && rx_hex(ch) && !rx_digit(ch) && on(&sc, REDACT_IP) && at(&sc, we) == ':' &&
                (r = det_ipv6(&sc, i)))
                add(&sc, i, r, REDACT_IP), e = r;
        }
        i = e > we ? e : we;
    }
    if (sc.failed) {
        hearth_free(sc.v);
        return HEARTH_FAIL(err, HEARTH_E_NOMEM, "redact: out of memory");
    }
    if (!sc.nv) {
        hearth_free(sc.v);
        return HEARTH_OK;
    }
    qsort(sc.v, sc.nv, sizeof *sc.v, cmp_span);
    /* Merge overlaps: the union, with the kind of the longer part. */
    size_t m = 0;
    for (size_t k = 0; k < sc.nv; k++) {
        redact_span sp = sc.v[k];
        if (m && sp.start < sc.v[m - 1].end) {
            redact_span *last = &sc.v[m - 1];
            if (sp.end - sp.start > last->end - last->start) last->kind = sp.kind;
            if (sp.end > last->end) last->end = sp.end;
            continue;
        }
        sc.v[m++] = sp;
    }
    *out = sc.v;
    *n = m;
    return HEARTH_OK;
}
