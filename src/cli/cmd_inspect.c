/*
 * cmd_inspect.c: `hearth inspect FILE [--json] [--full]`: what a GGUF file
 * holds, as gguf-dump shows it: header, metadata (long arrays and strings
 * abbreviated unless --full), tensors (name, type, shape, offset, bytes) and
 * the parameter count. --json prints one JSON object instead. Uses only the
 * public API (hearth.h).
 */
#include "cli.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARRAY_SHOWN 8    /* array elements shown without --full (text) */
#define ARRAY_SHOWN_JSON 16
#define STRING_SHOWN 160 /* bytes of a string shown without --full */

static const char *const vtype_names[HEARTH_GGUF_TYPE_COUNT] = {
    "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "str", "arr", "u64", "i64", "f64",
};

static const char *vtype(hearth_gguf_type t) {
    return (unsigned)t < HEARTH_GGUF_TYPE_COUNT ? vtype_names[t] : "?";
}

static size_t vsize(hearth_gguf_type t) {
    switch (t) {
    case HEARTH_GGUF_UINT8: case HEARTH_GGUF_INT8: case HEARTH_GGUF_BOOL: return 1;
    case HEARTH_GGUF_UINT16: case HEARTH_GGUF_INT16: return 2;
    case HEARTH_GGUF_UINT32: case HEARTH_GGUF_INT32: case HEARTH_GGUF_FLOAT32: return 4;
    case HEARTH_GGUF_UINT64: case HEARTH_GGUF_INT64: case HEARTH_GGUF_FLOAT64: return 8;
    default: return 0;
    }
}

/* ---- text output ---------------------------------------------------------------------- */

/* Prints s[0..n) quoted, with escapes for quotes, backslashes and
 * anything a terminal could act on (cli_put_safe); at most max bytes
 * unless max is 0. */
static void print_str(const char *s, size_t n, size_t max) {
    size_t shown = max && n > max ? max : n;
    putchar('"');
    cli_put_safe(stdout, s, shown, CLI_SAFE_QUOTED);
    putchar('"');
    if (shown < n) printf("...(%zu bytes)", n);
}

/* Prints one numeric scalar of type t at p (unaligned, little-endian). */
static void print_num(hearth_gguf_type t, const void *p) {
    union { uint8_t u8; int8_t i8; uint16_t u16; int16_t i16; uint32_t u32; int32_t i32;
            float f32; uint64_t u64; int64_t i64; double f64; } v;
    memcpy(&v, p, vsize(t));
    switch (t) {
    case HEARTH_GGUF_UINT8: printf("%" PRIu8, v.u8); break;
    case HEARTH_GGUF_INT8: printf("%" PRId8, v.i8); break;
    case HEARTH_GGUF_UINT16: printf("%" PRIu16, v.u16); break;
    case HEARTH_GGUF_INT16: printf("%" PRId16, v.i16); break;
    case HEARTH_GGUF_UINT32: printf("%" PRIu32, v.u32); break;
    case HEARTH_GGUF_INT32: printf("%" PRId32, v.i32); break;
    case HEARTH_GGUF_FLOAT32: printf("%.9g", v.f32); break;
    case HEARTH_GGUF_BOOL: fputs(v.u8 ? "true" : "false", stdout); break;
    case HEARTH_GGUF_UINT64: printf("%" PRIu64, v.u64); break;
    case HEARTH_GGUF_INT64: printf("%" PRId64, v.i64); break;
    case HEARTH_GGUF_FLOAT64: printf("%.17g", v.f64); break;
    default: fputs("?", stdout);
    }
}

static void print_value(const hearth_gguf *g, int64_t i, const hearth_gguf_value *v, bool full) {
    if (v->type == HEARTH_GGUF_STRING) {
        print_str(v->data, (size_t)v->n, full ? 0 : STRING_SHOWN);
        return;
    }
    if (v->type != HEARTH_GGUF_ARRAY) {
        print_num(v->type, v->data);
        return;
    }
    uint64_t shown = full || v->n <= ARRAY_SHOWN ? v->n : ARRAY_SHOWN;
    putchar('[');
    for (uint64_t j = 0; j < shown; j++) {
        if (j) fputs(", ", stdout);
        if (v->elem_type == HEARTH_GGUF_STRING) {
            size_t len = 0;
            const char *s = hearth_gguf_arr_str(g, i, j, &len);
            print_str(s ? s : "", s ? len : 0, full ? 0 : STRING_SHOWN);
        } else if (v->elem_type == HEARTH_GGUF_ARRAY) {
            fputs("[...]", stdout);
        } else {
            print_num(v->elem_type, (const char *)v->data + j * vsize(v->elem_type));
        }
    }
    if (shown < v->n) printf(", ... %" PRIu64 " more", v->n - shown);
    putchar(']');
}

static void shape_str(const hearth_gguf_tensor *t, char *buf, size_t n) {
    size_t k = 0;
    k += (size_t)snprintf(buf + k, n - k, "[");
    for (uint32_t d = 0; d < t->n_dims && k < n; d++)
        k += (size_t)snprintf(buf + k, n - k, "%s%" PRId64, d ? ", " : "", t->ne[d]);
    if (k < n) snprintf(buf + k, n - k, "]");
}

static int64_t n_elements(const hearth_gguf_tensor *t) {
    return t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3]; /* validated at open not to overflow */
}

static void print_text(const char *path, const hearth_gguf *g, bool full) {
    printf("%s: GGUF v%" PRIu32 ", %" PRId64 " metadata keys, %" PRId64
           " tensors, alignment %zu, data at offset %" PRIu64 ", %" PRIu64 " bytes\n",
           path, hearth_gguf_version(g), hearth_gguf_n_kv(g), hearth_gguf_n_tensors(g),
           hearth_gguf_alignment(g), hearth_gguf_data_offset(g), hearth_gguf_file_size(g));
    printf("\nmetadata:\n");
    for (int64_t i = 0; i < hearth_gguf_n_kv(g); i++) {
        hearth_gguf_value v;
        if (hearth_gguf_kv_value(g, i, &v)) continue;
        char ty[32];
        if (v.type == HEARTH_GGUF_ARRAY)
            snprintf(ty, sizeof ty, "arr[%s,%" PRIu64 "]", vtype(v.elem_type), v.n);
        else
            snprintf(ty, sizeof ty, "%s", vtype(v.type));
        char *key = cli_safe_dup(hearth_gguf_kv_key(g, i), CLI_SAFE_LINE);
        printf("  %5" PRId64 ": %-16s %-40s = ", i, ty, key ? key : "?");
        free(key);
        print_value(g, i, &v, full);
        putchar('\n');
    }
    printf("\ntensors:\n  %5s: %-40s %-8s %-24s %12s %12s\n", "#", "name", "type", "shape",
           "offset", "bytes");
    int64_t params = 0, unsupported = 0;
    for (int64_t i = 0; i < hearth_gguf_n_tensors(g); i++) {
        const hearth_gguf_tensor *t = hearth_gguf_tensor_at(g, i);
        char shape[96], tn[16];
        shape_str(t, shape, sizeof shape);
        const char *name = hearth_type_name(t->type);
        bool sup = hearth_type_supported(t->type);
        snprintf(tn, sizeof tn, "%s%s", name ? name : "?", sup ? "" : "*");
        char *tname = cli_safe_dup(t->name, CLI_SAFE_LINE);
        printf("  %5" PRId64 ": %-40s %-8s %-24s %12" PRIu64 " %12zu\n", i, tname ? tname : "?",
               tn, shape, t->offset, t->nbytes);
        free(tname);
        params += n_elements(t);
        unsupported += !sup;
    }
    printf("\nparameters: %" PRId64 " (%.2fM)\n", params, (double)params / 1e6);
    if (unsupported)
        printf("note: %" PRId64 " tensors (marked *) have types hearth cannot run; "
               "this file cannot be loaded as a model\n", unsupported);
}

/* ---- JSON output ---------------------------------------------------------------------- */

/* A JSON string for s[0..n); bytes that are not valid UTF-8 become '?'. */
static json_t *jstr(const char *s, size_t n) {
    json_t *j = json_stringn(s, n);
    if (j) return j;
    char *c = malloc(n ? n : 1);
    if (!c) return NULL;
    for (size_t i = 0; i < n; i++) c[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
    j = json_stringn(c, n);
    free(c);
    return j;
}

/* Sets o[key] = v (v's reference is taken); a key that is not valid UTF-8
 * is stored with its non-ASCII bytes replaced by '?'. */
static void jset(json_t *o, const char *key, json_t *v) {
    json_incref(v); /* json_object_set_new drops one reference even on failure */
    if (!json_object_set_new(o, key, v)) {
        json_decref(v);
        return;
    }
    char *c = strdup(key);
    if (c)
        for (char *q = c; *q; q++)
            if ((unsigned char)*q >= 0x80) *q = '?';
    if (c)
        json_object_set_new(o, c, v); /* takes v's last reference, set or not */
    else
        json_decref(v);
    free(c);
}

static json_t *jnum(hearth_gguf_type t, const void *p) {
    union { uint8_t u8; int8_t i8; uint16_t u16; int16_t i16; uint32_t u32; int32_t i32;
            float f32; uint64_t u64; int64_t i64; double f64; } v;
    memcpy(&v, p, vsize(t));
    switch (t) {
    case HEARTH_GGUF_UINT8: return json_integer(v.u8);
    case HEARTH_GGUF_INT8: return json_integer(v.i8);
    case HEARTH_GGUF_UINT16: return json_integer(v.u16);
    case HEARTH_GGUF_INT16: return json_integer(v.i16);
    case HEARTH_GGUF_UINT32: return json_integer(v.u32);
    case HEARTH_GGUF_INT32: return json_integer(v.i32);
    case HEARTH_GGUF_FLOAT32: return json_real(v.f32);
    case HEARTH_GGUF_BOOL: return json_boolean(v.u8);
    case HEARTH_GGUF_UINT64:
        if (v.u64 <= INT64_MAX) return json_integer((json_int_t)v.u64);
        char b[24];
        snprintf(b, sizeof b, "%" PRIu64, v.u64);
        return json_string(b); /* beyond JSON's integer range in jansson */
    case HEARTH_GGUF_INT64: return json_integer(v.i64);
    case HEARTH_GGUF_FLOAT64: return json_real(v.f64);
    default: return json_null();
    }
}

static json_t *jvalue(const hearth_gguf *g, int64_t i, const hearth_gguf_value *v, bool full) {
    if (v->type == HEARTH_GGUF_STRING) return jstr(v->data, (size_t)v->n);
    if (v->type != HEARTH_GGUF_ARRAY) return jnum(v->type, v->data);
    json_t *o = json_object(), *a = json_array();
    uint64_t shown = full || v->n <= ARRAY_SHOWN_JSON ? v->n : ARRAY_SHOWN_JSON;
    for (uint64_t j = 0; j < shown; j++) {
        json_t *e;
        if (v->elem_type == HEARTH_GGUF_STRING) {
            size_t len = 0;
            const char *s = hearth_gguf_arr_str(g, i, j, &len);
            e = jstr(s ? s : "", s ? len : 0);
        } else if (v->elem_type == HEARTH_GGUF_ARRAY) {
            e = json_null();
        } else {
            e = jnum(v->elem_type, (const char *)v->data + j * vsize(v->elem_type));
        }
        json_array_append_new(a, e);
    }
    json_object_set_new(o, "type", json_string(vtype(v->elem_type)));
    json_object_set_new(o, "n", json_integer((json_int_t)v->n));
    json_object_set_new(o, "values", a);
    if (shown < v->n) json_object_set_new(o, "truncated", json_true());
    return o;
}

static int print_json(const char *path, const hearth_gguf *g, bool full) {
    json_t *root = json_object(), *meta = json_object(), *tensors = json_array();
    json_object_set_new(root, "file", json_string(path));
    json_object_set_new(root, "version", json_integer(hearth_gguf_version(g)));
    json_object_set_new(root, "alignment", json_integer((json_int_t)hearth_gguf_alignment(g)));
    json_object_set_new(root, "data_offset", json_integer((json_int_t)hearth_gguf_data_offset(g)));
    json_object_set_new(root, "file_size", json_integer((json_int_t)hearth_gguf_file_size(g)));
    for (int64_t i = 0; i < hearth_gguf_n_kv(g); i++) {
        hearth_gguf_value v;
        if (hearth_gguf_kv_value(g, i, &v)) continue;
        jset(meta, hearth_gguf_kv_key(g, i), jvalue(g, i, &v, full));
    }
    int64_t params = 0;
    for (int64_t i = 0; i < hearth_gguf_n_tensors(g); i++) {
        const hearth_gguf_tensor *t = hearth_gguf_tensor_at(g, i);
        json_t *o = json_object(), *shape = json_array();
        for (uint32_t d = 0; d < t->n_dims; d++) json_array_append_new(shape, json_integer(t->ne[d]));
        const char *tn = hearth_type_name(t->type);
        json_object_set_new(o, "name", jstr(t->name, strlen(t->name)));
        json_object_set_new(o, "type", json_string(tn ? tn : "?"));
        json_object_set_new(o, "shape", shape);
        json_object_set_new(o, "offset", json_integer((json_int_t)t->offset));
        json_object_set_new(o, "nbytes", json_integer((json_int_t)t->nbytes));
        json_object_set_new(o, "supported", json_boolean(hearth_type_supported(t->type)));
        json_array_append_new(tensors, o);
        params += n_elements(t);
    }
    json_object_set_new(root, "metadata", meta);
    json_object_set_new(root, "tensors", tensors);
    json_object_set_new(root, "n_params", json_integer(params));
    int rc = json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) ? 1 : 0;
    putchar('\n');
    json_decref(root);
    return rc ? cli_fail("inspect", NULL, "cannot write JSON") : 0;
}

static int run(int argc, char **argv) {
    const char *path = NULL;
    bool json = false, full = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) json = true;
        else if (!strcmp(argv[i], "--full")) full = true;
        else if (argv[i][0] == '-' && argv[i][1]) return cli_unknown_option("inspect", argv[i]);
        else if (path) return cli_fail("inspect", NULL, "one FILE only (got '%s' and '%s')", path, argv[i]);
        else path = argv[i];
    }
    if (!path) return cli_fail("inspect", NULL, "missing FILE (see hearth inspect --help)");
    hearth_gguf *g;
    hearth_error err;
    /* Show files with types hearth cannot run too (marked): inspecting a
     * file is how a user finds out what it holds. */
    hearth_gguf_params gp = hearth_gguf_default_params();
    gp.allow_unsupported_types = true;
    if (hearth_gguf_open_ex(path, NULL, 0, &gp, &g, &err))
        return cli_fail("inspect", &err, "cannot open model");
    int rc = json ? print_json(path, g, full) : (print_text(path, g, full), 0);
    hearth_gguf_free(g);
    if (fflush(stdout)) rc = 1;
    return rc;
}

const cli_command cli_cmd_inspect = {
    .name = "inspect",
    .summary = "show a GGUF model file's metadata and tensors",
    .usage = "usage: hearth inspect FILE [--json] [--full]\n"
             "\n"
             "Opens and validates a GGUF file (v2 or v3) and prints its header, its\n"
             "metadata (key, type, value), its tensors (name, type, shape, offset in the\n"
             "data section, bytes) and the parameter count. Tensors of types hearth\n"
             "cannot run (IQ*, TQ*, ...) are shown marked with '*'.\n"
             "\n"
             "  --json   print one JSON object: file, version, alignment, data_offset,\n"
             "           file_size, metadata {key: value; arrays as {type, n, values}},\n"
             "           tensors [{name, type, shape, offset, nbytes, supported}],\n"
             "           n_params\n"
             "  --full   do not abbreviate long arrays and strings\n"
             "\n"
             "Exit status: 0 on success, 1 if the file cannot be opened or is invalid.\n",
    .run = run,
};
