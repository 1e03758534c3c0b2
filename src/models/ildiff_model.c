/* ildiff_model.c: the ILDiff matting path E + student + temporal adapter + D_T on a clip (ildiff_model.h). */
#include "models/ildiff_model.h"

#include "base/base.h"
#include "nn/pool.h"
#include "nn/tensor_ops.h"

#include <string.h>

ildiff_model_config ildiff_model_config_default(void)
{
    return (ildiff_model_config){.vae = vae_config_default(), .student = student_config_default(),
                                 .temporal = temporal_config_default(), .decoder = td_config_default()};
}

ildiff_status ildiff_model_build(ildiff_model *m, const ildiff_model_config *cfg, nn_params *p)
{
    memset(m, 0, sizeof *m);
    m->cfg = *cfg;
    if (cfg->vae.latent != cfg->decoder.latent || cfg->temporal.latent != cfg->decoder.latent ||
        cfg->temporal.channels != cfg->student.out_dim || cfg->decoder.latent_level != VAE_STAGES)
        return ild_fail(ILDIFF_ERR_ARG, "ildiff model: the parts' latent or feature sizes do not match");
    ildiff_status st = vae_encoder_build(&m->vae_encoder, &cfg->vae, p, "vae_encoder.");
    if (st == ILDIFF_OK) st = layout_encoder_build(&m->student, &cfg->student, p, "student.");
    if (st == ILDIFF_OK) st = temporal_adapter_build(&m->temporal, &cfg->temporal, p, "temporal.");
    if (st == ILDIFF_OK) st = transparent_decoder_build(&m->decoder, &cfg->decoder, p, "decoder.");
    return st;
}

void ildiff_model_init(ildiff_model *m, nn_params *p, uint64_t seed)
{
    mdl_init_params(p, seed);
    mdl_conv_zero(&m->decoder.latent_conv_in);
    mdl_conv_zero(&m->temporal.out);
}

void ildiff_model_set_bf16(ildiff_model *m, bool on) { m->decoder.arena.bf16 = on; }

static void plan_pass(ildiff_model *m)
{
    mdl_arena *a = &m->arena;
    int64_t NT = m->N * m->T, S = m->cfg.student.img_size, g = m->student.grid, C = m->cfg.student.out_dim;
    size_t nz = (size_t)(NT * m->cfg.vae.latent * (m->H / 8) * (m->W / 8));
    mdl_take(a, (size_t)(m->chunk * 3 * S * S), &m->xs, NULL);
    mdl_take(a, nz, &m->z, NULL);
    mdl_take(a, (size_t)(NT * C * g * g), &m->f, &m->df);
    mdl_take(a, nz, &m->zl, &m->dzl);
    mdl_take(a, (size_t)(NT * 4 * m->H * m->W), &m->y, NULL);
}

ildiff_status ildiff_model_plan(ildiff_model *m, int64_t N, int64_t T, int64_t H, int64_t W, int64_t chunk,
                                bool train)
{
    if (N < 1 || T < 1 || chunk < 1 || (N * T) % chunk || (train && chunk != N * T))
        return ild_fail(ILDIFF_ERR_ARG, "ildiff model: chunk %lld does not fit %lldx%lld frames%s", (long long)chunk,
                        (long long)N, (long long)T, train ? " (training needs all frames at once)" : "");
    ildiff_model_free(m);
    m->N = N, m->T = T, m->H = H, m->W = W, m->chunk = chunk;
    m->arena.train = train;
    mdl_arena *parts[4] = {&m->decoder.arena, &m->vae_encoder.arena, &m->student.arena, &m->temporal.arena};
    for (int i = 0; i < 4; i++) parts[i]->ws = &m->ws;
    int64_t g = m->student.grid;
    ildiff_status st = transparent_decoder_plan(&m->decoder, chunk, H, W, train);
    if (st == ILDIFF_OK) st = vae_encoder_plan(&m->vae_encoder, chunk, H, W, train);
    if (st == ILDIFF_OK) st = layout_encoder_plan(&m->student, chunk, m->student.L, train);
    if (st == ILDIFF_OK) st = temporal_adapter_plan(&m->temporal, N, T, g, g, H / 8, W / 8, train);
    if (st == ILDIFF_OK) {
        plan_pass(m);
        st = mdl_arena_alloc(&m->arena);
    }
    if (st == ILDIFF_OK) st = nn_workspace_alloc(&m->ws);
    if (st == ILDIFF_OK) plan_pass(m);
    if (st != ILDIFF_OK) ildiff_model_free(m);
    return st;
}

void ildiff_model_forward(ildiff_model *m, const float *rgb)
{
    int64_t NT = m->N * m->T, S = m->cfg.student.img_size, g = m->student.grid, C = m->cfg.student.out_dim;
    size_t frame = (size_t)(3 * m->H * m->W), zf = (size_t)(m->cfg.vae.latent * (m->H / 8) * (m->W / 8));
    size_t ff = (size_t)(C * g * g), yf = (size_t)(4 * m->H * m->W);
    for (int64_t c0 = 0; c0 < NT; c0 += m->chunk) {
        const float *x = rgb + (size_t)c0 * frame;
        vae_encoder_forward(&m->vae_encoder, x);
        memcpy(m->z + (size_t)c0 * zf, m->vae_encoder.z, (size_t)m->chunk * zf * sizeof(float));
        nn_adaptive_avgpool_forward(m->xs, x, m->chunk, 3, m->H, m->W, S, S);
        layout_encoder_forward(&m->student, m->xs);
        memcpy(m->f + (size_t)c0 * ff, m->student.f, (size_t)m->chunk * ff * sizeof(float));
    }
    temporal_adapter_forward(&m->temporal, m->f);
    nn_add_forward(m->zl, m->z, m->temporal.l, (size_t)NT * zf);
    for (int64_t c0 = 0; c0 < NT; c0 += m->chunk) {
        transparent_decoder_forward(&m->decoder, rgb + (size_t)c0 * frame, m->zl + (size_t)c0 * zf);
        memcpy(m->y + (size_t)c0 * yf, m->decoder.y, (size_t)m->chunk * yf * sizeof(float));
    }
}

void ildiff_model_backward(ildiff_model *m, const float *dy, const float *rgb, bool train_encoders)
{
    ILD_ASSERT(m->arena.grads && m->chunk == m->N * m->T);
    mdl_arena_zero_grads(&m->arena);
    transparent_decoder_backward(&m->decoder, NULL, m->dzl, dy, rgb, m->zl, false);
    temporal_adapter_backward(&m->temporal, train_encoders ? m->df : NULL, m->dzl);
    if (!train_encoders) return;
    vae_encoder_backward(&m->vae_encoder, NULL, m->dzl, rgb, false); /* z + l: dz = d(z + l) */
    layout_encoder_backward(&m->student, m->df);
}

void ildiff_model_free(ildiff_model *m)
{
    vae_encoder_free(&m->vae_encoder);
    layout_encoder_free(&m->student);
    temporal_adapter_free(&m->temporal);
    transparent_decoder_free(&m->decoder);
    mdl_arena_free(&m->arena);
    nn_workspace_free(&m->ws);
}
