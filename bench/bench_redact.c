/*
 * bench_redact.c: quality and speed of the redactor (src/router/redact.c)
 * on a corpus it generates itself with a fixed pseudo-random generator (no
 * downloaded data; the same corpus on every run of one build: arguments
 * holding several rnd() calls are evaluated in an order the compiler picks).
 *
 * Quality: sentences, each with one labelled item of a kind (e-mail, phone,
 * card, ...) in many formats and phrasings, mixed with ordinary sentences
 * that must stay untouched (arithmetic, prices, version numbers, dates of
 * events, times, code, prose with numbers). Prints per kind the recall (an
 * item counts as found if one span of its kind covers it), then the
 * precision (spans overlapping a labelled item / all spans) and, per kind of
 * ordinary text, the share of sentences where something was redacted.
 * Goals: recall >= 99% per kind, precision >= 95%.
 *
 * Speed: ~16 MB of mixed text (one item per ~10 sentences, the rest half
 * plain prose, a quarter prose with numbers, a quarter the other ordinary
 * kinds), redact_find over
 * the whole and redact_text per 4 KiB message with a fresh map each; MB/s
 * per second of this thread's CPU time. Goal: >= 50 MB/s.
 *
 *   bench_redact [-v]     -v prints every miss and false positive
 */
#include "router/redact.h"

#include "util/strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(uint32_t n) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)((rng >> 11) % n);
}
#define PICK(a) (a)[rnd(sizeof(a) / sizeof((a)[0]))]

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- the corpus ---------------------------------------------------------- */

/* NEG_LATE: templates written after the detectors were tuned and never
 * tuned against (a check on over-fitting to the other templates). */
enum { NEG_ARITH, NEG_PRICE, NEG_VERSION, NEG_DATE, NEG_TIME, NEG_CODE, NEG_PROSE, NEG_WORDS,
       NEG_LATE, NEG_COUNT };
static const char *const neg_names[NEG_COUNT] = {"arithmetic", "prices", "versions",
                                                 "event dates", "times", "code",
                                                 "prose+numbers", "prose", "late (untuned)"};

static const char *const common[] = {
    "the", "of", "and", "to", "a", "in", "is", "it", "you", "that", "he", "was", "for", "on",
    "are", "with", "as", "I", "his", "they", "be", "at", "one", "have", "this", "from", "or",
    "had", "by", "hot", "word", "but", "what", "some", "we", "can", "out", "other", "were",
    "all", "there", "when", "up", "use", "your", "how", "said", "an", "each", "she", "which",
    "do", "their", "time", "if", "will", "way", "about", "many", "then", "them", "write",
    "would", "like", "so", "these", "her", "long", "make", "thing", "see", "him", "two", "has",
    "look", "more", "day", "could", "go", "come", "did", "number", "sound", "no", "most",
    "people", "my", "over", "know", "water", "than", "call", "first", "who", "may", "down",
    "side", "been", "now", "find", "government", "development", "information", "university",
    "understanding", "nevertheless", "particularly", "environment", "don't", "it's", "we're",
    "street", "road", "password", "token", "key", "born", "birthday", "phone", "address",
    "account", "card", "secret", "version", "release", "doctor", "bank", "meeting", "email"};
static const char *const proper[] = {"Paris", "London", "Tokyo", "Maria", "John", "Monday",
                                     "Google", "Python", "Europe", "Amazon", "Berlin", "Lisbon",
                                     "Street", "Main", "High", "Park", "Victoria", "March", "May"};

typedef struct {
    size_t start, end;
    int kind; /* redact_kind, or -1 - NEG_x for an ordinary sentence */
    size_t sent_start, sent_end;
} label;

typedef struct {
    strbuf text;
    label *v;
    size_t n, cap;
} corpus;

static void push_label(corpus *c, label l) {
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 1024;
        c->v = realloc(c->v, c->cap * sizeof *c->v);
    }
    c->v[c->n++] = l;
}

static void fmt(char *buf, size_t cap, const char *f, ...) __attribute__((format(printf, 3, 4)));
static void fmt(char *buf, size_t cap, const char *f, ...) {
    va_list ap;
    va_start(ap, f);
    vsnprintf(buf, cap, f, ap);
    va_end(ap);
}

/* Ends a sentence with a full stop unless it has one (or is code). */
static void end_sentence(corpus *c) {
    char last = c->text.len ? c->text.p[c->text.len - 1] : '.';
    if (!strchr(".!?;})\"", last)) strbuf_puts(&c->text, ".");
}

/* Appends template tpl with "%s" replaced by item, labelling the item. */
static void sentence(corpus *c, const char *tpl, const char *item, int kind) {
    const char *ph = strstr(tpl, "%s");
    size_t s0 = c->text.len;
    strbuf_append(&c->text, tpl, (size_t)(ph - tpl));
    size_t a = c->text.len;
    strbuf_puts(&c->text, item);
    size_t b = c->text.len;
    strbuf_puts(&c->text, ph + 2);
    end_sentence(c);
    push_label(c, (label){a, b, kind, s0, c->text.len});
    strbuf_puts(&c->text, rnd(4) ? " " : "\n");
}

static void plain(corpus *c, const char *s, int neg) {
    size_t s0 = c->text.len;
    strbuf_puts(&c->text, s);
    end_sentence(c);
    push_label(c, (label){s0, s0, -1 - neg, s0, c->text.len});
    strbuf_puts(&c->text, rnd(4) ? " " : "\n");
}

static void digits(char *out, int n) {
    for (int i = 0; i < n; i++) out[i] = (char)('0' + rnd(10));
    out[n] = '\0';
}

static const char *const first_names[] = {"john", "maria", "li", "ahmed", "sophie", "kenji",
                                          "olga", "pierre", "ana", "david", "fatima", "lucas"};
static const char *const last_names[] = {"smith", "garcia", "wang", "khan", "martin", "tanaka",
                                         "ivanova", "dubois", "silva", "cohen", "nguyen", "berg"};
static const char *const domains[] = {"example.com", "mail.example.org", "corp.example.co.uk",
                                      "uni-example.edu", "example.de", "post.example.fr",
                                      "example.io", "gmail.com"};

static void gen_email(char *o, size_t cap) {
    const char *f = PICK(first_names), *l = PICK(last_names), *d = PICK(domains);
    switch (rnd(5)) {
    case 0: fmt(o, cap, "%s.%s@%s", f, l, d); break;
    case 1: fmt(o, cap, "%s_%s%u@%s", f, l, rnd(100), d); break;
    case 2: fmt(o, cap, "%c%s+news@%s", f[0], l, d); break;
    case 3: fmt(o, cap, "%c%s@%s", f[0] - 32, l, d); break;
    default: fmt(o, cap, "%s%u@%s", l, 1950 + rnd(60), d); break;
    }
}

static void gen_phone(char *o, size_t cap) {
    char a[16], b[16], c[16], d[16];
    digits(b, 3), digits(c, 4), digits(d, 2);
    int area = 200 + (int)rnd(800), ex = 200 + (int)rnd(800);
    switch (rnd(13)) {
    case 0: fmt(o, cap, "+1 (%d) %d-%s", area, ex, c); break;
    case 1: digits(a, 4); fmt(o, cap, "+44 20 %s %s", a, c); break;
    case 2: digits(a, 8); fmt(o, cap, "+49 30 %s", a); break;
    case 3: fmt(o, cap, "+33 6 %02u %02u %02u %02u", rnd(100), rnd(100), rnd(100), rnd(100)); break;
    case 4: digits(a, 7); fmt(o, cap, "+4915%u%s", 10 + rnd(90), a); break;
    case 5: digits(a, 4); fmt(o, cap, "0044 20 %s %s", a, c); break;
    case 6: fmt(o, cap, "(%d) %d-%s", area, ex, c); break;
    case 7: fmt(o, cap, "%d-%d-%s", area, ex, c); break;
    case 8: fmt(o, cap, "%d.%d.%s", area, ex, c); break;
    case 9: digits(a, 4); fmt(o, cap, "020 %s %s", a, c); break;
    case 10: digits(a, 8); fmt(o, cap, "030 %s", a); break;
    case 11: fmt(o, cap, "06 %02u %02u %02u %02u", rnd(100), rnd(100), rnd(100), rnd(100)); break;
    default: fmt(o, cap, "1-800-%d-%s", ex, c); break;
    }
}

static void luhn_fix(char *d, int n) {
    int sum = 0;
    for (int i = n - 2, alt = 1; i >= 0; i--, alt ^= 1) {
        int v = d[i] - '0';
        if (alt) {
            v *= 2;
            if (v > 9) v -= 9;
        }
        sum += v;
    }
    d[n - 1] = (char)('0' + (10 - sum % 10) % 10);
}

static void gen_card(char *o, size_t cap) {
    char d[24];
    int n;
    switch (rnd(4)) {
    case 0: n = 16; digits(d, n); d[0] = '4'; break;
    case 1: n = 16; digits(d, n); d[0] = '5'; d[1] = (char)('1' + rnd(5)); break;
    case 2: n = 15; digits(d, n); d[0] = '3'; d[1] = rnd(2) ? '4' : '7'; break;
    default: n = 16; digits(d, n); memcpy(d, "6011", 4); break;
    }
    luhn_fix(d, n);
    int style = (int)rnd(3);
    if (style == 0) {
        fmt(o, cap, "%s", d);
    } else if (n == 15) {
        char sep = style == 1 ? ' ' : '-';
        fmt(o, cap, "%.4s%c%.6s%c%.5s", d, sep, d + 4, sep, d + 10);
    } else {
        char sep = style == 1 ? ' ' : '-';
        fmt(o, cap, "%.4s%c%.4s%c%.4s%c%.4s", d, sep, d + 4, sep, d + 8, sep, d + 12);
    }
}

static void gen_iban(char *o, size_t cap) {
    static const struct { const char *cc; const char *shape; } c[] = {
        {"DE", "dddddddddddddddddd"}, {"GB", "AAAAdddddddddddddd"}, {"FR", "ddddddddddddddddddddddd"},
        {"NL", "AAAAdddddddddd"},     {"ES", "dddddddddddddddddddd"}, {"IT", "Addddddddddddddddddddddd"},
        {"CH", "ddddddddddddddddd"},  {"BE", "dddddddddddd"},
    };
    int k = (int)rnd(8);
    char bban[40];
    size_t bl = strlen(c[k].shape);
    for (size_t i = 0; i < bl; i++)
        bban[i] = c[k].shape[i] == 'A' ? (char)('A' + rnd(26)) : (char)('0' + rnd(10));
    bban[bl] = '\0';
    /* check digits: 98 - (BBAN CC 00 mod 97) */
    char re[64];
    fmt(re, sizeof re, "%s%s00", bban, c[k].cc);
    unsigned rem = 0;
    for (char *p = re; *p; p++) {
        int v = *p >= 'A' ? *p - 'A' + 10 : *p - '0';
        rem = v >= 10 ? (rem * 100 + (unsigned)v) % 97 : (rem * 10 + (unsigned)v) % 97;
    }
    char iban[48];
    fmt(iban, sizeof iban, "%s%02u%s", c[k].cc, 98 - rem, bban);
    if (rnd(2)) {
        fmt(o, cap, "%s", iban);
    } else {
        size_t n = 0, L = strlen(iban);
        for (size_t i = 0; i < L; i++) {
            if (i && i % 4 == 0) o[n++] = ' ';
            o[n++] = iban[i];
        }
        o[n] = '\0';
    }
}

static void gen_ssn(char *o, size_t cap) {
    int a;
    do a = 1 + (int)rnd(899);
    while (a == 666);
    fmt(o, cap, "%03d-%02u-%04u", a, 1 + rnd(99), 1 + rnd(9999));
}

static void gen_ip(char *o, size_t cap) {
    switch (rnd(5)) {
    case 0: fmt(o, cap, "192.168.%u.%u", rnd(256), 1 + rnd(254)); break;
    case 1: fmt(o, cap, "10.%u.%u.%u", rnd(256), rnd(256), 1 + rnd(254)); break;
    case 2: fmt(o, cap, "%u.%u.%u.%u", 1 + rnd(223), rnd(256), rnd(256), 1 + rnd(254)); break;
    case 3:
        fmt(o, cap, "2001:db8:%x:%x:%x:%x:%x:%x", rnd(65536), rnd(65536), rnd(65536), rnd(65536),
            rnd(65536), rnd(65536));
        break;
    default: fmt(o, cap, "fe80::%x:%x:%x", 1 + rnd(65535), rnd(65536), 1 + rnd(65535)); break;
    }
}

static const char *const month_names[] = {"January", "February", "March", "April", "May", "June",
                                          "July", "August", "September", "October", "November",
                                          "December"};

static void gen_date(char *o, size_t cap) {
    int d = 1 + (int)rnd(28), m = 1 + (int)rnd(12), y = 1940 + (int)rnd(80);
    switch (rnd(7)) {
    case 0: fmt(o, cap, "%02d/%02d/%d", d, m, y); break;
    case 1: fmt(o, cap, "%d-%02d-%02d", y, m, d); break;
    case 2: fmt(o, cap, "%02d.%02d.%d", d, m, y); break;
    case 3: fmt(o, cap, "%d %s %d", d, month_names[m - 1], y); break;
    case 4: fmt(o, cap, "%s %d, %d", month_names[m - 1], d, y); break;
    case 5: fmt(o, cap, "%dth of %s %d", 4 + (int)rnd(16), month_names[m - 1], y); break;
    default: fmt(o, cap, "%.3s %d %d", month_names[m - 1], d, y); break;
    }
}

static const char *const street_names[] = {"Baker", "Elm", "Oak", "Maple", "Pennsylvania",
                                           "Evergreen", "Sunset", "Main", "High", "Church",
                                           "Park", "Station", "Victoria", "Mill", "King George"};
static const char *const suffixes[] = {"Street", "St", "Avenue", "Ave", "Road", "Rd", "Lane",
                                       "Drive", "Boulevard", "Terrace", "Way", "Court", "Place"};

static void gen_address(char *o, size_t cap) {
    switch (rnd(8)) {
    case 0: case 1: case 2:
        fmt(o, cap, "%u %s %s", 1 + rnd(9999), PICK(street_names), PICK(suffixes));
        break;
    case 3: fmt(o, cap, "%u%c %s %s", 1 + rnd(300), 'A' + rnd(4), PICK(street_names), PICK(suffixes)); break;
    case 4: fmt(o, cap, "%u rue de la %s", 1 + rnd(200), rnd(2) ? "Paix" : "République"); break;
    case 5:
        fmt(o, cap, "%s %u", rnd(3) == 0 ? "Hauptstraße" : rnd(2) ? "Lindenallee" : "Keizersgracht",
            1 + rnd(300));
        break;
    case 6: fmt(o, cap, "Calle %s %u", rnd(2) ? "Mayor" : "de Alcalá", 1 + rnd(200)); break;
    default: fmt(o, cap, "%u %s %s, Apt %u", 1 + rnd(999), PICK(street_names), PICK(suffixes), 1 + rnd(40)); break;
    }
}

static void gen_postcode(char *o, size_t cap) {
    static const char L[] = "ABCEGHJKLMNPRSTVXY";
    switch (rnd(4)) {
    case 0:
        fmt(o, cap, "%c%c%u%c %u%c%c", 'A' + rnd(26), 'A' + rnd(26), rnd(10), 'A' + rnd(26), rnd(10),
            'A' + rnd(26), 'A' + rnd(26));
        if (rnd(2)) fmt(o, cap, "%c%u %u%c%c", 'A' + rnd(26), 1 + rnd(9), rnd(10), 'A' + rnd(26), 'A' + rnd(26));
        break;
    case 1: fmt(o, cap, "%c%u%c %u%c%u", L[rnd(18)], rnd(10), L[rnd(18)], rnd(10), L[rnd(18)], rnd(10)); break;
    case 2: fmt(o, cap, "%05u", 10000 + rnd(89999)); break; /* US: with a state */
    default: fmt(o, cap, "%u %c%c", 1000 + rnd(8999), 'B' + rnd(5), 'E' + rnd(5)); break; /* NL */
    }
}

static void rand_chars(char *o, int n, const char *set) {
    size_t l = strlen(set);
    for (int i = 0; i < n; i++) o[i] = set[rnd((uint32_t)l)];
    o[n] = '\0';
}

static const char ALNUM[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char UPNUM[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

static void gen_secret(char *o, size_t cap) {
    char r[128], r2[128], r3[128];
    switch (rnd(12)) {
    case 0: rand_chars(r, 48, ALNUM); fmt(o, cap, "sk-%s", r); break;
    case 1: rand_chars(r, 40, ALNUM); fmt(o, cap, "sk-proj-%s", r); break;
    case 2: rand_chars(r, 36, ALNUM); fmt(o, cap, "ghp_%s", r); break;
    case 3: rand_chars(r, 16, UPNUM); fmt(o, cap, "AKIA%s", r); break;
    case 4: rand_chars(r, 24, ALNUM); fmt(o, cap, "xoxb-%u-%u-%s", 1000 + rnd(9000), 10000 + rnd(90000), r); break;
    case 5: rand_chars(r, 20, ALNUM); fmt(o, cap, "glpat-%s", r); break;
    case 6: rand_chars(r, 35, ALNUM); fmt(o, cap, "AIza%s", r); break;
    case 7:
        rand_chars(r, 20, ALNUM), rand_chars(r2, 40, ALNUM), rand_chars(r3, 43, ALNUM);
        fmt(o, cap, "eyJ%s.eyJ%s.%s", r, r2, r3);
        break;
    case 8: rand_chars(r, 40, B64); fmt(o, cap, "%s", r); break;
    case 9: rand_chars(r, 32, ALNUM); fmt(o, cap, "%s", r); break;
    case 10: rand_chars(r, 6, ALNUM); fmt(o, cap, "%s#%u!", r, rnd(100)); break; /* a password */
    default: rand_chars(r, 5, "abcdefghijklmnopqrstuvwxyz"); fmt(o, cap, "%s%u", r, 10 + rnd(90)); break;
    }
}

static const char *const terms_cfg = "Alice Martin, Bob Keller, Springfield, Project Falcon, Zoë Dubois, Müllerstadt";
static const char *const term_items[] = {"Alice Martin", "alice martin", "Bob Keller", "Springfield",
                                         "Project Falcon", "PROJECT FALCON", "Zoë Dubois", "Müllerstadt"};

typedef struct {
    int kind;
    void (*gen)(char *, size_t);
    const char *const *tpl;
    size_t ntpl;
} kind_gen;

static const char *const t_email[] = {"Contact me at %s.", "Send the file to %s please", "email: %s",
                                      "Her address is <%s> now.", "(%s)", "cc %s, thanks"};
static const char *const t_phone[] = {"Call me on %s.", "My number is %s", "Reach the office at %s tomorrow.",
                                      "Phone: %s", "or just ring %s after five", "Fax %s"};
static const char *const t_card[] = {"My card number is %s, expiry 04/27.", "Card: %s", "please charge %s for it",
                                     "the Visa %s was declined"};
static const char *const t_iban[] = {"Transfer it to %s.", "IBAN: %s", "my account %s at the bank",
                                     "Pay into %s by Friday."};
static const char *const t_ssn[] = {"SSN: %s", "my social security number is %s.", "Employee SSN %s on file"};
static const char *const t_ip[] = {"The server is at %s.", "ssh into %s and restart it", "allow %s in the firewall",
                                   "connection from %s refused", "host=%s"};
static const char *const t_dob[] = {"I was born on %s.", "DOB: %s", "Date of birth: %s", "Born %s in Lyon.",
                                    "my birthday is %s", "D.O.B. %s", "She was born %s, in winter."};
static const char *const t_addr[] = {"I live at %s.", "Ship it to %s, please.", "Our office: %s",
                                     "meet me at %s tonight", "the house at %s is for sale"};
static const char *const t_secret[] = {"Here is my key %s, keep it safe.", "export API_TOKEN=%s",
                                       "password: %s", "my password is %s", "token = \"%s\"",
                                       "use %s as the key"};
static const char *const t_term[] = {"Tell %s that the meeting moved.", "We drove to %s yesterday.",
                                     "I work on %s at the moment.", "\"%s\" said no."};

static void gen_term(char *o, size_t cap) { fmt(o, cap, "%s", PICK(term_items)); }

static void pos_sample(corpus *c, int kind) {
    char item[512];
    if (kind == REDACT_POSTCODE) {
        int before = (int)c->text.len;
        (void)before;
        gen_postcode(item, sizeof item);
        bool us = strlen(item) == 5 && item[0] >= '0' && item[0] <= '9';
        bool nl = item[4] == ' ' && item[0] >= '0' && item[0] <= '9';
        const char *tpl = us ? (rnd(2) ? "Peoria, IL %s" : "zip code %s, I think")
                          : nl ? "Kalverstraat area, %s Amsterdam" : PICK(((const char *const[]){
                                 "London %s", "The postcode is %s.", "Send it to Ottawa ON %s"}));
        sentence(c, tpl, item, kind);
        return;
    }
    static const kind_gen gens[] = {
        {REDACT_EMAIL, gen_email, t_email, 6},   {REDACT_PHONE, gen_phone, t_phone, 6},
        {REDACT_CARD, gen_card, t_card, 4},      {REDACT_IBAN, gen_iban, t_iban, 4},
        {REDACT_SSN, gen_ssn, t_ssn, 3},         {REDACT_IP, gen_ip, t_ip, 5},
        {REDACT_DOB, gen_date, t_dob, 7},        {REDACT_ADDRESS, gen_address, t_addr, 5},
        {REDACT_POSTCODE, NULL, NULL, 0},        {REDACT_SECRET, gen_secret, t_secret, 6},
        {REDACT_TERM, gen_term, t_term, 4},
    };
    const kind_gen *g = &gens[kind];
    g->gen(item, sizeof item);
    const char *tpl = g->tpl[rnd((uint32_t)g->ntpl)];
    if (kind == REDACT_SECRET) {
        /* passwords go with a keyword, random tokens with any phrasing */
        size_t l = strlen(item);
        bool pw = l < 12;
        if (pw) tpl = rnd(2) ? "password: %s" : "my password is %s";
        else if (strstr(tpl, "password")) tpl = "Authorization: Bearer %s";
    }
    sentence(c, tpl, item, kind);
}

static void neg_sample(corpus *c, int neg) {
    char s[512], d[64];
    switch (neg) {
    case NEG_ARITH: {
        unsigned a = rnd(10000), b = rnd(10000);
        switch (rnd(6)) {
        case 0: fmt(s, sizeof s, "What is %u + %u? It is %u.", a, b, a + b); break;
        case 1: fmt(s, sizeof s, "%u * %u = %u", a % 100, b % 100, (a % 100) * (b % 100)); break;
        case 2: fmt(s, sizeof s, "Compute (%u - %u) / %u first.", a, b, 1 + b % 9); break;
        case 3: fmt(s, sizeof s, "%u.%u + %u.%u = %u.%u", a % 100, b % 10, b % 100, a % 10, (a + b) % 200, (a + b) % 10); break;
        case 4: fmt(s, sizeof s, "The sum of 1, 2, 3, ... , %u is %u.", a, a * (a + 1) / 2); break;
        default: fmt(s, sizeof s, "%u,%03u,%03u divided by %u is roughly %u", 1 + a % 999, b % 1000, a % 1000, 1 + b % 97, a * 7); break;
        }
        break;
    }
    case NEG_PRICE:
        switch (rnd(5)) {
        case 0: fmt(s, sizeof s, "The laptop costs $%u.%02u", 200 + rnd(3000), rnd(100)); break;
        case 1: fmt(s, sizeof s, "It was only €%u,%02u at the market.", rnd(100), rnd(100)); break;
        case 2: fmt(s, sizeof s, "Total: %u,%03u.%02u USD", 1 + rnd(99), rnd(1000), rnd(100)); break;
        case 3: fmt(s, sizeof s, "Save 20%% on orders over $%u today.", 50 + rnd(500)); break;
        default: fmt(s, sizeof s, "price: %u.%02u EUR per %u kg", rnd(1000), rnd(100), 1 + rnd(50)); break;
        }
        break;
    case NEG_VERSION: {
        unsigned a = rnd(20), b = rnd(40), e = rnd(100), f = rnd(300);
        switch (rnd(7)) {
        case 0: fmt(s, sizeof s, "Upgrade to version %u.%u.%u.%u before Monday.", a, b, e, f); break;
        case 1: fmt(s, sizeof s, "v%u.%u.%u fixes the crash.", a, b, e); break;
        case 2: fmt(s, sizeof s, "We run Python %u.%u.%u in production.", 2 + a % 2, b % 13, e % 20); break;
        case 3: fmt(s, sizeof s, "Release %u.%u.%u.%u is out.", a, b, e, f); break;
        case 4: fmt(s, sizeof s, "bump libfoo from %u.%u.%u to %u.%u.%u", a, b, e, a, b, e + 1); break;
        case 5: fmt(s, sizeof s, "Firmware %u.%u.%u.%u adds Wi-Fi 6.", a, b, e, f); break;
        default: fmt(s, sizeof s, "the %u.%u.%u.%u release notes", a, b, e, f); break;
        }
        break;
    }
    case NEG_DATE:
        gen_date(d, sizeof d);
        fmt(s, sizeof s, "%s", PICK(((const char *const[]){"The meeting is on ", "We launched on ",
                                                              "Deadline: ", "Invoice dated ",
                                                              "The concert was held on "})));
        strcat(s, d);
        strcat(s, rnd(2) ? "." : ", as planned.");
        break;
    case NEG_TIME:
        switch (rnd(4)) {
        case 0: fmt(s, sizeof s, "The train leaves at %02u:%02u:%02u sharp.", rnd(24), rnd(60), rnd(60)); break;
        case 1: fmt(s, sizeof s, "See you at %u:%02u pm.", 1 + rnd(12), rnd(60)); break;
        case 2: fmt(s, sizeof s, "The screen is 16:9, the photo %u:%u.", 1 + rnd(4), 1 + rnd(4)); break;
        default: fmt(s, sizeof s, "He ran the marathon in %u:%02u:%02u.", 2 + rnd(3), rnd(60), rnd(60)); break;
        }
        break;
    case NEG_CODE: {
        char h[48];
        rand_chars(h, 40, "0123456789abcdef");
        switch (rnd(16)) {
        case 0: fmt(s, sizeof s, "for (int i = 0; i < %u; i++) { sum += a[i] * %u; }", rnd(5000), rnd(100)); break;
        case 1: fmt(s, sizeof s, "x = np.array([1, 2, 3]) @ weights + bias"); break;
        case 2: fmt(s, sizeof s, "git checkout %s", h); break;
        case 3: fmt(s, sizeof s, "uuid = \"%.8s-%.4s-4%.3s-a%.3s-%.12s\"", h, h + 8, h + 12, h + 15, h + 18); break;
        case 4: fmt(s, sizeof s, "std::vector<int> v{1, 2, 3}; v.push_back(%u);", rnd(100)); break;
        case 5: fmt(s, sizeof s, "const token = await getToken(); if (!token) return null;"); break;
        case 6: fmt(s, sizeof s, "def get_password(self): return self._password"); break;
        case 7: fmt(s, sizeof s, "password = getpass.getpass(\"Password: \")"); break;
        case 8: fmt(s, sizeof s, "printf(\"%%d items\\n\", %u);", rnd(100000)); break;
        case 9: fmt(s, sizeof s, "url = \"https://example.com/api/v1/users?id=%u\"", rnd(100000)); break;
        case 10: fmt(s, sizeof s, "sha256: %s%.24s", h, h); break;
        case 11: fmt(s, sizeof s, "matrix[3][4] = 0x7fffffff; // max int"); break;
        case 12: fmt(s, sizeof s, "SELECT * FROM users WHERE id = %u AND age > %u;", rnd(100000), rnd(90)); break;
        case 13: fmt(s, sizeof s, "getElementsByClassName(\"row\")[%u].addEventListener(\"click\", onClick);", rnd(10)); break;
        case 14: fmt(s, sizeof s, "interface User { name: string; password: string; age: number }"); break;
        default: fmt(s, sizeof s, "chmod 755 /usr/local/bin/tool && ./configure --prefix=/opt/x86_64-linux-gnu"); break;
        }
        break;
    }
    case NEG_WORDS: {
        size_t n = 0;
        int words = 6 + (int)rnd(15);
        for (int w = 0; w < words && n < 400; w++) {
            const char *t = rnd(8) ? PICK(common) : PICK(proper);
            n += (size_t)snprintf(s + n, sizeof s - n, "%s%s", w ? " " : "", t);
            if (w == 0 && s[0] >= 'a' && s[0] <= 'z') s[0] = (char)(s[0] - 32);
            if (rnd(12) == 0 && w + 1 < words) n += (size_t)snprintf(s + n, sizeof s - n, ",");
        }
        break;
    }
    case NEG_LATE: {
        char h[48];
        rand_chars(h, 40, ALNUM);
        switch (rnd(16)) {
        case 0: fmt(s, sizeof s, "2024-%02u-%02uT%02u:%02u:%02uZ INFO worker %u finished in %u ms", 1 + rnd(12), 1 + rnd(28), rnd(24), rnd(60), rnd(60), rnd(64), rnd(5000)); break;
        case 1: fmt(s, sizeof s, "| %u | %u.%u | %u%% |", rnd(1000), rnd(100), rnd(10), rnd(100)); break;
        case 2: fmt(s, sizeof s, "Download it from https://downloads.example.org/v%u.%u/setup-%u.%u.%u.exe", rnd(9), rnd(20), rnd(9), rnd(20), rnd(100)); break;
        case 3: fmt(s, sizeof s, "The recipe needs %u g of flour, %u eggs and %u.%u l of milk.", 100 + rnd(900), 1 + rnd(6), rnd(2), rnd(10)); break;
        case 4: fmt(s, sizeof s, "Population density: %u people per km2 (census %u).", rnd(20000), 1950 + rnd(70)); break;
        case 5: fmt(s, sizeof s, "The Lakers won %u-%u against Boston on Sunday.", 90 + rnd(40), 90 + rnd(40)); break;
        case 6: fmt(s, sizeof s, "Part number %u-%u-%u fits models %u and %u.", rnd(1000), rnd(1000), rnd(10000), rnd(10000), rnd(10000)); break;
        case 7: fmt(s, sizeof s, "C6H12O6 and H2SO4 react at %u K under %u.%u bar.", 200 + rnd(400), rnd(10), rnd(10)); break;
        case 8: fmt(s, sizeof s, "Use the formula E = mc^2 with c = 299792458 m/s."); break;
        case 9: fmt(s, sizeof s, "Matrix A = [[%u, %u], [%u, %u]] has determinant %d.", rnd(10), rnd(10), rnd(10), rnd(10), (int)rnd(100) - 50); break;
        case 10: fmt(s, sizeof s, "The function returns 0x%08x on error and 0 otherwise.", rnd(1u << 31)); break;
        case 11: fmt(s, sizeof s, "Step %u of %u: set the timer to %u minutes and %u seconds.", 1 + rnd(9), 10, rnd(60), rnd(60)); break;
        case 12: fmt(s, sizeof s, "Netflix raised prices to %u.%02u per month in %u countries.", 5 + rnd(15), rnd(100), 10 + rnd(100)); break;
        case 13: fmt(s, sizeof s, "Add the dependency \"libfoo\": \"^%u.%u.%u\" to package.json.", rnd(10), rnd(30), rnd(30)); break;
        case 14: fmt(s, sizeof s, "In Q%u %u, revenue grew %u.%u%% to %u.%u billion.", 1 + rnd(4), 2000 + rnd(25), rnd(30), rnd(10), rnd(200), rnd(10)); break;
        default: fmt(s, sizeof s, "The train from Paris to Lyon takes %u h %02u and costs %u euros.", 1 + rnd(3), rnd(60), 20 + rnd(100)); break;
        }
        (void)h;
        break;
    }
    default:
        switch (rnd(14)) {
        case 0: fmt(s, sizeof s, "The population was %u,%03u,%03u in 2020.", 1 + rnd(20), rnd(1000), rnd(1000)); break;
        case 1: fmt(s, sizeof s, "Flight LH %u departs from gate B%u.", 100 + rnd(900), 1 + rnd(40)); break;
        case 2: fmt(s, sizeof s, "ISBN 978-3-16-148410-0 is on the cover."); break;
        case 3: fmt(s, sizeof s, "Room %u is on floor %u.", 100 + rnd(400), 1 + rnd(9)); break;
        case 4: fmt(s, sizeof s, "Order #%u shipped on time.", 100000 + rnd(900000)); break;
        case 5: fmt(s, sizeof s, "latitude 48.%04u, longitude 2.%04u", rnd(10000), rnd(10000)); break;
        case 6: fmt(s, sizeof s, "See RFC %u section %u.%u for details.", 1000 + rnd(8000), 1 + rnd(20), 1 + rnd(9)); break;
        case 7: fmt(s, sizeof s, "Temperatures range from -%u to %u degrees.", rnd(20), rnd(40)); break;
        case 8: fmt(s, sizeof s, "In 1969, %u million people watched the landing.", 100 + rnd(900)); break;
        case 9: fmt(s, sizeof s, "See pages %u-%u and the 2024-2025 season review.", rnd(100), 100 + rnd(100)); break;
        case 10: fmt(s, sizeof s, "Paris is the capital of France and London of the United Kingdom."); break;
        case 11: fmt(s, sizeof s, "The final score was %u-%u after %u minutes.", rnd(6), rnd(6), 90 + rnd(30)); break;
        case 12: fmt(s, sizeof s, "Chapter %u: The Road Home, page %u.", 1 + rnd(30), rnd(400)); break;
        default: fmt(s, sizeof s, "We sold %u units in Q%u, up %u.%u%% from last year.", rnd(100000), 1 + rnd(4), rnd(50), rnd(10)); break;
        }
        break;
    }
    plain(c, s, neg);
}

/* ---- evaluation ---------------------------------------------------------- */

int main(int argc, char **argv) {
    bool verbose = argc > 1 && !strcmp(argv[1], "-v");
    redact_config *cfg;
    hearth_error err;
    if (redact_config_new(&cfg, &err) || redact_config_add_terms(cfg, terms_cfg, &err)) {
        fprintf(stderr, "bench_redact: %s\n", err.msg);
        return 1;
    }
    corpus c = {0};
    strbuf_init(&c.text);
    const int per_kind = 3000, n_neg = 40000;
    for (int i = 0; i < per_kind * REDACT_KIND_COUNT + n_neg; i++) {
        if (rnd((uint32_t)(per_kind * REDACT_KIND_COUNT + n_neg)) < (uint32_t)n_neg)
            neg_sample(&c, (int)rnd(NEG_COUNT));
        else
            pos_sample(&c, (int)rnd(REDACT_KIND_COUNT));
    }
    size_t len;
    char *text = strbuf_finish(&c.text, &len);
    redact_span *sp;
    size_t nsp;
    if (redact_find(cfg, text, len, &sp, &nsp, &err)) {
        fprintf(stderr, "bench_redact: %s\n", err.msg);
        return 1;
    }
    /* recall */
    size_t found[REDACT_KIND_COUNT] = {0}, total[REDACT_KIND_COUNT] = {0};
    size_t neg_total[NEG_COUNT] = {0}, neg_hit[NEG_COUNT] = {0};
    size_t j = 0, tp_spans = 0, fp_spans = 0;
    size_t fp_kind[REDACT_KIND_COUNT] = {0};
    bool *span_true = calloc(nsp ? nsp : 1, 1);
    for (size_t i = 0; i < c.n; i++) {
        label *l = &c.v[i];
        while (j < nsp && sp[j].end <= l->sent_start) j++;
        if (l->kind >= 0) {
            total[l->kind]++;
            bool ok = false;
            for (size_t k = j; k < nsp && sp[k].start < l->sent_end; k++) {
                if (sp[k].start <= l->start && sp[k].end >= l->end && (int)sp[k].kind == l->kind) ok = true;
                if (sp[k].start < l->end && sp[k].end > l->start) span_true[k] = true;
            }
            if (ok) found[l->kind]++;
            else if (verbose)
            {
                size_t from = l->sent_start > 60 ? l->sent_start - 60 : 0;
                printf("MISS %-8s %.*s  <<after: %.*s>>\n", redact_kind_name(l->kind),
                       (int)(l->sent_end - l->sent_start), text + l->sent_start,
                       (int)(l->sent_start - from), text + from);
            }
        } else {
            int neg = -1 - l->kind;
            neg_total[neg]++;
            bool hit = false;
            for (size_t k = j; k < nsp && sp[k].start < l->sent_end; k++)
                if (sp[k].end > l->sent_start) hit = true;
            if (hit) {
                neg_hit[neg]++;
                if (verbose)
                    printf("FP   %-13s %.*s\n", neg_names[neg], (int)(l->sent_end - l->sent_start),
                           text + l->sent_start);
            }
        }
    }
    for (size_t k = 0; k < nsp; k++) {
        if (span_true[k]) {
            tp_spans++;
        } else {
            fp_spans++;
            fp_kind[sp[k].kind]++;
            if (verbose) printf("FPSPAN %-8s '%.*s'\n", redact_kind_name(sp[k].kind), (int)(sp[k].end - sp[k].start), text + sp[k].start);
        }
    }
    printf("corpus: %zu sentences, %zu bytes, %zu spans found\n\n", c.n, len, nsp);
    printf("%-9s %7s %7s %8s %9s\n", "kind", "items", "found", "recall", "false+");
    for (int k = 0; k < REDACT_KIND_COUNT; k++)
        printf("%-9s %7zu %7zu %7.2f%% %9zu\n", redact_kind_name(k), total[k], found[k],
               total[k] ? 100.0 * found[k] / total[k] : 0.0, fp_kind[k]);
    printf("\nprecision: %.2f%% (%zu of %zu spans overlap a labelled item)\n",
           100.0 * tp_spans / (double)(nsp ? nsp : 1), tp_spans, nsp);
    printf("\n%-14s %9s %10s\n", "ordinary text", "sentences", "redacted");
    for (int k = 0; k < NEG_COUNT; k++)
        printf("%-14s %9zu %9.2f%%\n", neg_names[k], neg_total[k],
               neg_total[k] ? 100.0 * neg_hit[k] / neg_total[k] : 0.0);
    free(span_true);
    hearth_free(sp);
    hearth_free(text);
    free(c.v);

    /* speed: ~16 MB, one labelled item per ~10 sentences; half the rest is
     * prose without numbers, a quarter prose with numbers */
    corpus s = {0};
    strbuf_init(&s.text);
    while (s.text.len < (16u << 20)) {
        if (rnd(10) == 0) pos_sample(&s, (int)rnd(REDACT_KIND_COUNT));
        else neg_sample(&s, rnd(2) ? NEG_WORDS : rnd(2) ? NEG_PROSE : (int)rnd(NEG_COUNT));
    }
    char *big = strbuf_finish(&s.text, &len);
    free(s.v);
    /* warm up */
    redact_find(cfg, big, len < (1u << 20) ? len : (1u << 20), &sp, &nsp, &err);
    hearth_free(sp);
    double t0 = now();
    if (redact_find(cfg, big, len, &sp, &nsp, &err)) return 1;
    double t1 = now();
    hearth_free(sp);
    size_t chunk = 4096, done = 0;
    double t2 = now();
    for (size_t off = 0; off < len; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk;
        redact_map m;
        redact_map_init(&m);
        char *out;
        size_t ol;
        if (redact_text(cfg, &m, big + off, n, &out, &ol, &err)) return 1;
        done += n;
        hearth_free(out);
        redact_map_clear(&m);
    }
    double t3 = now();
    /* Calibration: a plain word-counting loop over the same bytes shows how
     * fast this machine is right now (a busy shared machine can be several
     * times slower than a quiet one; the ratio travels, MB/s does not). */
    double t4 = now();
    size_t words = 0;
    for (size_t i = 0, in = 0; i < len; i++) {
        size_t w = (unsigned)((big[i] | 0x20) - 'a') < 26u;
        words += w & !in;
        in = w;
    }
    double t5 = now();
    double loop_mbs = len / 1e6 / (t5 - t4);
    printf("calibration: a plain word-counting loop runs at %.0f MB/s here (%zu words); "
           "redact_find is %.1fx slower than it\n",
           loop_mbs, words, loop_mbs / (len / 1e6 / (t1 - t0)));
    printf("\nspeed (one thread, CPU time): redact_find %.1f MB/s over %.1f MB; "
           "redact_text %.1f MB/s in 4 KiB messages\n",
           len / 1e6 / (t1 - t0), len / 1e6, done / 1e6 / (t3 - t2));
    hearth_free(big);
    redact_config_free(cfg);
    return 0;
}
