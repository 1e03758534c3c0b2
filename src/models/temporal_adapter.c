/* temporal_adapter.c: depth x [Conv3d, GroupNorm, ReLU] + conv2d + adaptive average pooling (temporal_adapter.h). */
#include "models/temporal_adapter.h"

#include "base/base.h"
#include "nn/act.h"
#include "nn/norm.h"
#include "nn/pool.h"

#include <stdio.h>
#include <string.h>

temporal_config temporal_config_default(void)
{
    return (temporal_config){.channels = 64, .depth = 5, .groups = 8, .latent = 4};
}

ildiff_status temporal_adapter_build(temporal_adapter *m, const temporal_config *cfg, nn_params *p,
                                     const char *prefix)
{
    memset(m, 0, sizeof *m);
    m->cfg = *cfg;
    if (cfg->depth < 0 || cfg->depth > TEMPORAL_MAX_DEPTH || cfg->channels < 1 || cfg->groups < 1 ||
        cfg->channels % cfg->groups != 0 || cfg->latent < 1)
        return ild_fail(ILDIFF_ERR_ARG, "temporal adapter: bad configuration (depth %lld, %lld channels, %lld groups)",
                        (long long)cfg->depth, (long long)cfg->channels, (long long)cfg->groups);
    int64_t C = cfg->channels;
    ildiff_status st = ILDIFF_OK;
    for (int64_t i = 0; i < cfg->depth && st == ILDIFF_OK; i++) {
        char name[64];
        snprintf(name, sizeof name, "layers.%lld.conv", (long long)i);
        st = mdl_conv_add(&m->layers[i].conv, p, prefix, name, C, C, 3, 1, true, true);
        snprintf(name, sizeof name, "layers.%lld.norm", (long long)i);
        if (st == ILDIFF_OK) st = mdl_norm_add(&m->layers[i].norm, p, prefix, name, C, cfg->groups, 1e-5f);
    }
    if (st == ILDIFF_OK) st = mdl_conv_add(&m->out, p, prefix, "out", C, cfg->latent, 3, 1, true, false);
    return st;
}

/* One planning pass (layers.h): reserves every buffer and makes the conv plans. */
static ildiff_status plan_pass(temporal_adapter *m)
{
    mdl_arena *a = &m->arena;
    int64_t C = m->cfg.channels, NT = m->N * m->T;
    size_t vol = (size_t)(NT * C * m->h * m->w);
    mdl_take(a, vol, &m->x, &m->dx);
    for (int64_t i = 0; i < m->cfg.depth; i++) {
        temporal_layer *L = &m->layers[i];
        ildiff_status st = mdl_conv_plan(&L->conv, a, m->N, m->T, m->h, m->w);
        if (st != ILDIFF_OK) return st;
        mdl_take(a, vol, &L->c, &L->dc);
        mdl_take(a, vol, &L->n, &L->dn);
        mdl_take(a, vol, &L->r, &L->dr);
        mdl_take(a, (size_t)(m->N * m->cfg.groups), &L->mean, NULL);
        mdl_take(a, (size_t)(m->N * m->cfg.groups), &L->rstd, NULL);
    }
    mdl_take(a, vol, &m->y, &m->dy);
    ildiff_status st = mdl_conv_plan(&m->out, a, NT, 1, m->h, m->w);
    if (st != ILDIFF_OK) return st;
    mdl_take(a, (size_t)(NT * m->cfg.latent * m->h * m->w), &m->o, &m->dout);
    mdl_take(a, (size_t)(NT * m->cfg.latent * m->H8 * m->W8), &m->l, NULL);
    return ILDIFF_OK;
}

ildiff_status temporal_adapter_plan(temporal_adapter *m, int64_t N, int64_t T, int64_t h, int64_t w, int64_t H8,
                                    int64_t W8, bool train)
{
    if (N < 1 || T < 1 || h < 1 || w < 1 || H8 < 1 || W8 < 1)
        return ild_fail(ILDIFF_ERR_ARG, "temporal adapter: bad shape %lldx%lld frames of %lldx%lld",
                        (long long)N, (long long)T, (long long)h, (long long)w);
    temporal_adapter_free(m);
    m->N = N, m->T = T, m->h = h, m->w = w, m->H8 = H8, m->W8 = W8;
    m->arena.train = train;
    ildiff_status st = plan_pass(m);
    if (st == ILDIFF_OK) st = mdl_arena_alloc(&m->arena);
    if (st == ILDIFF_OK) st = plan_pass(m);
    if (st != ILDIFF_OK) temporal_adapter_free(m);
    return st;
}

void temporal_adapter_forward(temporal_adapter *m, const float *f)
{
    int64_t C = m->cfg.channels, S = m->T * m->h * m->w, hw = m->h * m->w, NT = m->N * m->T;
    size_t vol = (size_t)(NT * C * hw);
    mdl_swap_axes(m->x, f, m->N, m->T, C, hw, false); /* (N, T, C, hw) -> (N, C, T, hw) */
    const float *x = m->x;
    for (int64_t i = 0; i < m->cfg.depth; i++) {
        temporal_layer *L = &m->layers[i];
        mdl_conv_forward(&L->conv, L->c, x);
        nn_groupnorm_forward(L->n, L->mean, L->rstd, L->c, L->norm.w, L->norm.b, m->N, C, S, L->norm.G, L->norm.eps);
        nn_act_forward(L->r, L->n, vol, NN_ACT_RELU);
        x = L->r;
    }
    mdl_swap_axes(m->y, x, m->N, C, m->T, hw, false);  /* back to (N, T, C, hw) */
    mdl_conv_forward(&m->out, m->o, m->y);
    nn_adaptive_avgpool_forward(m->l, m->o, NT, m->cfg.latent, m->h, m->w, m->H8, m->W8);
}

void temporal_adapter_backward(temporal_adapter *m, float *df, const float *dl)
{
    ILD_ASSERT(m->arena.grads);
    int64_t C = m->cfg.channels, S = m->T * m->h * m->w, hw = m->h * m->w, NT = m->N * m->T;
    size_t vol = (size_t)(NT * C * hw);
    mdl_arena_zero_grads(&m->arena);
    nn_adaptive_avgpool_backward(m->dout, dl, NT, m->cfg.latent, m->h, m->w, m->H8, m->W8);
    mdl_conv_backward(&m->out, m->dy, m->dout, m->y, false);
    int64_t depth = m->cfg.depth;
    float *dlast = depth ? m->layers[depth - 1].dr : m->dx;
    mdl_swap_axes(dlast, m->dy, m->N, m->T, C, hw, true);
    for (int64_t i = depth - 1; i >= 0; i--) {
        temporal_layer *L = &m->layers[i];
        const float *x = i ? m->layers[i - 1].r : m->x;
        float *dx = i ? m->layers[i - 1].dr : m->dx;
        nn_act_backward(L->dn, L->dr, L->n, vol, NN_ACT_RELU);
        nn_groupnorm_backward(L->dc, L->norm.dw, L->norm.db, L->dn, L->c, L->norm.w, L->mean, L->rstd, m->N, C, S,
                              L->norm.G);
        mdl_conv_backward(&L->conv, dx, L->dc, x, false);
    }
    if (df) mdl_swap_axes(df, m->dx, m->N, C, m->T, hw, true);
}

void temporal_adapter_free(temporal_adapter *m)
{
    for (int64_t i = 0; i < m->cfg.depth; i++) mdl_conv_free(&m->layers[i].conv);
    mdl_conv_free(&m->out);
    mdl_arena_free(&m->arena);
}
