/*
 * attention.h: softmax over the last dimension, scaled dot-product attention, multi-head self-attention (SAM's /
 * EfficientSAM's Attention: qkv = Linear(C, 3C), proj = Linear(C, C); the same maths as torch's
 * nn.MultiheadAttention with in_proj_weight = qkv.weight) and multi-head cross-attention (SAM's Attention with
 * q_proj, k_proj, v_proj, out_proj, all (C, C); the SAMI decoder), forward and backward.
 *
 * Letters: B batch, T tokens (Tq query tokens, Tk key/value tokens), C channels, NH heads, hd = C / NH head
 * size. Tokens are (B, T, C); within a token the channels are (NH, hd), head-major, as torch's reshape; the
 * qkv projection's output is (B, T, 3, NH, hd). Scores are (q . k) / sqrt(hd), softmax over keys.
 *
 * Fast paths use OpenBLAS sgemm per (batch, head) with the 1/sqrt(hd) scale fused into the QK^T product (the
 * GEMMs thread on OpenBLAS's own thread count, see linear.h) and a vectorised OpenMP softmax; *_ref are plain loops (the test oracles). The forward passes save what backward needs in the
 * caller's cache buffers; backward ACCUMULATES (+=) into every gradient pointer (NULL ones are skipped) and uses
 * the caller's scratch buffer (size from the *_scratch_floats function; overwritten). Nothing here allocates or
 * fails; shapes are asserted (C % NH == 0, every size >= 1, GEMM sizes below 2^31).
 */
#ifndef ILDIFF_NN_ATTENTION_H
#define ILDIFF_NN_ATTENTION_H

#include <stddef.h>
#include <stdint.h>

/* ---- softmax over the last dimension: inp, out (rows, cols) ---- */
void nn_softmax_forward(float *out, const float *inp, int64_t rows, int64_t cols);
/* dinp += out * (dout - sum(dout * out)) per row; out is the forward's output. */
void nn_softmax_backward(float *dinp, const float *dout, const float *out, int64_t rows, int64_t cols);
void nn_softmax_forward_ref(float *out, const float *inp, int64_t rows, int64_t cols);
void nn_softmax_backward_ref(float *dinp, const float *dout, const float *out, int64_t rows, int64_t cols);

/* ---- scaled dot-product attention on projected q, k, v ----
 * q element (b, t, h, i) is at q[(b * Tq + t) * ldq + h * hd + i]; k and v likewise with Tk and ldkv (so q, k and v
 * can be slices of one (B, T, 3C) qkv buffer with ld = 3C). out (B, Tq, NH * hd); att (B, NH, Tq, Tk) receives
 * the softmax probabilities. Backward: dq, dk, dv have the strides of q, k, v; scratch holds Tq * Tk floats. */
void nn_sdpa_forward(float *out, float *att, const float *q, int64_t ldq, const float *k, const float *v,
                     int64_t ldkv, int64_t B, int64_t Tq, int64_t Tk, int64_t NH, int64_t hd);
void nn_sdpa_backward(float *dq, float *dk, float *dv, float *scratch, const float *dout, const float *att,
                      const float *q, int64_t ldq, const float *k, const float *v, int64_t ldkv, int64_t B,
                      int64_t Tq, int64_t Tk, int64_t NH, int64_t hd);
void nn_sdpa_forward_ref(float *out, float *att, const float *q, int64_t ldq, const float *k, const float *v,
                         int64_t ldkv, int64_t B, int64_t Tq, int64_t Tk, int64_t NH, int64_t hd);
void nn_sdpa_backward_ref(float *dq, float *dk, float *dv, float *scratch, const float *dout, const float *att,
                          const float *q, int64_t ldq, const float *k, const float *v, int64_t ldkv, int64_t B,
                          int64_t Tq, int64_t Tk, int64_t NH, int64_t hd);

/* ---- multi-head self-attention: out = proj(attention(split(qkv(x)))) ---- */
typedef struct nn_mhsa_weights {
    const float *qkv_w;  /* (3C, C) "qkv.weight" */
    const float *qkv_b;  /* (3C) "qkv.bias", or NULL */
    const float *proj_w; /* (C, C) "proj.weight" */
    const float *proj_b; /* (C) "proj.bias", or NULL */
} nn_mhsa_weights;

typedef struct nn_mhsa_grads {
    float *qkv_w, *qkv_b, *proj_w, *proj_b; /* shapes as the weights; NULL = not wanted */
} nn_mhsa_grads;

typedef struct nn_mhsa_cache {
    float *qkv; /* (B, T, 3C) */
    float *att; /* (B, NH, T, T) */
    float *ctx; /* (B, T, C) attention output before proj */
} nn_mhsa_cache;

/* x, out (B, T, C). */
void nn_mhsa_forward(float *out, const nn_mhsa_cache *cache, const float *x, const nn_mhsa_weights *w, int64_t B,
                     int64_t T, int64_t C, int64_t NH);
size_t nn_mhsa_scratch_floats(int64_t B, int64_t T, int64_t C, int64_t NH);
/* dx (B, T, C) may be NULL. */
void nn_mhsa_backward(float *dx, const nn_mhsa_grads *g, float *scratch, const float *dout,
                      const nn_mhsa_cache *cache, const float *x, const nn_mhsa_weights *w, int64_t B, int64_t T,
                      int64_t C, int64_t NH);
void nn_mhsa_forward_ref(float *out, const nn_mhsa_cache *cache, const float *x, const nn_mhsa_weights *w,
                         int64_t B, int64_t T, int64_t C, int64_t NH);
void nn_mhsa_backward_ref(float *dx, const nn_mhsa_grads *g, float *scratch, const float *dout,
                          const nn_mhsa_cache *cache, const float *x, const nn_mhsa_weights *w, int64_t B,
                          int64_t T, int64_t C, int64_t NH);

/* ---- multi-head cross-attention: out = out_proj(attention(q_proj(xq), k_proj(xk), v_proj(xv))) ---- */
typedef struct nn_xattn_weights {
    const float *q_w, *q_b;     /* (C, C), (C) or NULL: "q_proj.weight", "q_proj.bias" */
    const float *k_w, *k_b;     /* "k_proj.*" */
    const float *v_w, *v_b;     /* "v_proj.*" */
    const float *out_w, *out_b; /* "out_proj.*" */
} nn_xattn_weights;

typedef struct nn_xattn_grads {
    float *q_w, *q_b, *k_w, *k_b, *v_w, *v_b, *out_w, *out_b; /* NULL = not wanted */
} nn_xattn_grads;

typedef struct nn_xattn_cache {
    float *q;   /* (B, Tq, C) */
    float *k;   /* (B, Tk, C) */
    float *v;   /* (B, Tk, C) */
    float *att; /* (B, NH, Tq, Tk) */
    float *ctx; /* (B, Tq, C) */
} nn_xattn_cache;

/* xq, out (B, Tq, C); xk, xv (B, Tk, C) (the same pointer when keys and values come from one sequence). */
void nn_xattn_forward(float *out, const nn_xattn_cache *cache, const float *xq, const float *xk, const float *xv,
                      const nn_xattn_weights *w, int64_t B, int64_t Tq, int64_t Tk, int64_t C, int64_t NH);
size_t nn_xattn_scratch_floats(int64_t B, int64_t Tq, int64_t Tk, int64_t C, int64_t NH);
/* dxq, dxk, dxv may be NULL; dxk and dxv may be the same pointer (both contributions are added). */
void nn_xattn_backward(float *dxq, float *dxk, float *dxv, const nn_xattn_grads *g, float *scratch,
                       const float *dout, const nn_xattn_cache *cache, const float *xq, const float *xk,
                       const float *xv, const nn_xattn_weights *w, int64_t B, int64_t Tq, int64_t Tk, int64_t C,
                       int64_t NH);
void nn_xattn_forward_ref(float *out, const nn_xattn_cache *cache, const float *xq, const float *xk,
                          const float *xv, const nn_xattn_weights *w, int64_t B, int64_t Tq, int64_t Tk, int64_t C,
                          int64_t NH);
void nn_xattn_backward_ref(float *dxq, float *dxk, float *dxv, const nn_xattn_grads *g, float *scratch,
                           const float *dout, const nn_xattn_cache *cache, const float *xq, const float *xk,
                           const float *xv, const nn_xattn_weights *w, int64_t B, int64_t Tq, int64_t Tk, int64_t C,
                           int64_t NH);

#endif
