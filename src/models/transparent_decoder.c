/* transparent_decoder.c: the UNet1024-structured transparent decoder D_T, forward and backward
 * (transparent_decoder.h). */
#include "models/transparent_decoder.h"

#include "base/base.h"
#include "nn/act.h"
#include "nn/norm.h"
#include "nn/pool.h"
#include "nn/tensor_ops.h"

#include <stdio.h>
#include <string.h>

td_config td_config_default(void)
{
    return (td_config){.levels = 6, .widths = {8, 16, 32, 64, 128, 256}, .layers = 1, .groups = 4, .head_dim = 8,
                       .attn_levels = 1, .latent_level = 3, .latent = 4};
}

static ildiff_status check_config(const td_config *c)
{
    bool ok = c->levels >= 2 && c->levels <= TD_MAX_LEVELS && c->layers >= 1 && c->layers <= TD_MAX_LAYERS &&
              c->groups >= 1 && c->head_dim >= 1 && c->attn_levels >= 0 && c->attn_levels <= c->levels &&
              c->latent_level >= 1 && c->latent_level < c->levels && c->latent >= 1;
    for (int64_t i = 0; ok && i < c->levels; i++) ok = c->widths[i] >= 1 && c->widths[i] % c->groups == 0;
    return ok ? ILDIFF_OK : ild_fail(ILDIFF_ERR_ARG, "transparent decoder: bad configuration");
}

/* Output (and twin) of resnet j of a block, after its attention when the block has one. */
static float *res_out(mdl_resnet *r, mdl_attn2d *a, bool attn, int64_t j, float **d)
{
    if (attn) {
        *d = a[j].dy;
        return a[j].y;
    }
    *d = r[j].dy;
    return r[j].y;
}

ildiff_status transparent_decoder_build(transparent_decoder *m, const td_config *cfg, nn_params *p,
                                        const char *prefix)
{
    memset(m, 0, sizeof *m);
    m->cfg = *cfg;
    ildiff_status st = check_config(cfg);
    if (st != ILDIFF_OK) return st;
    const int64_t n = cfg->levels, *w = cfg->widths, G = cfg->groups, L = cfg->layers;
    int64_t skip_c[1 + TD_MAX_LEVELS * (TD_MAX_LAYERS + 1)], sp = 0;
    char name[96];
    st = mdl_conv_add(&m->conv_in, p, prefix, "conv_in", 3, w[0], 3, 1, true, false);
    if (st == ILDIFF_OK)
        st = mdl_conv_add(&m->latent_conv_in, p, prefix, "latent_conv_in", cfg->latent, w[cfg->latent_level - 1], 1, 1,
                          true, false);
    skip_c[sp++] = w[0];
    for (int64_t i = 0; i < n && st == ILDIFF_OK; i++) {
        td_down *b = &m->down[i];
        b->attn = i >= n - cfg->attn_levels;
        b->down = i < n - 1;
        int64_t c = i ? w[i - 1] : w[0];
        for (int64_t j = 0; j < L && st == ILDIFF_OK; j++) {
            snprintf(name, sizeof name, "down_blocks.%lld.resnets.%lld", (long long)i, (long long)j);
            st = mdl_resnet_add(&b->resnets[j], p, prefix, name, c, w[i], G);
            snprintf(name, sizeof name, "down_blocks.%lld.attentions.%lld", (long long)i, (long long)j);
            if (st == ILDIFF_OK && b->attn) st = mdl_attn2d_add(&b->attentions[j], p, prefix, name, w[i], G, cfg->head_dim);
            c = w[i];
            skip_c[sp++] = c;
        }
        snprintf(name, sizeof name, "down_blocks.%lld.downsamplers.0.conv", (long long)i);
        if (st == ILDIFF_OK && b->down) {
            st = mdl_conv_add(&b->downsampler, p, prefix, name, c, c, 3, 2, true, false);
            skip_c[sp++] = c;
        }
    }
    int64_t c = w[n - 1];
    if (st == ILDIFF_OK) st = mdl_resnet_add(&m->mid_resnets[0], p, prefix, "mid_block.resnets.0", c, c, G);
    if (st == ILDIFF_OK) st = mdl_attn2d_add(&m->mid_attention, p, prefix, "mid_block.attentions.0", c, G, cfg->head_dim);
    if (st == ILDIFF_OK) st = mdl_resnet_add(&m->mid_resnets[1], p, prefix, "mid_block.resnets.1", c, c, G);
    for (int64_t i = 0; i < n && st == ILDIFF_OK; i++) {
        td_up *u = &m->up[i];
        int64_t cout = w[n - 1 - i];
        u->attn = i < cfg->attn_levels;
        u->up = i < n - 1;
        for (int64_t j = 0; j <= L && st == ILDIFF_OK; j++) {
            u->skip_c[j] = skip_c[--sp];
            snprintf(name, sizeof name, "up_blocks.%lld.resnets.%lld", (long long)i, (long long)j);
            st = mdl_resnet_add(&u->resnets[j], p, prefix, name, c + u->skip_c[j], cout, G);
            snprintf(name, sizeof name, "up_blocks.%lld.attentions.%lld", (long long)i, (long long)j);
            if (st == ILDIFF_OK && u->attn) st = mdl_attn2d_add(&u->attentions[j], p, prefix, name, cout, G, cfg->head_dim);
            c = cout;
        }
        snprintf(name, sizeof name, "up_blocks.%lld.upsamplers.0.conv", (long long)i);
        if (st == ILDIFF_OK && u->up) st = mdl_conv_add(&u->upsampler, p, prefix, name, c, c, 3, 1, true, false);
    }
    if (st == ILDIFF_OK) st = mdl_norm_add(&m->conv_norm_out, p, prefix, "conv_norm_out", w[0], G, 1e-5f);
    if (st == ILDIFF_OK) st = mdl_conv_add(&m->conv_out, p, prefix, "conv_out", w[0], 4, 3, 1, true, false);
    return st;
}

static ildiff_status plan_pass(transparent_decoder *m)
{
    mdl_arena *a = &m->arena;
    const int64_t n = m->cfg.levels, *w = m->cfg.widths, L = m->cfg.layers, N = m->N;
    int64_t H = m->H, W = m->W;
    const float *stack[1 + TD_MAX_LEVELS * (TD_MAX_LAYERS + 1)];
    float *dstack[1 + TD_MAX_LEVELS * (TD_MAX_LAYERS + 1)];
    int sp = 0;
    ildiff_status st = mdl_conv_plan(&m->conv_in, a, N, 1, H, W);
    mdl_take(a, (size_t)(N * w[0] * H * W), &m->ci, &m->dci);
    const float *h = m->ci;
    float *dh = m->dci;
    stack[sp] = h, dstack[sp++] = dh;
    for (int64_t i = 0; i < n && st == ILDIFF_OK; i++) {
        td_down *b = &m->down[i];
        if (i == m->cfg.latent_level) {
            st = mdl_conv_plan(&m->latent_conv_in, a, N, 1, H, W);
            mdl_take(a, (size_t)(N * w[i - 1] * H * W), &m->lat, &m->dlat);
            mdl_take(a, (size_t)(N * w[i - 1] * H * W), &m->hl, &m->dhl);
            h = m->hl, dh = m->dhl;
        }
        b->x = h, b->dx = dh;
        for (int64_t j = 0; j < L && st == ILDIFF_OK; j++) {
            mdl_temp_reset(a);
            st = mdl_resnet_plan(&b->resnets[j], a, N, H, W);
            mdl_temp_reset(a);
            if (st == ILDIFF_OK && b->attn) st = mdl_attn2d_plan(&b->attentions[j], a, N, H, W);
            h = res_out(b->resnets, b->attentions, b->attn, j, &dh);
            stack[sp] = h, dstack[sp++] = dh;
        }
        if (st == ILDIFF_OK && b->down) {
            st = mdl_conv_plan(&b->downsampler, a, N, 1, H, W);
            H /= 2, W /= 2;
            mdl_take(a, (size_t)(N * w[i] * H * W), &b->d, &b->dd);
            h = b->d, dh = b->dd;
            stack[sp] = h, dstack[sp++] = dh;
        }
    }
    mdl_temp_reset(a);
    if (st == ILDIFF_OK) st = mdl_resnet_plan(&m->mid_resnets[0], a, N, H, W);
    mdl_temp_reset(a);
    if (st == ILDIFF_OK) st = mdl_attn2d_plan(&m->mid_attention, a, N, H, W);
    mdl_temp_reset(a);
    if (st == ILDIFF_OK) st = mdl_resnet_plan(&m->mid_resnets[1], a, N, H, W);
    h = m->mid_resnets[1].y, dh = m->mid_resnets[1].dy;
    int64_t c = w[n - 1];
    for (int64_t i = 0; i < n && st == ILDIFF_OK; i++) {
        td_up *u = &m->up[i];
        int64_t cout = w[n - 1 - i];
        u->x = h, u->dx = dh;
        for (int64_t j = 0; j <= L && st == ILDIFF_OK; j++) {
            --sp;
            u->skip[j] = stack[sp], u->dskip[j] = dstack[sp];
            mdl_temp_reset(a);
            mdl_take_temp(a, (size_t)(N * (c + u->skip_c[j]) * H * W), &u->cat[j], &u->dcat[j]);
            st = mdl_resnet_plan(&u->resnets[j], a, N, H, W);
            mdl_temp_reset(a);
            if (st == ILDIFF_OK && u->attn) st = mdl_attn2d_plan(&u->attentions[j], a, N, H, W);
            h = res_out(u->resnets, u->attentions, u->attn, j, &dh);
            c = cout;
        }
        if (st == ILDIFF_OK && u->up) {
            H *= 2, W *= 2;
            mdl_temp_reset(a);
            mdl_take_temp(a, (size_t)(N * c * H * W), &u->u, &u->du);
            st = mdl_conv_plan(&u->upsampler, a, N, 1, H, W);
            mdl_take(a, (size_t)(N * c * H * W), &u->c, &u->dc);
            h = u->c, dh = u->dc;
        }
    }
    size_t n0 = (size_t)(N * w[0] * H * W);
    mdl_temp_reset(a);
    mdl_take_temp(a, n0, &m->no, &m->dno);
    mdl_take_temp(a, (size_t)(N * m->cfg.groups), &m->mean, NULL);
    mdl_take_temp(a, (size_t)(N * m->cfg.groups), &m->rstd, NULL);
    mdl_take_temp(a, n0, &m->ao, &m->dao);
    if (st == ILDIFF_OK) st = mdl_conv_plan(&m->conv_out, a, N, 1, H, W);
    mdl_take_temp(a, (size_t)(N * 4 * H * W), &m->co, &m->dco);
    mdl_take(a, (size_t)(N * 4 * H * W), &m->y, NULL);
    return st;
}

ildiff_status transparent_decoder_plan(transparent_decoder *m, int64_t N, int64_t H, int64_t W, bool train)
{
    int64_t mult = (int64_t)1 << (m->cfg.levels - 1);
    if (N < 1 || H < mult || W < mult || H % mult || W % mult)
        return ild_fail(ILDIFF_ERR_ARG, "transparent decoder: %lldx%lld is not a multiple of %lld", (long long)H,
                        (long long)W, (long long)mult);
    transparent_decoder_free(m);
    m->N = N, m->H = H, m->W = W;
    m->arena.train = train;
    ildiff_status st = plan_pass(m);
    if (st == ILDIFF_OK) st = mdl_arena_alloc(&m->arena);
    if (st == ILDIFF_OK) st = plan_pass(m);
    if (st != ILDIFF_OK) transparent_decoder_free(m);
    return st;
}

void transparent_decoder_forward(transparent_decoder *m, const float *rgb, const float *latent)
{
    const int64_t n = m->cfg.levels, *w = m->cfg.widths, L = m->cfg.layers, N = m->N;
    int64_t H = m->H, W = m->W;
    float *dummy;
    mdl_conv_forward(&m->conv_in, m->ci, rgb);
    const float *h = m->ci;
    for (int64_t i = 0; i < n; i++) {
        td_down *b = &m->down[i];
        if (i == m->cfg.latent_level) {
            mdl_conv_forward(&m->latent_conv_in, m->lat, latent);
            nn_add_forward(m->hl, h, m->lat, (size_t)(N * w[i - 1] * H * W));
            h = m->hl;
        }
        for (int64_t j = 0; j < L; j++) {
            mdl_resnet_forward(&b->resnets[j], h);
            if (b->attn) mdl_attn2d_forward(&b->attentions[j], b->resnets[j].y);
            h = res_out(b->resnets, b->attentions, b->attn, j, &dummy);
        }
        if (b->down) {
            mdl_conv_forward(&b->downsampler, b->d, h);
            h = b->d;
            H /= 2, W /= 2;
        }
    }
    mdl_resnet_forward(&m->mid_resnets[0], h);
    mdl_attn2d_forward(&m->mid_attention, m->mid_resnets[0].y);
    mdl_resnet_forward(&m->mid_resnets[1], m->mid_attention.y);
    h = m->mid_resnets[1].y;
    int64_t c = w[n - 1];
    for (int64_t i = 0; i < n; i++) {
        td_up *u = &m->up[i];
        for (int64_t j = 0; j <= L; j++) {
            const float *parts[2] = {h, u->skip[j]};
            int64_t cs[2] = {c, u->skip_c[j]};
            nn_concat_forward(u->cat[j], parts, cs, 2, N, H * W);
            mdl_resnet_forward(&u->resnets[j], u->cat[j]);
            if (u->attn) mdl_attn2d_forward(&u->attentions[j], u->resnets[j].y);
            h = res_out(u->resnets, u->attentions, u->attn, j, &dummy);
            c = w[n - 1 - i];
        }
        if (u->up) {
            nn_upsample2x_forward(u->u, h, N, c, H, W);
            H *= 2, W *= 2;
            mdl_conv_forward(&u->upsampler, u->c, u->u);
            h = u->c;
        }
    }
    size_t n0 = (size_t)(N * w[0] * H * W), n4 = (size_t)(N * 4 * H * W);
    nn_groupnorm_forward(m->no, m->mean, m->rstd, h, m->conv_norm_out.w, m->conv_norm_out.b, N, w[0], H * W,
                         m->cfg.groups, m->conv_norm_out.eps);
    nn_act_forward(m->ao, m->no, n0, NN_ACT_SILU);
    mdl_conv_forward(&m->conv_out, m->co, m->ao);
    nn_act_forward(m->y, m->co, n4, NN_ACT_SIGMOID);
}

/* Backward of one block's resnets (and attentions), last first; in/din are the first resnet's input. */
static void blocks_backward(mdl_resnet *r, mdl_attn2d *a, bool attn, int64_t count, const float *const *in,
                            float *const *din, bool frozen)
{
    for (int64_t j = count - 1; j >= 0; j--) {
        if (attn) mdl_attn2d_backward(&a[j], r[j].dy, r[j].y, frozen);
        mdl_resnet_backward(&r[j], din[j], in[j], frozen);
    }
}

void transparent_decoder_backward(transparent_decoder *m, float *drgb, float *dlatent, const float *dy,
                                  const float *rgb, const float *latent, bool frozen)
{
    ILD_ASSERT(m->arena.grads);
    mdl_arena_zero_grads(&m->arena);
    const int64_t n = m->cfg.levels, *w = m->cfg.widths, L = m->cfg.layers, N = m->N;
    int64_t H = m->H, W = m->W;
    const float *in[TD_MAX_LAYERS];
    float *din[TD_MAX_LAYERS];
    nn_act_backward(m->dco, dy, m->co, (size_t)(N * 4 * H * W), NN_ACT_SIGMOID);
    mdl_conv_backward(&m->conv_out, m->dao, m->dco, m->ao, frozen);
    nn_act_backward(m->dno, m->dao, m->no, (size_t)(N * w[0] * H * W), NN_ACT_SILU);
    td_up *last = &m->up[n - 1];
    float *dh;
    const float *h = res_out(last->resnets, last->attentions, last->attn, L, &dh);
    nn_groupnorm_backward(dh, frozen ? NULL : m->conv_norm_out.dw, frozen ? NULL : m->conv_norm_out.db, m->dno, h,
                          m->conv_norm_out.w, m->mean, m->rstd, N, w[0], H * W, m->cfg.groups);
    for (int64_t i = n - 1; i >= 0; i--) {
        td_up *u = &m->up[i];
        int64_t cout = w[n - 1 - i];
        if (u->up) {
            mdl_conv_backward(&u->upsampler, u->du, u->dc, u->u, frozen);
            H /= 2, W /= 2;
            res_out(u->resnets, u->attentions, u->attn, L, &dh);
            nn_upsample2x_backward(dh, u->du, N, cout, H, W);
        }
        for (int64_t j = L; j >= 0; j--) {
            if (u->attn) mdl_attn2d_backward(&u->attentions[j], u->resnets[j].dy, u->resnets[j].y, frozen);
            mdl_resnet_backward(&u->resnets[j], u->dcat[j], u->cat[j], frozen);
            float *dprev = u->dx;
            if (j) res_out(u->resnets, u->attentions, u->attn, j - 1, &dprev);
            float *parts[2] = {dprev, u->dskip[j]};
            int64_t cs[2] = {u->resnets[j].C - u->skip_c[j], u->skip_c[j]};
            nn_concat_backward(parts, u->dcat[j], cs, 2, N, H * W);
        }
    }
    td_down *deepest = &m->down[n - 1];
    const float *mid_in = res_out(deepest->resnets, deepest->attentions, deepest->attn, L - 1, &dh);
    mdl_resnet_backward(&m->mid_resnets[1], m->mid_attention.dy, m->mid_attention.y, frozen);
    mdl_attn2d_backward(&m->mid_attention, m->mid_resnets[0].dy, m->mid_resnets[0].y, frozen);
    mdl_resnet_backward(&m->mid_resnets[0], dh, mid_in, frozen);
    for (int64_t i = n - 1; i >= 0; i--) {
        td_down *b = &m->down[i];
        if (b->down) {
            const float *last_out = res_out(b->resnets, b->attentions, b->attn, L - 1, &dh);
            mdl_conv_backward(&b->downsampler, dh, b->dd, last_out, frozen);
            H *= 2, W *= 2;
        }
        in[0] = b->x, din[0] = b->dx;
        for (int64_t j = 1; j < L; j++) in[j] = res_out(b->resnets, b->attentions, b->attn, j - 1, &din[j]);
        blocks_backward(b->resnets, b->attentions, b->attn, L, in, din, frozen);
        if (i == m->cfg.latent_level) {
            size_t nl = (size_t)(N * w[i - 1] * H * W);
            nn_add_backward(m->down[i - 1].dd, m->dlat, m->dhl, nl);
            mdl_conv_backward(&m->latent_conv_in, dlatent, m->dlat, latent, frozen);
        }
    }
    mdl_conv_backward(&m->conv_in, drgb, m->dci, rgb, frozen);
}

void transparent_decoder_free(transparent_decoder *m)
{
    mdl_conv_free(&m->conv_in);
    mdl_conv_free(&m->latent_conv_in);
    for (int i = 0; i < TD_MAX_LEVELS; i++) {
        for (int j = 0; j <= TD_MAX_LAYERS; j++) {
            if (j < TD_MAX_LAYERS) mdl_resnet_free(&m->down[i].resnets[j]);
            mdl_resnet_free(&m->up[i].resnets[j]);
        }
        mdl_conv_free(&m->down[i].downsampler);
        mdl_conv_free(&m->up[i].upsampler);
    }
    mdl_resnet_free(&m->mid_resnets[0]);
    mdl_resnet_free(&m->mid_resnets[1]);
    mdl_conv_free(&m->conv_out);
    mdl_arena_free(&m->arena);
}
