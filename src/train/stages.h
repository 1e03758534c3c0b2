/*
 * stages.h: the table of training stages `ildiff train --stage NAME` can run, each with its default settings
 * and a constructor that builds its task (trainer.h). The table lives in stages.c, in one place: a stage whose
 * model is not written yet has create == NULL and is reported as "not available yet", never faked.
 *
 * Ranks (mpirun; trainer.h): opts->batch and task->batch are the GLOBAL batch (the CLI makes sure it divides by
 * the rank count). A stage sizes its buffers and plans to its share, ild_shard_range(batch, ild_dist_rank(),
 * ild_dist_size(), &b, &e), and next_batch makes only samples b .. e-1, each keyed by its global index g: content
 * from hash(seed, step, g); per-sample randomness from an nn_rng seeded with hash(step_key ^ g), where step_key =
 * nn_rng_u64(rng) is drawn once per step (never a stream of draws per sample). Losses are means over the rank's
 * samples; the trainer averages the gradients. So N ranks see exactly the samples of one process (stage_toy.c).
 * Validation runs on rank 0 alone: its set must not depend on the rank count.
 */
#ifndef ILDIFF_TRAIN_STAGES_H
#define ILDIFF_TRAIN_STAGES_H

#include "train/trainer.h"

#include <stdbool.h>
#include <stdint.h>

#define ILD_STAGE_INITS 4

/* What a stage's constructor gets from the command line. */
typedef struct ild_stage_opts {
    const char *corpus; /* corpus folder (ildiff dataset build), NULL when not given */
    int64_t batch;      /* samples per step (>= 1) */
    uint64_t seed;      /* initial weights and data order */
    /* model stages (stage_s*.c): */
    const char *init[ILD_STAGE_INITS]; /* --init FILE, each a previous stage's model.safetensors */
    int init_count;
    int32_t size;       /* crop side in pixels; 0 = the stage's default */
    int32_t frames;     /* frames per clip (S3); 0 = the stage's default */
    int32_t depth;      /* temporal adapter depth (S3); -1 = the default */
    bool tiny;          /* the tiny model configurations of the tests (tests/models_tiny.h) */
} ild_stage_opts;

typedef struct ild_stage {
    const char *name;    /* "toy", "S0", ... */
    const char *summary; /* one line for --help */
    bool needs_corpus;
    /* defaults of `ildiff train` for this stage */
    int64_t steps, batch, warmup;
    float lr, lr_min, clip, ema;
    /* Builds the task (parameters initialised from opts->seed). NULL while the stage is not implemented. Fails
     * with the stage's own errors (a missing corpus: ILDIFF_ERR_IO naming it). */
    ildiff_status (*create)(const ild_stage_opts *opts, ild_task **out);
    void (*destroy)(ild_task *task); /* frees what create made; NULL is allowed */
} ild_stage;

extern const ild_stage ild_stages[];
extern const int ild_stage_count;

/* The stage named `name` (exact match), or NULL. */
const ild_stage *ild_stage_find(const char *name);

/* The toy stage (stage_toy.c): a 3-conv net (conv1 3x3 1->8, ReLU, conv2 3x3 8->8, ReLU, conv3 1x1 8->1, the
 * net of tests/test_nn_train.c) learning the alpha of synthetic 16x16 grey discs and rings on light
 * backgrounds; no model file, no corpus. */
ildiff_status ild_toy_create(const ild_stage_opts *opts, ild_task **out);
void ild_toy_destroy(ild_task *task);

/* The model stages (stage_s0.c .. stage_s3.c; each file describes its task). */
ildiff_status ild_s0_create(const ild_stage_opts *opts, ild_task **out);
void ild_s0_destroy(ild_task *task);
ildiff_status ild_s1_create(const ild_stage_opts *opts, ild_task **out);
void ild_s1_destroy(ild_task *task);
ildiff_status ild_s2a_create(const ild_stage_opts *opts, ild_task **out);
void ild_s2a_destroy(ild_task *task);
ildiff_status ild_s2b_create(const ild_stage_opts *opts, ild_task **out);
void ild_s2b_destroy(ild_task *task);
ildiff_status ild_s3_create(const ild_stage_opts *opts, ild_task **out);
void ild_s3_destroy(ild_task *task);

#endif
