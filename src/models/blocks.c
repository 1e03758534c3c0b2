/* blocks.c: diffusers ResnetBlock2D (no time embedding) and the UNet1024 spatial attention, forward and backward
 * (blocks.h). */
#include "models/blocks.h"

#include "base/base.h"
#include "nn/act.h"
#include "nn/attention.h"
#include "nn/norm.h"
#include "nn/tensor_ops.h"

#include <stdio.h>
#include <string.h>

static const char *sub(char *buf, size_t size, const char *name, const char *part)
{
    snprintf(buf, size, "%s.%s", name, part);
    return buf;
}

/* ---- resnet ---- */

ildiff_status mdl_resnet_add(mdl_resnet *r, nn_params *p, const char *prefix, const char *name, int64_t C,
                             int64_t OC, int64_t groups)
{
    memset(r, 0, sizeof *r);
    if (C % groups || OC % groups)
        return ild_fail(ILDIFF_ERR_ARG, "%s%s: %lld/%lld channels not divisible by %lld groups", prefix, name,
                        (long long)C, (long long)OC, (long long)groups);
    r->C = C, r->OC = OC, r->has_shortcut = C != OC;
    char b[NN_PARAM_NAME_MAX];
    ildiff_status st = mdl_norm_add(&r->norm1, p, prefix, sub(b, sizeof b, name, "norm1"), C, groups, 1e-5f);
    if (st == ILDIFF_OK) st = mdl_conv_add(&r->conv1, p, prefix, sub(b, sizeof b, name, "conv1"), C, OC, 3, 1, true, false);
    if (st == ILDIFF_OK) st = mdl_norm_add(&r->norm2, p, prefix, sub(b, sizeof b, name, "norm2"), OC, groups, 1e-5f);
    if (st == ILDIFF_OK) st = mdl_conv_add(&r->conv2, p, prefix, sub(b, sizeof b, name, "conv2"), OC, OC, 3, 1, true, false);
    if (st == ILDIFF_OK && r->has_shortcut)
        st = mdl_conv_add(&r->conv_shortcut, p, prefix, sub(b, sizeof b, name, "conv_shortcut"), C, OC, 1, 1, true, false);
    return st;
}

ildiff_status mdl_resnet_plan(mdl_resnet *r, mdl_arena *a, int64_t N, int64_t H, int64_t W)
{
    r->N = N, r->S = H * W;
    ildiff_status st = mdl_conv_plan(&r->conv1, a, N, 1, H, W);
    if (st == ILDIFF_OK) st = mdl_conv_plan(&r->conv2, a, N, 1, H, W);
    if (st == ILDIFF_OK && r->has_shortcut) st = mdl_conv_plan(&r->conv_shortcut, a, N, 1, H, W);
    size_t ni = (size_t)(N * r->C * r->S), no = (size_t)(N * r->OC * r->S), ng = (size_t)(N * r->norm1.G);
    mdl_take_temp(a, ni, &r->n1, &r->dn1);
    mdl_take_temp(a, ni, &r->a1, &r->da1);
    mdl_take_temp(a, no, &r->h1, &r->dh1);
    mdl_take_temp(a, no, &r->n2, &r->dn2);
    mdl_take_temp(a, no, &r->a2, &r->da2);
    if (r->has_shortcut) mdl_take_temp(a, no, &r->sc, &r->dsc);
    mdl_take(a, no, &r->y, &r->dy);
    mdl_take_temp(a, ng, &r->mean1, NULL);
    mdl_take_temp(a, ng, &r->rstd1, NULL);
    mdl_take_temp(a, ng, &r->mean2, NULL);
    mdl_take_temp(a, ng, &r->rstd2, NULL);
    return st;
}

void mdl_resnet_forward(mdl_resnet *r, const float *x)
{
    size_t ni = (size_t)(r->N * r->C * r->S), no = (size_t)(r->N * r->OC * r->S);
    nn_groupnorm_forward(r->n1, r->mean1, r->rstd1, x, r->norm1.w, r->norm1.b, r->N, r->C, r->S, r->norm1.G,
                         r->norm1.eps);
    nn_act_forward(r->a1, r->n1, ni, NN_ACT_SILU);
    mdl_conv_forward(&r->conv1, r->h1, r->a1);
    nn_groupnorm_forward(r->n2, r->mean2, r->rstd2, r->h1, r->norm2.w, r->norm2.b, r->N, r->OC, r->S, r->norm2.G,
                         r->norm2.eps);
    nn_act_forward(r->a2, r->n2, no, NN_ACT_SILU);
    mdl_conv_forward(&r->conv2, r->y, r->a2);
    if (r->has_shortcut) {
        mdl_conv_forward(&r->conv_shortcut, r->sc, x);
        nn_add_forward(r->y, r->y, r->sc, no);
    } else {
        nn_add_forward(r->y, r->y, x, no);
    }
}

void mdl_resnet_backward(mdl_resnet *r, float *dx, const float *x, bool frozen)
{
    ILD_ASSERT(dx);
    size_t ni = (size_t)(r->N * r->C * r->S), no = (size_t)(r->N * r->OC * r->S);
    if (r->has_shortcut)
        mdl_conv_backward(&r->conv_shortcut, dx, r->dy, x, frozen);
    else
        nn_add_backward(dx, NULL, r->dy, no);
    mdl_conv_backward(&r->conv2, r->da2, r->dy, r->a2, frozen);
    nn_act_backward(r->dn2, r->da2, r->n2, no, NN_ACT_SILU);
    nn_groupnorm_backward(r->dh1, frozen ? NULL : r->norm2.dw, frozen ? NULL : r->norm2.db, r->dn2, r->h1,
                          r->norm2.w, r->mean2, r->rstd2, r->N, r->OC, r->S, r->norm2.G);
    mdl_conv_backward(&r->conv1, r->da1, r->dh1, r->a1, frozen);
    nn_act_backward(r->dn1, r->da1, r->n1, ni, NN_ACT_SILU);
    nn_groupnorm_backward(dx, frozen ? NULL : r->norm1.dw, frozen ? NULL : r->norm1.db, r->dn1, x, r->norm1.w,
                          r->mean1, r->rstd1, r->N, r->C, r->S, r->norm1.G);
}

void mdl_resnet_free(mdl_resnet *r)
{
    mdl_conv_free(&r->conv1);
    mdl_conv_free(&r->conv2);
    mdl_conv_free(&r->conv_shortcut);
}

/* ---- spatial attention ---- */

ildiff_status mdl_attn2d_add(mdl_attn2d *m, nn_params *p, const char *prefix, const char *name, int64_t C,
                             int64_t groups, int64_t head_dim)
{
    memset(m, 0, sizeof *m);
    if (head_dim < 1 || C % head_dim || C % groups)
        return ild_fail(ILDIFF_ERR_ARG, "%s%s: %lld channels do not split into heads of %lld and %lld groups",
                        prefix, name, (long long)C, (long long)head_dim, (long long)groups);
    m->C = C, m->NH = C / head_dim;
    char b[NN_PARAM_NAME_MAX];
    ildiff_status st = mdl_norm_add(&m->group_norm, p, prefix, sub(b, sizeof b, name, "group_norm"), C, groups, 1e-5f);
    if (st == ILDIFF_OK) st = mdl_linear_add(&m->to_q, p, prefix, sub(b, sizeof b, name, "to_q"), C, C);
    if (st == ILDIFF_OK) st = mdl_linear_add(&m->to_k, p, prefix, sub(b, sizeof b, name, "to_k"), C, C);
    if (st == ILDIFF_OK) st = mdl_linear_add(&m->to_v, p, prefix, sub(b, sizeof b, name, "to_v"), C, C);
    if (st == ILDIFF_OK) st = mdl_linear_add(&m->to_out, p, prefix, sub(b, sizeof b, name, "to_out.0"), C, C);
    return st;
}

ildiff_status mdl_attn2d_plan(mdl_attn2d *m, mdl_arena *a, int64_t N, int64_t H, int64_t W)
{
    m->N = N, m->S = H * W;
    size_t n = (size_t)(N * m->C * m->S);
    mdl_take_temp(a, n, &m->n, &m->dn);
    mdl_take_temp(a, (size_t)(N * m->group_norm.G), &m->mean, NULL);
    mdl_take_temp(a, (size_t)(N * m->group_norm.G), &m->rstd, NULL);
    mdl_take_temp(a, n, &m->t, &m->dt);
    mdl_take_temp(a, n, &m->q, NULL);
    mdl_take_temp(a, n, &m->k, NULL);
    mdl_take_temp(a, n, &m->v, NULL);
    mdl_take_temp(a, (size_t)(N * m->NH * m->S * m->S), &m->att, NULL);
    mdl_take_temp(a, n, &m->ctx, NULL);
    mdl_take_temp(a, n, &m->o, &m->dO);
    mdl_take(a, n, &m->y, &m->dy);
    mdl_take(a, a->train ? nn_xattn_scratch_floats(N, m->S, m->S, m->C, m->NH) : 0, &m->scratch, NULL);
    return ILDIFF_OK;
}

static nn_xattn_weights weights(const mdl_attn2d *m)
{
    return (nn_xattn_weights){m->to_q.w, m->to_q.b, m->to_k.w, m->to_k.b, m->to_v.w, m->to_v.b, m->to_out.w,
                              m->to_out.b};
}

void mdl_attn2d_forward(mdl_attn2d *m, const float *x)
{
    size_t n = (size_t)(m->N * m->C * m->S);
    nn_groupnorm_forward(m->n, m->mean, m->rstd, x, m->group_norm.w, m->group_norm.b, m->N, m->C, m->S,
                         m->group_norm.G, m->group_norm.eps);
    mdl_swap_axes(m->t, m->n, m->N, m->C, m->S, 1, false);
    nn_xattn_cache c = {m->q, m->k, m->v, m->att, m->ctx};
    nn_xattn_weights w = weights(m);
    nn_xattn_forward(m->o, &c, m->t, m->t, m->t, &w, m->N, m->S, m->S, m->C, m->NH);
    mdl_swap_axes(m->y, m->o, m->N, m->S, m->C, 1, false);
    nn_add_forward(m->y, m->y, x, n);
}

void mdl_attn2d_backward(mdl_attn2d *m, float *dx, const float *x, bool frozen)
{
    ILD_ASSERT(dx);
    size_t n = (size_t)(m->N * m->C * m->S);
    nn_add_backward(dx, NULL, m->dy, n);
    mdl_swap_axes(m->dO, m->dy, m->N, m->C, m->S, 1, true);
    nn_xattn_cache c = {m->q, m->k, m->v, m->att, m->ctx};
    nn_xattn_weights w = weights(m);
    nn_xattn_grads g = {0};
    if (!frozen)
        g = (nn_xattn_grads){m->to_q.dw, m->to_q.db, m->to_k.dw, m->to_k.db, m->to_v.dw, m->to_v.db, m->to_out.dw,
                             m->to_out.db};
    nn_xattn_backward(m->dt, m->dt, m->dt, &g, m->scratch, m->dO, &c, m->t, m->t, m->t, &w, m->N, m->S, m->S, m->C,
                      m->NH);
    mdl_swap_axes(m->dn, m->dt, m->N, m->S, m->C, 1, true);
    nn_groupnorm_backward(dx, frozen ? NULL : m->group_norm.dw, frozen ? NULL : m->group_norm.db, m->dn, x,
                          m->group_norm.w, m->mean, m->rstd, m->N, m->C, m->S, m->group_norm.G);
}
