/* layers.c: the activation arena, parameter registration and the convolution layer of src/models (layers.h). */
#include "models/layers.h"

#include "base/base.h"
#include "nn/rng.h"

#include <math.h>

#include <stdio.h>
#include <string.h>

#define ARENA_ALIGN 16 /* floats: 64 bytes */

void mdl_take(mdl_arena *a, size_t n, float **x, float **dx)
{
    size_t off = a->used;
    a->used += (n + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
    ILD_ASSERT(!a->acts || a->used <= a->floats);
    *x = a->acts ? a->acts + off : NULL;
    if (dx) *dx = a->grads ? a->grads + off : NULL;
}

void mdl_take_temp(mdl_arena *a, size_t n, float **x, float **dx)
{
    if (a->train) {
        mdl_take(a, n, x, dx);
        return;
    }
    size_t off = a->temp_used;
    a->temp_used += (n + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
    if (a->temp_used > a->temp_max) a->temp_max = a->temp_used;
    ILD_ASSERT(!a->temp || a->temp_used <= a->temp_floats);
    *x = a->temp ? a->temp + off : NULL;
    if (dx) *dx = NULL;
}

void mdl_temp_reset(mdl_arena *a) { a->temp_used = 0; }

static float *alloc_floats(size_t n)
{
    size_t bytes = (n ? n : ARENA_ALIGN) * sizeof(float);
    float *p = aligned_alloc(64, bytes);
    if (p) memset(p, 0, bytes);
    return p;
}

/* Frees the activation blocks and rewinds (the workspace stays). */
static void free_blocks(mdl_arena *a)
{
    free(a->acts);
    free(a->grads);
    free(a->temp);
    a->acts = a->grads = a->temp = NULL;
    a->used = a->floats = a->temp_used = a->temp_max = a->temp_floats = 0;
}

ildiff_status mdl_arena_alloc(mdl_arena *a)
{
    size_t n = a->used, t = a->temp_max;
    bool train = a->train;
    free_blocks(a);
    if (!a->ws && nn_workspace_alloc(&a->own_ws) != ILDIFF_OK) return ILDIFF_ERR_NOMEM;
    if (n > SIZE_MAX / sizeof(float) / 2 || t > SIZE_MAX / sizeof(float) / 2)
        return ild_fail(ILDIFF_ERR_LIMIT, "activation plan too large");
    a->acts = alloc_floats(n);
    a->grads = train ? alloc_floats(n) : NULL;
    a->temp = t ? alloc_floats(t) : NULL;
    if (!a->acts || (train && !a->grads) || (t && !a->temp)) {
        free_blocks(a);
        return ild_fail(ILDIFF_ERR_NOMEM, "out of memory for %zu MiB of activations",
                        (n * (train ? 2 : 1) + t) * sizeof(float) >> 20);
    }
    a->floats = n;
    a->temp_floats = t;
    return ILDIFF_OK;
}

void mdl_arena_free(mdl_arena *a)
{
    if (!a) return;
    free_blocks(a);
    nn_workspace_free(&a->own_ws);
}

void mdl_arena_zero_grads(mdl_arena *a)
{
    if (a->grads) memset(a->grads, 0, a->floats * sizeof(float));
}

ildiff_status mdl_param(nn_params *p, const char *prefix, const char *name, int ndim, const int64_t *shape,
                        unsigned flags, float **w, float **dw)
{
    char full[NN_PARAM_NAME_MAX];
    int n = snprintf(full, sizeof full, "%s%s", prefix ? prefix : "", name);
    if (n < 0 || (size_t)n >= sizeof full) return ild_fail(ILDIFF_ERR_ARG, "parameter name %s%s too long", prefix, name);
    return nn_params_add(p, full, ndim, shape, flags, w, dw);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

void mdl_init_params(nn_params *p, uint64_t seed)
{
    nn_rng r;
    nn_rng_seed(&r, seed);
    int64_t fan_in = 0; /* of the last 2+-dim weight, for its bias */
    for (int i = 0; i < p->count; i++) {
        const nn_param *e = &p->items[i];
        float *w = nn_params_data(p, i);
        if (ends_with(e->name, ".weight") && e->ndim >= 2) {
            fan_in = 1;
            for (int d = 1; d < e->ndim; d++) fan_in *= e->shape[d];
            nn_init_kaiming_uniform(&r, w, e->numel, fan_in);
        } else if (ends_with(e->name, ".weight") && e->ndim == 1) {
            fan_in = 0;
            for (size_t j = 0; j < e->numel; j++) w[j] = 1;
        } else if (ends_with(e->name, ".bias")) {
            if (fan_in > 0)
                nn_init_uniform(&r, w, e->numel, 1.0f / sqrtf((float)fan_in));
            else
                nn_init_zeros(w, e->numel);
        } else {
            nn_init_trunc_normal(&r, w, e->numel, 0.02f);
        }
    }
}

/* "<name>.<suffix>" into buf (names are short; an overlong one fails in mdl_param's length check). */
static const char *sub(char *buf, size_t size, const char *name, const char *suffix)
{
    snprintf(buf, size, "%s.%s", name, suffix);
    return buf;
}

ildiff_status mdl_conv_add(mdl_conv *c, nn_params *p, const char *prefix, const char *name, int64_t C, int64_t OC,
                           int64_t K, int64_t stride, bool bias, bool is3d)
{
    memset(c, 0, sizeof *c);
    c->C = C, c->OC = OC, c->K = K, c->stride = stride, c->bias = bias, c->is3d = is3d;
    char buf[NN_PARAM_NAME_MAX];
    int64_t shape[5] = {OC, C, K, K, K};
    ildiff_status st = mdl_param(p, prefix, sub(buf, sizeof buf, name, "weight"), is3d ? 5 : 4, shape,
                                 NN_PARAM_DECAY, &c->w, &c->dw);
    if (st == ILDIFF_OK && bias) st = mdl_param(p, prefix, sub(buf, sizeof buf, name, "bias"), 1, shape, 0, &c->b, &c->db);
    return st;
}

int64_t mdl_conv_out(const mdl_conv *c, int64_t in) { return nn_conv_out_size(in, c->K, c->stride, c->K / 2); }

ildiff_status mdl_conv_plan(mdl_conv *c, mdl_arena *a, int64_t N, int64_t D, int64_t H, int64_t W)
{
    nn_conv_shape s = {.N = N, .C = c->C, .OC = c->OC, .D = D, .H = H, .W = W, .K = c->K, .stride = c->stride,
                       .pad = c->K / 2, .bias = c->bias, .bf16 = a->bf16 && !a->train,
                       .inference = !a->train};
    if (c->plan && memcmp(&s, &c->s, sizeof s) == 0) return ILDIFF_OK;
    mdl_conv_free(c);
    c->s = s;
    nn_workspace *ws = a->ws ? a->ws : &a->own_ws;
    return c->is3d ? nn_conv3d_plan_new_shared(&c->plan, &s, ws) : nn_conv2d_plan_new_shared(&c->plan, &s, ws);
}

void mdl_conv_forward(mdl_conv *c, float *out, const float *inp)
{
    if (c->is3d)
        nn_conv3d_forward(c->plan, out, inp, c->w, c->b);
    else
        nn_conv2d_forward(c->plan, out, inp, c->w, c->b);
}

void mdl_conv_backward(mdl_conv *c, float *dinp, const float *dout, const float *inp, bool frozen)
{
    if (frozen && !dinp) return;
    float *dw = frozen ? NULL : c->dw, *db = frozen ? NULL : c->db;
    if (c->is3d)
        nn_conv3d_backward(c->plan, dinp, dw, db, dout, inp, c->w);
    else
        nn_conv2d_backward(c->plan, dinp, dw, db, dout, inp, c->w);
}

void mdl_conv_zero(mdl_conv *c)
{
    size_t n = (size_t)(c->OC * c->C * c->K * c->K * (c->is3d ? c->K : 1));
    memset(c->w, 0, n * sizeof(float));
    if (c->b) memset(c->b, 0, (size_t)c->OC * sizeof(float));
}

void mdl_conv_free(mdl_conv *c)
{
    nn_conv2d_plan_free(c->plan);
    c->plan = NULL;
}

ildiff_status mdl_norm_add(mdl_norm *n, nn_params *p, const char *prefix, const char *name, int64_t C, int64_t G,
                           float eps)
{
    memset(n, 0, sizeof *n);
    n->C = C, n->G = G, n->eps = eps;
    char buf[NN_PARAM_NAME_MAX];
    ildiff_status st = mdl_param(p, prefix, sub(buf, sizeof buf, name, "weight"), 1, &C, 0, &n->w, &n->dw);
    return st == ILDIFF_OK ? mdl_param(p, prefix, sub(buf, sizeof buf, name, "bias"), 1, &C, 0, &n->b, &n->db) : st;
}

ildiff_status mdl_linear_add(mdl_linear *l, nn_params *p, const char *prefix, const char *name, int64_t in,
                             int64_t out)
{
    memset(l, 0, sizeof *l);
    l->in = in, l->out = out;
    char buf[NN_PARAM_NAME_MAX];
    int64_t shape[2] = {out, in};
    ildiff_status st = mdl_param(p, prefix, sub(buf, sizeof buf, name, "weight"), 2, shape, NN_PARAM_DECAY, &l->w, &l->dw);
    return st == ILDIFF_OK ? mdl_param(p, prefix, sub(buf, sizeof buf, name, "bias"), 1, &out, 0, &l->b, &l->db) : st;
}

void mdl_swap_axes(float *out, const float *inp, int64_t N, int64_t A, int64_t B, int64_t S, bool accumulate)
{
    for (int64_t n = 0; n < N; n++) {
        const float *x = inp + n * A * B * S;
        float *y = out + n * A * B * S;
        for (int64_t a = 0; a < A; a++)
            for (int64_t b = 0; b < B; b++) {
                const float *src = x + (a * B + b) * S;
                float *dst = y + (b * A + a) * S;
                if (accumulate)
                    for (int64_t s = 0; s < S; s++) dst[s] += src[s];
                else
                    memcpy(dst, src, (size_t)S * sizeof(float));
            }
    }
}
