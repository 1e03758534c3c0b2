/* teacher.c: the layout teacher, a conv encoder-decoder on part masks, forward and backward (teacher.h). */
#include "models/teacher.h"

#include "base/base.h"
#include "nn/act.h"
#include "nn/norm.h"
#include "nn/pool.h"
#include "nn/tensor_ops.h"

#include <stdio.h>
#include <string.h>

teacher_config teacher_config_default(void)
{
    return (teacher_config){.widths = {32, 64, 128, 256}, .res_per_stage = 2, .groups = 8, .heads = 6};
}

ildiff_status layout_teacher_build(layout_teacher *m, const teacher_config *cfg, nn_params *p, const char *prefix)
{
    memset(m, 0, sizeof *m);
    m->cfg = *cfg;
    const int64_t *w = cfg->widths, G = cfg->groups;
    bool ok = cfg->res_per_stage >= 1 && cfg->res_per_stage <= TEACHER_MAX_RES && cfg->heads >= 1 && G >= 1;
    for (int i = 0; i < TEACHER_STAGES; i++) ok = ok && w[i] >= 1 && w[i] % G == 0;
    if (!ok) return ild_fail(ILDIFF_ERR_ARG, "layout teacher: bad configuration");
    char name[64];
    ildiff_status st = ILDIFF_OK;
    int64_t cin = 3;
    for (int i = 0; i < TEACHER_STAGES && st == ILDIFF_OK; i++) {
        snprintf(name, sizeof name, "enc.%d.down", i);
        st = mdl_conv_add(&m->enc[i].down, p, prefix, name, cin, w[i], 3, 2, true, false);
        for (int j = 0; j < cfg->res_per_stage && st == ILDIFF_OK; j++) {
            snprintf(name, sizeof name, "enc.%d.resnets.%d", i, j);
            st = mdl_resnet_add(&m->enc[i].resnets[j], p, prefix, name, w[i], w[i], G);
        }
        cin = w[i];
    }
    if (st == ILDIFF_OK) st = mdl_norm_add(&m->feat_norm, p, prefix, "feat_norm", w[TEACHER_STAGES - 1], 1, 1e-6f);
    for (int k = 0; k < TEACHER_STAGES - 1 && st == ILDIFF_OK; k++) {
        int i = TEACHER_STAGES - 1 - k;
        snprintf(name, sizeof name, "dec.%d.up", k);
        st = mdl_conv_add(&m->dec[k].up, p, prefix, name, w[i], w[i - 1], 3, 1, true, false);
        snprintf(name, sizeof name, "dec.%d.resnet", k);
        if (st == ILDIFF_OK) st = mdl_resnet_add(&m->dec[k].resnet, p, prefix, name, 2 * w[i - 1], w[i - 1], G);
    }
    if (st == ILDIFF_OK) st = mdl_norm_add(&m->head_norm, p, prefix, "head_norm", w[0], G, 1e-5f);
    if (st == ILDIFF_OK) st = mdl_conv_add(&m->head, p, prefix, "head", w[0], cfg->heads, 3, 1, true, false);
    return st;
}

/* The output of encoder stage i (its last resnet's) and its twin. */
static float *stage_out(layout_teacher *m, int i, float **d)
{
    mdl_resnet *r = &m->enc[i].resnets[m->cfg.res_per_stage - 1];
    if (d) *d = r->dy;
    return r->y;
}

static ildiff_status plan_pass(layout_teacher *m)
{
    mdl_arena *a = &m->arena;
    const int64_t *w = m->cfg.widths, N = m->N;
    int64_t H = m->H, W = m->W;
    ildiff_status st = ILDIFF_OK;
    for (int i = 0; i < TEACHER_STAGES && st == ILDIFF_OK; i++) {
        teacher_stage *s = &m->enc[i];
        st = mdl_conv_plan(&s->down, a, N, 1, H, W);
        H /= 2, W /= 2;
        mdl_take(a, (size_t)(N * w[i] * H * W), &s->d, &s->dd);
        for (int j = 0; j < m->cfg.res_per_stage && st == ILDIFF_OK; j++) st = mdl_resnet_plan(&s->resnets[j], a, N, H, W);
    }
    mdl_take(a, (size_t)(N * w[TEACHER_STAGES - 1] * H * W), &m->feat, &m->dfeat);
    mdl_take(a, (size_t)(N * H * W), &m->fmean, NULL);
    mdl_take(a, (size_t)(N * H * W), &m->frstd, NULL);
    for (int k = 0; k < TEACHER_STAGES - 1 && st == ILDIFF_OK; k++) {
        teacher_up *u = &m->dec[k];
        int i = TEACHER_STAGES - 1 - k;
        H *= 2, W *= 2;
        mdl_take(a, (size_t)(N * w[i] * H * W), &u->u, &u->du);
        st = mdl_conv_plan(&u->up, a, N, 1, H, W);
        mdl_take(a, (size_t)(N * w[i - 1] * H * W), &u->c, &u->dc);
        mdl_take(a, (size_t)(N * 2 * w[i - 1] * H * W), &u->cat, &u->dcat);
        if (st == ILDIFF_OK) st = mdl_resnet_plan(&u->resnet, a, N, H, W);
    }
    size_t n0 = (size_t)(N * w[0] * H * W);
    mdl_take(a, n0, &m->hn, &m->dhn);
    mdl_take(a, (size_t)(N * m->cfg.groups), &m->hmean, NULL);
    mdl_take(a, (size_t)(N * m->cfg.groups), &m->hrstd, NULL);
    mdl_take(a, n0, &m->ha, &m->dha);
    if (st == ILDIFF_OK) st = mdl_conv_plan(&m->head, a, N, 1, H, W);
    mdl_take(a, (size_t)(N * m->cfg.heads * H * W), &m->logits, NULL);
    return st;
}

ildiff_status layout_teacher_plan(layout_teacher *m, int64_t N, int64_t H, int64_t W, bool train)
{
    if (N < 1 || H < 16 || W < 16 || H % 16 || W % 16)
        return ild_fail(ILDIFF_ERR_ARG, "layout teacher: %lldx%lld is not a multiple of 16", (long long)H, (long long)W);
    layout_teacher_free(m);
    m->N = N, m->H = H, m->W = W;
    m->arena.train = train;
    ildiff_status st = plan_pass(m);
    if (st == ILDIFF_OK) st = mdl_arena_alloc(&m->arena);
    if (st == ILDIFF_OK) st = plan_pass(m);
    if (st != ILDIFF_OK) layout_teacher_free(m);
    return st;
}

void layout_teacher_forward(layout_teacher *m, const float *x)
{
    const int64_t *w = m->cfg.widths, N = m->N, R = m->cfg.res_per_stage;
    const float *h = x;
    for (int i = 0; i < TEACHER_STAGES; i++) {
        teacher_stage *s = &m->enc[i];
        mdl_conv_forward(&s->down, s->d, h);
        h = s->d;
        for (int j = 0; j < R; j++) {
            mdl_resnet_forward(&s->resnets[j], h);
            h = s->resnets[j].y;
        }
    }
    int64_t H = m->H >> TEACHER_STAGES, W = m->W >> TEACHER_STAGES;
    nn_layernorm2d_forward(m->feat, m->fmean, m->frstd, h, m->feat_norm.w, m->feat_norm.b, N, w[TEACHER_STAGES - 1],
                           H * W, m->feat_norm.eps);
    h = m->feat;
    for (int k = 0; k < TEACHER_STAGES - 1; k++) {
        teacher_up *u = &m->dec[k];
        int i = TEACHER_STAGES - 1 - k;
        nn_upsample2x_forward(u->u, h, N, w[i], H, W);
        H *= 2, W *= 2;
        mdl_conv_forward(&u->up, u->c, u->u);
        const float *parts[2] = {u->c, stage_out(m, i - 1, NULL)};
        int64_t cs[2] = {w[i - 1], w[i - 1]};
        nn_concat_forward(u->cat, parts, cs, 2, N, H * W);
        mdl_resnet_forward(&u->resnet, u->cat);
        h = u->resnet.y;
    }
    nn_groupnorm_forward(m->hn, m->hmean, m->hrstd, h, m->head_norm.w, m->head_norm.b, N, w[0], H * W, m->cfg.groups,
                         m->head_norm.eps);
    nn_act_forward(m->ha, m->hn, (size_t)(N * w[0] * H * W), NN_ACT_SILU);
    mdl_conv_forward(&m->head, m->logits, m->ha);
}

void layout_teacher_backward(layout_teacher *m, const float *dfeat, const float *dlogits, const float *x)
{
    ILD_ASSERT(m->arena.grads);
    mdl_arena_zero_grads(&m->arena);
    const int64_t *w = m->cfg.widths, N = m->N, R = m->cfg.res_per_stage;
    int64_t H = m->H / 2, W = m->W / 2;
    teacher_up *top = &m->dec[TEACHER_STAGES - 2];
    mdl_conv_backward(&m->head, m->dha, dlogits, m->ha, false);
    nn_act_backward(m->dhn, m->dha, m->hn, (size_t)(N * w[0] * H * W), NN_ACT_SILU);
    nn_groupnorm_backward(top->resnet.dy, m->head_norm.dw, m->head_norm.db, m->dhn, top->resnet.y, m->head_norm.w,
                          m->hmean, m->hrstd, N, w[0], H * W, m->cfg.groups);
    for (int k = TEACHER_STAGES - 2; k >= 0; k--) {
        teacher_up *u = &m->dec[k];
        int i = TEACHER_STAGES - 1 - k;
        mdl_resnet_backward(&u->resnet, u->dcat, u->cat, false);
        float *dskip;
        stage_out(m, i - 1, &dskip);
        float *parts[2] = {u->dc, dskip};
        int64_t cs[2] = {w[i - 1], w[i - 1]};
        nn_concat_backward(parts, u->dcat, cs, 2, N, H * W);
        mdl_conv_backward(&u->up, u->du, u->dc, u->u, false);
        H /= 2, W /= 2;
        nn_upsample2x_backward(k ? m->dec[k - 1].resnet.dy : m->dfeat, u->du, N, w[i], H, W);
    }
    size_t nf = (size_t)(N * w[TEACHER_STAGES - 1] * H * W);
    if (dfeat) nn_add_backward(m->dfeat, NULL, dfeat, nf);
    float *dh;
    const float *h = stage_out(m, TEACHER_STAGES - 1, &dh);
    nn_layernorm2d_backward(dh, m->feat_norm.dw, m->feat_norm.db, m->dfeat, h, m->feat_norm.w, m->fmean, m->frstd, N,
                            w[TEACHER_STAGES - 1], H * W);
    for (int i = TEACHER_STAGES - 1; i >= 0; i--) {
        teacher_stage *s = &m->enc[i];
        for (int64_t j = R - 1; j >= 0; j--)
            mdl_resnet_backward(&s->resnets[j], j ? s->resnets[j - 1].dy : s->dd, j ? s->resnets[j - 1].y : s->d, false);
        float *din = NULL;
        const float *in = i ? stage_out(m, i - 1, &din) : x;
        mdl_conv_backward(&s->down, din, s->dd, in, false);
    }
}

void layout_teacher_free(layout_teacher *m)
{
    for (int i = 0; i < TEACHER_STAGES; i++) {
        mdl_conv_free(&m->enc[i].down);
        for (int j = 0; j < TEACHER_MAX_RES; j++) mdl_resnet_free(&m->enc[i].resnets[j]);
    }
    for (int k = 0; k < TEACHER_STAGES - 1; k++) {
        mdl_conv_free(&m->dec[k].up);
        mdl_resnet_free(&m->dec[k].resnet);
    }
    mdl_conv_free(&m->head);
    mdl_arena_free(&m->arena);
}
