/* sami.c: the SAMI cross-attention decoder and projection used to distil the layout student (sami.h). */
#include "models/sami.h"

#include "base/base.h"
#include "nn/act.h"
#include "nn/attention.h"
#include "nn/linear.h"
#include "nn/norm.h"
#include "nn/tensor_ops.h"
#include "nn/vit_ops.h"

#include <stdio.h>
#include <string.h>

sami_config sami_config_default(void)
{
    return (sami_config){.depth = 2, .heads = 3, .mlp_ratio = 4, .teacher_dim = 256};
}

static ildiff_status block_add(cross_block *b, nn_params *p, const char *prefix, int64_t i, int64_t D, int64_t hidden)
{
    char n[64];
    ildiff_status st;
#define NAME(part) (snprintf(n, sizeof n, "blocks.%lld." part, (long long)i), n)
    st = mdl_norm_add(&b->norm_q, p, prefix, NAME("norm_q"), D, 1, 1e-6f);
    if (st == ILDIFF_OK) st = mdl_norm_add(&b->norm_kv, p, prefix, NAME("norm_kv"), D, 1, 1e-6f);
    if (st == ILDIFF_OK) st = mdl_linear_add(&b->q_proj, p, prefix, NAME("attn.q_proj"), D, D);
    if (st == ILDIFF_OK) st = mdl_linear_add(&b->k_proj, p, prefix, NAME("attn.k_proj"), D, D);
    if (st == ILDIFF_OK) st = mdl_linear_add(&b->v_proj, p, prefix, NAME("attn.v_proj"), D, D);
    if (st == ILDIFF_OK) st = mdl_linear_add(&b->out_proj, p, prefix, NAME("attn.out_proj"), D, D);
    if (st == ILDIFF_OK) st = mdl_norm_add(&b->norm2, p, prefix, NAME("norm2"), D, 1, 1e-6f);
    if (st == ILDIFF_OK) st = mdl_linear_add(&b->fc1, p, prefix, NAME("mlp.fc1"), D, hidden);
    if (st == ILDIFF_OK) st = mdl_linear_add(&b->fc2, p, prefix, NAME("mlp.fc2"), hidden, D);
#undef NAME
    return st;
}

ildiff_status sami_decoder_build(sami_decoder *m, const sami_config *cfg, const student_config *student, nn_params *p,
                                 const char *prefix)
{
    memset(m, 0, sizeof *m);
    m->cfg = *cfg;
    if (cfg->depth < 0 || cfg->depth > SAMI_MAX_DEPTH || cfg->heads < 1 || student->dim % cfg->heads ||
        cfg->mlp_ratio < 1 || cfg->teacher_dim < 1 || student->patch < 1)
        return ild_fail(ILDIFF_ERR_ARG, "sami decoder: bad configuration");
    m->dim = student->dim, m->out_dim = student->out_dim;
    m->grid = student->img_size / student->patch;
    m->L = m->grid * m->grid;
    int64_t shape[3] = {1, 1, m->dim};
    ildiff_status st = mdl_param(p, prefix, "mask_token", 3, shape, 0, &m->mask_token, &m->dmask_token);
    for (int64_t i = 0; i < cfg->depth && st == ILDIFF_OK; i++)
        st = block_add(&m->blocks[i], p, prefix, i, m->dim, m->dim * cfg->mlp_ratio);
    if (st == ILDIFF_OK) st = mdl_conv_add(&m->proj, p, prefix, "proj", m->out_dim, cfg->teacher_dim, 1, 1, true, false);
    return st;
}

static void block_plan(cross_block *b, mdl_arena *a, int64_t N, int64_t K, int64_t Lm, int64_t heads)
{
    int64_t D = b->q_proj.in, Hd = b->fc1.out, T = K + Lm;
    mdl_take(a, (size_t)(N * T * D), &b->kv, &b->dkv);
    mdl_take(a, (size_t)(N * T * D), &b->nkv, &b->dnkv);
    mdl_take(a, (size_t)(N * T), &b->mkv, NULL);
    mdl_take(a, (size_t)(N * T), &b->rkv, NULL);
    mdl_take(a, (size_t)(N * Lm * D), &b->nq, &b->dnq);
    mdl_take(a, (size_t)(N * Lm), &b->mq, NULL);
    mdl_take(a, (size_t)(N * Lm), &b->rq, NULL);
    mdl_take(a, (size_t)(N * Lm * D), &b->q, NULL);
    mdl_take(a, (size_t)(N * T * D), &b->k, NULL);
    mdl_take(a, (size_t)(N * T * D), &b->v, NULL);
    mdl_take(a, (size_t)(N * heads * Lm * T), &b->att, NULL);
    mdl_take(a, (size_t)(N * Lm * D), &b->ctx, NULL);
    mdl_take(a, (size_t)(N * Lm * D), &b->m1, &b->dm1);
    mdl_take(a, (size_t)(N * Lm * D), &b->n2, &b->dn2);
    mdl_take(a, (size_t)(N * Lm), &b->mean2, NULL);
    mdl_take(a, (size_t)(N * Lm), &b->rstd2, NULL);
    mdl_take(a, (size_t)(N * Lm * Hd), &b->h, &b->dh);
    mdl_take(a, (size_t)(N * Lm * Hd), &b->g, &b->dg);
    mdl_take(a, (size_t)(N * Lm * D), &b->y, &b->dy);
    mdl_take(a, a->train ? nn_xattn_scratch_floats(N, Lm, T, D, heads) : 0, &b->scratch, NULL);
}

static nn_xattn_weights block_weights(const cross_block *b)
{
    return (nn_xattn_weights){b->q_proj.w, b->q_proj.b, b->k_proj.w, b->k_proj.b,
                              b->v_proj.w, b->v_proj.b, b->out_proj.w, b->out_proj.b};
}

static void block_forward(cross_block *b, const float *mt, const float *vis, int64_t N, int64_t K, int64_t Lm,
                          int64_t heads)
{
    int64_t D = b->q_proj.in, Hd = b->fc1.out, T = K + Lm;
    const float *parts[2] = {vis, mt};
    int64_t counts[2] = {K, Lm};
    nn_concat_forward(b->kv, parts, counts, 2, N, D);
    nn_layernorm_forward(b->nkv, b->mkv, b->rkv, b->kv, b->norm_kv.w, b->norm_kv.b, N * T, D, b->norm_kv.eps);
    nn_layernorm_forward(b->nq, b->mq, b->rq, mt, b->norm_q.w, b->norm_q.b, N * Lm, D, b->norm_q.eps);
    nn_xattn_cache c = {b->q, b->k, b->v, b->att, b->ctx};
    nn_xattn_weights w = block_weights(b);
    nn_xattn_forward(b->m1, &c, b->nq, b->nkv, b->nkv, &w, N, Lm, T, D, heads);
    nn_add_forward(b->m1, b->m1, mt, (size_t)(N * Lm * D));
    nn_layernorm_forward(b->n2, b->mean2, b->rstd2, b->m1, b->norm2.w, b->norm2.b, N * Lm, D, b->norm2.eps);
    nn_linear_forward(b->h, b->n2, b->fc1.w, b->fc1.b, N * Lm, D, Hd);
    nn_act_forward(b->g, b->h, (size_t)(N * Lm * Hd), NN_ACT_GELU);
    nn_linear_forward(b->y, b->g, b->fc2.w, b->fc2.b, N * Lm, Hd, D);
    nn_add_forward(b->y, b->y, b->m1, (size_t)(N * Lm * D));
}

/* Reads b->dy; accumulates into dmt (the twin of mt) and dvis. */
static void block_backward(cross_block *b, float *dmt, float *dvis, const float *mt, int64_t N, int64_t K, int64_t Lm,
                           int64_t heads)
{
    int64_t D = b->q_proj.in, Hd = b->fc1.out, T = K + Lm;
    size_t nm = (size_t)(N * Lm * D);
    nn_add_backward(b->dm1, NULL, b->dy, nm);
    nn_linear_backward(b->dg, b->fc2.dw, b->fc2.db, b->dy, b->g, b->fc2.w, N * Lm, Hd, D);
    nn_act_backward(b->dh, b->dg, b->h, (size_t)(N * Lm * Hd), NN_ACT_GELU);
    nn_linear_backward(b->dn2, b->fc1.dw, b->fc1.db, b->dh, b->n2, b->fc1.w, N * Lm, D, Hd);
    nn_layernorm_backward(b->dm1, b->norm2.dw, b->norm2.db, b->dn2, b->m1, b->norm2.w, b->mean2, b->rstd2, N * Lm, D);
    nn_add_backward(dmt, NULL, b->dm1, nm);
    nn_xattn_cache c = {b->q, b->k, b->v, b->att, b->ctx};
    nn_xattn_weights w = block_weights(b);
    nn_xattn_grads g = {b->q_proj.dw, b->q_proj.db, b->k_proj.dw, b->k_proj.db,
                        b->v_proj.dw, b->v_proj.db, b->out_proj.dw, b->out_proj.db};
    nn_xattn_backward(b->dnq, b->dnkv, b->dnkv, &g, b->scratch, b->dm1, &c, b->nq, b->nkv, b->nkv, &w, N, Lm, T, D,
                      heads);
    nn_layernorm_backward(dmt, b->norm_q.dw, b->norm_q.db, b->dnq, mt, b->norm_q.w, b->mq, b->rq, N * Lm, D);
    nn_layernorm_backward(b->dkv, b->norm_kv.dw, b->norm_kv.db, b->dnkv, b->kv, b->norm_kv.w, b->mkv, b->rkv, N * T, D);
    float *dparts[2] = {dvis, dmt};
    int64_t counts[2] = {K, Lm};
    nn_concat_backward(dparts, b->dkv, counts, 2, N, D);
}

static void plan_pass(sami_decoder *m)
{
    mdl_arena *a = &m->arena;
    mdl_take(a, (size_t)(m->N * m->Lm * m->dim), &m->m0, &m->dm0);
    for (int64_t i = 0; i < m->cfg.depth; i++) block_plan(&m->blocks[i], a, m->N, m->K, m->Lm, m->cfg.heads);
    mdl_take(a, (size_t)(m->N * m->L * m->dim), &m->full, &m->dfull);
    mdl_take(a, (size_t)(m->N * m->out_dim * m->L), &m->df, NULL);
    mdl_take(a, (size_t)(m->N * m->cfg.teacher_dim * m->L), &m->out, NULL);
}

ildiff_status sami_decoder_plan(sami_decoder *m, int64_t N, int64_t K, bool train)
{
    if (N < 1 || K < 1 || K >= m->L)
        return ild_fail(ILDIFF_ERR_ARG, "sami decoder: keeps %lld of %lld tokens", (long long)K, (long long)m->L);
    sami_decoder_free(m);
    m->N = N, m->K = K, m->Lm = m->L - K;
    m->arena.train = train;
    plan_pass(m);
    ildiff_status st = mdl_conv_plan(&m->proj, &m->arena, N, 1, m->grid, m->grid);
    if (st == ILDIFF_OK) st = mdl_arena_alloc(&m->arena);
    if (st == ILDIFF_OK) plan_pass(m);
    if (st != ILDIFF_OK) sami_decoder_free(m);
    return st;
}

/* The reconstructed masked tokens: the last block's output (m0 at depth 0) and its twin. */
static float *masked_out(sami_decoder *m, float **d)
{
    if (!m->cfg.depth) {
        *d = m->dm0;
        return m->m0;
    }
    *d = m->blocks[m->cfg.depth - 1].dy;
    return m->blocks[m->cfg.depth - 1].y;
}

void sami_decoder_forward(sami_decoder *m, layout_encoder *student, const float *x, const int64_t *ids_keep,
                          const int64_t *ids_mask)
{
    ILD_ASSERT(student->N == m->N && student->K == m->K);
    int64_t N = m->N, D = m->dim, L = m->L, K = m->K, Lm = m->Lm;
    float *dvis;
    const float *vis = layout_encoder_encode_masked(student, x, ids_keep, &dvis);
    for (int64_t n = 0; n < N; n++) {
        float *row = m->m0 + n * Lm * D;
        nn_gather_tokens_forward(row, student->pos, ids_mask + n * Lm, 1, L, Lm, D);
        for (int64_t t = 0; t < Lm; t++) nn_add_forward(row + t * D, row + t * D, m->mask_token, (size_t)D);
    }
    const float *h = m->m0;
    for (int64_t i = 0; i < m->cfg.depth; i++) {
        block_forward(&m->blocks[i], h, vis, N, K, Lm, m->cfg.heads);
        h = m->blocks[i].y;
    }
    memset(m->full, 0, (size_t)(N * L * D) * sizeof(float));
    nn_scatter_tokens_forward(m->full, vis, ids_keep, N, L, K, D);
    nn_scatter_tokens_forward(m->full, h, ids_mask, N, L, Lm, D);
    layout_encoder_neck_forward(student, m->full);
    mdl_conv_forward(&m->proj, m->out, student->f);
}

void sami_decoder_backward(sami_decoder *m, layout_encoder *student, const float *dout, const int64_t *ids_keep,
                           const int64_t *ids_mask)
{
    ILD_ASSERT(m->arena.grads);
    mdl_arena_zero_grads(&m->arena);
    memset(m->df, 0, (size_t)(m->N * m->out_dim * m->L) * sizeof(float));
    int64_t N = m->N, D = m->dim, L = m->L, K = m->K, Lm = m->Lm;
    mdl_conv_backward(&m->proj, m->df, dout, student->f, false);
    layout_encoder_neck_backward(student, m->dfull, m->df); /* zeroes the student's activation gradients */
    float *dvis = student->dvis;
    if (student->cfg.depth) dvis = student->blocks[student->cfg.depth - 1].dy;
    float *dh;
    masked_out(m, &dh);
    nn_scatter_tokens_backward(dvis, m->dfull, ids_keep, N, L, K, D);
    nn_scatter_tokens_backward(dh, m->dfull, ids_mask, N, L, Lm, D);
    for (int64_t i = m->cfg.depth - 1; i >= 0; i--)
        block_backward(&m->blocks[i], i ? m->blocks[i - 1].dy : m->dm0, dvis, i ? m->blocks[i - 1].y : m->m0, N, K, Lm,
                       m->cfg.heads);
    for (int64_t n = 0; n < N; n++) {
        const float *row = m->dm0 + n * Lm * D;
        nn_gather_tokens_backward(student->dpos, row, ids_mask + n * Lm, 1, L, Lm, D);
        for (int64_t t = 0; t < Lm; t++) nn_add_backward(m->dmask_token, NULL, row + t * D, (size_t)D);
    }
    layout_encoder_encode_masked_backward(student, ids_keep);
}

void sami_decoder_free(sami_decoder *m)
{
    mdl_conv_free(&m->proj);
    mdl_arena_free(&m->arena);
}
