/*
 * transparent_decoder.h: the transparent decoder D_T (DESIGN.md section 2; research/architecture.md 1.4):
 * LayerDiffuse's UNet1024 structure at our widths. rgb (N, 3, H, W) in [0,1] and a latent (N, 4, H/8, W/8) ->
 * y (N, 4, H, W) = sigmoid of [alpha, straight fg r, g, b]. H, W multiples of 2^(levels-1).
 *
 *   conv_in; down blocks (layers resnets each, an attention after each resnet in the last attn_levels blocks, a
 *   stride-2 conv downsampler on all but the last); before down block latent_level the hidden state gets
 *   latent_conv_in(latent) (1x1); mid block resnet-attention-resnet; up blocks (layers + 1 resnets on
 *   concat[hidden, skip] with skips popped last-in first-out, attention in the first attn_levels, nearest x2 + conv
 *   upsampler on all but the last); GroupNorm, SiLU, conv_out, sigmoid.
 *
 * Reference: TransparentDecoder in tests/reference/ildiff_models.py; parameter names are its (diffusers') state-dict
 * keys: "<prefix>conv_in.weight", "<prefix>latent_conv_in.weight", "<prefix>down_blocks.{i}.resnets.{j}.norm1.weight",
 * "<prefix>down_blocks.{i}.attentions.{j}.to_q.weight", "<prefix>down_blocks.{i}.downsamplers.0.conv.weight",
 * "<prefix>mid_block.resnets.{0,1}.*", "<prefix>mid_block.attentions.0.*", "<prefix>up_blocks.{i}.resnets.{j}.*",
 * "<prefix>up_blocks.{i}.upsamplers.0.conv.weight", "<prefix>conv_norm_out.weight", "<prefix>conv_out.weight".
 *
 * Lifecycle as temporal_adapter.h: build, plan, forward, backward (plan with train = true), free.
 */
#ifndef ILDIFF_MODELS_TRANSPARENT_DECODER_H
#define ILDIFF_MODELS_TRANSPARENT_DECODER_H

#include "models/blocks.h"

#define TD_MAX_LEVELS 8
#define TD_MAX_LAYERS 3

typedef struct td_config {
    int64_t levels;                  /* 6 */
    int64_t widths[TD_MAX_LEVELS];   /* 8, 16, 32, 64, 128, 256 */
    int64_t layers;                  /* resnets per down block, 1 .. TD_MAX_LAYERS (1) */
    int64_t groups;                  /* GroupNorm groups (4) */
    int64_t head_dim;                /* attention head width (8) */
    int64_t attn_levels;             /* levels with attention, counted from the lowest resolution (1) */
    int64_t latent_level;            /* down block that receives the latent, 1 .. levels - 1 (3: at 1/8) */
    int64_t latent;                  /* latent channels (4) */
} td_config;

td_config td_config_default(void);

typedef struct td_down {
    mdl_resnet resnets[TD_MAX_LAYERS];
    mdl_attn2d attentions[TD_MAX_LAYERS];
    bool attn, down;
    mdl_conv downsampler;            /* "downsamplers.0.conv" */
    const float *x; float *dx;       /* the block's input and its twin */
    float *d, *dd;                   /* downsampler output */
} td_down;

typedef struct td_up {
    mdl_resnet resnets[TD_MAX_LAYERS + 1];
    mdl_attn2d attentions[TD_MAX_LAYERS + 1];
    bool attn, up;
    mdl_conv upsampler;              /* "upsamplers.0.conv" */
    const float *x; float *dx;       /* the block's hidden input and its twin */
    float *cat[TD_MAX_LAYERS + 1], *dcat[TD_MAX_LAYERS + 1]; /* concat[hidden, skip] */
    const float *skip[TD_MAX_LAYERS + 1]; float *dskip[TD_MAX_LAYERS + 1];
    int64_t skip_c[TD_MAX_LAYERS + 1];
    float *u, *du;                   /* upsampled hidden */
    float *c, *dc;                   /* upsampler conv output */
} td_up;

typedef struct transparent_decoder {
    td_config cfg;
    mdl_conv conv_in, latent_conv_in;
    td_down down[TD_MAX_LEVELS];
    mdl_resnet mid_resnets[2];
    mdl_attn2d mid_attention;
    td_up up[TD_MAX_LEVELS];
    mdl_norm conv_norm_out;
    mdl_conv conv_out;
    int64_t N, H, W;                 /* planned */
    mdl_arena arena;
    float *ci, *dci;                 /* (N, w0, H, W) conv_in output */
    float *lat, *dlat;               /* (N, w[ll-1], H >> ll, W >> ll) latent_conv_in output */
    float *hl, *dhl;                 /* hidden + lat, the input of down block latent_level */
    float *no, *dno, *mean, *rstd;   /* conv_norm_out output and statistics */
    float *ao, *dao;                 /* silu(no) */
    float *co, *dco;                 /* (N, 4, H, W) logits */
    float *y;                        /* (N, 4, H, W) sigmoid(co): alpha, fg */
} transparent_decoder;

/* ILDIFF_ERR_ARG for a bad configuration (levels, widths not divisible by groups or head_dim, latent_level). */
ildiff_status transparent_decoder_build(transparent_decoder *m, const td_config *cfg, nn_params *p,
                                        const char *prefix);
/* N images of H x W, multiples of 2^(levels-1). */
ildiff_status transparent_decoder_plan(transparent_decoder *m, int64_t N, int64_t H, int64_t W, bool train);
/* rgb (N, 3, H, W), latent (N, latent, H >> latent_level, W >> latent_level) -> m->y. */
void transparent_decoder_forward(transparent_decoder *m, const float *rgb, const float *latent);
/* dy (N, 4, H, W): gradient by m->y. Accumulates the parameter gradients (unless frozen) and drgb, dlatent (each
 * may be NULL). rgb and latent are the forward's inputs. */
void transparent_decoder_backward(transparent_decoder *m, float *drgb, float *dlatent, const float *dy,
                                  const float *rgb, const float *latent, bool frozen);
void transparent_decoder_free(transparent_decoder *m);

#endif
