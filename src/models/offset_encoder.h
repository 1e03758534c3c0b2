/*
 * offset_encoder.h: the latent transparency offset encoder E_a (LayerDiffuse's LatentTransparencyOffsetEncoder at
 * our widths; research/architecture.md 1.2): nine 3x3 convs with SiLU after all but the last, stride 2 at the 3rd,
 * 5th and 7th; input [alpha, padded RGB] (N, 4, H, W) in [0,1], output the latent offset (N, 4, H/8, W/8) added to
 * E(rgb) in stage S1. Reference: OffsetEncoder in tests/reference/ildiff_models.py; parameter names
 * "<prefix>blocks.{0,2,...,16}.weight" / ".bias" (nn.Sequential indices, SiLU at the odd ones).
 *
 * Lifecycle as temporal_adapter.h: build, plan, forward, backward (plan with train = true), free.
 */
#ifndef ILDIFF_MODELS_OFFSET_ENCODER_H
#define ILDIFF_MODELS_OFFSET_ENCODER_H

#include "models/layers.h"

#define OFFSET_LEVELS 4
#define OFFSET_CONVS (2 * OFFSET_LEVELS + 1)

typedef struct offset_config {
    int64_t widths[OFFSET_LEVELS]; /* two convs per width, at 1, 1/2, 1/4, 1/8 (16, 32, 64, 128) */
    int64_t latent;                /* 4 */
} offset_config;

offset_config offset_config_default(void);

typedef struct offset_encoder {
    offset_config cfg;
    mdl_conv convs[OFFSET_CONVS];  /* "blocks.{2k}" */
    float *c[OFFSET_CONVS], *dc[OFFSET_CONVS]; /* conv outputs; c[8] (N, latent, H/8, W/8) is the offset */
    float *a[OFFSET_CONVS - 1], *da[OFFSET_CONVS - 1]; /* silu(c[k]) */
    int64_t N, H, W;
    mdl_arena arena;
} offset_encoder;

/* ILDIFF_ERR_ARG for widths < 1. */
ildiff_status offset_encoder_build(offset_encoder *m, const offset_config *cfg, nn_params *p, const char *prefix);
/* Fresh weights (after nn_params_alloc): mdl_init_params, then the last conv zeroed, as LayerDiffuse. */
void offset_encoder_init(offset_encoder *m, nn_params *p, uint64_t seed);
/* H, W multiples of 8. */
ildiff_status offset_encoder_plan(offset_encoder *m, int64_t N, int64_t H, int64_t W, bool train);
/* x (N, 4, H, W) -> m->c[OFFSET_CONVS - 1] (N, latent, H/8, W/8). */
void offset_encoder_forward(offset_encoder *m, const float *x);
/* doffset: gradient by the offset; accumulates the parameter gradients and dx (may be NULL). */
void offset_encoder_backward(offset_encoder *m, float *dx, const float *doffset, const float *x);
void offset_encoder_free(offset_encoder *m);

#endif
