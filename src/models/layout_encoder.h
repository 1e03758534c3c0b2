/*
 * layout_encoder.h: the layout student (DESIGN.md section 2): a plain ViT in EfficientSAM's style with SAM's neck.
 * rgb (N, 3, S, S) in [0,1], S = img_size (every frame is area-resized to it first) -> f (N, out_dim, g, g), g = S/p.
 *
 *   tokens = patch_embed(x) + pos_embed                     (N, L = g*g, dim), row-major patch order
 *   blocks: x + attn(norm1(x)); x + mlp(norm2(x))           LayerNorm eps 1e-6, qkv/proj, fc1-GELU-fc2
 *   neck: conv1x1 (no bias) - LayerNorm2d - conv3x3 (no bias) - LayerNorm2d on the (N, dim, g, g) token map
 *
 * Two modes share the weights. Full: layout_encoder_forward/backward (the matting path, stage S3 keeps it frozen).
 * Masked (SAMI distillation, sami.h): layout_encoder_encode_masked runs the blocks on the kept tokens only; the
 * SAMI decoder assembles all tokens and calls layout_encoder_neck_forward on them.
 *
 * Reference: LayoutEncoder in tests/reference/ildiff_models.py; parameter names "<prefix>patch_embed.proj.weight",
 * "<prefix>pos_embed" (1, L, dim), "<prefix>blocks.{i}.norm1.weight", "<prefix>blocks.{i}.attn.qkv.weight",
 * "<prefix>blocks.{i}.attn.proj.weight", "<prefix>blocks.{i}.mlp.fc1.weight", "<prefix>neck.{0,2}.weight",
 * "<prefix>neck.{1,3}.weight" / ".bias", ...
 *
 * Lifecycle as temporal_adapter.h: build, plan, forward, backward (plan with train = true), free.
 */
#ifndef ILDIFF_MODELS_LAYOUT_ENCODER_H
#define ILDIFF_MODELS_LAYOUT_ENCODER_H

#include "models/layers.h"

#define STUDENT_MAX_DEPTH 16

typedef struct student_config {
    int64_t img_size;  /* 256 */
    int64_t patch;     /* 16 */
    int64_t dim;       /* 192 */
    int64_t depth;     /* 6 */
    int64_t heads;     /* 3 */
    int64_t mlp_ratio; /* 4 */
    int64_t out_dim;   /* 64, the neck's width C_f */
} student_config;

student_config student_config_default(void);

/* One pre-norm ViT block on (B, T, dim) tokens. */
typedef struct vit_block {
    mdl_norm norm1, norm2;
    mdl_linear qkv, proj, fc1, fc2;
    float *n1, *dn1, *mean1, *rstd1;   /* (B*T, dim), (B*T) */
    float *qkvc, *att, *ctx;           /* attention cache: (B, T, 3 dim), (B, heads, T, T), (B, T, dim) */
    float *x1, *dx1;                   /* x + attention */
    float *n2, *dn2, *mean2, *rstd2;
    float *h, *dh, *g, *dg;            /* (B*T, hidden) fc1 output, gelu */
    float *y, *dy;                     /* x1 + mlp */
    float *scratch;                    /* nn_mhsa_scratch_floats */
} vit_block;

typedef struct layout_encoder {
    student_config cfg;
    int64_t grid, L;                   /* g and L = g*g */
    float *pe_w, *pe_b, *dpe_w, *dpe_b; /* patch_embed.proj: (dim, 3, p, p), (dim) */
    float *pos, *dpos;                 /* pos_embed (1, L, dim) */
    vit_block blocks[STUDENT_MAX_DEPTH];
    mdl_conv neck0, neck2;             /* 1x1 dim -> out_dim, 3x3 out_dim -> out_dim, no bias */
    mdl_norm neck1, neck3;             /* LayerNorm2d */
    int64_t N, K;                      /* planned batch and tokens seen by the blocks (K = L: full mode) */
    mdl_arena arena;
    float *cols, *dcols;               /* patch-embedding im2col (N*L, 3*p*p) and its backward scratch */
    float *tok, *dtok;                 /* (N, L, dim) tokens with position */
    float *vis, *dvis;                 /* (N, K, dim) kept tokens (masked mode) */
    float *map, *dmap;                 /* (N, dim, L) the neck's input */
    float *c0, *dc0, *l1, *dl1, *m1, *r1; /* (N, out_dim, L): neck.0 out, neck.1 out, its mean/rstd (N, L) */
    float *c2, *dc2, *f, *m3, *r3;     /* neck.2 out, neck.3 out = f (N, out_dim, g, g) */
} layout_encoder;

ildiff_status layout_encoder_build(layout_encoder *m, const student_config *cfg, nn_params *p, const char *prefix);
/* Plan for N images; `keep` = tokens the blocks see (L for the full mode, fewer for masked distillation). */
ildiff_status layout_encoder_plan(layout_encoder *m, int64_t N, int64_t keep, bool train);

/* Full mode (keep == L): x (N, 3, S, S) -> m->f. */
void layout_encoder_forward(layout_encoder *m, const float *x);
/* df: gradient by m->f; accumulates the parameter gradients. */
void layout_encoder_backward(layout_encoder *m, const float *df);

/* Masked mode: x (N, 3, S, S), ids_keep (N, K) ascending token indices -> the blocks' output on the kept tokens,
 * returned (N, K, dim) with its gradient twin in *denc (the SAMI decoder accumulates into it). */
const float *layout_encoder_encode_masked(layout_encoder *m, const float *x, const int64_t *ids_keep, float **denc);
/* Backward of the masked encoding after the decoder has filled *denc. */
void layout_encoder_encode_masked_backward(layout_encoder *m, const int64_t *ids_keep);
/* The neck on all L tokens (N, L, dim) -> m->f; its backward accumulates into dtokens. */
void layout_encoder_neck_forward(layout_encoder *m, const float *tokens);
void layout_encoder_neck_backward(layout_encoder *m, float *dtokens, const float *df);

void layout_encoder_free(layout_encoder *m);

#endif
