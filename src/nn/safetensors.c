/* safetensors.c: validating safetensors reader, float conversion and loading into a parameter table
 * (safetensors.h). The writer is in safetensors_write.c. */
#include "nn/safetensors.h"

#include "base/base.h"
#include "nn/half.h"

#include <cJSON.h>
#include <math.h>
#include <string.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors.c assumes a little-endian host"
#endif

struct nn_st_file {
    uint8_t *buf;                 /* the whole file */
    size_t size;
    cJSON *root;                  /* the parsed header; names and metadata point into it */
    nn_st_tensor *tensors;        /* (count) in header order */
    const nn_st_tensor **by_name; /* (count) sorted by name, for nn_st_find */
    int count;
    const cJSON *meta;            /* the __metadata__ object or NULL */
};

static const struct {
    const char *name;
    size_t size;
} dtypes[NN_DTYPE_COUNT] = {
    [NN_DTYPE_F32] = {"F32", 4},   [NN_DTYPE_F16] = {"F16", 2},         [NN_DTYPE_BF16] = {"BF16", 2},
    [NN_DTYPE_F64] = {"F64", 8},   [NN_DTYPE_BOOL] = {"BOOL", 1},       [NN_DTYPE_U8] = {"U8", 1},
    [NN_DTYPE_I8] = {"I8", 1},     [NN_DTYPE_F8_E5M2] = {"F8_E5M2", 1}, [NN_DTYPE_F8_E4M3] = {"F8_E4M3", 1},
    [NN_DTYPE_I16] = {"I16", 2},   [NN_DTYPE_U16] = {"U16", 2},         [NN_DTYPE_I32] = {"I32", 4},
    [NN_DTYPE_U32] = {"U32", 4},   [NN_DTYPE_I64] = {"I64", 8},         [NN_DTYPE_U64] = {"U64", 8},
};

const char *nn_dtype_name(nn_dtype dtype)
{
    return (int)dtype >= 0 && dtype < NN_DTYPE_COUNT ? dtypes[dtype].name : "unknown";
}

size_t nn_dtype_size(nn_dtype dtype) { return (int)dtype >= 0 && dtype < NN_DTYPE_COUNT ? dtypes[dtype].size : 0; }

void nn_st_free(nn_st_file *f)
{
    if (!f) return;
    cJSON_Delete(f->root);
    free(f->buf);
    free(f->tensors);
    free(f->by_name);
    free(f);
}

/* A JSON number that is a non-negative integer below 2^53 (exact in a double). */
static bool json_uint(const cJSON *j, uint64_t *out)
{
    if (!cJSON_IsNumber(j)) return false;
    double d = j->valuedouble;
    if (!isfinite(d) || d < 0 || d > 9007199254740992.0 || floor(d) != d) return false;
    *out = (uint64_t)d;
    return true;
}

static ildiff_status parse_dtype(const cJSON *j, const char *name, nn_dtype *out)
{
    if (!cJSON_IsString(j) || !j->valuestring)
        return ild_fail(ILDIFF_ERR_FORMAT, "tensor %s: dtype is not a string", name);
    for (int d = 0; d < NN_DTYPE_COUNT; d++)
        if (strcmp(j->valuestring, dtypes[d].name) == 0) {
            *out = (nn_dtype)d;
            return ILDIFF_OK;
        }
    return ild_fail(ILDIFF_ERR_FORMAT, "tensor %s: unknown dtype \"%.32s\"", name, j->valuestring);
}

static ildiff_status parse_shape(const cJSON *j, nn_st_tensor *t)
{
    if (!cJSON_IsArray(j)) return ild_fail(ILDIFF_ERR_FORMAT, "tensor %s: shape is not an array", t->name);
    int n = cJSON_GetArraySize(j);
    if (n > NN_ST_MAX_DIMS)
        return ild_fail(ILDIFF_ERR_UNSUPPORTED, "tensor %s: %d dims (at most %d)", t->name, n, NN_ST_MAX_DIMS);
    t->ndim = n;
    t->numel = 1;
    int d = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, j)
    {
        uint64_t v;
        if (!json_uint(e, &v) || v > INT64_MAX)
            return ild_fail(ILDIFF_ERR_FORMAT, "tensor %s: shape value %d is not a non-negative integer", t->name, d);
        t->shape[d++] = (int64_t)v;
        if (!ild_mul_size(&t->numel, t->numel, (size_t)v))
            return ild_fail(ILDIFF_ERR_FORMAT, "tensor %s: element count overflows", t->name);
    }
    if (!ild_mul_size(&t->nbytes, t->numel, dtypes[t->dtype].size))
        return ild_fail(ILDIFF_ERR_FORMAT, "tensor %s: byte size overflows", t->name);
    return ILDIFF_OK;
}

/* One header entry {"dtype", "shape", "data_offsets"} (each exactly once, nothing else). begin/end are offsets
 * into the data block of `data_size` bytes. */
static ildiff_status parse_tensor(const cJSON *j, size_t data_size, nn_st_tensor *t, uint64_t *begin, uint64_t *end)
{
    if (!cJSON_IsObject(j)) return ild_fail(ILDIFF_ERR_FORMAT, "tensor %s: entry is not an object", t->name);
    const cJSON *jd = NULL, *js = NULL, *jo = NULL, *e;
    cJSON_ArrayForEach(e, j)
    {
        const cJSON **slot = !e->string                           ? NULL
                             : strcmp(e->string, "dtype") == 0        ? &jd
                             : strcmp(e->string, "shape") == 0        ? &js
                             : strcmp(e->string, "data_offsets") == 0 ? &jo
                                                                      : NULL;
        if (!slot || *slot)
            return ild_fail(ILDIFF_ERR_FORMAT, "tensor %s: unexpected or repeated field \"%.32s\"", t->name,
                            e->string ? e->string : "");
        *slot = e;
    }
    if (!jd || !js || !jo)
        return ild_fail(ILDIFF_ERR_FORMAT, "tensor %s: missing %s", t->name,
                        !jd ? "dtype" : !js ? "shape" : "data_offsets");
    ildiff_status st = parse_dtype(jd, t->name, &t->dtype);
    if (st == ILDIFF_OK) st = parse_shape(js, t);
    if (st != ILDIFF_OK) return st;
    if (!cJSON_IsArray(jo) || cJSON_GetArraySize(jo) != 2 || !json_uint(jo->child, begin) ||
        !json_uint(jo->child->next, end))
        return ild_fail(ILDIFF_ERR_FORMAT, "tensor %s: data_offsets is not [begin, end]", t->name);
    if (*begin > *end || *end > data_size)
        return ild_fail(ILDIFF_ERR_FORMAT, "tensor %s: data_offsets [%llu, %llu] outside the %zu-byte data block",
                        t->name, (unsigned long long)*begin, (unsigned long long)*end, data_size);
    if (*end - *begin != t->nbytes)
        return ild_fail(ILDIFF_ERR_FORMAT, "tensor %s: %llu data bytes, %s x shape needs %zu", t->name,
                        (unsigned long long)(*end - *begin), dtypes[t->dtype].name, t->nbytes);
    return ILDIFF_OK;
}

static ildiff_status parse_metadata(nn_st_file *f, const cJSON *j)
{
    if (!cJSON_IsObject(j)) return ild_fail(ILDIFF_ERR_FORMAT, "__metadata__ is not an object");
    const cJSON *e;
    cJSON_ArrayForEach(e, j)
    {
        if (!cJSON_IsString(e) || !e->valuestring || !e->string)
            return ild_fail(ILDIFF_ERR_FORMAT, "__metadata__ value of \"%.64s\" is not a string",
                            e->string ? e->string : "");
    }
    f->meta = j;
    return ILDIFF_OK;
}

static int cmp_by_name(const void *a, const void *b)
{
    return strcmp((*(const nn_st_tensor *const *)a)->name, (*(const nn_st_tensor *const *)b)->name);
}

typedef struct span {
    uint64_t begin, end;
} span;

static int cmp_span(const void *a, const void *b)
{
    const span *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

/* The tensors must tile the data block exactly: no overlap, no gap, nothing after the last one. */
static ildiff_status check_tiling(span *spans, int n, size_t data_size)
{
    qsort(spans, (size_t)n, sizeof *spans, cmp_span);
    uint64_t at = 0;
    for (int i = 0; i < n; i++) {
        if (spans[i].begin < at)
            return ild_fail(ILDIFF_ERR_FORMAT, "tensors overlap at data offset %llu",
                            (unsigned long long)spans[i].begin);
        if (spans[i].begin > at)
            return ild_fail(ILDIFF_ERR_FORMAT, "data bytes %llu..%llu belong to no tensor", (unsigned long long)at,
                            (unsigned long long)spans[i].begin);
        at = spans[i].end;
    }
    if (at != data_size)
        return ild_fail(ILDIFF_ERR_FORMAT, "data block has %zu bytes, the tensors cover %llu", data_size,
                        (unsigned long long)at);
    return ILDIFF_OK;
}

/* Everything after the 8-byte length: the JSON object, its entries, the layout of the data block. */
static ildiff_status parse_header(nn_st_file *f)
{
    if (f->size < 8) return ild_fail(ILDIFF_ERR_FORMAT, "safetensors file of %zu bytes has no header", f->size);
    uint64_t hlen;
    memcpy(&hlen, f->buf, 8);
    if (hlen > NN_ST_MAX_HEADER)
        return ild_fail(ILDIFF_ERR_FORMAT, "safetensors header length %llu is over the 100 MB limit",
                        (unsigned long long)hlen);
    if (hlen > f->size - 8)
        return ild_fail(ILDIFF_ERR_FORMAT, "safetensors header length %llu exceeds the %zu bytes after it",
                        (unsigned long long)hlen, f->size - 8);
    const char *text = (const char *)f->buf + 8;
    if (hlen < 2 || text[0] != '{') return ild_fail(ILDIFF_ERR_FORMAT, "safetensors header is not a JSON object");
    char *copy = malloc(hlen + 1); /* NUL-terminated, so the parser can never run past the header */
    if (!copy) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory for a %llu-byte header", (unsigned long long)hlen);
    memcpy(copy, text, hlen);
    copy[hlen] = 0;
    const char *end = NULL;
    f->root = cJSON_ParseWithLengthOpts(copy, hlen, &end, false);
    bool tail_ok = f->root && end;
    for (const char *p = end; tail_ok && p < copy + hlen; p++)
        tail_ok = *p == ' ' || *p == '\n' || *p == '\t' || *p == '\r';
    free(copy);
    if (!f->root) return ild_fail(ILDIFF_ERR_FORMAT, "safetensors header is not valid JSON");
    if (!tail_ok) return ild_fail(ILDIFF_ERR_FORMAT, "safetensors header has bytes after its JSON object");
    if (!cJSON_IsObject(f->root)) return ild_fail(ILDIFF_ERR_FORMAT, "safetensors header is not a JSON object");

    size_t data_size = f->size - 8 - (size_t)hlen;
    const uint8_t *data = f->buf + 8 + hlen;
    int n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, f->root) n++;
    f->tensors = calloc((size_t)(n ? n : 1), sizeof *f->tensors);
    f->by_name = calloc((size_t)(n ? n : 1), sizeof *f->by_name);
    span *spans = calloc((size_t)(n ? n : 1), sizeof *spans);
    if (!f->tensors || !f->by_name || !spans) {
        free(spans);
        return ild_fail(ILDIFF_ERR_NOMEM, "out of memory for %d tensor entries", n);
    }
    ildiff_status st = ILDIFF_OK;
    bool have_meta = false;
    cJSON_ArrayForEach(e, f->root)
    {
        if (!e->string || !e->string[0]) {
            st = ild_fail(ILDIFF_ERR_FORMAT, "safetensors header has an empty tensor name");
            break;
        }
        if (strcmp(e->string, "__metadata__") == 0) {
            st = have_meta ? ild_fail(ILDIFF_ERR_FORMAT, "duplicate __metadata__") : parse_metadata(f, e);
            have_meta = true;
            if (st != ILDIFF_OK) break;
            continue;
        }
        nn_st_tensor *t = &f->tensors[f->count];
        t->name = e->string;
        uint64_t begin, end_off;
        if ((st = parse_tensor(e, data_size, t, &begin, &end_off)) != ILDIFF_OK) break;
        t->data = data + begin;
        spans[f->count] = (span){begin, end_off};
        f->by_name[f->count] = t;
        f->count++;
    }
    if (st == ILDIFF_OK) st = check_tiling(spans, f->count, data_size);
    free(spans);
    if (st != ILDIFF_OK) return st;
    qsort(f->by_name, (size_t)f->count, sizeof *f->by_name, cmp_by_name);
    for (int i = 1; i < f->count; i++)
        if (strcmp(f->by_name[i - 1]->name, f->by_name[i]->name) == 0)
            return ild_fail(ILDIFF_ERR_FORMAT, "duplicate tensor name \"%.100s\"", f->by_name[i]->name);
    return ILDIFF_OK;
}

static ildiff_status parse_owned(uint8_t *buf, size_t size, nn_st_file **out)
{
    nn_st_file *f = calloc(1, sizeof *f);
    if (!f) {
        free(buf);
        return ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    }
    f->buf = buf;
    f->size = size;
    ildiff_status st = parse_header(f);
    if (st != ILDIFF_OK) {
        nn_st_free(f);
        return st;
    }
    *out = f;
    return ILDIFF_OK;
}

ildiff_status nn_st_parse(const uint8_t *data, size_t size, nn_st_file **out)
{
    *out = NULL;
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory for a %zu-byte safetensors file", size);
    if (size) memcpy(buf, data, size);
    return parse_owned(buf, size, out);
}

ildiff_status nn_st_read(const char *path, int64_t max_bytes, nn_st_file **out)
{
    *out = NULL;
    uint8_t *buf = NULL;
    size_t size = 0;
    ildiff_status st = ildiff_read_file(path, max_bytes, &buf, &size);
    if (st != ILDIFF_OK) return st;
    return parse_owned(buf, size, out);
}

int nn_st_count(const nn_st_file *f) { return f->count; }

const nn_st_tensor *nn_st_get(const nn_st_file *f, int i)
{
    ILD_ASSERT(i >= 0 && i < f->count);
    return &f->tensors[i];
}

const nn_st_tensor *nn_st_find(const nn_st_file *f, const char *name)
{
    int lo = 0, hi = f->count - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int c = strcmp(f->by_name[mid]->name, name);
        if (c == 0) return f->by_name[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid - 1;
    }
    return NULL;
}

const char *nn_st_metadata(const nn_st_file *f, const char *key)
{
    const cJSON *v = f->meta ? cJSON_GetObjectItemCaseSensitive(f->meta, key) : NULL;
    return v ? v->valuestring : NULL;
}

ildiff_status nn_st_to_f32(const nn_st_tensor *t, float *dst, size_t n)
{
    if (n != t->numel) return ild_fail(ILDIFF_ERR_ARG, "tensor %s has %zu values, not %zu", t->name, t->numel, n);
    const uint8_t *s = t->data;
    switch (t->dtype) {
    case NN_DTYPE_F32: memcpy(dst, s, n * 4); return ILDIFF_OK;
    case NN_DTYPE_F64:
        for (size_t i = 0; i < n; i++) {
            double d;
            memcpy(&d, s + 8 * i, 8);
            dst[i] = (float)d;
        }
        return ILDIFF_OK;
    case NN_DTYPE_F16:
    case NN_DTYPE_BF16:
        for (size_t i = 0; i < n; i++) {
            uint16_t h;
            memcpy(&h, s + 2 * i, 2);
            dst[i] = t->dtype == NN_DTYPE_F16 ? nn_f16_to_f32(h) : nn_bf16_to_f32(h);
        }
        return ILDIFF_OK;
    default:
        return ild_fail(ILDIFF_ERR_UNSUPPORTED, "tensor %s: dtype %s does not convert to float", t->name,
                        dtypes[t->dtype].name);
    }
}

static bool same_shape(const nn_param *e, const nn_st_tensor *t)
{
    if (e->ndim != t->ndim) return false;
    for (int d = 0; d < e->ndim; d++)
        if (e->shape[d] != t->shape[d]) return false;
    return true;
}

ildiff_status nn_st_load_params(nn_params *p, const nn_st_file *f, unsigned flags)
{
    if (!p->data) return ild_fail(ILDIFF_ERR_ARG, "parameters loaded before nn_params_alloc");
    int matched = 0;
    for (int i = 0; i < p->count; i++) {
        const nn_param *e = &p->items[i];
        const nn_st_tensor *t = nn_st_find(f, e->name);
        if (!t) {
            if (flags & NN_ST_ALLOW_MISSING) continue;
            return ild_fail(ILDIFF_ERR_FORMAT, "weights file has no tensor %s", e->name);
        }
        if (!same_shape(e, t))
            return ild_fail(ILDIFF_ERR_FORMAT, "tensor %s: shape in the file differs from the model's", e->name);
        ildiff_status st = nn_st_to_f32(t, p->data + e->offset, e->numel);
        if (st != ILDIFF_OK) return st;
        matched++;
    }
    if (matched < f->count && !(flags & NN_ST_ALLOW_UNUSED))
        for (int i = 0; i < f->count; i++)
            if (!nn_params_find(p, f->tensors[i].name))
                return ild_fail(ILDIFF_ERR_FORMAT, "weights file tensor %.100s is no parameter of the model",
                                f->tensors[i].name);
    return ILDIFF_OK;
}
