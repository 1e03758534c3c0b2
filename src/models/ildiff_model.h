/*
 * ildiff_model.h: the whole ILDiff matting path (paper section II; DESIGN.md section 2) on a clip:
 *
 *   rgb (N, T, 3, H, W) in [0,1], H and W multiples of 2^(decoder levels - 1)
 *   z  = E(rgb)                                         (N*T, 4, H/8, W/8)      vae.h (frozen after S0)
 *   f  = student(area-resize(rgb, S x S))               (N*T, C, g, g)          layout_encoder.h (frozen after S2)
 *   l  = temporal(f)                                    (N, T, 4, H/8, W/8)     temporal_adapter.h
 *   y  = D_T(rgb, z + l)                                (N*T, 4, H, W): ch0 alpha, ch1..3 straight fg
 *
 * The area resize is adaptive average pooling (a 2x2 mean for 512 -> 256). Reference: ILDiff in
 * tests/reference/ildiff_models.py; parameter names are its state-dict keys: "vae_encoder.*", "student.*",
 * "temporal.*", "decoder.*" (the shipped model file holds exactly these).
 *
 * Frames run through E, the student and D_T `chunk` at a time (1 for inference keeps memory to one frame's
 * activations; training plans chunk = N*T so that backward has every activation). Backward is stage S3's: the
 * gradients of D_T and the temporal adapter, and with train_encoders also of E and the student. Every conv plan of
 * the four parts shares one scratch workspace (sized by the largest layer); inference plans are forward-only.
 *
 * Lifecycle: ildiff_model_build (parameters into a table the caller allocates or loads), ildiff_model_plan,
 * forward, backward, ildiff_model_free.
 */
#ifndef ILDIFF_MODELS_ILDIFF_MODEL_H
#define ILDIFF_MODELS_ILDIFF_MODEL_H

#include "models/layout_encoder.h"
#include "models/temporal_adapter.h"
#include "models/transparent_decoder.h"
#include "models/vae.h"

typedef struct ildiff_model_config {
    vae_config vae;
    student_config student;
    temporal_config temporal;
    td_config decoder;
} ildiff_model_config;

/* The shipped model's configuration (each part's default). */
ildiff_model_config ildiff_model_config_default(void);

typedef struct ildiff_model {
    ildiff_model_config cfg;
    vae_encoder vae_encoder;
    layout_encoder student;
    temporal_adapter temporal;
    transparent_decoder decoder;
    int64_t N, T, H, W, chunk;   /* planned */
    mdl_arena arena;
    nn_workspace ws;             /* the conv plans' scratch, shared by all four parts (layers.h) */
    float *xs;                   /* (chunk, 3, S, S) the student's input */
    float *z;                    /* (N*T, 4, H/8, W/8) */
    float *f, *df;               /* (N*T, C, g, g) the student's features */
    float *zl, *dzl;             /* z + l */
    float *y;                    /* (N*T, 4, H, W) */
} ildiff_model;

/* ILDIFF_ERR_ARG when the parts do not fit together (latent channels, feature width, latent level != 3). */
ildiff_status ildiff_model_build(ildiff_model *m, const ildiff_model_config *cfg, nn_params *p);
/* Fresh weights for training from scratch (after nn_params_alloc): mdl_init_params, then the zero-initialised
 * layers of the reference: decoder.latent_conv_in and temporal.out (the latent path starts as identity). */
void ildiff_model_init(ildiff_model *m, nn_params *p, uint64_t seed);
/* Clips of N x T frames of H x W; chunk divides N*T; train requires chunk == N*T. */
ildiff_status ildiff_model_plan(ildiff_model *m, int64_t N, int64_t T, int64_t H, int64_t W, int64_t chunk,
                                bool train);
/* Whether inference plans made after this call run D_T's convolutions on bf16 copies of their inputs and weights
 * (float32 accumulation; about 1.7-2x faster convs; error bound in bench/NOTES.md). Off after ildiff_model_build;
 * training plans ignore it. */
void ildiff_model_set_bf16(ildiff_model *m, bool on);
/* rgb (N, T, 3, H, W) -> m->y. */
void ildiff_model_forward(ildiff_model *m, const float *rgb);
/* dy (N*T, 4, H, W): gradient by m->y. Accumulates the parameter gradients of D_T and the temporal adapter, and
 * with train_encoders those of E and the student. rgb is the forward's input. */
void ildiff_model_backward(ildiff_model *m, const float *dy, const float *rgb, bool train_encoders);
void ildiff_model_free(ildiff_model *m);

#endif
