/*
 * blocks.h: the diffusers blocks the transparent decoder (UNet1024 structure) and the layout teacher are made of,
 * forward and backward, with their parameters named as in tests/reference/ildiff_models.py:
 *
 *   resnet     ResnetBlock: y = shortcut(x) + conv2(silu(gn2(conv1(silu(gn1(x))))))         x (N, C, H, W)
 *              "<name>.norm1", ".conv1", ".norm2", ".conv2", ".conv_shortcut" (1x1, only when C != OC)
 *   attention  SpatialAttention: y = x + to_out.0(mha(to_q(t), to_k(t), to_v(t))), t = tokens of group_norm(x),
 *              heads of head_dim channels; "<name>.group_norm", ".to_q", ".to_k", ".to_v", ".to_out.0"
 *
 * A block's output y and its gradient twin dy live in the model's arena (layers.h): the consumer of y
 * accumulates into dy, then the block's backward accumulates into the twin of its input. Backward needs a plan
 * made with train = true. In an inference plan everything but y comes from the arena's reused region
 * (mdl_take_temp): the model calls mdl_temp_reset before planning each block.
 */
#ifndef ILDIFF_MODELS_BLOCKS_H
#define ILDIFF_MODELS_BLOCKS_H

#include "models/layers.h"

typedef struct mdl_resnet {
    mdl_norm norm1, norm2;
    mdl_conv conv1, conv2, conv_shortcut;
    bool has_shortcut;
    int64_t N, C, OC, S;            /* planned: batch, channels in/out, H*W */
    float *n1, *dn1, *a1, *da1;      /* (N, C, S) gn1 output, silu */
    float *h1, *dh1, *n2, *dn2;      /* (N, OC, S) conv1 output, gn2 output */
    float *a2, *da2;                 /* (N, OC, S) silu */
    float *sc, *dsc;                 /* (N, OC, S) shortcut output (with a shortcut conv) */
    float *y, *dy;                   /* (N, OC, S) */
    float *mean1, *rstd1, *mean2, *rstd2; /* (N, G) */
} mdl_resnet;

/* GroupNorm eps 1e-5 with `groups` groups, 3x3 convs. */
ildiff_status mdl_resnet_add(mdl_resnet *r, nn_params *p, const char *prefix, const char *name, int64_t C,
                             int64_t OC, int64_t groups);
ildiff_status mdl_resnet_plan(mdl_resnet *r, mdl_arena *a, int64_t N, int64_t H, int64_t W);
void mdl_resnet_forward(mdl_resnet *r, const float *x);
/* Reads r->dy; accumulates into dx (the twin of x, required) and, unless frozen, the parameter gradients. */
void mdl_resnet_backward(mdl_resnet *r, float *dx, const float *x, bool frozen);
void mdl_resnet_free(mdl_resnet *r);

typedef struct mdl_attn2d {
    mdl_norm group_norm;
    mdl_linear to_q, to_k, to_v, to_out;
    int64_t N, C, S, NH;        /* planned: batch, channels, tokens (H*W), heads */
    float *n, *dn;              /* (N, C, S) group_norm output */
    float *mean, *rstd;         /* (N, G) */
    float *t, *dt;              /* (N, S, C) tokens */
    float *q, *k, *v, *att, *ctx; /* the attention cache: (N, S, C) x3, (N, NH, S, S), (N, S, C) */
    float *o, *dO;              /* (N, S, C) attention output */
    float *y, *dy;              /* (N, C, S) x + o */
    float *scratch;             /* nn_xattn_scratch_floats */
} mdl_attn2d;

/* C must be a multiple of head_dim. */
ildiff_status mdl_attn2d_add(mdl_attn2d *m, nn_params *p, const char *prefix, const char *name, int64_t C,
                             int64_t groups, int64_t head_dim);
ildiff_status mdl_attn2d_plan(mdl_attn2d *m, mdl_arena *a, int64_t N, int64_t H, int64_t W);
void mdl_attn2d_forward(mdl_attn2d *m, const float *x);
/* Reads m->dy; accumulates into dx (required) and, unless frozen, the parameter gradients. */
void mdl_attn2d_backward(mdl_attn2d *m, float *dx, const float *x, bool frozen);

#endif
