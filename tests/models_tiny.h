/*
 * models_tiny.h: the tiny model configurations of the parity tests (test_models*.c), the same as
 * tests/reference/ref_models.py's. Header-only, for tests.
 */
#ifndef ILDIFF_MODELS_TINY_H
#define ILDIFF_MODELS_TINY_H

#include "models/ildiff_model.h"

static const temporal_config tiny_temporal = {.channels = 8, .depth = 3, .groups = 2, .latent = 4};
static const vae_config tiny_vae = {.enc_widths = {4, 8, 8}, .dec_widths = {8, 8, 4, 4}, .blocks = 1, .latent = 4};
static const td_config tiny_td = {.levels = 4, .widths = {4, 8, 8, 16}, .layers = 1, .groups = 2, .head_dim = 4,
                                  .attn_levels = 1, .latent_level = 3, .latent = 4};
static const student_config tiny_student = {.img_size = 16, .patch = 4, .dim = 16, .depth = 2, .heads = 2,
                                            .mlp_ratio = 2, .out_dim = 8};

static inline ildiff_model_config tiny_ildiff(void)
{
    return (ildiff_model_config){.vae = tiny_vae, .student = tiny_student, .temporal = tiny_temporal,
                                 .decoder = tiny_td};
}

#endif
