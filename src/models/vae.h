/*
 * vae.h: the VAE of the latent space (DESIGN.md section 2), TAESD-like: encoder E (rgb -> 4-channel latent at 1/8)
 * and decoder D (latent -> rgb). Trained in stage S0, then frozen; E runs in the matting path, D only in S0 and in
 * the harmlessness loss. Reference: VaeEncoder / VaeDecoder in tests/reference/ildiff_models.py, whose state-dict
 * keys are the parameter names ("<prefix>stages.{i}.down.weight", "<prefix>stages.{i}.blocks.{j}.conv1.weight",
 * "<prefix>conv_out.weight", ... for E; "<prefix>conv_in.weight", "<prefix>stages.{i}.up.weight", ... for D).
 *
 *   block(x)  = relu(conv2(relu(conv1(x))) + x)                       (3x3 convs, same width)
 *   E(x)      = conv_out(stage2(stage1(stage0(x)))), stage_i = blocks(conv_stride2(x))       x (N, 3, H, W) in [0,1]
 *   D(z)      = conv_out(stage2(stage1(stage0(relu(conv_in(3 tanh(z / 3))))))), stage_i = conv(up2(blocks(x)))
 *   z (N, 4, H/8, W/8); H, W multiples of 8.
 *
 * Lifecycle as temporal_adapter.h: build (register parameters), plan (shape, arena, conv plans), forward,
 * backward (needs a plan with train = true), free. Backward accumulates the parameter gradients unless `frozen`
 * (then only the input gradient: the harmlessness loss backpropagates through the frozen D into the latent).
 */
#ifndef ILDIFF_MODELS_VAE_H
#define ILDIFF_MODELS_VAE_H

#include "models/layers.h"

#define VAE_STAGES 3
#define VAE_MAX_BLOCKS 4

typedef struct vae_config {
    int64_t enc_widths[VAE_STAGES];     /* encoder stage widths at 1/2, 1/4, 1/8 (32, 64, 64) */
    int64_t dec_widths[VAE_STAGES + 1]; /* decoder widths at 1/8, 1/4, 1/2, 1 (64, 64, 32, 16) */
    int64_t blocks;                     /* blocks per stage, 1 .. VAE_MAX_BLOCKS (1) */
    int64_t latent;                     /* latent channels (4) */
} vae_config;

/* The shipped model's configuration (see above). */
vae_config vae_config_default(void);

/* relu(conv2(relu(conv1(x))) + x). */
typedef struct vae_block {
    mdl_conv conv1, conv2;
    float *c1, *dc1; /* (N, C, H, W) conv1 output */
    float *r1, *dr1; /* relu(c1) */
    float *s, *ds;   /* conv2(r1) + x */
    float *y, *dy;   /* relu(s), the block's output */
} vae_block;

/* Encoder stage: c = down(x), then the blocks (output: the last block's y). Decoder stage: the blocks on x, then
 * u = nearest x2, c = up(u) (output: c). */
typedef struct vae_stage {
    mdl_conv conv;   /* encoder: "down" (stride 2); decoder: "up" */
    vae_block blocks[VAE_MAX_BLOCKS];
    float *u, *du;   /* decoder: (N, C, 2H, 2W) the upsampled blocks' output */
    float *c, *dc;   /* the conv's output */
} vae_stage;

typedef struct vae_encoder {
    vae_config cfg;
    vae_stage stages[VAE_STAGES];
    mdl_conv conv_out;
    int64_t N, H, W;  /* planned input size */
    mdl_arena arena;
    float *z, *dz;    /* (N, latent, H/8, W/8) */
} vae_encoder;

typedef struct vae_decoder {
    vae_config cfg;
    mdl_conv conv_in;
    vae_stage stages[VAE_STAGES];
    mdl_conv conv_out;
    int64_t N, h, w;  /* planned latent size */
    mdl_arena arena;
    float *zs;        /* (N, latent, h, w) z / 3 */
    float *t, *dt;    /* 3 tanh(z / 3) */
    float *c, *dc;    /* (N, dec_widths[0], h, w) conv_in output */
    float *r, *dr;    /* relu(c) */
    float *y, *dy;    /* (N, 3, 8h, 8w) the decoded image */
} vae_decoder;

/* Register the parameters under `prefix` (e.g. "vae_encoder."). ILDIFF_ERR_ARG for a bad configuration. */
ildiff_status vae_encoder_build(vae_encoder *m, const vae_config *cfg, nn_params *p, const char *prefix);
ildiff_status vae_decoder_build(vae_decoder *m, const vae_config *cfg, nn_params *p, const char *prefix);

/* Plan for N images of H x W (multiples of 8) / N latents of h x w. ILDIFF_ERR_ARG, ILDIFF_ERR_NOMEM or the conv
 * plans' errors; the model is then unplanned. */
ildiff_status vae_encoder_plan(vae_encoder *m, int64_t N, int64_t H, int64_t W, bool train);
ildiff_status vae_decoder_plan(vae_decoder *m, int64_t N, int64_t h, int64_t w, bool train);

/* x (N, 3, H, W) -> m->z. */
void vae_encoder_forward(vae_encoder *m, const float *x);
/* dz: gradient by m->z; accumulates into dx (may be NULL) and, unless frozen, the parameter gradients. x is the
 * forward's input. */
void vae_encoder_backward(vae_encoder *m, float *dx, const float *dz, const float *x, bool frozen);

/* z (N, latent, h, w) -> m->y (N, 3, 8h, 8w). */
void vae_decoder_forward(vae_decoder *m, const float *z);
/* dy: gradient by m->y; accumulates into dz (may be NULL) and, unless frozen, the parameter gradients. */
void vae_decoder_backward(vae_decoder *m, float *dz, const float *dy, bool frozen);

void vae_encoder_free(vae_encoder *m);
void vae_decoder_free(vae_decoder *m);

#endif
