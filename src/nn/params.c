/* params.c: the named parameter table with one allocation per block (params.h). */
#include "nn/params.h"

#include "base/base.h"

#include <string.h>

#define PARAM_ALIGN_FLOATS 16 /* 64 bytes */

void nn_params_init(nn_params *p) { memset(p, 0, sizeof *p); }

void nn_params_free(nn_params *p)
{
    if (!p) return;
    free(p->items);
    free(p->data);
    free(p->grad);
    free(p->m);
    free(p->v);
    free(p->ema);
    memset(p, 0, sizeof *p);
}

const nn_param *nn_params_find(const nn_params *p, const char *name)
{
    for (int i = 0; i < p->count; i++)
        if (strcmp(p->items[i].name, name) == 0) return &p->items[i];
    return NULL;
}

ildiff_status nn_params_add(nn_params *p, const char *name, int ndim, const int64_t *shape, unsigned flags,
                            float **bind_data, float **bind_grad)
{
    if (p->data) return ild_fail(ILDIFF_ERR_ARG, "parameter %s added after the table was allocated", name);
    size_t len = name ? strlen(name) : 0;
    if (len == 0 || len >= NN_PARAM_NAME_MAX) return ild_fail(ILDIFF_ERR_ARG, "parameter name empty or too long");
    if (ndim < 0 || ndim > NN_PARAM_MAX_DIMS) return ild_fail(ILDIFF_ERR_ARG, "parameter %s: %d dims", name, ndim);
    if (nn_params_find(p, name)) return ild_fail(ILDIFF_ERR_ARG, "parameter %s registered twice", name);
    size_t numel = 1;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] < 1) return ild_fail(ILDIFF_ERR_ARG, "parameter %s: dim %d is %lld", name, d, (long long)shape[d]);
        if (!ild_mul_size(&numel, numel, (size_t)shape[d]))
            return ild_fail(ILDIFF_ERR_LIMIT, "parameter %s: size overflows", name);
    }
    size_t padded = (numel + PARAM_ALIGN_FLOATS - 1) / PARAM_ALIGN_FLOATS * PARAM_ALIGN_FLOATS;
    if (padded < numel || p->total > SIZE_MAX / sizeof(float) - padded)
        return ild_fail(ILDIFF_ERR_LIMIT, "parameter %s: table size overflows", name);
    if (p->count == p->cap) {
        int cap = p->cap ? p->cap * 2 : 64;
        nn_param *items = realloc(p->items, (size_t)cap * sizeof *items);
        if (!items) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory for the parameter table");
        p->items = items;
        p->cap = cap;
    }
    nn_param *e = &p->items[p->count++];
    memset(e, 0, sizeof *e);
    memcpy(e->name, name, len + 1);
    e->ndim = ndim;
    for (int d = 0; d < ndim; d++) e->shape[d] = shape[d];
    e->numel = numel;
    e->offset = p->total;
    e->flags = flags;
    e->bind_data = bind_data;
    e->bind_grad = bind_grad;
    p->total += padded;
    return ILDIFF_OK;
}

static float *alloc_block(size_t floats)
{
    size_t bytes = (floats ? floats : PARAM_ALIGN_FLOATS) * sizeof(float); /* a multiple of 64 */
    float *b = aligned_alloc(64, bytes);
    if (b) memset(b, 0, bytes);
    return b;
}

ildiff_status nn_params_alloc(nn_params *p)
{
    if (p->data) return ild_fail(ILDIFF_ERR_ARG, "parameter table allocated twice");
    p->data = alloc_block(p->total);
    p->grad = alloc_block(p->total);
    if (!p->data || !p->grad) {
        free(p->data);
        free(p->grad);
        p->data = p->grad = NULL;
        return ild_fail(ILDIFF_ERR_NOMEM, "out of memory for %zu parameters", p->total);
    }
    for (int i = 0; i < p->count; i++) {
        nn_param *e = &p->items[i];
        if (e->bind_data) *e->bind_data = p->data + e->offset;
        if (e->bind_grad) *e->bind_grad = p->grad + e->offset;
    }
    return ILDIFF_OK;
}

ildiff_status nn_params_alloc_adam(nn_params *p)
{
    if (!p->data) return ild_fail(ILDIFF_ERR_ARG, "optimizer state requested before the parameters");
    if (p->m) return ILDIFF_OK;
    p->m = alloc_block(p->total);
    p->v = alloc_block(p->total);
    if (!p->m || !p->v) {
        free(p->m);
        free(p->v);
        p->m = p->v = NULL;
        return ild_fail(ILDIFF_ERR_NOMEM, "out of memory for the optimizer state");
    }
    return ILDIFF_OK;
}

ildiff_status nn_params_alloc_ema(nn_params *p)
{
    if (!p->data) return ild_fail(ILDIFF_ERR_ARG, "EMA requested before the parameters");
    if (p->ema) return ILDIFF_OK;
    p->ema = alloc_block(p->total);
    if (!p->ema) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory for the EMA weights");
    memcpy(p->ema, p->data, p->total * sizeof(float));
    return ILDIFF_OK;
}

float *nn_params_data(const nn_params *p, int i)
{
    ILD_ASSERT(i >= 0 && i < p->count);
    return p->data ? p->data + p->items[i].offset : NULL;
}

float *nn_params_grad(const nn_params *p, int i)
{
    ILD_ASSERT(i >= 0 && i < p->count);
    return p->grad ? p->grad + p->items[i].offset : NULL;
}

size_t nn_params_numel(const nn_params *p)
{
    size_t n = 0;
    for (int i = 0; i < p->count; i++) n += p->items[i].numel;
    return n;
}

void nn_params_zero_grad(nn_params *p)
{
    if (p->grad) memset(p->grad, 0, p->total * sizeof(float));
}
