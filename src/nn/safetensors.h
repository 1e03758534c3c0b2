/*
 * safetensors.h: reads and writes safetensors files (https://github.com/huggingface/safetensors), the weight
 * format of the project. Tensor names are PyTorch state-dict keys, so a file loads into an nn_params table
 * (params.h) by name.
 *
 * Format: u64 little-endian N, N bytes of UTF-8 JSON {name: {"dtype", "shape", "data_offsets": [begin, end]},
 * "__metadata__": {string: string}} (trailing spaces allowed), then the data block, little-endian, C order;
 * offsets count from the start of the data block.
 *
 * Reading validates everything before any tensor is touched, and rejects with ILDIFF_ERR_FORMAT (one-line
 * reason): a header length over the file size or over 100 MB, JSON that does not parse or is not an object,
 * entries that are not objects, missing or mistyped dtype/shape/data_offsets, unknown dtypes, negative,
 * fractional or overflowing shape values, offsets out of range or not equal to dtype size * numel, overlapping
 * tensors, bytes of the data block not covered by exactly one tensor, duplicate or empty names, a __metadata__
 * that is not a string map. Nothing is read out of bounds. All the spec's dtypes are recognised; values convert
 * to float from F32, F16, BF16 and F64 (others give ILDIFF_ERR_UNSUPPORTED). Writing emits F32, F16 or BF16.
 *
 *     nn_st_file *f;
 *     if (nn_st_read("model.safetensors", 1 << 30, &f) != ILDIFF_OK) return ...;   // ildiff_last_error() says why
 *     ildiff_status st = nn_st_load_params(&params, f, 0);   // every parameter must be present, shapes equal
 *     nn_st_free(f);
 *     nn_st_save_params("out.safetensors", &params, params.data, NN_DTYPE_BF16, NULL, true);
 */
#ifndef ILDIFF_NN_SAFETENSORS_H
#define ILDIFF_NN_SAFETENSORS_H

#include "ildiff.h"
#include "nn/params.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NN_ST_MAX_DIMS 8
#define NN_ST_MAX_HEADER (100u * 1024 * 1024) /* bytes, the reference implementation's limit */

typedef enum nn_dtype {
    NN_DTYPE_F32,
    NN_DTYPE_F16,
    NN_DTYPE_BF16,
    NN_DTYPE_F64,
    NN_DTYPE_BOOL,
    NN_DTYPE_U8,
    NN_DTYPE_I8,
    NN_DTYPE_F8_E5M2,
    NN_DTYPE_F8_E4M3,
    NN_DTYPE_I16,
    NN_DTYPE_U16,
    NN_DTYPE_I32,
    NN_DTYPE_U32,
    NN_DTYPE_I64,
    NN_DTYPE_U64,
    NN_DTYPE_COUNT
} nn_dtype;

const char *nn_dtype_name(nn_dtype dtype);   /* "F32", ... never NULL */
size_t nn_dtype_size(nn_dtype dtype);        /* bytes per element */

typedef struct nn_st_tensor {
    const char *name;
    nn_dtype dtype;
    int ndim;                        /* 0 .. NN_ST_MAX_DIMS */
    int64_t shape[NN_ST_MAX_DIMS];
    size_t numel;
    const uint8_t *data;             /* numel * nn_dtype_size(dtype) bytes inside the file's buffer */
    size_t nbytes;
} nn_st_tensor;

typedef struct nn_st_file nn_st_file;

/* Parses `size` bytes (copied; the caller keeps `data`). *out is freed with nn_st_free. ILDIFF_ERR_FORMAT for a
 * malformed file (see above), ILDIFF_ERR_UNSUPPORTED for more than NN_ST_MAX_DIMS dims, ILDIFF_ERR_NOMEM. */
ildiff_status nn_st_parse(const uint8_t *data, size_t size, nn_st_file **out);
/* Reads and parses a file of at most max_bytes (ILDIFF_ERR_LIMIT above that, ILDIFF_ERR_IO if unreadable). */
ildiff_status nn_st_read(const char *path, int64_t max_bytes, nn_st_file **out);
void nn_st_free(nn_st_file *f);

int nn_st_count(const nn_st_file *f);
const nn_st_tensor *nn_st_get(const nn_st_file *f, int i);     /* in file order of the header */
const nn_st_tensor *nn_st_find(const nn_st_file *f, const char *name); /* NULL if absent */
/* The __metadata__ value of `key`, or NULL. */
const char *nn_st_metadata(const nn_st_file *f, const char *key);

/* Converts the tensor's values to float into dst (n must equal t->numel, else ILDIFF_ERR_ARG).
 * ILDIFF_ERR_UNSUPPORTED for integer, bool and 8-bit float dtypes. */
ildiff_status nn_st_to_f32(const nn_st_tensor *t, float *dst, size_t n);

enum {
    NN_ST_ALLOW_MISSING = 1, /* parameters absent from the file keep their values */
    NN_ST_ALLOW_UNUSED = 2   /* tensors of the file that are no parameter are ignored */
};
/* Copies every tensor of the file into the parameter of the same name (p must be allocated). Shapes must be
 * equal. Fails with ILDIFF_ERR_FORMAT naming the first missing tensor, unused tensor or shape mismatch unless
 * `flags` allows it; on failure some parameters may already have been overwritten. */
ildiff_status nn_st_load_params(nn_params *p, const nn_st_file *f, unsigned flags);

/* One tensor to write. */
typedef struct nn_st_entry {
    const char *name;
    int ndim;
    const int64_t *shape;
    const float *data;   /* numel floats */
} nn_st_entry;

/* Encodes `count` tensors as `dtype` (F32, F16 or BF16) with optional metadata (`meta`: key, value, key, value,
 * ..., NULL; may be NULL). *out is malloc'd (caller frees). ILDIFF_ERR_ARG for a bad dtype, duplicate name or
 * shape; ILDIFF_ERR_NOMEM. */
ildiff_status nn_st_encode(const nn_st_entry *entries, int count, nn_dtype dtype, const char *const *meta,
                           uint8_t **out, size_t *out_size);
/* Encodes every parameter of the table, taking values from `block` (p->data, or p->ema), and writes the file
 * atomically (ildiff_write_file_atomic). Errors as nn_st_encode, plus ILDIFF_ERR_IO / ILDIFF_ERR_EXISTS. */
ildiff_status nn_st_save_params(const char *path, const nn_params *p, const float *block, nn_dtype dtype,
                                const char *const *meta, bool overwrite);

#endif
