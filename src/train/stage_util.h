/*
 * stage_util.h: what the model stages (stage_s*.c) share: batches of clips from the corpus loaders (train
 * split from the corpus folder; val split from the same folder, or else from the folder `val` beside it), the
 * data cursor as task state, weights from --init files, LayerDiffuse's RGB padding, and the alpha metrics.
 */
#ifndef ILDIFF_TRAIN_STAGE_UTIL_H
#define ILDIFF_TRAIN_STAGE_UTIL_H

#include "train/loader.h"
#include "train/stages.h"
#include "models/ildiff_model.h"

#define ILD_STAGE_MAX_BATCH 1024

/* A batch of N clips of T frames, side `size` (S = size^2): rgb (N*T, 3, S), alpha (N*T, 1, S), fg
 * (N*T, 3, S), ids (N*T, S) (NULL unless asked for). */
typedef struct ild_batch {
    int64_t N, T, size;
    float *rgb, *alpha, *fg;
    int32_t *ids;
} ild_batch;

ildiff_status ild_batch_alloc(ild_batch *b, int64_t N, int64_t T, int64_t size, bool ids);
void ild_batch_free(ild_batch *b);

/* The data side of a model stage: loaders, the cursor (training samples drawn so far, over all ranks) and the
 * batches. Under mpirun (stages.h) this rank holds samples [first, first + batch.N) of the global batch B. */
typedef struct ild_stage_data {
    ild_loader *train, *val;  /* val may be NULL: no val samples found */
    uint64_t seed;
    int64_t B, first;         /* global batch, this rank's first sample */
    int64_t cursor;
    uint64_t step_key;        /* drawn from the trainer's RNG once per step (stages.h) */
    int64_t val_count;        /* clips of the fixed validation set (at most 32) */
    int64_t val_batches;      /* batches of batch.N clips that cover it */
    ild_batch batch, vbatch;
} ild_stage_data;

/* This rank's share of a global batch of B samples: its size, and its first sample in *first. Fails with
 * ILDIFF_ERR_ARG when B is not in 1..max or does not divide by the rank count. */
ildiff_status ild_stage_share(int64_t B, int64_t max, const char *stage, int64_t *first, int64_t *n);
/* Opens the loaders of opts->corpus for clips of T frames at `size` and allocates batches of this rank's share
 * of the global batch opts->batch. Fails with ILDIFF_ERR_ARG (no corpus, no train sample), the loader's
 * errors, ILDIFF_ERR_NOMEM. */
ildiff_status ild_stage_data_open(ild_stage_data *d, const ild_stage_opts *opts, int64_t T, int64_t size, bool ids);
void ild_stage_data_close(ild_stage_data *d);
/* Fills d->batch with this rank's clips of step s: clip g of the global batch is sample pick(cursor + g) with
 * crop, frames and background keyed by (seed, s, g); draws d->step_key from rng; advances the cursor by B. */
ildiff_status ild_stage_data_next(ild_stage_data *d, int64_t step, nn_rng *rng);
/* Seeds *r for the per-sample randomness of this rank's clip k: hash(step_key ^ global index). */
void ild_stage_sample_rng(const ild_stage_data *d, int64_t k, nn_rng *r);
/* Fills d->vbatch with validation batch b (0 .. val_batches-1): clips b*N .. of the fixed set, keyed by their
 * index; *valid gets how many are real (the rest repeat the last one and must not be scored). */
ildiff_status ild_stage_data_val(ild_stage_data *d, int64_t b, int64_t *valid);
/* The cursor as malloc'd JSON {"cursor":C} (NULL on NOMEM), and its restore (ILDIFF_ERR_FORMAT if malformed). */
char *ild_stage_data_save(const ild_stage_data *d);
ildiff_status ild_stage_data_load(ild_stage_data *d, const char *json);

/* The matting model's sizes for the model stages: the default configuration, or with tiny the tests' tiny sizes
 * (tests/models_tiny.h). S1 takes its VAE and D_T from it and S3 all of it, so their runs chain; `ildiff model
 * pack` rebuilds a run's model from it by the run's "tiny" setting. */
ildiff_model_config ild_stage_model_config(bool tiny);

/* Copies into p the tensors of the --init files that p has (a name in several files: the last wins), then
 * checks that every tensor of p whose name starts with one of `required` (NULL-terminated) was found. Fails with
 * ILDIFF_ERR_ARG (a required part and no --init), ILDIFF_ERR_FORMAT (naming the first missing tensor or a shape
 * mismatch), the file's errors. */
ildiff_status ild_stage_load_init(nn_params *p, const ild_stage_opts *opts, const char *const *required);
/* Marks every tensor of p whose name starts with `prefix` frozen (before the trainer allocates moments). */
void ild_params_freeze(nn_params *p, const char *prefix);

/* LayerDiffuse's pad_rgb (research/architecture.md 1.3) of one frame: out (3, H, W) from straight fg (3, H, W)
 * and alpha (H, W); levels are area resizes by 1/1.2 down to a side of 1. `scratch` holds
 * ild_pad_rgb_scratch(H, W) floats. */
size_t ild_pad_rgb_scratch(int64_t H, int64_t W);
void ild_pad_rgb(float *out, const float *fg, const float *alpha, int64_t H, int64_t W, float *scratch);

/* L_rgb as a mean over F frames of each frame's ild_rgb_loss (so the ranks' mean is the global mean), and its
 * backward (accumulating dloss * d/dfg into dfg). fg, fg_gt, mask (F, 3, S), alpha_gt (F, 1, S). */
float ild_rgb_loss_frames(float *mask, const float *fg, const float *fg_gt, const float *alpha_gt, int64_t F, int64_t S);
void ild_rgb_loss_frames_backward(float *dfg, float dloss, const float *mask, const float *fg, const float *fg_gt,
                                  int64_t F, int64_t S);

/* Alpha metrics of F frames of S pixels: frame f's prediction at alpha + f * stride, its truth at gt + f * S.
 * Adds sum |a - g| and sum (clamp(a, 0, 1) - g)^2 into acc[0], acc[1]; ild_alpha_terms turns acc over `count`
 * values into "alpha_l1" and "alpha_psnr" (99 when exact). */
void ild_alpha_accumulate(double acc[2], const float *alpha, int64_t stride, const float *gt, int64_t F, int64_t S);
void ild_alpha_terms(ild_terms *m, const double acc[2], double count);

#endif
