/* layout_encoder.c: the ViT layout student with SAM's neck, full and masked modes (layout_encoder.h). */
#include "models/layout_encoder.h"

#include "base/base.h"
#include "nn/act.h"
#include "nn/attention.h"
#include "nn/linear.h"
#include "nn/norm.h"
#include "nn/tensor_ops.h"
#include "nn/vit_ops.h"

#include <stdio.h>
#include <string.h>

student_config student_config_default(void)
{
    return (student_config){.img_size = 256, .patch = 16, .dim = 192, .depth = 6, .heads = 3, .mlp_ratio = 4,
                            .out_dim = 64};
}

/* ---- ViT block ---- */

static ildiff_status block_add(vit_block *b, nn_params *p, const char *prefix, int64_t i, int64_t dim, int64_t hidden)
{
    char n[64];
    ildiff_status st;
#define NAME(part) (snprintf(n, sizeof n, "blocks.%lld." part, (long long)i), n)
    st = mdl_norm_add(&b->norm1, p, prefix, NAME("norm1"), dim, 1, 1e-6f);
    if (st == ILDIFF_OK) st = mdl_linear_add(&b->qkv, p, prefix, NAME("attn.qkv"), dim, 3 * dim);
    if (st == ILDIFF_OK) st = mdl_linear_add(&b->proj, p, prefix, NAME("attn.proj"), dim, dim);
    if (st == ILDIFF_OK) st = mdl_norm_add(&b->norm2, p, prefix, NAME("norm2"), dim, 1, 1e-6f);
    if (st == ILDIFF_OK) st = mdl_linear_add(&b->fc1, p, prefix, NAME("mlp.fc1"), dim, hidden);
    if (st == ILDIFF_OK) st = mdl_linear_add(&b->fc2, p, prefix, NAME("mlp.fc2"), hidden, dim);
#undef NAME
    return st;
}

static void block_plan(vit_block *b, mdl_arena *a, int64_t B, int64_t T, int64_t heads)
{
    int64_t C = b->qkv.in, Hd = b->fc1.out, M = B * T;
    mdl_take(a, (size_t)(M * C), &b->n1, &b->dn1);
    mdl_take(a, (size_t)M, &b->mean1, NULL);
    mdl_take(a, (size_t)M, &b->rstd1, NULL);
    mdl_take(a, (size_t)(M * 3 * C), &b->qkvc, NULL);
    mdl_take(a, (size_t)(B * heads * T * T), &b->att, NULL);
    mdl_take(a, (size_t)(M * C), &b->ctx, NULL);
    mdl_take(a, (size_t)(M * C), &b->x1, &b->dx1);
    mdl_take(a, (size_t)(M * C), &b->n2, &b->dn2);
    mdl_take(a, (size_t)M, &b->mean2, NULL);
    mdl_take(a, (size_t)M, &b->rstd2, NULL);
    mdl_take(a, (size_t)(M * Hd), &b->h, &b->dh);
    mdl_take(a, (size_t)(M * Hd), &b->g, &b->dg);
    mdl_take(a, (size_t)(M * C), &b->y, &b->dy);
    mdl_take(a, a->train ? nn_mhsa_scratch_floats(B, T, C, heads) : 0, &b->scratch, NULL);
}

static void block_forward(vit_block *b, const float *x, int64_t B, int64_t T, int64_t heads)
{
    int64_t C = b->qkv.in, Hd = b->fc1.out, M = B * T;
    nn_layernorm_forward(b->n1, b->mean1, b->rstd1, x, b->norm1.w, b->norm1.b, M, C, b->norm1.eps);
    nn_mhsa_cache cache = {b->qkvc, b->att, b->ctx};
    nn_mhsa_weights w = {b->qkv.w, b->qkv.b, b->proj.w, b->proj.b};
    nn_mhsa_forward(b->x1, &cache, b->n1, &w, B, T, C, heads);
    nn_add_forward(b->x1, b->x1, x, (size_t)(M * C));
    nn_layernorm_forward(b->n2, b->mean2, b->rstd2, b->x1, b->norm2.w, b->norm2.b, M, C, b->norm2.eps);
    nn_linear_forward(b->h, b->n2, b->fc1.w, b->fc1.b, M, C, Hd);
    nn_act_forward(b->g, b->h, (size_t)(M * Hd), NN_ACT_GELU);
    nn_linear_forward(b->y, b->g, b->fc2.w, b->fc2.b, M, Hd, C);
    nn_add_forward(b->y, b->y, b->x1, (size_t)(M * C));
}

/* Reads b->dy; accumulates into dx. */
static void block_backward(vit_block *b, float *dx, const float *x, int64_t B, int64_t T, int64_t heads)
{
    int64_t C = b->qkv.in, Hd = b->fc1.out, M = B * T;
    nn_add_backward(b->dx1, NULL, b->dy, (size_t)(M * C));
    nn_linear_backward(b->dg, b->fc2.dw, b->fc2.db, b->dy, b->g, b->fc2.w, M, Hd, C);
    nn_act_backward(b->dh, b->dg, b->h, (size_t)(M * Hd), NN_ACT_GELU);
    nn_linear_backward(b->dn2, b->fc1.dw, b->fc1.db, b->dh, b->n2, b->fc1.w, M, C, Hd);
    nn_layernorm_backward(b->dx1, b->norm2.dw, b->norm2.db, b->dn2, b->x1, b->norm2.w, b->mean2, b->rstd2, M, C);
    nn_add_backward(dx, NULL, b->dx1, (size_t)(M * C));
    nn_mhsa_cache cache = {b->qkvc, b->att, b->ctx};
    nn_mhsa_weights w = {b->qkv.w, b->qkv.b, b->proj.w, b->proj.b};
    nn_mhsa_grads g = {b->qkv.dw, b->qkv.db, b->proj.dw, b->proj.db};
    nn_mhsa_backward(b->dn1, &g, b->scratch, b->dx1, &cache, b->n1, &w, B, T, C, heads);
    nn_layernorm_backward(dx, b->norm1.dw, b->norm1.db, b->dn1, x, b->norm1.w, b->mean1, b->rstd1, M, C);
}

/* ---- the student ---- */

ildiff_status layout_encoder_build(layout_encoder *m, const student_config *cfg, nn_params *p, const char *prefix)
{
    memset(m, 0, sizeof *m);
    m->cfg = *cfg;
    if (cfg->patch < 1 || cfg->img_size < cfg->patch || cfg->img_size % cfg->patch || cfg->dim < 1 || cfg->heads < 1 ||
        cfg->dim % cfg->heads || cfg->depth < 0 || cfg->depth > STUDENT_MAX_DEPTH || cfg->mlp_ratio < 1 ||
        cfg->out_dim < 1)
        return ild_fail(ILDIFF_ERR_ARG, "layout encoder: bad configuration");
    m->grid = cfg->img_size / cfg->patch;
    m->L = m->grid * m->grid;
    int64_t D = cfg->dim, P = cfg->patch;
    int64_t pe_shape[4] = {D, 3, P, P}, pos_shape[3] = {1, m->L, D};
    ildiff_status st = mdl_param(p, prefix, "patch_embed.proj.weight", 4, pe_shape, NN_PARAM_DECAY, &m->pe_w, &m->dpe_w);
    if (st == ILDIFF_OK) st = mdl_param(p, prefix, "patch_embed.proj.bias", 1, &D, 0, &m->pe_b, &m->dpe_b);
    if (st == ILDIFF_OK) st = mdl_param(p, prefix, "pos_embed", 3, pos_shape, 0, &m->pos, &m->dpos);
    for (int64_t i = 0; i < cfg->depth && st == ILDIFF_OK; i++)
        st = block_add(&m->blocks[i], p, prefix, i, D, D * cfg->mlp_ratio);
    if (st == ILDIFF_OK) st = mdl_conv_add(&m->neck0, p, prefix, "neck.0", D, cfg->out_dim, 1, 1, false, false);
    if (st == ILDIFF_OK) st = mdl_norm_add(&m->neck1, p, prefix, "neck.1", cfg->out_dim, 1, 1e-6f);
    if (st == ILDIFF_OK) st = mdl_conv_add(&m->neck2, p, prefix, "neck.2", cfg->out_dim, cfg->out_dim, 3, 1, false, false);
    if (st == ILDIFF_OK) st = mdl_norm_add(&m->neck3, p, prefix, "neck.3", cfg->out_dim, 1, 1e-6f);
    return st;
}

static ildiff_status plan_pass(layout_encoder *m)
{
    mdl_arena *a = &m->arena;
    int64_t N = m->N, L = m->L, D = m->cfg.dim, P = m->cfg.patch, O = m->cfg.out_dim;
    mdl_take(a, (size_t)(N * L * 3 * P * P), &m->cols, NULL);
    mdl_take(a, a->train ? (size_t)(N * L * 3 * P * P) : 0, &m->dcols, NULL);
    mdl_take(a, (size_t)(N * L * D), &m->tok, &m->dtok);
    if (m->K < L) mdl_take(a, (size_t)(N * m->K * D), &m->vis, &m->dvis);
    for (int64_t i = 0; i < m->cfg.depth; i++) block_plan(&m->blocks[i], a, N, m->K, m->cfg.heads);
    mdl_take(a, (size_t)(N * D * L), &m->map, &m->dmap);
    ildiff_status st = mdl_conv_plan(&m->neck0, a, N, 1, m->grid, m->grid);
    if (st == ILDIFF_OK) st = mdl_conv_plan(&m->neck2, a, N, 1, m->grid, m->grid);
    size_t no = (size_t)(N * O * L);
    mdl_take(a, no, &m->c0, &m->dc0);
    mdl_take(a, no, &m->l1, &m->dl1);
    mdl_take(a, (size_t)(N * L), &m->m1, NULL);
    mdl_take(a, (size_t)(N * L), &m->r1, NULL);
    mdl_take(a, no, &m->c2, &m->dc2);
    mdl_take(a, no, &m->f, NULL);
    mdl_take(a, (size_t)(N * L), &m->m3, NULL);
    mdl_take(a, (size_t)(N * L), &m->r3, NULL);
    return st;
}

ildiff_status layout_encoder_plan(layout_encoder *m, int64_t N, int64_t keep, bool train)
{
    if (N < 1 || keep < 1 || keep > m->L)
        return ild_fail(ILDIFF_ERR_ARG, "layout encoder: bad plan (%lld images, %lld of %lld tokens)", (long long)N,
                        (long long)keep, (long long)m->L);
    layout_encoder_free(m);
    m->N = N, m->K = keep;
    m->arena.train = train;
    ildiff_status st = plan_pass(m);
    if (st == ILDIFF_OK) st = mdl_arena_alloc(&m->arena);
    if (st == ILDIFF_OK) st = plan_pass(m);
    if (st != ILDIFF_OK) layout_encoder_free(m);
    return st;
}

/* tok = patch_embed(x) + pos_embed. */
static void tokens_forward(layout_encoder *m, const float *x)
{
    int64_t N = m->N, L = m->L, D = m->cfg.dim, S = m->cfg.img_size;
    nn_patch_embed_forward(m->tok, m->cols, x, m->pe_w, m->pe_b, N, 3, S, S, m->cfg.patch, D);
    for (int64_t n = 0; n < N; n++) nn_add_forward(m->tok + n * L * D, m->tok + n * L * D, m->pos, (size_t)(L * D));
}

static void tokens_backward(layout_encoder *m)
{
    int64_t N = m->N, L = m->L, D = m->cfg.dim, S = m->cfg.img_size;
    for (int64_t n = 0; n < N; n++) nn_add_backward(m->dpos, NULL, m->dtok + n * L * D, (size_t)(L * D));
    nn_patch_embed_backward(NULL, m->dpe_w, m->dpe_b, m->dcols, m->dtok, m->cols, m->pe_w, N, 3, S, S, m->cfg.patch, D);
}

/* The blocks on x (N, K, dim); returns the last output and its twin (x itself at depth 0). */
static const float *blocks_forward(layout_encoder *m, const float *x, float *dx, float **dout)
{
    *dout = dx;
    for (int64_t i = 0; i < m->cfg.depth; i++) {
        block_forward(&m->blocks[i], x, m->N, m->K, m->cfg.heads);
        x = m->blocks[i].y;
        *dout = m->blocks[i].dy;
    }
    return x;
}

static void blocks_backward(layout_encoder *m, const float *x, float *dx)
{
    for (int64_t i = m->cfg.depth - 1; i >= 0; i--)
        block_backward(&m->blocks[i], i ? m->blocks[i - 1].dy : dx, i ? m->blocks[i - 1].y : x, m->N, m->K,
                       m->cfg.heads);
}

void layout_encoder_neck_forward(layout_encoder *m, const float *tokens)
{
    int64_t N = m->N, L = m->L, D = m->cfg.dim, O = m->cfg.out_dim;
    mdl_swap_axes(m->map, tokens, N, L, D, 1, false);
    mdl_conv_forward(&m->neck0, m->c0, m->map);
    nn_layernorm2d_forward(m->l1, m->m1, m->r1, m->c0, m->neck1.w, m->neck1.b, N, O, L, m->neck1.eps);
    mdl_conv_forward(&m->neck2, m->c2, m->l1);
    nn_layernorm2d_forward(m->f, m->m3, m->r3, m->c2, m->neck3.w, m->neck3.b, N, O, L, m->neck3.eps);
}

void layout_encoder_neck_backward(layout_encoder *m, float *dtokens, const float *df)
{
    ILD_ASSERT(m->arena.grads);
    mdl_arena_zero_grads(&m->arena);
    int64_t N = m->N, L = m->L, D = m->cfg.dim, O = m->cfg.out_dim;
    nn_layernorm2d_backward(m->dc2, m->neck3.dw, m->neck3.db, df, m->c2, m->neck3.w, m->m3, m->r3, N, O, L);
    mdl_conv_backward(&m->neck2, m->dl1, m->dc2, m->l1, false);
    nn_layernorm2d_backward(m->dc0, m->neck1.dw, m->neck1.db, m->dl1, m->c0, m->neck1.w, m->m1, m->r1, N, O, L);
    mdl_conv_backward(&m->neck0, m->dmap, m->dc0, m->map, false);
    mdl_swap_axes(dtokens, m->dmap, N, D, L, 1, true);
}

void layout_encoder_forward(layout_encoder *m, const float *x)
{
    ILD_ASSERT(m->K == m->L);
    float *d;
    tokens_forward(m, x);
    layout_encoder_neck_forward(m, blocks_forward(m, m->tok, m->dtok, &d));
}

void layout_encoder_backward(layout_encoder *m, const float *df)
{
    float *dlast = m->dtok;
    if (m->cfg.depth) dlast = m->blocks[m->cfg.depth - 1].dy;
    /* neck_backward zeroes the arena's gradients first, then fills dlast */
    layout_encoder_neck_backward(m, dlast, df);
    blocks_backward(m, m->tok, m->dtok);
    tokens_backward(m);
}

const float *layout_encoder_encode_masked(layout_encoder *m, const float *x, const int64_t *ids_keep, float **denc)
{
    ILD_ASSERT(m->K < m->L);
    tokens_forward(m, x);
    nn_gather_tokens_forward(m->vis, m->tok, ids_keep, m->N, m->L, m->K, m->cfg.dim);
    return blocks_forward(m, m->vis, m->dvis, denc);
}

void layout_encoder_encode_masked_backward(layout_encoder *m, const int64_t *ids_keep)
{
    blocks_backward(m, m->vis, m->dvis);
    nn_gather_tokens_backward(m->dtok, m->dvis, ids_keep, m->N, m->L, m->K, m->cfg.dim);
    tokens_backward(m);
}

void layout_encoder_free(layout_encoder *m)
{
    mdl_conv_free(&m->neck0);
    mdl_conv_free(&m->neck2);
    mdl_arena_free(&m->arena);
}
