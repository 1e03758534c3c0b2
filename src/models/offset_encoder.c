/* offset_encoder.c: LayerDiffuse's nine-conv latent offset encoder E_a, forward and backward (offset_encoder.h). */
#include "models/offset_encoder.h"

#include "base/base.h"
#include "nn/act.h"

#include <stdio.h>
#include <string.h>

offset_config offset_config_default(void) { return (offset_config){.widths = {16, 32, 64, 128}, .latent = 4}; }

ildiff_status offset_encoder_build(offset_encoder *m, const offset_config *cfg, nn_params *p, const char *prefix)
{
    memset(m, 0, sizeof *m);
    m->cfg = *cfg;
    for (int i = 0; i < OFFSET_LEVELS; i++)
        if (cfg->widths[i] < 1 || cfg->latent < 1) return ild_fail(ILDIFF_ERR_ARG, "offset encoder: bad widths");
    int64_t cin = 4;
    ildiff_status st = ILDIFF_OK;
    for (int k = 0; k < OFFSET_CONVS && st == ILDIFF_OK; k++) {
        /* convs 2k-1 and 2k of level k/2: the first of each level after the 0th has stride 2 */
        int64_t cout = k == OFFSET_CONVS - 1 ? cfg->latent : cfg->widths[k / 2];
        int64_t stride = k > 0 && k % 2 == 0 && k < OFFSET_CONVS - 1 ? 2 : 1;
        char name[32];
        snprintf(name, sizeof name, "blocks.%d", 2 * k);
        st = mdl_conv_add(&m->convs[k], p, prefix, name, cin, cout, 3, stride, true, false);
        cin = cout;
    }
    return st;
}

void offset_encoder_init(offset_encoder *m, nn_params *p, uint64_t seed)
{
    mdl_init_params(p, seed);
    mdl_conv_zero(&m->convs[OFFSET_CONVS - 1]);
}

static ildiff_status plan_pass(offset_encoder *m)
{
    int64_t H = m->H, W = m->W;
    for (int k = 0; k < OFFSET_CONVS; k++) {
        mdl_conv *c = &m->convs[k];
        ildiff_status st = mdl_conv_plan(c, &m->arena, m->N, 1, H, W);
        if (st != ILDIFF_OK) return st;
        H = mdl_conv_out(c, H), W = mdl_conv_out(c, W);
        size_t n = (size_t)(m->N * c->OC * H * W);
        mdl_take(&m->arena, n, &m->c[k], &m->dc[k]);
        if (k < OFFSET_CONVS - 1) mdl_take(&m->arena, n, &m->a[k], &m->da[k]);
    }
    return ILDIFF_OK;
}

ildiff_status offset_encoder_plan(offset_encoder *m, int64_t N, int64_t H, int64_t W, bool train)
{
    if (N < 1 || H < 8 || W < 8 || H % 8 || W % 8)
        return ild_fail(ILDIFF_ERR_ARG, "offset encoder: %lldx%lld is not a multiple of 8", (long long)H, (long long)W);
    offset_encoder_free(m);
    m->N = N, m->H = H, m->W = W;
    m->arena.train = train;
    ildiff_status st = plan_pass(m);
    if (st == ILDIFF_OK) st = mdl_arena_alloc(&m->arena);
    if (st == ILDIFF_OK) st = plan_pass(m);
    if (st != ILDIFF_OK) offset_encoder_free(m);
    return st;
}

/* Elements of conv k's output. */
static size_t out_numel(const offset_encoder *m, int k)
{
    const nn_conv_shape *s = &m->convs[k].s;
    int64_t H = nn_conv_out_size(s->H, s->K, s->stride, s->pad), W = nn_conv_out_size(s->W, s->K, s->stride, s->pad);
    return (size_t)(s->N * s->OC * H * W);
}

void offset_encoder_forward(offset_encoder *m, const float *x)
{
    const float *h = x;
    for (int k = 0; k < OFFSET_CONVS; k++) {
        mdl_conv_forward(&m->convs[k], m->c[k], h);
        if (k == OFFSET_CONVS - 1) break;
        nn_act_forward(m->a[k], m->c[k], out_numel(m, k), NN_ACT_SILU);
        h = m->a[k];
    }
}

void offset_encoder_backward(offset_encoder *m, float *dx, const float *doffset, const float *x)
{
    ILD_ASSERT(m->arena.grads);
    mdl_arena_zero_grads(&m->arena);
    const float *dout = doffset;
    for (int k = OFFSET_CONVS - 1; k >= 0; k--) {
        if (k < OFFSET_CONVS - 1) {
            nn_act_backward(m->dc[k], m->da[k], m->c[k], out_numel(m, k), NN_ACT_SILU);
            dout = m->dc[k];
        }
        mdl_conv_backward(&m->convs[k], k ? m->da[k - 1] : dx, dout, k ? m->a[k - 1] : x, false);
    }
}

void offset_encoder_free(offset_encoder *m)
{
    for (int k = 0; k < OFFSET_CONVS; k++) mdl_conv_free(&m->convs[k]);
    mdl_arena_free(&m->arena);
}
