/* safetensors_write.c: encodes float tensors as an F32 / F16 / BF16 safetensors file (safetensors.h). */
#include "nn/safetensors.h"

#include "base/base.h"
#include "nn/half.h"

#include <cJSON.h>
#include <string.h>

static ildiff_status entry_bytes(const nn_st_entry *e, size_t esize, size_t *numel, size_t *nbytes)
{
    if (!e->name || !e->name[0] || strcmp(e->name, "__metadata__") == 0)
        return ild_fail(ILDIFF_ERR_ARG, "tensor name empty or reserved");
    if (e->ndim < 0 || e->ndim > NN_ST_MAX_DIMS)
        return ild_fail(ILDIFF_ERR_ARG, "tensor %s: %d dims", e->name, e->ndim);
    *numel = 1;
    for (int d = 0; d < e->ndim; d++)
        if (e->shape[d] < 0 || !ild_mul_size(numel, *numel, (size_t)e->shape[d]))
            return ild_fail(ILDIFF_ERR_ARG, "tensor %s: bad shape", e->name);
    if (!ild_mul_size(nbytes, *numel, esize)) return ild_fail(ILDIFF_ERR_ARG, "tensor %s: size overflows", e->name);
    return ILDIFF_OK;
}

static void put_values(uint8_t *dst, const float *src, size_t n, nn_dtype dtype)
{
    for (size_t i = 0; i < n; i++) {
        if (dtype == NN_DTYPE_F32) {
            memcpy(dst + 4 * i, &src[i], 4);
        } else {
            uint16_t h = dtype == NN_DTYPE_F16 ? nn_f32_to_f16(src[i]) : nn_f32_to_bf16(src[i]);
            memcpy(dst + 2 * i, &h, 2);
        }
    }
}

/* The header object; *data_size receives the data block's length. NULL (with the error set) on failure. */
static cJSON *build_header(const nn_st_entry *entries, int count, nn_dtype dtype, const char *const *meta,
                           size_t *data_size, ildiff_status *st)
{
    cJSON *root = cJSON_CreateObject();
    if (!root) {
        *st = ild_fail(ILDIFF_ERR_NOMEM, "out of memory for the safetensors header");
        return NULL;
    }
    if (meta && meta[0]) {
        cJSON *m = cJSON_AddObjectToObject(root, "__metadata__");
        for (int i = 0; m && meta[i] && meta[i + 1]; i += 2)
            if (!cJSON_AddStringToObject(m, meta[i], meta[i + 1])) m = NULL;
        if (!m) goto fail_nomem;
    }
    size_t at = 0, esize = nn_dtype_size(dtype);
    for (int i = 0; i < count; i++) {
        const nn_st_entry *e = &entries[i];
        size_t numel, nbytes;
        if ((*st = entry_bytes(e, esize, &numel, &nbytes)) != ILDIFF_OK) goto fail;
        for (int j = 0; j < i; j++)
            if (strcmp(entries[j].name, e->name) == 0) {
                *st = ild_fail(ILDIFF_ERR_ARG, "tensor %s written twice", e->name);
                goto fail;
            }
        cJSON *t = cJSON_AddObjectToObject(root, e->name);
        cJSON *shape = t ? cJSON_AddArrayToObject(t, "shape") : NULL;
        cJSON *offs = t ? cJSON_AddArrayToObject(t, "data_offsets") : NULL;
        if (!t || !cJSON_AddStringToObject(t, "dtype", nn_dtype_name(dtype)) || !shape || !offs) goto fail_nomem;
        for (int d = 0; d < e->ndim; d++)
            if (!cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)e->shape[d]))) goto fail_nomem;
        if (!cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)at)) ||
            !cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)(at + nbytes))))
            goto fail_nomem;
        at += nbytes;
    }
    *data_size = at;
    *st = ILDIFF_OK;
    return root;
fail_nomem:
    *st = ild_fail(ILDIFF_ERR_NOMEM, "out of memory for the safetensors header");
fail:
    cJSON_Delete(root);
    return NULL;
}

ildiff_status nn_st_encode(const nn_st_entry *entries, int count, nn_dtype dtype, const char *const *meta,
                           uint8_t **out, size_t *out_size)
{
    *out = NULL;
    *out_size = 0;
    if (dtype != NN_DTYPE_F32 && dtype != NN_DTYPE_F16 && dtype != NN_DTYPE_BF16)
        return ild_fail(ILDIFF_ERR_ARG, "safetensors writer: dtype %s not writable", nn_dtype_name(dtype));
    ildiff_status st;
    size_t data_size = 0;
    cJSON *root = build_header(entries, count, dtype, meta, &data_size, &st);
    if (!root) return st;
    char *json = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!json) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory for the safetensors header");
    size_t jlen = strlen(json), hlen = (jlen + 7) / 8 * 8; /* padded with spaces: the data starts 8-aligned */
    size_t total = 8 + hlen + data_size;
    uint8_t *buf = malloc(total);
    if (!buf) {
        free(json);
        return ild_fail(ILDIFF_ERR_NOMEM, "out of memory for a %zu-byte safetensors file", total);
    }
    uint64_t h64 = hlen;
    memcpy(buf, &h64, 8);
    memcpy(buf + 8, json, jlen);
    memset(buf + 8 + jlen, ' ', hlen - jlen);
    free(json);
    uint8_t *p = buf + 8 + hlen;
    for (int i = 0; i < count; i++) {
        size_t numel = 1;
        for (int d = 0; d < entries[i].ndim; d++) numel *= (size_t)entries[i].shape[d];
        put_values(p, entries[i].data, numel, dtype);
        p += numel * nn_dtype_size(dtype);
    }
    *out = buf;
    *out_size = total;
    return ILDIFF_OK;
}

ildiff_status nn_st_save_params(const char *path, const nn_params *p, const float *block, nn_dtype dtype,
                                const char *const *meta, bool overwrite)
{
    nn_st_entry *entries = calloc((size_t)(p->count ? p->count : 1), sizeof *entries);
    if (!entries) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    for (int i = 0; i < p->count; i++) {
        const nn_param *e = &p->items[i];
        entries[i] = (nn_st_entry){e->name, e->ndim, e->shape, block + e->offset};
    }
    uint8_t *buf;
    size_t size;
    ildiff_status st = nn_st_encode(entries, p->count, dtype, meta, &buf, &size);
    free(entries);
    if (st != ILDIFF_OK) return st;
    st = ildiff_write_file_atomic(path, buf, size, overwrite);
    free(buf);
    return st;
}
