/*
 * temporal_adapter.h: the layout adapter's temporal layers (paper section II-B; DESIGN.md section 2):
 * depth x [Conv3d 3x3x3 (pad 1), GroupNorm over (C/G, T, h, w), ReLU] over a clip's layout features, then per frame
 * a 3x3 conv C -> 4 and adaptive average pooling onto the latent grid. The result l is added to the VAE latent.
 * Reference: TemporalAdapter in tests/reference/ildiff_models.py; parameter names "<prefix>layers.{i}.conv.weight",
 * "<prefix>layers.{i}.norm.weight", "<prefix>out.weight", ... as its state dict.
 *
 * Shapes: f (N, T, C, h, w) (the student's feature maps of T frames, frame-major as the clip is stored),
 * l (N, T, 4, H8, W8). Inside, the layers run on (N, C, T, h, w).
 *
 * Lifecycle: temporal_adapter_build registers the parameters in a table (which the caller allocates or loads
 * afterwards); temporal_adapter_plan fixes (N, T, h, w, H8, W8) and allocates the activations (one arena) and
 * the convolution plans; forward and backward then allocate nothing; temporal_adapter_free releases the plan
 * (not the parameter table).
 */
#ifndef ILDIFF_MODELS_TEMPORAL_ADAPTER_H
#define ILDIFF_MODELS_TEMPORAL_ADAPTER_H

#include "models/layers.h"

#define TEMPORAL_MAX_DEPTH 16

typedef struct temporal_config {
    int64_t channels; /* C, the student's neck width (64) */
    int64_t depth;    /* temporal layers, 0 .. TEMPORAL_MAX_DEPTH (paper: 5; ablation 0, 3, 5, 8) */
    int64_t groups;   /* GroupNorm groups (8) */
    int64_t latent;   /* latent channels (4) */
} temporal_config;

/* The shipped model's configuration: 64 channels, depth 5, 8 groups, 4 latent channels. */
temporal_config temporal_config_default(void);

typedef struct temporal_layer {
    mdl_conv conv;          /* "layers.{i}.conv" */
    mdl_norm norm;          /* "layers.{i}.norm" */
    float *c, *dc;          /* (N, C, T, h, w) conv output */
    float *n, *dn;          /* (N, C, T, h, w) GroupNorm output */
    float *r, *dr;          /* (N, C, T, h, w) ReLU output, the next layer's input */
    float *mean, *rstd;     /* (N, G) */
} temporal_layer;

typedef struct temporal_adapter {
    temporal_config cfg;
    temporal_layer layers[TEMPORAL_MAX_DEPTH];
    mdl_conv out;           /* "out": 3x3, C -> latent */
    int64_t N, T, h, w, H8, W8; /* the planned shape */
    mdl_arena arena;
    float *x, *dx;          /* (N, C, T, h, w) the input, axes swapped */
    float *y, *dy;          /* (N, T, C, h, w) the last layer's output, axes swapped back */
    float *o, *dout;        /* (N*T, latent, h, w) out conv */
    float *l;               /* (N, T, latent, H8, W8) the result */
} temporal_adapter;

/* Registers the parameters under `prefix` (e.g. "temporal."). ILDIFF_ERR_ARG for a bad configuration (depth out
 * of range, channels not divisible by groups), or the table's errors. */
ildiff_status temporal_adapter_build(temporal_adapter *m, const temporal_config *cfg, nn_params *p,
                                     const char *prefix);
/* Plans for clips of N x T frames with h x w feature maps and an H8 x W8 latent grid; `train` also plans the
 * gradients. Call again to change the shape. Fails with ILDIFF_ERR_ARG, ILDIFF_ERR_NOMEM or the conv plans'
 * errors (the adapter is then unplanned but can be planned again or freed). */
ildiff_status temporal_adapter_plan(temporal_adapter *m, int64_t N, int64_t T, int64_t h, int64_t w, int64_t H8,
                                    int64_t W8, bool train);
/* f (N, T, C, h, w) -> m->l (N, T, latent, H8, W8). */
void temporal_adapter_forward(temporal_adapter *m, const float *f);
/* Backward of the last forward: accumulates parameter gradients and, when df is not NULL, df (the shape of f).
 * dl (N, T, latent, H8, W8) is the gradient of the loss by l. Needs a plan with train = true. */
void temporal_adapter_backward(temporal_adapter *m, float *df, const float *dl);
/* Frees the plan and activations; the parameters stay in their table. */
void temporal_adapter_free(temporal_adapter *m);

#endif
