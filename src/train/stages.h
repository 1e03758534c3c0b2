/*
 * stages.h: the table of training stages `ildiff train --stage NAME` can run, each with its default settings
 * and a constructor that builds its task (trainer.h). The table lives in stages.c, in one place: a stage whose
 * model is not written yet has create == NULL and is reported as "not available yet", never faked.
 */
#ifndef ILDIFF_TRAIN_STAGES_H
#define ILDIFF_TRAIN_STAGES_H

#include "train/trainer.h"

#include <stdbool.h>
#include <stdint.h>

/* What a stage's constructor gets from the command line. */
typedef struct ild_stage_opts {
    const char *corpus; /* corpus folder (ildiff dataset build), NULL when not given */
    int64_t batch;      /* samples per step (>= 1) */
    uint64_t seed;      /* initial weights and data order */
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

#endif
