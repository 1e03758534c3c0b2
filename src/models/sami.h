/*
 * sami.h: the SAMI decoder that distils the layout student from the teacher in stage S2 (EfficientSAM's masked
 * image modelling; research/architecture.md section 2). The student encodes only the kept tokens; each masked
 * position starts as mask_token + pos_embed and passes through `depth` cross-attention blocks
 * (m + attn(norm_q(m), norm_kv([visible, m])); m + mlp(norm2(m))); visible and reconstructed tokens go back into
 * token order, through the student's neck, then `proj` (1x1 conv) to the teacher's width:
 * out (N, teacher_dim, g, g), compared with the teacher's features by distill loss (mean squared error).
 *
 * Reference: SamiDecoder in tests/reference/ildiff_models.py; parameter names "<prefix>mask_token" (1, 1, dim),
 * "<prefix>blocks.{i}.norm_q.weight", "<prefix>blocks.{i}.norm_kv.*", "<prefix>blocks.{i}.attn.{q,k,v,out}_proj.*",
 * "<prefix>blocks.{i}.norm2.*", "<prefix>blocks.{i}.mlp.fc{1,2}.*", "<prefix>proj.weight" / ".bias".
 *
 * The decoder works with a student planned in masked mode (layout_encoder_plan with keep = K < L) for the same N.
 * Lifecycle as temporal_adapter.h: build, plan, forward, backward (plan with train = true), free.
 */
#ifndef ILDIFF_MODELS_SAMI_H
#define ILDIFF_MODELS_SAMI_H

#include "models/layout_encoder.h"

#define SAMI_MAX_DEPTH 8

typedef struct sami_config {
    int64_t depth;       /* cross-attention blocks (2) */
    int64_t heads;       /* (3) */
    int64_t mlp_ratio;   /* (4) */
    int64_t teacher_dim; /* the teacher's feature width (256) */
} sami_config;

sami_config sami_config_default(void);

typedef struct cross_block {
    mdl_norm norm_q, norm_kv, norm2;
    mdl_linear q_proj, k_proj, v_proj, out_proj, fc1, fc2;
    float *kv, *dkv;                       /* (N, K + Lm, dim) concat[visible, m] */
    float *nkv, *dnkv, *mkv, *rkv;         /* norm_kv(kv) and its statistics (N * (K + Lm)) */
    float *nq, *dnq, *mq, *rq;             /* norm_q(m), (N * Lm) */
    float *q, *k, *v, *att, *ctx;          /* attention cache */
    float *m1, *dm1;                       /* (N, Lm, dim) m + attention */
    float *n2, *dn2, *mean2, *rstd2;
    float *h, *dh, *g, *dg;                /* (N * Lm, hidden) */
    float *y, *dy;                         /* (N, Lm, dim) */
    float *scratch;
} cross_block;

typedef struct sami_decoder {
    sami_config cfg;
    int64_t dim, out_dim, grid, L;         /* from the student: L = grid * grid tokens */
    float *mask_token, *dmask_token;       /* (1, 1, dim) */
    cross_block blocks[SAMI_MAX_DEPTH];
    mdl_conv proj;                         /* 1x1 out_dim -> teacher_dim */
    int64_t N, K, Lm;                      /* planned: batch, kept and masked tokens */
    mdl_arena arena;
    float *m0, *dm0;                       /* (N, Lm, dim) mask_token + pos_embed[ids_mask] */
    float *full, *dfull;                   /* (N, L, dim) all tokens in order */
    float *df;                             /* (N, out_dim, L) gradient by the student's neck output */
    float *out;                            /* (N, teacher_dim, g, g) */
} sami_decoder;

/* Registers the parameters for a student of configuration `student`. */
ildiff_status sami_decoder_build(sami_decoder *m, const sami_config *cfg, const student_config *student, nn_params *p,
                                 const char *prefix);
/* N images, K kept tokens (1 <= K < L). */
ildiff_status sami_decoder_plan(sami_decoder *m, int64_t N, int64_t K, bool train);
/* x (N, 3, S, S); ids_keep (N, K) and ids_mask (N, L - K), each ascending, together a permutation of 0..L-1
 * (nn_mask_random makes them) -> m->out. */
void sami_decoder_forward(sami_decoder *m, layout_encoder *student, const float *x, const int64_t *ids_keep,
                          const int64_t *ids_mask);
/* dout: gradient by m->out; accumulates the decoder's and the student's parameter gradients. */
void sami_decoder_backward(sami_decoder *m, layout_encoder *student, const float *dout, const int64_t *ids_keep,
                           const int64_t *ids_mask);
void sami_decoder_free(sami_decoder *m);

#endif
