/*
 * teacher.h: the layout teacher (DESIGN.md section 2): a conv encoder-decoder trained on the corpus's part masks in
 * stage S2; its encoder's feature map at 1/16, after a LayerNorm2d, is the target the student is distilled to
 * (the stand-in for SAM ViT-H's image embedding). rgb (N, 3, h, w) in [0,1], h and w multiples of 16 ->
 * feat (N, widths[3], h/16, w/16) and logits (N, heads, h/2, w/2) = [object, part boundary, part affinity at
 * each offset] (targets: part_targets in the reference).
 *
 *   enc.{i}: stride-2 conv "down", then res_per_stage resnets (GroupNorm + SiLU, blocks.h); feat = feat_norm(enc.3)
 *   dec.{k}: nearest x2, conv "up" to the next shallower width, concat the encoder skip, one resnet
 *   head_norm (GroupNorm), SiLU, "head" (3x3 conv to `heads` logits)
 *
 * Reference: LayoutTeacher in tests/reference/ildiff_models.py; parameter names are its state-dict keys
 * ("<prefix>enc.{i}.down.weight", "<prefix>enc.{i}.resnets.{j}.*", "<prefix>feat_norm.weight", "<prefix>dec.{k}.up.weight",
 * "<prefix>dec.{k}.resnet.*", "<prefix>head_norm.weight", "<prefix>head.weight", ...).
 *
 * Lifecycle as temporal_adapter.h: build, plan, forward, backward (plan with train = true), free.
 */
#ifndef ILDIFF_MODELS_TEACHER_H
#define ILDIFF_MODELS_TEACHER_H

#include "models/blocks.h"

#define TEACHER_STAGES 4
#define TEACHER_MAX_RES 4

typedef struct teacher_config {
    int64_t widths[TEACHER_STAGES]; /* at 1/2, 1/4, 1/8, 1/16 (32, 64, 128, 256) */
    int64_t res_per_stage;          /* 1 .. TEACHER_MAX_RES (2) */
    int64_t groups;                 /* GroupNorm groups (8) */
    int64_t heads;                  /* output logits: 2 + affinity offsets (6) */
} teacher_config;

teacher_config teacher_config_default(void);

typedef struct teacher_stage {
    mdl_conv down;
    mdl_resnet resnets[TEACHER_MAX_RES];
    float *d, *dd;                  /* down output */
} teacher_stage;

typedef struct teacher_up {
    mdl_conv up;
    mdl_resnet resnet;
    float *u, *du;                  /* upsampled input */
    float *c, *dc;                  /* up conv output */
    float *cat, *dcat;              /* concat[c, skip] */
} teacher_up;

typedef struct layout_teacher {
    teacher_config cfg;
    teacher_stage enc[TEACHER_STAGES];
    mdl_norm feat_norm, head_norm;
    teacher_up dec[TEACHER_STAGES - 1];
    mdl_conv head;
    int64_t N, H, W;
    mdl_arena arena;
    float *feat, *dfeat, *fmean, *frstd;      /* (N, widths[3], H/16, W/16) and (N, H/16 * W/16) */
    float *hn, *dhn, *hmean, *hrstd;          /* (N, widths[0], H/2, W/2) head_norm output, (N, G) */
    float *ha, *dha;                          /* silu(hn) */
    float *logits;                            /* (N, heads, H/2, W/2) */
} layout_teacher;

ildiff_status layout_teacher_build(layout_teacher *m, const teacher_config *cfg, nn_params *p, const char *prefix);
/* H, W multiples of 16. */
ildiff_status layout_teacher_plan(layout_teacher *m, int64_t N, int64_t H, int64_t W, bool train);
/* x (N, 3, H, W) -> m->feat, m->logits. */
void layout_teacher_forward(layout_teacher *m, const float *x);
/* dfeat (may be NULL) and dlogits: gradients by m->feat and m->logits; accumulates the parameter gradients. */
void layout_teacher_backward(layout_teacher *m, const float *dfeat, const float *dlogits, const float *x);
void layout_teacher_free(layout_teacher *m);

#endif
