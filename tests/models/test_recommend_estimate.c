/*
 * test_recommend_estimate.c: the estimate's description of a model. For
 * generated files in the mixes the catalog uses (Q4_0, Q8_0, Q4_K_M, F16;
 * llama and qwen2, tied and untied, rows that are and are not multiples of
 * 256), the description from the shape and the mix (what catalog entries
 * use) must give exactly the bytes per weight type and the parameter count
 * of the description from the file, and the bytes read per token must be
 * the weight bytes hearth_model_weight_bytes reports (bench's roofline
 * divides by it). The cost model is checked on a made-up device: time
 * proportional to bytes, KV reads growing with the position, RAM growing
 * with the context. The shipped catalog loads and its computed Qwen2.5
 * and Llama-3.2 parameter counts are within 1% of the published ones.
 */
#include "genutil.h"
#include "test.h"

#include "models/catalog.h"
#include "models/estimate.h"

#include <math.h>

typedef struct {
    const char *args;
    const char *mix;
    hearth_shape shape;
} gcase;

int main(void) {
    const gcase cases[] = {
        {"--arch qwen2 --preset tiny256", "Q4_0", {"qwen2", 2, 256, 512, 4, 2, 512, true, true}},
        {"--arch qwen2 --preset tiny256", "Q8_0", {"qwen2", 2, 256, 512, 4, 2, 512, true, true}},
        {"--arch qwen2 --preset tiny256", "Q4_K_M", {"qwen2", 2, 256, 512, 4, 2, 512, true, true}},
        {"--arch qwen2 --preset tiny256", "F16", {"qwen2", 2, 256, 512, 4, 2, 512, true, true}},
        /* 896-wide rows as Qwen2.5-0.5B: K-quants fall back to Q5_0/Q8_0 */
        {"--arch qwen2 --n-embd 896 --n-layer 8 --n-head 14 --n-head-kv 2 --n-ff 1280 --n-vocab 1024",
         "Q4_K_M", {"qwen2", 8, 896, 1280, 14, 2, 1024, true, true}},
        {"--arch llama --preset small --untied", "Q4_K_M", {"llama", 4, 512, 1536, 8, 4, 2048, false, false}},
        {"--arch llama --preset small --untied", "Q4_0", {"llama", 4, 512, 1536, 8, 4, 2048, false, false}},
    };
    char args[512];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const gcase *c = &cases[i];
        char name[32];
        snprintf(name, sizeof name, "m%zu.gguf", i);
        snprintf(args, sizeof args, "%s --type %s", c->args, c->mix);
        const char *path = genmodel(name, args);
        REQUIRE(path);
        hearth_model_desc df, ds;
        hearth_error e = {0};
        REQUIRE(hearth_model_desc_from_file(path, &df, &e) == HEARTH_OK);
        REQUIRE(hearth_model_desc_from_shape(&c->shape, c->mix, &ds, &e) == HEARTH_OK);
        CHECK_STR(df.quant, c->mix);
        CHECK_EQ_INT(df.n_params, ds.n_params);
        CHECK_EQ_INT(df.shape.n_layer, c->shape.n_layer);
        CHECK_EQ_INT(df.shape.tied, c->shape.tied);
        uint64_t total = 0;
        for (int t = 0; t < HEARTH_TYPE_COUNT; t++) {
            CHECKF(df.read_bytes[t] == ds.read_bytes[t], "case %zu %s type %s: file %llu shape %llu", i, c->mix,
                   hearth_type_name(t), (unsigned long long)df.read_bytes[t], (unsigned long long)ds.read_bytes[t]);
            CHECK(df.read_rows[t] == ds.read_rows[t]);
            total += df.read_bytes[t];
        }
        hearth_model *m;
        REQUIRE(hearth_model_open(path, NULL, &m, &e) == HEARTH_OK);
        CHECKF(total == hearth_model_weight_bytes(m), "case %zu: read %llu, weight bytes %llu", i,
               (unsigned long long)total, (unsigned long long)hearth_model_weight_bytes(m));
        hearth_model_free(m);
    }

    /* bad mixes and shapes */
    hearth_model_desc d;
    hearth_shape s = {"qwen2", 24, 896, 4864, 14, 2, 151936, true, true};
    CHECK(hearth_model_desc_from_shape(&s, "Q9_9", &d, NULL) == HEARTH_E_ARG);
    hearth_shape bad = s;
    bad.n_head = 0;
    CHECK(hearth_model_desc_from_shape(&bad, "Q4_0", &d, NULL) == HEARTH_E_ARG);
    bad = s;
    bad.n_head_kv = 3; /* 14 heads do not group into 3 */
    CHECK(hearth_model_desc_from_shape(&bad, "Q4_0", &d, NULL) == HEARTH_E_ARG);

    /* the cost model on a made-up device: every type at 10 GB/s, no row cost */
    hearth_device dev;
    memset(&dev, 0, sizeof dev);
    dev.bandwidth_gbps = 10;
    for (int t = 0; t < HEARTH_TYPE_COUNT; t++) {
        dev.types[t].measured = true;
        dev.types[t].gemv_gbps = 10;
        dev.types[t].gemm_gflops = 100;
    }
    REQUIRE(hearth_model_desc_from_shape(&s, "Q4_0", &d, NULL) == HEARTH_OK);
    uint64_t rb = 0;
    for (int t = 0; t < HEARTH_TYPE_COUNT; t++) rb += d.read_bytes[t];
    hearth_estimate e0 = hearth_estimate_model(&d, &dev, 4096, 0, 0, 4.0);
    CHECKF(fabs(e0.decode_ms - rb / 10e9 * 1e3) < 1e-6, "decode %.6f ms for %llu bytes", e0.decode_ms,
           (unsigned long long)rb);
    CHECK(fabs(e0.tokens_per_s * e0.decode_ms - 1000) < 1e-6);
    hearth_estimate e1 = hearth_estimate_model(&d, &dev, 4096, 4000, 512, 4.0);
    /* KV at position 4000: 24 layers * 2 (K,V) * 4000 * 128 * 2 bytes */
    CHECK(fabs(e1.decode_ms - e0.decode_ms - 24.0 * 2 * 4000 * 128 * 2 / 10e9 * 1e3) < 1e-6);
    CHECK(e1.prompt_ms > 0 && e0.prompt_ms == 0);
    CHECK_EQ_INT(e0.kv_bytes, 24ull * 2 * 4096 * 128 * 2);
    hearth_estimate e2 = hearth_estimate_model(&d, &dev, 32768, 0, 0, 4.0);
    CHECK(e2.ram_bytes > e0.ram_bytes && e0.ram_bytes > d.file_bytes + e0.kv_bytes);
    /* a Q8_0 cache: 34-byte blocks of 32 for keys and values */
    CHECK(hearth_kv_elem_bytes(HEARTH_TYPE_F16, HEARTH_TYPE_F16) == 4.0);
    CHECK(hearth_kv_elem_bytes(HEARTH_TYPE_Q8_0, HEARTH_TYPE_Q4_0) == (34.0 + 18.0) / 32);
    double q8 = hearth_kv_elem_bytes(HEARTH_TYPE_Q8_0, HEARTH_TYPE_Q8_0);
    hearth_estimate e3 = hearth_estimate_model(&d, &dev, 4096, 4000, 512, q8);
    CHECK_EQ_INT(e3.kv_bytes, 24ull * 4096 * 128 * 68 / 32);
    CHECK(fabs(e3.decode_ms - e0.decode_ms - 24.0 * 4000 * 128 * q8 / 10e9 * 1e3) < 1e-6);
    CHECK(e3.ram_bytes < e1.ram_bytes);
    dev.types[HEARTH_TYPE_Q8_0].measured = false; /* the output matrix's type */
    CHECK(!hearth_estimate_model(&d, &dev, 4096, 0, 0, 4.0).runnable);

    /* the shipped catalog */
    char cat[512];
    snprintf(cat, sizeof cat, "%s/models/catalog.json", HEARTH_SOURCE_DIR);
    hearth_catalog_entry *ce;
    size_t n;
    hearth_error e = {0};
    REQUIRE(hearth_catalog_load(cat, &ce, &n, &e) == HEARTH_OK);
    CHECK_EQ_INT(n, 24);
    const struct {
        const char *name;
        double params;
    } pub[] = {{"Qwen2.5-0.5B-Instruct", 0.49e9}, {"Qwen2.5-1.5B-Instruct", 1.54e9},
               {"Qwen2.5-3B-Instruct", 3.09e9},   {"Qwen2.5-7B-Instruct", 7.61e9},
               {"Llama-3.2-1B-Instruct", 1.23e9}, {"Llama-3.2-3B-Instruct", 3.21e9}};
    for (size_t k = 0; k < sizeof pub / sizeof pub[0]; k++) {
        int seen = 0;
        for (size_t i = 0; i < n; i++) {
            if (strcmp(ce[i].name, pub[k].name)) continue;
            seen++;
            double rel = fabs((double)ce[i].desc.n_params - pub[k].params) / pub[k].params;
            CHECKF(rel < 0.012, "%s: %lld params vs published %.2fB", pub[k].name, (long long)ce[i].desc.n_params,
                   pub[k].params / 1e9);
            CHECK(ce[i].has_ppl);
        }
        CHECK_EQ_INT(seen, 4);
    }
    /* Q8_0 is closer to F16 than Q4_K_M, which is closer than Q4_0 */
    double dq8 = 0, dq4k = 0, dq4 = 0;
    char src[96];
    CHECK(hearth_catalog_ppl_delta(cat, "Q8_0", &dq8, src, sizeof src));
    CHECK(hearth_catalog_ppl_delta(cat, "q4_k_m", &dq4k, src, sizeof src));
    CHECK(hearth_catalog_ppl_delta(cat, "Q4_0", &dq4, src, sizeof src));
    CHECK(dq8 < dq4k && dq4k < dq4);
    CHECK(!hearth_catalog_ppl_delta(cat, "Q3_K_XL", &dq4, src, sizeof src));
    hearth_free(ce);

    /* a malformed catalog: the error names the model */
    char bad_path[600];
    snprintf(bad_path, sizeof bad_path, "%s/bad.json", tmpdir_path());
    FILE *f = fopen(bad_path, "w");
    REQUIRE(f);
    fputs("{\"models\":[{\"name\":\"X\",\"family\":\"x\",\"shape\":{\"arch\":\"llama\",\"n_layer\":2,"
          "\"n_embd\":64,\"n_ff\":128,\"n_head\":0,\"n_head_kv\":1,\"n_vocab\":10,\"tied\":true},"
          "\"quants\":[\"Q4_0\"]}]}",
          f);
    fclose(f);
    CHECK(hearth_catalog_load(bad_path, &ce, &n, &e) == HEARTH_E_FORMAT);
    CHECKF(strstr(e.msg, "X") != NULL, "%s", e.msg);
    f = fopen(bad_path, "w");
    fputs("{\"models\": 3}", f);
    fclose(f);
    CHECK(hearth_catalog_load(bad_path, &ce, &n, &e) == HEARTH_E_FORMAT);
    CHECK(hearth_catalog_load("/nonexistent/catalog.json", &ce, &n, &e) == HEARTH_E_IO);
    tmpdir_cleanup();
    return test_done();
}
