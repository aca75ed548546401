/*
 * tools_calc.c: the calculator of the built-in tools: a small recursive
 * descent parser and evaluator of arithmetic expressions (no eval of any
 * kind, no variables, no side effects). The text is untrusted model output:
 * its length and nesting are bounded, every character is checked, and a
 * result that is not a finite number is an error rather than inf or nan.
 *
 * Grammar (whitespace allowed between tokens):
 *   expr   := term (('+' | '-') term)*
 *   term   := unary (('*' | '/' | '%') unary)*
 *   unary  := ('-' | '+') unary | power
 *   power  := atom ('^' unary)?           right-associative: 2^3^2 = 2^9
 *   atom   := number | '(' expr ')' | name | name '(' expr (',' expr)* ')'
 *   number := digits ['.' digits] [('e'|'E') ['+'|'-'] digits]
 * Names: pi, e; functions sqrt, abs, exp, ln, log (base 10), log2, sin,
 * cos, tan, asin, acos, atan, floor, ceil, round, min, max, pow.
 */
#include "agent/tools_int.h"

#include "util/error.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define CALC_MAX_LEN 1024
#define CALC_MAX_DEPTH 64
#define CALC_MAX_ARGS 8

typedef struct {
    const char *s;
    size_t at, len;
    int depth;
    char why[128];
} calc;

static bool fail(calc *c, const char *msg) {
    if (!c->why[0]) snprintf(c->why, sizeof c->why, "%s at position %zu", msg, c->at + 1);
    return false;
}

static void skip(calc *c) {
    while (c->at < c->len && (c->s[c->at] == ' ' || c->s[c->at] == '\t')) c->at++;
}

static bool peek(calc *c, char ch) {
    skip(c);
    return c->at < c->len && c->s[c->at] == ch;
}

static bool expr(calc *c, double *out);
static bool unary(calc *c, double *out);

static bool number(calc *c, double *out) {
    size_t b = c->at;
    while (c->at < c->len && isdigit((unsigned char)c->s[c->at])) c->at++;
    if (c->at < c->len && c->s[c->at] == '.') {
        c->at++;
        while (c->at < c->len && isdigit((unsigned char)c->s[c->at])) c->at++;
    }
    if (c->at == b || (c->at == b + 1 && c->s[b] == '.')) return fail(c, "expected a number");
    if (c->at < c->len && (c->s[c->at] == 'e' || c->s[c->at] == 'E')) {
        size_t e = c->at + 1;
        if (e < c->len && (c->s[e] == '+' || c->s[e] == '-')) e++;
        if (e < c->len && isdigit((unsigned char)c->s[e])) {
            while (e < c->len && isdigit((unsigned char)c->s[e])) e++;
            c->at = e;
        }
    }
    char buf[64];
    size_t n = c->at - b;
    if (n >= sizeof buf) return fail(c, "number too long");
    memcpy(buf, c->s + b, n);
    buf[n] = '\0';
    *out = strtod(buf, NULL);
    return isfinite(*out) ? true : fail(c, "number out of range");
}

typedef struct {
    const char *name;
    int n_args; /* -1: two or more (min, max) */
} fn_def;

static const fn_def fns[] = {
    {"sqrt", 1}, {"abs", 1},  {"exp", 1},   {"ln", 1},   {"log", 1},   {"log2", 1},
    {"sin", 1},  {"cos", 1},  {"tan", 1},   {"asin", 1}, {"acos", 1},  {"atan", 1},
    {"floor", 1}, {"ceil", 1}, {"round", 1}, {"min", -1}, {"max", -1}, {"pow", 2},
};

static bool apply(calc *c, const char *f, const double *a, int n, double *out) {
    double x = a[0];
    if (!strcmp(f, "sqrt")) {
        if (x < 0) return fail(c, "sqrt of a negative number");
        *out = sqrt(x);
    } else if (!strcmp(f, "abs")) *out = fabs(x);
    else if (!strcmp(f, "exp")) *out = exp(x);
    else if (!strcmp(f, "ln") || !strcmp(f, "log") || !strcmp(f, "log2")) {
        if (x <= 0) return fail(c, "logarithm of a number <= 0");
        *out = f[1] == 'n' ? log(x) : f[3] == '2' ? log2(x) : log10(x);
    } else if (!strcmp(f, "sin")) *out = sin(x);
    else if (!strcmp(f, "cos")) *out = cos(x);
    else if (!strcmp(f, "tan")) *out = tan(x);
    else if (!strcmp(f, "asin") || !strcmp(f, "acos")) {
        if (x < -1 || x > 1) return fail(c, "asin/acos outside [-1, 1]");
        *out = f[1] == 's' ? asin(x) : acos(x);
    } else if (!strcmp(f, "atan")) *out = atan(x);
    else if (!strcmp(f, "floor")) *out = floor(x);
    else if (!strcmp(f, "ceil")) *out = ceil(x);
    else if (!strcmp(f, "round")) *out = round(x);
    else if (!strcmp(f, "pow")) *out = pow(a[0], a[1]);
    else {
        double m = a[0];
        for (int i = 1; i < n; i++) m = f[1] == 'i' ? fmin(m, a[i]) : fmax(m, a[i]);
        *out = m;
    }
    return isfinite(*out) ? true : fail(c, "the result is not a finite number");
}

static bool atom(calc *c, double *out) {
    skip(c);
    if (c->at >= c->len) return fail(c, "unexpected end of the expression");
    char ch = c->s[c->at];
    if (ch == '(') {
        c->at++;
        if (!expr(c, out)) return false;
        if (!peek(c, ')')) return fail(c, "expected ')'");
        c->at++;
        return true;
    }
    if (isdigit((unsigned char)ch) || ch == '.') return number(c, out);
    if (!isalpha((unsigned char)ch)) return fail(c, "unexpected character");
    size_t b = c->at;
    while (c->at < c->len && isalnum((unsigned char)c->s[c->at])) c->at++;
    char name[16];
    size_t n = c->at - b;
    if (n >= sizeof name) return fail(c, "unknown name");
    memcpy(name, c->s + b, n);
    name[n] = '\0';
    if (!strcmp(name, "pi")) return *out = M_PI, true;
    if (!strcmp(name, "e")) return *out = M_E, true;
    const fn_def *fd = NULL;
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++)
        if (!strcmp(fns[i].name, name)) fd = &fns[i];
    if (!fd) {
        c->at = b;
        return fail(c, "unknown name");
    }
    if (!peek(c, '(')) return fail(c, "expected '(' after a function name");
    c->at++;
    double args[CALC_MAX_ARGS];
    int na = 0;
    for (;;) {
        if (na == CALC_MAX_ARGS) return fail(c, "too many arguments");
        if (!expr(c, &args[na++])) return false;
        if (peek(c, ',')) {
            c->at++;
            continue;
        }
        if (!peek(c, ')')) return fail(c, "expected ',' or ')'");
        c->at++;
        break;
    }
    if ((fd->n_args > 0 && na != fd->n_args) || (fd->n_args < 0 && na < 2))
        return fail(c, "wrong number of arguments");
    return apply(c, fd->name, args, na, out);
}

static bool power(calc *c, double *out) {
    if (!atom(c, out)) return false;
    if (!peek(c, '^')) return true;
    c->at++;
    double y;
    if (!unary(c, &y)) return false;
    *out = pow(*out, y);
    return isfinite(*out) ? true : fail(c, "the result is not a finite number");
}

static bool unary(calc *c, double *out) {
    if (++c->depth > CALC_MAX_DEPTH) return fail(c, "nested too deeply");
    bool ok;
    skip(c);
    if (c->at < c->len && (c->s[c->at] == '-' || c->s[c->at] == '+')) {
        bool neg = c->s[c->at++] == '-';
        ok = unary(c, out);
        if (ok && neg) *out = -*out;
    } else {
        ok = power(c, out);
    }
    c->depth--;
    return ok;
}

static bool term(calc *c, double *out) {
    if (!unary(c, out)) return false;
    for (;;) {
        skip(c);
        if (c->at >= c->len) return true;
        char op = c->s[c->at];
        if (op != '*' && op != '/' && op != '%') return true;
        c->at++;
        double y;
        if (!unary(c, &y)) return false;
        if (op == '*') *out *= y;
        else if (y == 0) return fail(c, "division by zero");
        else *out = op == '/' ? *out / y : fmod(*out, y);
        if (!isfinite(*out)) return fail(c, "the result is not a finite number");
    }
}

static bool expr(calc *c, double *out) {
    if (++c->depth > CALC_MAX_DEPTH) return fail(c, "nested too deeply");
    if (!term(c, out)) return false;
    for (;;) {
        skip(c);
        if (c->at >= c->len || (c->s[c->at] != '+' && c->s[c->at] != '-')) break;
        bool add = c->s[c->at++] == '+';
        double y;
        if (!term(c, &y)) return false;
        *out = add ? *out + y : *out - y;
        if (!isfinite(*out)) return fail(c, "the result is not a finite number");
    }
    c->depth--;
    return true;
}

hearth_status tools_calc_eval(const char *text, size_t len, double *out, hearth_error *err) {
    if (!text) return HEARTH_FAIL(err, HEARTH_E_ARG, "calculator: no expression");
    if (len > CALC_MAX_LEN)
        return HEARTH_FAIL(err, HEARTH_E_LIMIT, "calculator: expression longer than %d bytes",
                           CALC_MAX_LEN);
    calc c = {.s = text, .len = len};
    double v = 0;
    bool ok = expr(&c, &v);
    if (ok) {
        skip(&c);
        if (c.at != c.len) ok = fail(&c, "unexpected character");
    }
    if (!ok) return HEARTH_FAIL(err, HEARTH_E_ARG, "calculator: %s", c.why);
    *out = v == 0 ? 0 : v; /* no "-0" in answers */
    return HEARTH_OK;
}
