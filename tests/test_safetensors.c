/*
 * test_safetensors.c: the safetensors reader and writer (src/nn/safetensors.h) and the F16/BF16 conversions
 * (src/nn/half.h): round trips through F32, F16 and BF16 files of an nn_params table; a file written by hand in
 * Python (tests/reference/ref_safetensors.py) read by C; rounding of edge values against numpy / torch; loading
 * by name with missing, unused and mis-shaped tensors; a hostile-file suite (every malformation is
 * ILDIFF_ERR_FORMAT, never a crash or an out-of-bounds read: run under ASan) and random mutations of a valid file.
 */
#include "check.h"
#include "fixture.h"
#include "nn_testkit.h"

#include "nn/half.h"
#include "nn/rng.h"
#include "nn/safetensors.h"

#include <stdint.h>

static void fixture_path(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", CHECK_FIXTURES(), name);
}

/* a table of three tensors with seeded values */
static void make_params(nn_params *p, uint64_t seed)
{
    nn_params_init(p);
    CHECK_OK(nn_params_add(p, "enc.blocks.0.attn.qkv.weight", 2, (int64_t[]){12, 4}, NN_PARAM_DECAY, NULL, NULL));
    CHECK_OK(nn_params_add(p, "enc.blocks.0.attn.qkv.bias", 1, (int64_t[]){12}, 0, NULL, NULL));
    CHECK_OK(nn_params_add(p, "neck.0.weight", 4, (int64_t[]){3, 2, 3, 3}, NN_PARAM_DECAY, NULL, NULL));
    CHECK_OK(nn_params_alloc(p));
    nn_rng r;
    nn_rng_seed(&r, seed);
    nn_init_normal(&r, p->data, p->total, 0.0f, 2.0f);
    p->data[0] = 1e-6f, p->data[1] = -70000.0f, p->data[2] = 0.0f; /* subnormal in F16, overflow in F16 */
}

static float through(nn_dtype dt, float v)
{
    if (dt == NN_DTYPE_F32) return v;
    return dt == NN_DTYPE_F16 ? nn_f16_to_f32(nn_f32_to_f16(v)) : nn_bf16_to_f32(nn_f32_to_bf16(v));
}

static void roundtrip(nn_dtype dt)
{
    nn_params a, b;
    make_params(&a, 1);
    make_params(&b, 2);
    char path[512];
    snprintf(path, sizeof path, "%s/rt_%s.safetensors", CHECK_TMPDIR(), nn_dtype_name(dt));
    const char *meta[] = {"format", "pt", "model", "ildiff-test", NULL};
    CHECK_OK(nn_st_save_params(path, &a, a.data, dt, meta, true));
    CHECK(nn_st_save_params(path, &a, a.data, dt, NULL, false) == ILDIFF_ERR_EXISTS);
    nn_st_file *f = NULL;
    CHECK_OK(nn_st_read(path, 1 << 20, &f));
    if (!f) return;
    CHECK(nn_st_count(f) == 3);
    CHECK(nn_st_metadata(f, "model") && strcmp(nn_st_metadata(f, "model"), "ildiff-test") == 0);
    CHECK(nn_st_metadata(f, "none") == NULL);
    const nn_st_tensor *t = nn_st_find(f, "neck.0.weight");
    CHECK(t && t->dtype == dt && t->ndim == 4 && t->shape[3] == 3 && t->numel == 54);
    CHECK_OK(nn_st_load_params(&b, f, 0));
    for (int i = 0; i < a.count; i++) {
        const float *x = nn_params_data(&a, i), *y = nn_params_data(&b, i);
        for (size_t k = 0; k < a.items[i].numel; k++) {
            float want = through(dt, x[k]);
            CHECK_MSG(y[k] == want || (isinf(y[k]) && isinf(want) && (y[k] > 0) == (want > 0)),
                      "%s[%zu]: %.9g, want %.9g", a.items[i].name, k, y[k], want);
        }
    }
    if (dt == NN_DTYPE_F16) CHECK(isinf(nn_params_data(&b, 0)[1])); /* -70000 is beyond F16 */
    nn_st_free(f);
    nn_params_free(&a);
    nn_params_free(&b);
}

static void test_roundtrip_f32(void) { roundtrip(NN_DTYPE_F32); }
static void test_roundtrip_f16(void) { roundtrip(NN_DTYPE_F16); }
static void test_roundtrip_bf16(void) { roundtrip(NN_DTYPE_BF16); }

static void test_python_file(void)
{
    char path[512];
    fixture_path(path, sizeof path, "safetensors.bin");
    fixture *fx = fixture_load(path);
    CHECK(fx != NULL);
    fixture_path(path, sizeof path, "st_python.safetensors");
    nn_st_file *f = NULL;
    CHECK_OK(nn_st_read(path, 1 << 20, &f));
    if (!f || !fx) {
        nn_st_free(f);
        fixture_free(fx);
        return;
    }
    CHECK(nn_st_count(f) == 7);
    CHECK(strcmp(nn_st_get(f, 0)->name, "model.a.weight") == 0); /* header order */
    CHECK(nn_st_metadata(f, "by") && strcmp(nn_st_metadata(f, "by"), "python") == 0);
    const char *names[] = {"model.a.weight", "model.b", "blocks.0.norm.weight", "scalar", "double"};
    for (int i = 0; i < 5; i++) {
        const nn_st_tensor *t = nn_st_find(f, names[i]);
        CHECK_MSG(t != NULL, "%s missing", names[i]);
        if (!t) continue;
        float *v = nnt_full(t->numel, NAN);
        CHECK_OK(nn_st_to_f32(t, v, t->numel));
        CHECK(fixture_close(v, fixture_find(fx, names[i]), 0, names[i]));
        CHECK(nn_st_to_f32(t, v, t->numel + 1) == ILDIFF_ERR_ARG);
        free(v);
    }
    const nn_st_tensor *s = nn_st_find(f, "scalar"), *e = nn_st_find(f, "empty"), *ids = nn_st_find(f, "ids");
    CHECK(s && s->ndim == 0 && s->numel == 1);
    CHECK(e && e->ndim == 2 && e->numel == 0 && e->nbytes == 0);
    CHECK(ids && ids->dtype == NN_DTYPE_I64);
    float tmp[2];
    if (ids) CHECK(nn_st_to_f32(ids, tmp, 2) == ILDIFF_ERR_UNSUPPORTED);
    CHECK(nn_st_find(f, "nothing") == NULL);
    /* loading: only "model.a.weight" is a parameter */
    nn_params p;
    nn_params_init(&p);
    CHECK_OK(nn_params_add(&p, "model.a.weight", 2, (int64_t[]){3, 4}, 0, NULL, NULL));
    CHECK_OK(nn_params_alloc(&p));
    CHECK(nn_st_load_params(&p, f, 0) == ILDIFF_ERR_FORMAT); /* unused tensors */
    CHECK(strstr(ildiff_last_error(), "no parameter") != NULL);
    CHECK_OK(nn_st_load_params(&p, f, NN_ST_ALLOW_UNUSED));
    CHECK(fixture_close(p.data, fixture_find(fx, "model.a.weight"), 0, "loaded"));
    nn_params_free(&p);
    nn_params_init(&p);
    CHECK_OK(nn_params_add(&p, "model.a.weight", 2, (int64_t[]){4, 3}, 0, NULL, NULL));
    CHECK_OK(nn_params_add(&p, "absent", 1, (int64_t[]){2}, 0, NULL, NULL));
    CHECK_OK(nn_params_alloc(&p));
    CHECK(nn_st_load_params(&p, f, NN_ST_ALLOW_UNUSED | NN_ST_ALLOW_MISSING) == ILDIFF_ERR_FORMAT); /* shape */
    CHECK(strstr(ildiff_last_error(), "shape") != NULL);
    nn_params_free(&p);
    nn_params_init(&p);
    CHECK_OK(nn_params_add(&p, "absent", 1, (int64_t[]){2}, 0, NULL, NULL));
    CHECK_OK(nn_params_alloc(&p));
    CHECK(nn_st_load_params(&p, f, NN_ST_ALLOW_UNUSED) == ILDIFF_ERR_FORMAT);
    CHECK(strstr(ildiff_last_error(), "absent") != NULL);
    CHECK_OK(nn_st_load_params(&p, f, NN_ST_ALLOW_UNUSED | NN_ST_ALLOW_MISSING));
    nn_params_free(&p);
    nn_st_free(f);
    fixture_free(fx);
}

static void test_rounding(void)
{
    char path[512];
    fixture_path(path, sizeof path, "safetensors.bin");
    fixture *fx = fixture_load(path);
    const fixture_tensor *x = fixture_find(fx, "round.x"), *h = fixture_find(fx, "round.f16"),
                         *bf = fixture_find(fx, "round.bf16");
    CHECK(x && h && bf);
    for (int64_t i = 0; x && h && bf && i < x->numel; i++) {
        float v = x->data[i], gh = nn_f16_to_f32(nn_f32_to_f16(v)), gb = nn_bf16_to_f32(nn_f32_to_bf16(v));
        CHECK_MSG(memcmp(&gh, &h->data[i], 4) == 0, "f16(%.9g) = %.9g, numpy %.9g", v, gh, h->data[i]);
        CHECK_MSG(memcmp(&gb, &bf->data[i], 4) == 0, "bf16(%.9g) = %.9g, torch %.9g", v, gb, bf->data[i]);
    }
    CHECK(isnan(nn_f16_to_f32(nn_f32_to_f16(NAN))) && isnan(nn_bf16_to_f32(nn_f32_to_bf16(NAN))));
    for (uint32_t b = 0; b < 65536; b++) { /* every finite half survives half -> float -> half */
        if ((b & 0x7c00) == 0x7c00) continue;
        CHECK_MSG(nn_f32_to_f16(nn_f16_to_f32((uint16_t)b)) == b, "half %04x", b);
    }
    fixture_free(fx);
}

/* ---- hostile files ---- */

/* header length `hlen` (or the JSON's length when hlen is UINT64_MAX), the JSON text, then `data` zero bytes */
static uint8_t *build(const char *json, uint64_t hlen, size_t data, size_t *size)
{
    size_t j = strlen(json);
    *size = 8 + j + data;
    uint8_t *b = calloc(1, *size);
    uint64_t h = hlen == UINT64_MAX ? j : hlen;
    memcpy(b, &h, 8);
    memcpy(b + 8, json, j);
    return b;
}

static void expect_reject(const char *what, const char *json, uint64_t hlen, size_t data, ildiff_status want)
{
    size_t size;
    uint8_t *b = build(json, hlen, data, &size);
    nn_st_file *f = (nn_st_file *)1;
    ildiff_status st = nn_st_parse(b, size, &f);
    CHECK_MSG(st == want && f == NULL, "%s: status %d (%s), want %d", what, (int)st, ildiff_last_error(), (int)want);
    CHECK(strlen(ildiff_last_error()) > 5);
    free(b);
}

#define T1 "\"dtype\":\"F32\",\"shape\":[2]"
#define REJECT(what, json, data) expect_reject(what, json, UINT64_MAX, data, ILDIFF_ERR_FORMAT)

static void test_hostile(void)
{
    nn_st_file *f = (nn_st_file *)1;
    CHECK(nn_st_parse((const uint8_t *)"abc", 3, &f) == ILDIFF_ERR_FORMAT && f == NULL);
    CHECK(nn_st_parse((const uint8_t *)"", 0, &f) == ILDIFF_ERR_FORMAT);
    expect_reject("header length over file", "{}", 1000, 0, ILDIFF_ERR_FORMAT);
    expect_reject("header length absurd", "{}", UINT64_MAX - 1, 0, ILDIFF_ERR_FORMAT);
    expect_reject("header over 100 MB", "{}", 200u << 20, 0, ILDIFF_ERR_FORMAT);
    expect_reject("header length 0", "{}", 0, 0, ILDIFF_ERR_FORMAT);
    REJECT("not JSON", "{\"a\":", 0);
    REJECT("JSON array", "[1,2,3]", 0);
    REJECT("JSON string", "\"abc\"", 0);
    REJECT("bytes after JSON", "{} xyz", 0);
    REJECT("two objects", "{}{}", 0);
    REJECT("entry not an object", "{\"a\":5}", 0);
    REJECT("missing dtype", "{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8);
    REJECT("missing shape", "{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 8);
    REJECT("missing offsets", "{\"a\":{" T1 "}}", 8);
    REJECT("unknown dtype", "{\"a\":{\"dtype\":\"F17\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8);
    REJECT("dtype not string", "{\"a\":{\"dtype\":4,\"shape\":[2],\"data_offsets\":[0,8]}}", 8);
    REJECT("shape not array", "{\"a\":{\"dtype\":\"F32\",\"shape\":2,\"data_offsets\":[0,8]}}", 8);
    REJECT("negative shape", "{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8);
    REJECT("fractional shape", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,6]}}", 8);
    REJECT("string in shape", "{\"a\":{\"dtype\":\"F32\",\"shape\":[\"2\"],\"data_offsets\":[0,8]}}", 8);
    REJECT("huge shape", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1e300],\"data_offsets\":[0,8]}}", 8);
    REJECT("overflowing shape",
           "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],\"data_offsets\":[0,8]}}", 8);
    REJECT("byte size overflows",
           "{\"a\":{\"dtype\":\"F64\",\"shape\":[4294967296,1073741824],\"data_offsets\":[0,8]}}", 8);
    REJECT("offsets past data", "{\"a\":{" T1 ",\"data_offsets\":[0,1000]}}", 8);
    REJECT("offsets reversed", "{\"a\":{" T1 ",\"data_offsets\":[8,0]}}", 8);
    REJECT("offsets size mismatch", "{\"a\":{" T1 ",\"data_offsets\":[0,4]}}", 4);
    REJECT("offsets wrong count", "{\"a\":{" T1 ",\"data_offsets\":[0,8,8]}}", 8);
    REJECT("offsets negative", "{\"a\":{" T1 ",\"data_offsets\":[-8,0]}}", 8);
    REJECT("offsets not array", "{\"a\":{" T1 ",\"data_offsets\":\"0-8\"}}", 8);
    REJECT("overlap", "{\"a\":{" T1 ",\"data_offsets\":[0,8]},\"b\":{" T1 ",\"data_offsets\":[4,12]}}", 12);
    REJECT("same bytes twice", "{\"a\":{" T1 ",\"data_offsets\":[0,8]},\"b\":{" T1 ",\"data_offsets\":[0,8]}}", 8);
    REJECT("gap", "{\"a\":{" T1 ",\"data_offsets\":[0,8]},\"b\":{" T1 ",\"data_offsets\":[12,20]}}", 20);
    REJECT("uncovered tail", "{\"a\":{" T1 ",\"data_offsets\":[0,8]}}", 16);
    REJECT("duplicate name", "{\"a\":{" T1 ",\"data_offsets\":[0,8]},\"a\":{" T1 ",\"data_offsets\":[8,16]}}", 16);
    REJECT("empty name", "{\"\":{" T1 ",\"data_offsets\":[0,8]}}", 8);
    REJECT("extra field", "{\"a\":{" T1 ",\"data_offsets\":[0,8],\"x\":1}}", 8);
    REJECT("repeated field", "{\"a\":{" T1 ",\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 8);
    REJECT("metadata not object", "{\"__metadata__\":[1]}", 0);
    REJECT("metadata value not string", "{\"__metadata__\":{\"k\":1}}", 0);
    REJECT("metadata twice", "{\"__metadata__\":{},\"__metadata__\":{}}", 0);
    expect_reject("nine dims", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,2],\"data_offsets\":[0,8]}}",
                  UINT64_MAX, 8, ILDIFF_ERR_UNSUPPORTED);
    char deep[5000];
    strcpy(deep, "{\"a\":");
    for (int i = 0; i < 2000; i++) strcat(deep, "[");
    REJECT("deep nesting", deep, 0);
    /* still valid: padding spaces after the JSON, an empty file body, a zero-size tensor */
    size_t size;
    uint8_t *b = build("{\"z\":{\"dtype\":\"F32\",\"shape\":[0,5],\"data_offsets\":[0,0]}}   ", UINT64_MAX, 0, &size);
    CHECK_OK(nn_st_parse(b, size, &f));
    CHECK(f && nn_st_count(f) == 1);
    nn_st_free(f);
    free(b);
    CHECK(nn_st_read("/nonexistent/x.safetensors", 1 << 20, &f) == ILDIFF_ERR_IO && f == NULL);
}

/* random byte flips, truncations and header-length changes of a valid file: any status, never a crash */
static void test_mutations(void)
{
    nn_params p;
    make_params(&p, 3);
    nn_st_entry e[3];
    for (int i = 0; i < 3; i++)
        e[i] = (nn_st_entry){p.items[i].name, p.items[i].ndim, p.items[i].shape, nn_params_data(&p, i)};
    uint8_t *good;
    size_t size;
    CHECK_OK(nn_st_encode(e, 3, NN_DTYPE_BF16, NULL, &good, &size));
    nn_rng r;
    nn_rng_seed(&r, 77);
    uint8_t *m = malloc(size);
    int ok = 0, rejected = 0;
    for (int it = 0; it < 3000; it++) {
        memcpy(m, good, size);
        size_t n = size;
        int kind = (int)nn_rng_below(&r, 4);
        if (kind == 0) n = (size_t)nn_rng_below(&r, size + 1);
        int flips = 1 + (int)nn_rng_below(&r, 4);
        for (int k = 0; k < flips && n > 0; k++) {
            size_t at = kind == 1 ? (size_t)nn_rng_below(&r, n < 8 ? n : 8) : (size_t)nn_rng_below(&r, n);
            m[at] = kind == 2 ? "{}[],:\"0123456789-e. "[nn_rng_below(&r, 22)] : (uint8_t)nn_rng_u64(&r);
        }
        nn_st_file *f = NULL;
        ildiff_status st = nn_st_parse(m, n, &f);
        CHECK(st == ILDIFF_OK || st == ILDIFF_ERR_FORMAT || st == ILDIFF_ERR_UNSUPPORTED);
        if (st == ILDIFF_OK) {
            for (int i = 0; i < nn_st_count(f); i++) { /* every accepted tensor lies inside the buffer */
                const nn_st_tensor *t = nn_st_get(f, i);
                float *v = nnt_full(t->numel, 0);
                (void)nn_st_to_f32(t, v, t->numel);
                free(v);
            }
            ok++;
        } else {
            rejected++;
        }
        nn_st_free(f);
    }
    CHECK(ok > 0 && rejected > 0);
    free(m);
    free(good);
    nn_params_free(&p);
}

static void test_writer_args(void)
{
    float v[2] = {1, 2};
    int64_t shape[1] = {2};
    nn_st_entry e[2] = {{"a", 1, shape, v}, {"a", 1, shape, v}};
    uint8_t *out = (uint8_t *)1;
    size_t size;
    CHECK(nn_st_encode(e, 2, NN_DTYPE_F32, NULL, &out, &size) == ILDIFF_ERR_ARG && out == NULL);
    CHECK(nn_st_encode(e, 1, NN_DTYPE_I64, NULL, &out, &size) == ILDIFF_ERR_ARG);
    e[0].name = "__metadata__";
    CHECK(nn_st_encode(e, 1, NN_DTYPE_F32, NULL, &out, &size) == ILDIFF_ERR_ARG);
    CHECK_OK(nn_st_encode(e + 1, 1, NN_DTYPE_F32, NULL, &out, &size));
    CHECK(size % 8 == 0 && (size - 8) % 8 == 0); /* header padded so the data block is 8-aligned */
    free(out);
}

int main(void)
{
    RUN(test_roundtrip_f32);
    RUN(test_roundtrip_f16);
    RUN(test_roundtrip_bf16);
    RUN(test_python_file);
    RUN(test_rounding);
    RUN(test_hostile);
    RUN(test_mutations);
    RUN(test_writer_args);
    return check_done();
}
