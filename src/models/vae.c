/* vae.c: the TAESD-like VAE encoder E and decoder D, forward and backward (vae.h). */
#include "models/vae.h"

#include "base/base.h"
#include "nn/act.h"
#include "nn/pool.h"
#include "nn/tensor_ops.h"

#include <stdio.h>
#include <string.h>

vae_config vae_config_default(void)
{
    return (vae_config){.enc_widths = {32, 64, 64}, .dec_widths = {64, 64, 32, 16}, .blocks = 1, .latent = 4};
}

static ildiff_status check_config(const vae_config *c)
{
    bool ok = c->blocks >= 1 && c->blocks <= VAE_MAX_BLOCKS && c->latent >= 1;
    for (int i = 0; i < VAE_STAGES; i++) ok = ok && c->enc_widths[i] >= 1 && c->dec_widths[i] >= 1;
    ok = ok && c->dec_widths[VAE_STAGES] >= 1;
    return ok ? ILDIFF_OK : ild_fail(ILDIFF_ERR_ARG, "vae: bad configuration (widths >= 1, 1..%d blocks)", VAE_MAX_BLOCKS);
}

/* ---- block: relu(conv2(relu(conv1(x))) + x) ---- */

static ildiff_status block_add(vae_block *b, nn_params *p, const char *prefix, int stage, int j, int64_t C)
{
    char name[64];
    snprintf(name, sizeof name, "stages.%d.blocks.%d.conv1", stage, j);
    ildiff_status st = mdl_conv_add(&b->conv1, p, prefix, name, C, C, 3, 1, true, false);
    snprintf(name, sizeof name, "stages.%d.blocks.%d.conv2", stage, j);
    return st == ILDIFF_OK ? mdl_conv_add(&b->conv2, p, prefix, name, C, C, 3, 1, true, false) : st;
}

/* The block's internals are temporaries of an inference plan (the window starts here); y persists. */
static ildiff_status block_plan(vae_block *b, mdl_arena *a, int64_t N, int64_t H, int64_t W)
{
    ildiff_status st = mdl_conv_plan(&b->conv1, a, N, 1, H, W);
    if (st == ILDIFF_OK) st = mdl_conv_plan(&b->conv2, a, N, 1, H, W);
    size_t n = (size_t)(N * b->conv1.C * H * W);
    mdl_temp_reset(a);
    mdl_take_temp(a, n, &b->c1, &b->dc1);
    mdl_take_temp(a, n, &b->r1, &b->dr1);
    mdl_take_temp(a, n, &b->s, &b->ds);
    mdl_take(a, n, &b->y, &b->dy);
    return st;
}

static void block_forward(vae_block *b, const float *x, size_t n)
{
    mdl_conv_forward(&b->conv1, b->c1, x);
    nn_act_forward(b->r1, b->c1, n, NN_ACT_RELU);
    mdl_conv_forward(&b->conv2, b->s, b->r1);
    nn_add_forward(b->s, b->s, x, n);
    nn_act_forward(b->y, b->s, n, NN_ACT_RELU);
}

/* Reads b->dy; accumulates into dx (the gradient twin of x). */
static void block_backward(vae_block *b, float *dx, const float *x, size_t n, bool frozen)
{
    nn_act_backward(b->ds, b->dy, b->s, n, NN_ACT_RELU);
    nn_add_backward(dx, NULL, b->ds, n);
    mdl_conv_backward(&b->conv2, b->dr1, b->ds, b->r1, frozen);
    nn_act_backward(b->dc1, b->dr1, b->c1, n, NN_ACT_RELU);
    mdl_conv_backward(&b->conv1, dx, b->dc1, x, frozen);
}

/* ---- encoder ---- */

ildiff_status vae_encoder_build(vae_encoder *m, const vae_config *cfg, nn_params *p, const char *prefix)
{
    memset(m, 0, sizeof *m);
    m->cfg = *cfg;
    ildiff_status st = check_config(cfg);
    int64_t cin = 3;
    for (int i = 0; i < VAE_STAGES && st == ILDIFF_OK; i++) {
        char name[64];
        snprintf(name, sizeof name, "stages.%d.down", i);
        st = mdl_conv_add(&m->stages[i].conv, p, prefix, name, cin, cfg->enc_widths[i], 3, 2, true, false);
        for (int j = 0; j < cfg->blocks && st == ILDIFF_OK; j++)
            st = block_add(&m->stages[i].blocks[j], p, prefix, i, j, cfg->enc_widths[i]);
        cin = cfg->enc_widths[i];
    }
    if (st == ILDIFF_OK) st = mdl_conv_add(&m->conv_out, p, prefix, "conv_out", cin, cfg->latent, 3, 1, true, false);
    return st;
}

static ildiff_status encoder_pass(vae_encoder *m)
{
    int64_t H = m->H, W = m->W;
    for (int i = 0; i < VAE_STAGES; i++) {
        vae_stage *s = &m->stages[i];
        ildiff_status st = mdl_conv_plan(&s->conv, &m->arena, m->N, 1, H, W);
        if (st != ILDIFF_OK) return st;
        H = mdl_conv_out(&s->conv, H), W = mdl_conv_out(&s->conv, W);
        mdl_take(&m->arena, (size_t)(m->N * s->conv.OC * H * W), &s->c, &s->dc);
        for (int j = 0; j < m->cfg.blocks; j++)
            if ((st = block_plan(&s->blocks[j], &m->arena, m->N, H, W)) != ILDIFF_OK) return st;
    }
    ildiff_status st = mdl_conv_plan(&m->conv_out, &m->arena, m->N, 1, H, W);
    mdl_take(&m->arena, (size_t)(m->N * m->cfg.latent * H * W), &m->z, &m->dz);
    return st;
}

ildiff_status vae_encoder_plan(vae_encoder *m, int64_t N, int64_t H, int64_t W, bool train)
{
    if (N < 1 || H < 8 || W < 8 || H % 8 || W % 8)
        return ild_fail(ILDIFF_ERR_ARG, "vae encoder: %lldx%lld is not a multiple of 8", (long long)H, (long long)W);
    vae_encoder_free(m);
    m->N = N, m->H = H, m->W = W;
    m->arena.train = train;
    ildiff_status st = encoder_pass(m);
    if (st == ILDIFF_OK) st = mdl_arena_alloc(&m->arena);
    if (st == ILDIFF_OK) st = encoder_pass(m);
    if (st != ILDIFF_OK) vae_encoder_free(m);
    return st;
}

/* The output of encoder stage i (its last block's). */
static vae_block *enc_last(vae_encoder *m, int i) { return &m->stages[i].blocks[m->cfg.blocks - 1]; }

void vae_encoder_forward(vae_encoder *m, const float *x)
{
    const float *h = x;
    for (int i = 0; i < VAE_STAGES; i++) {
        vae_stage *s = &m->stages[i];
        mdl_conv_forward(&s->conv, s->c, h);
        size_t n = (size_t)(s->conv.s.N * s->conv.OC * (m->H >> (i + 1)) * (m->W >> (i + 1)));
        h = s->c;
        for (int j = 0; j < m->cfg.blocks; j++) {
            block_forward(&s->blocks[j], h, n);
            h = s->blocks[j].y;
        }
    }
    mdl_conv_forward(&m->conv_out, m->z, h);
}

void vae_encoder_backward(vae_encoder *m, float *dx, const float *dz, const float *x, bool frozen)
{
    ILD_ASSERT(m->arena.grads);
    mdl_arena_zero_grads(&m->arena);
    mdl_conv_backward(&m->conv_out, enc_last(m, VAE_STAGES - 1)->dy, dz, enc_last(m, VAE_STAGES - 1)->y, frozen);
    for (int i = VAE_STAGES - 1; i >= 0; i--) {
        vae_stage *s = &m->stages[i];
        size_t n = (size_t)(m->N * s->conv.OC * (m->H >> (i + 1)) * (m->W >> (i + 1)));
        for (int j = (int)m->cfg.blocks - 1; j >= 0; j--) {
            vae_block *b = &s->blocks[j];
            block_backward(b, j ? s->blocks[j - 1].dy : s->dc, j ? s->blocks[j - 1].y : s->c, n, frozen);
        }
        float *din = i ? enc_last(m, i - 1)->dy : dx;
        mdl_conv_backward(&s->conv, din, s->dc, i ? enc_last(m, i - 1)->y : x, frozen);
    }
}

void vae_encoder_free(vae_encoder *m)
{
    for (int i = 0; i < VAE_STAGES; i++) {
        mdl_conv_free(&m->stages[i].conv);
        for (int j = 0; j < VAE_MAX_BLOCKS; j++) {
            mdl_conv_free(&m->stages[i].blocks[j].conv1);
            mdl_conv_free(&m->stages[i].blocks[j].conv2);
        }
    }
    mdl_conv_free(&m->conv_out);
    mdl_arena_free(&m->arena);
}

/* ---- decoder ---- */

ildiff_status vae_decoder_build(vae_decoder *m, const vae_config *cfg, nn_params *p, const char *prefix)
{
    memset(m, 0, sizeof *m);
    m->cfg = *cfg;
    ildiff_status st = check_config(cfg);
    const int64_t *d = cfg->dec_widths;
    if (st == ILDIFF_OK) st = mdl_conv_add(&m->conv_in, p, prefix, "conv_in", cfg->latent, d[0], 3, 1, true, false);
    for (int i = 0; i < VAE_STAGES && st == ILDIFF_OK; i++) {
        for (int j = 0; j < cfg->blocks && st == ILDIFF_OK; j++)
            st = block_add(&m->stages[i].blocks[j], p, prefix, i, j, d[i]);
        char name[64];
        snprintf(name, sizeof name, "stages.%d.up", i);
        if (st == ILDIFF_OK) st = mdl_conv_add(&m->stages[i].conv, p, prefix, name, d[i], d[i + 1], 3, 1, true, false);
    }
    if (st == ILDIFF_OK) st = mdl_conv_add(&m->conv_out, p, prefix, "conv_out", d[VAE_STAGES], 3, 3, 1, true, false);
    return st;
}

static ildiff_status decoder_pass(vae_decoder *m)
{
    mdl_arena *a = &m->arena;
    int64_t N = m->N, H = m->h, W = m->w;
    const int64_t *d = m->cfg.dec_widths;
    size_t nz = (size_t)(N * m->cfg.latent * H * W);
    mdl_take(a, nz, &m->zs, NULL);
    mdl_take(a, nz, &m->t, &m->dt);
    ildiff_status st = mdl_conv_plan(&m->conv_in, a, N, 1, H, W);
    mdl_take(a, (size_t)(N * d[0] * H * W), &m->c, &m->dc);
    mdl_take(a, (size_t)(N * d[0] * H * W), &m->r, &m->dr);
    for (int i = 0; i < VAE_STAGES && st == ILDIFF_OK; i++) {
        vae_stage *s = &m->stages[i];
        for (int j = 0; j < m->cfg.blocks && st == ILDIFF_OK; j++) st = block_plan(&s->blocks[j], a, N, H, W);
        H *= 2, W *= 2;
        mdl_temp_reset(a);
        mdl_take_temp(a, (size_t)(N * d[i] * H * W), &s->u, &s->du);
        if (st == ILDIFF_OK) st = mdl_conv_plan(&s->conv, a, N, 1, H, W);
        mdl_take(a, (size_t)(N * d[i + 1] * H * W), &s->c, &s->dc);
    }
    if (st == ILDIFF_OK) st = mdl_conv_plan(&m->conv_out, a, N, 1, H, W);
    mdl_take(a, (size_t)(N * 3 * H * W), &m->y, &m->dy);
    return st;
}

ildiff_status vae_decoder_plan(vae_decoder *m, int64_t N, int64_t h, int64_t w, bool train)
{
    if (N < 1 || h < 1 || w < 1)
        return ild_fail(ILDIFF_ERR_ARG, "vae decoder: bad latent size %lldx%lld", (long long)h, (long long)w);
    vae_decoder_free(m);
    m->N = N, m->h = h, m->w = w;
    m->arena.train = train;
    ildiff_status st = decoder_pass(m);
    if (st == ILDIFF_OK) st = mdl_arena_alloc(&m->arena);
    if (st == ILDIFF_OK) st = decoder_pass(m);
    if (st != ILDIFF_OK) vae_decoder_free(m);
    return st;
}

void vae_decoder_forward(vae_decoder *m, const float *z)
{
    int64_t N = m->N, H = m->h, W = m->w;
    const int64_t *d = m->cfg.dec_widths;
    size_t nz = (size_t)(N * m->cfg.latent * H * W);
    nn_scale_forward(m->zs, z, 1.0f / 3.0f, nz);
    nn_act_forward(m->t, m->zs, nz, NN_ACT_TANH);
    nn_scale_forward(m->t, m->t, 3.0f, nz);
    mdl_conv_forward(&m->conv_in, m->c, m->t);
    nn_act_forward(m->r, m->c, (size_t)(N * d[0] * H * W), NN_ACT_RELU);
    const float *h = m->r;
    for (int i = 0; i < VAE_STAGES; i++) {
        vae_stage *s = &m->stages[i];
        for (int j = 0; j < m->cfg.blocks; j++) {
            block_forward(&s->blocks[j], h, (size_t)(N * d[i] * H * W));
            h = s->blocks[j].y;
        }
        nn_upsample2x_forward(s->u, h, N, d[i], H, W);
        H *= 2, W *= 2;
        mdl_conv_forward(&s->conv, s->c, s->u);
        h = s->c;
    }
    mdl_conv_forward(&m->conv_out, m->y, h);
}

void vae_decoder_backward(vae_decoder *m, float *dz, const float *dy, bool frozen)
{
    ILD_ASSERT(m->arena.grads);
    mdl_arena_zero_grads(&m->arena);
    int64_t N = m->N;
    const int64_t *d = m->cfg.dec_widths;
    vae_stage *last = &m->stages[VAE_STAGES - 1];
    mdl_conv_backward(&m->conv_out, last->dc, dy, last->c, frozen);
    for (int i = VAE_STAGES - 1; i >= 0; i--) {
        vae_stage *s = &m->stages[i];
        int64_t H = m->h << i, W = m->w << i; /* the stage's input size */
        const float *in = i ? m->stages[i - 1].c : m->r;
        float *din = i ? m->stages[i - 1].dc : m->dr;
        vae_block *lb = &s->blocks[m->cfg.blocks - 1];
        mdl_conv_backward(&s->conv, s->du, s->dc, s->u, frozen);
        nn_upsample2x_backward(lb->dy, s->du, N, d[i], H, W);
        for (int j = (int)m->cfg.blocks - 1; j >= 0; j--)
            block_backward(&s->blocks[j], j ? s->blocks[j - 1].dy : din, j ? s->blocks[j - 1].y : in,
                           (size_t)(N * d[i] * H * W), frozen);
    }
    nn_act_backward(m->dc, m->dr, m->c, (size_t)(N * d[0] * m->h * m->w), NN_ACT_RELU);
    mdl_conv_backward(&m->conv_in, m->dt, m->dc, m->t, frozen);
    /* t = 3 tanh(z / 3): dt/dz = tanh'(z / 3) */
    if (dz) nn_act_backward(dz, m->dt, m->zs, (size_t)(N * m->cfg.latent * m->h * m->w), NN_ACT_TANH);
}

void vae_decoder_free(vae_decoder *m)
{
    mdl_conv_free(&m->conv_in);
    for (int i = 0; i < VAE_STAGES; i++) {
        mdl_conv_free(&m->stages[i].conv);
        for (int j = 0; j < VAE_MAX_BLOCKS; j++) {
            mdl_conv_free(&m->stages[i].blocks[j].conv1);
            mdl_conv_free(&m->stages[i].blocks[j].conv2);
        }
    }
    mdl_conv_free(&m->conv_out);
    mdl_arena_free(&m->arena);
}
