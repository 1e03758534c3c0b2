/* attention_mha.c: multi-head self-attention and cross-attention built from linear.h and the scaled dot-product
 * attention of attention.c; one composition serves the fast path and the reference (attention.h). */
#include "nn/attention.h"

#include "base/base.h"
#include "nn/linear.h"

#include <stdbool.h>
#include <string.h>

typedef struct kernels {
    void (*linear_forward)(float *, const float *, const float *, const float *, int64_t, int64_t, int64_t);
    void (*linear_backward)(float *, float *, float *, const float *, const float *, const float *, int64_t, int64_t,
                            int64_t);
    void (*sdpa_forward)(float *, float *, const float *, int64_t, const float *, const float *, int64_t, int64_t,
                         int64_t, int64_t, int64_t, int64_t);
    void (*sdpa_backward)(float *, float *, float *, float *, const float *, const float *, const float *, int64_t,
                          const float *, const float *, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t);
} kernels;

static const kernels fast = {nn_linear_forward, nn_linear_backward, nn_sdpa_forward, nn_sdpa_backward};
static const kernels ref = {nn_linear_forward_ref, nn_linear_backward_ref, nn_sdpa_forward_ref, nn_sdpa_backward_ref};

/* ---- self-attention ---- */

static void mhsa_forward(const kernels *kn, float *out, const nn_mhsa_cache *c, const float *x,
                         const nn_mhsa_weights *w, int64_t B, int64_t T, int64_t C, int64_t NH)
{
    ILD_ASSERT(NH >= 1 && C % NH == 0);
    const int64_t N = B * T;
    kn->linear_forward(c->qkv, x, w->qkv_w, w->qkv_b, N, C, 3 * C); /* (B, T, 3C) */
    kn->sdpa_forward(c->ctx, c->att, c->qkv, 3 * C, c->qkv + C, c->qkv + 2 * C, 3 * C, B, T, T, NH, C / NH);
    kn->linear_forward(out, c->ctx, w->proj_w, w->proj_b, N, C, C); /* (B, T, C) */
}

size_t nn_mhsa_scratch_floats(int64_t B, int64_t T, int64_t C, int64_t NH)
{
    return (size_t)(B * T * C + B * T * 3 * C + T * T); /* dctx, dqkv, dS */
}

static void mhsa_backward(const kernels *kn, float *dx, const nn_mhsa_grads *g, float *scratch, const float *dout,
                          const nn_mhsa_cache *c, const float *x, const nn_mhsa_weights *w, int64_t B, int64_t T,
                          int64_t C, int64_t NH)
{
    ILD_ASSERT(NH >= 1 && C % NH == 0);
    const int64_t N = B * T;
    float *dctx = scratch, *dqkv = scratch + N * C, *ds = dqkv + N * 3 * C;
    memset(scratch, 0, sizeof(float) * (size_t)(N * C * 4));
    kn->linear_backward(dctx, g->proj_w, g->proj_b, dout, c->ctx, w->proj_w, N, C, C);
    kn->sdpa_backward(dqkv, dqkv + C, dqkv + 2 * C, ds, dctx, c->att, c->qkv, 3 * C, c->qkv + C, c->qkv + 2 * C,
                      3 * C, B, T, T, NH, C / NH);
    kn->linear_backward(dx, g->qkv_w, g->qkv_b, dqkv, x, w->qkv_w, N, C, 3 * C);
}

void nn_mhsa_forward(float *out, const nn_mhsa_cache *cache, const float *x, const nn_mhsa_weights *w, int64_t B,
                     int64_t T, int64_t C, int64_t NH)
{
    mhsa_forward(&fast, out, cache, x, w, B, T, C, NH);
}

void nn_mhsa_forward_ref(float *out, const nn_mhsa_cache *cache, const float *x, const nn_mhsa_weights *w,
                         int64_t B, int64_t T, int64_t C, int64_t NH)
{
    mhsa_forward(&ref, out, cache, x, w, B, T, C, NH);
}

void nn_mhsa_backward(float *dx, const nn_mhsa_grads *g, float *scratch, const float *dout,
                      const nn_mhsa_cache *cache, const float *x, const nn_mhsa_weights *w, int64_t B, int64_t T,
                      int64_t C, int64_t NH)
{
    mhsa_backward(&fast, dx, g, scratch, dout, cache, x, w, B, T, C, NH);
}

void nn_mhsa_backward_ref(float *dx, const nn_mhsa_grads *g, float *scratch, const float *dout,
                          const nn_mhsa_cache *cache, const float *x, const nn_mhsa_weights *w, int64_t B,
                          int64_t T, int64_t C, int64_t NH)
{
    mhsa_backward(&ref, dx, g, scratch, dout, cache, x, w, B, T, C, NH);
}

/* ---- cross-attention ---- */

static void xattn_forward(const kernels *kn, float *out, const nn_xattn_cache *c, const float *xq, const float *xk,
                          const float *xv, const nn_xattn_weights *w, int64_t B, int64_t Tq, int64_t Tk, int64_t C,
                          int64_t NH)
{
    ILD_ASSERT(NH >= 1 && C % NH == 0);
    kn->linear_forward(c->q, xq, w->q_w, w->q_b, B * Tq, C, C);
    kn->linear_forward(c->k, xk, w->k_w, w->k_b, B * Tk, C, C);
    kn->linear_forward(c->v, xv, w->v_w, w->v_b, B * Tk, C, C);
    kn->sdpa_forward(c->ctx, c->att, c->q, C, c->k, c->v, C, B, Tq, Tk, NH, C / NH);
    kn->linear_forward(out, c->ctx, w->out_w, w->out_b, B * Tq, C, C);
}

size_t nn_xattn_scratch_floats(int64_t B, int64_t Tq, int64_t Tk, int64_t C, int64_t NH)
{
    return (size_t)(2 * B * Tq * C + 2 * B * Tk * C + Tq * Tk); /* dctx, dq, dk, dv, dS */
}

static void xattn_backward(const kernels *kn, float *dxq, float *dxk, float *dxv, const nn_xattn_grads *g,
                           float *scratch, const float *dout, const nn_xattn_cache *c, const float *xq,
                           const float *xk, const float *xv, const nn_xattn_weights *w, int64_t B, int64_t Tq,
                           int64_t Tk, int64_t C, int64_t NH)
{
    ILD_ASSERT(NH >= 1 && C % NH == 0);
    float *dctx = scratch, *dq = dctx + B * Tq * C, *dk = dq + B * Tq * C, *dv = dk + B * Tk * C;
    float *ds = dv + B * Tk * C;
    memset(scratch, 0, sizeof(float) * (size_t)(2 * B * Tq * C + 2 * B * Tk * C));
    kn->linear_backward(dctx, g->out_w, g->out_b, dout, c->ctx, w->out_w, B * Tq, C, C);
    kn->sdpa_backward(dq, dk, dv, ds, dctx, c->att, c->q, C, c->k, c->v, C, B, Tq, Tk, NH, C / NH);
    kn->linear_backward(dxq, g->q_w, g->q_b, dq, xq, w->q_w, B * Tq, C, C);
    kn->linear_backward(dxk, g->k_w, g->k_b, dk, xk, w->k_w, B * Tk, C, C);
    kn->linear_backward(dxv, g->v_w, g->v_b, dv, xv, w->v_w, B * Tk, C, C);
}

void nn_xattn_forward(float *out, const nn_xattn_cache *cache, const float *xq, const float *xk, const float *xv,
                      const nn_xattn_weights *w, int64_t B, int64_t Tq, int64_t Tk, int64_t C, int64_t NH)
{
    xattn_forward(&fast, out, cache, xq, xk, xv, w, B, Tq, Tk, C, NH);
}

void nn_xattn_forward_ref(float *out, const nn_xattn_cache *cache, const float *xq, const float *xk,
                          const float *xv, const nn_xattn_weights *w, int64_t B, int64_t Tq, int64_t Tk, int64_t C,
                          int64_t NH)
{
    xattn_forward(&ref, out, cache, xq, xk, xv, w, B, Tq, Tk, C, NH);
}

void nn_xattn_backward(float *dxq, float *dxk, float *dxv, const nn_xattn_grads *g, float *scratch,
                       const float *dout, const nn_xattn_cache *cache, const float *xq, const float *xk,
                       const float *xv, const nn_xattn_weights *w, int64_t B, int64_t Tq, int64_t Tk, int64_t C,
                       int64_t NH)
{
    xattn_backward(&fast, dxq, dxk, dxv, g, scratch, dout, cache, xq, xk, xv, w, B, Tq, Tk, C, NH);
}

void nn_xattn_backward_ref(float *dxq, float *dxk, float *dxv, const nn_xattn_grads *g, float *scratch,
                           const float *dout, const nn_xattn_cache *cache, const float *xq, const float *xk,
                           const float *xv, const nn_xattn_weights *w, int64_t B, int64_t Tq, int64_t Tk, int64_t C,
                           int64_t NH)
{
    xattn_backward(&ref, dxq, dxk, dxv, g, scratch, dout, cache, xq, xk, xv, w, B, Tq, Tk, C, NH);
}
