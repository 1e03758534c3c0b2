/*
 * ops_attn.c: the linear, attention and ViT-block cases of bench_ops.c. Included by bench_ops.c right after its
 * bench_case type (`#include "ops_attn.c"`), not built on its own; bench_ops.c appends OPS_ATTN_CASES to its
 * cases[] and OPS_ATTN_KINDS to its kinds[].
 *
 * Fields of bench_case used here:
 *   linear    N rows, C in features, OC out features                        (y = x W^T + b)
 *   mhsa      N batch, C dim, OC heads, H tokens                            (SAM Attention: qkv, softmax, proj)
 *   xattn     N batch, C dim, OC heads, H query tokens, W key/value tokens  (q/k/v/out projections)
 *   vitblock  N batch, C dim, OC heads, H tokens    (LayerNorm, MHSA, residual, LayerNorm, MLP x4 GELU, residual)
 * Work is matmul FLOPs only (2 per multiply-add; softmax, norms and GELU not counted), three passes for
 * forward+backward, as research/perf.md section 4 counts the ViT block.
 */
#include "nn/act.h"
#include "nn/attention.h"
#include "nn/linear.h"
#include "nn/norm.h"

#define OPS_ATTN_CASES                                                                                            \
    {"linear_4096x192x768", "linear", 4096, 192, 768, 1, 1, 1, 0, 0, 0, 0},                                       \
        {"linear_4096x768x192", "linear", 4096, 768, 192, 1, 1, 1, 0, 0, 0, 0},                                   \
        {"mhsa_t256_c192_h3", "mhsa", 8, 192, 3, 1, 256, 1, 0, 0, 0, 0},                                          \
        {"mhsa_t1024_c192_h3", "mhsa", 2, 192, 3, 1, 1024, 1, 0, 0, 0, 0},                                        \
        {"mhsa_t1024_c256_h8", "mhsa", 2, 256, 8, 1, 1024, 1, 0, 0, 0, 0},                                        \
        {"xattn_q768_k256_c256_h8", "xattn", 2, 256, 8, 1, 768, 256, 0, 0, 0, 0},                                 \
        {"vitblock_t256_c192_h3", "vitblock", 8, 192, 3, 1, 256, 1, 0, 0, 0, 0},                                  \
        {"vitblock_t1024_c192_h3", "vitblock", 2, 192, 3, 1, 1024, 1, 0, 0, 0, 0}

#define OPS_ATTN_KINDS                                                                                            \
    {"linear", "GFLOP/s", true, tok_setup, lin_fwd, lin_fwdbwd, tok_work, tok_teardown},                          \
        {"mhsa", "GFLOP/s", true, tok_setup, mhsa_fwd, mhsa_fwdbwd, tok_work, tok_teardown},                      \
        {"xattn", "GFLOP/s", true, tok_setup, xattn_fwd, xattn_fwdbwd, tok_work, tok_teardown},                   \
        {"vitblock", "GFLOP/s", true, tok_setup, vit_fwd, vit_fwdbwd, tok_work, tok_teardown}

/* Every buffer any of the four kinds needs, sized for the case. */
typedef struct tok_state {
    const bench_case *c;
    int64_t B, T, Tk, C, NH, M; /* M = B * T rows */
    float *x, *xk, *y, *dy, *dx, *dxk;
    float *w[8], *b[8], *gw[8], *gb[8]; /* linear: [0]; mhsa: qkv, proj; xattn: q, k, v, out; vit: + fc1, fc2 */
    float *qkv, *att, *ctx, *q, *k, *v, *scratch;
    float *h1, *h2, *x1, *m1, *gl, *mean1, *rstd1, *mean2, *rstd2, *ln_w, *ln_b, *dln_w, *dln_b, *tmp, *dtmp, *dbig;
    float *all[64];
    int nall;
} tok_state;

static float *tok_buf(tok_state *st, int64_t n, float v)
{
    float *p = aligned_alloc(64, ((size_t)n * sizeof(float) + 63) / 64 * 64);
    for (int64_t i = 0; p && i < n; i++) p[i] = v * (float)((i * 2654435761u) % 1000) / 1000.0f;
    if (st->nall < 64) st->all[st->nall++] = p;
    return p;
}

static void tok_teardown(void *vs)
{
    tok_state *st = vs;
    if (!st) return;
    for (int i = 0; i < st->nall; i++) free(st->all[i]);
    free(st);
}

static void *tok_setup(const bench_case *c)
{
    tok_state *st = calloc(1, sizeof *st);
    bool lin = strcmp(c->kind, "linear") == 0, vit = strcmp(c->kind, "vitblock") == 0;
    st->c = c;
    st->B = lin ? 1 : c->N, st->T = lin ? c->N : c->H, st->C = c->C, st->NH = lin ? 1 : c->OC;
    st->Tk = strcmp(c->kind, "xattn") == 0 ? c->W : st->T;
    st->M = st->B * st->T;
    const int64_t M = st->M, C = st->C, Mk = st->B * st->Tk, out = lin ? c->OC : C;
    st->x = tok_buf(st, M * C, 1), st->xk = tok_buf(st, Mk * C, 1), st->dx = tok_buf(st, M * C, 0);
    st->dxk = tok_buf(st, Mk * C, 0);
    st->y = tok_buf(st, M * out, 0), st->dy = tok_buf(st, M * out, 1);
    const int64_t rows[8] = {lin ? out : (strcmp(c->kind, "xattn") == 0 ? C : 3 * C), C, C, C, 4 * C, C, 0, 0};
    const int64_t cols[8] = {C, C, C, C, C, 4 * C, 0, 0};
    for (int i = 0; i < (vit ? 6 : 4); i++) {
        int64_t r = rows[i], k = cols[i];
        if (vit && i >= 2 && i < 4) continue; /* vit uses qkv, proj, fc1 (4), fc2 (5) */
        st->w[i] = tok_buf(st, r * k, 0.02f), st->b[i] = tok_buf(st, r, 0.1f);
        st->gw[i] = tok_buf(st, r * k, 0), st->gb[i] = tok_buf(st, r, 0);
    }
    const int64_t T = st->T, Tk = st->Tk, NH = st->NH;
    st->qkv = tok_buf(st, M * 3 * C, 0), st->att = tok_buf(st, st->B * NH * T * Tk, 0), st->ctx = tok_buf(st, M * C, 0);
    st->q = tok_buf(st, M * C, 0), st->k = tok_buf(st, Mk * C, 0), st->v = tok_buf(st, Mk * C, 0);
    size_t sc = nn_mhsa_scratch_floats(st->B, T, C, NH), sx = nn_xattn_scratch_floats(st->B, T, Tk, C, NH);
    st->scratch = tok_buf(st, (int64_t)(sc > sx ? sc : sx), 0);
    if (vit) {
        st->h1 = tok_buf(st, M * C, 0), st->h2 = tok_buf(st, M * C, 0), st->x1 = tok_buf(st, M * C, 0);
        st->m1 = tok_buf(st, M * 4 * C, 0), st->gl = tok_buf(st, M * 4 * C, 0), st->dbig = tok_buf(st, M * 4 * C, 0);
        st->mean1 = tok_buf(st, M, 0), st->rstd1 = tok_buf(st, M, 0), st->mean2 = tok_buf(st, M, 0);
        st->rstd2 = tok_buf(st, M, 0), st->ln_w = tok_buf(st, C, 1), st->ln_b = tok_buf(st, C, 0.1f);
        st->dln_w = tok_buf(st, C, 0), st->dln_b = tok_buf(st, C, 0), st->tmp = tok_buf(st, M * C, 0);
        st->dtmp = tok_buf(st, M * 4 * C, 0);
    }
    for (int i = 0; i < st->nall; i++)
        if (!st->all[i]) {
            tok_teardown(st);
            return NULL;
        }
    return st;
}

static double tok_work(const bench_case *c, bool fwdbwd)
{
    double B = (double)c->N, T = (double)c->H, C = (double)c->C, f;
    if (strcmp(c->kind, "linear") == 0) f = 2.0 * (double)c->N * C * (double)c->OC;
    else if (strcmp(c->kind, "xattn") == 0) {
        double Tk = (double)c->W;
        f = 2.0 * B * (2 * T * C * C + 2 * Tk * C * C) + 4.0 * B * T * Tk * C;
    } else {
        f = 2.0 * B * T * 4 * C * C + 4.0 * B * T * T * C; /* qkv + proj, QK^T + PV */
        if (strcmp(c->kind, "vitblock") == 0) f += 2.0 * B * T * 8 * C * C; /* fc1 + fc2 */
    }
    return f * (fwdbwd ? 3 : 1);
}

static void lin_fwd(void *vs)
{
    tok_state *s = vs;
    nn_linear_forward(s->y, s->x, s->w[0], s->b[0], s->M, s->C, s->c->OC);
}

static void lin_fwdbwd(void *vs)
{
    tok_state *s = vs;
    lin_fwd(vs);
    nn_linear_backward(s->dx, s->gw[0], s->gb[0], s->dy, s->x, s->w[0], s->M, s->C, s->c->OC);
}

static void mhsa_fwd(void *vs)
{
    tok_state *s = vs;
    nn_mhsa_cache cache = {s->qkv, s->att, s->ctx};
    nn_mhsa_weights w = {s->w[0], s->b[0], s->w[1], s->b[1]};
    nn_mhsa_forward(s->y, &cache, s->x, &w, s->B, s->T, s->C, s->NH);
}

static void mhsa_fwdbwd(void *vs)
{
    tok_state *s = vs;
    mhsa_fwd(vs);
    nn_mhsa_cache cache = {s->qkv, s->att, s->ctx};
    nn_mhsa_weights w = {s->w[0], s->b[0], s->w[1], s->b[1]};
    nn_mhsa_grads g = {s->gw[0], s->gb[0], s->gw[1], s->gb[1]};
    nn_mhsa_backward(s->dx, &g, s->scratch, s->dy, &cache, s->x, &w, s->B, s->T, s->C, s->NH);
}

static void xattn_fwd(void *vs)
{
    tok_state *s = vs;
    nn_xattn_cache cache = {s->q, s->k, s->v, s->att, s->ctx};
    nn_xattn_weights w = {s->w[0], s->b[0], s->w[1], s->b[1], s->w[2], s->b[2], s->w[3], s->b[3]};
    nn_xattn_forward(s->y, &cache, s->x, s->xk, s->xk, &w, s->B, s->T, s->Tk, s->C, s->NH);
}

static void xattn_fwdbwd(void *vs)
{
    tok_state *s = vs;
    xattn_fwd(vs);
    nn_xattn_cache cache = {s->q, s->k, s->v, s->att, s->ctx};
    nn_xattn_weights w = {s->w[0], s->b[0], s->w[1], s->b[1], s->w[2], s->b[2], s->w[3], s->b[3]};
    nn_xattn_grads g = {s->gw[0], s->gb[0], s->gw[1], s->gb[1], s->gw[2], s->gb[2], s->gw[3], s->gb[3]};
    nn_xattn_backward(s->dx, s->dxk, s->dxk, &g, s->scratch, s->dy, &cache, s->x, s->xk, s->xk, &w, s->B, s->T,
                      s->Tk, s->C, s->NH);
}

/* y = x1 + fc2(gelu(fc1(ln2(x1)))), x1 = x + attn(ln1(x)) */
static void vit_fwd(void *vs)
{
    tok_state *s = vs;
    const int64_t M = s->M, C = s->C;
    nn_mhsa_cache cache = {s->qkv, s->att, s->ctx};
    nn_mhsa_weights w = {s->w[0], s->b[0], s->w[1], s->b[1]};
    nn_layernorm_forward(s->h1, s->mean1, s->rstd1, s->x, s->ln_w, s->ln_b, M, C, 1e-6f);
    nn_mhsa_forward(s->tmp, &cache, s->h1, &w, s->B, s->T, C, s->NH);
    for (int64_t i = 0; i < M * C; i++) s->x1[i] = s->x[i] + s->tmp[i];
    nn_layernorm_forward(s->h2, s->mean2, s->rstd2, s->x1, s->ln_w, s->ln_b, M, C, 1e-6f);
    nn_linear_forward(s->m1, s->h2, s->w[4], s->b[4], M, C, 4 * C);
    nn_act_forward(s->gl, s->m1, (size_t)(M * 4 * C), NN_ACT_GELU);
    nn_linear_forward(s->y, s->gl, s->w[5], s->b[5], M, 4 * C, C);
    for (int64_t i = 0; i < M * C; i++) s->y[i] += s->x1[i];
}

static void vit_fwdbwd(void *vs)
{
    tok_state *s = vs;
    const int64_t M = s->M, C = s->C;
    vit_fwd(vs);
    nn_mhsa_cache cache = {s->qkv, s->att, s->ctx};
    nn_mhsa_weights w = {s->w[0], s->b[0], s->w[1], s->b[1]};
    nn_mhsa_grads g = {s->gw[0], s->gb[0], s->gw[1], s->gb[1]};
    /* dx1 (in dx) = dy + LN2 backward of the MLP branch; then dx = dx1 + LN1 backward of the attention branch */
    memcpy(s->dx, s->dy, sizeof(float) * (size_t)(M * C));
    memset(s->dtmp, 0, sizeof(float) * (size_t)(M * 4 * C));
    nn_linear_backward(s->dtmp, s->gw[5], s->gb[5], s->dy, s->gl, s->w[5], M, 4 * C, C);
    memset(s->dbig, 0, sizeof(float) * (size_t)(M * 4 * C));
    nn_act_backward(s->dbig, s->dtmp, s->m1, (size_t)(M * 4 * C), NN_ACT_GELU);
    memset(s->tmp, 0, sizeof(float) * (size_t)(M * C));
    nn_linear_backward(s->tmp, s->gw[4], s->gb[4], s->dbig, s->h2, s->w[4], M, C, 4 * C);
    nn_layernorm_backward(s->dx, s->dln_w, s->dln_b, s->tmp, s->x1, s->ln_w, s->mean2, s->rstd2, M, C);
    memcpy(s->dxk, s->dx, sizeof(float) * (size_t)(M * C)); /* dx1, kept while dx accumulates */
    memset(s->tmp, 0, sizeof(float) * (size_t)(M * C));
    nn_mhsa_backward(s->tmp, &g, s->scratch, s->dxk, &cache, s->h1, &w, s->B, s->T, C, s->NH);
    nn_layernorm_backward(s->dx, s->dln_w, s->dln_b, s->tmp, s->x, s->ln_w, s->mean1, s->rstd1, M, C);
}
