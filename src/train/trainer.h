/*
 * trainer.h: the training loop every stage shares. A stage is a "task" (a parameter table plus callbacks that
 * make a batch, run forward + backward, and validate); the trainer does the rest, identically for every stage:
 *
 *   for step s = start .. steps-1:
 *       next_batch(s, rng); zero_grad; forward_backward(rng) -> named loss terms;
 *       global-norm clipping; lr = warmup + cosine(s); AdamW (t = s + 1); EMA update;
 *       a JSONL line; the progress line; validation every val_every steps and at the end;
 *       a checkpoint every ckpt_every steps, at the end, and when *stop became non-zero (then it returns).
 *
 * Output folder: ckpt-*.safetensors + latest (checkpoint.h), train.jsonl (one JSON object per line:
 *   {"kind":"train","step":S,"lr":..,"grad_norm":..,"loss":{"name":value,...}}  after each step S (1-based),
 *   {"kind":"val","step":S,"metrics":{"name":value,...}}                       after each validation),
 * loss.png (log scale) and val.png (plot.h, redrawn at every checkpoint), and at the end model.safetensors (the
 * EMA weights when EMA is on, else the weights; F32, metadata stage/step/config).
 *
 * Exact resume: the state after step s is the table's values, moments and EMA, the trainer's RNG and s, all in
 * the checkpoint; the schedule is a function of s; next_batch must depend only on (the task's seed, s, rng),
 * and validate must not touch the training state (the trainer restores the weights it swaps in bit for bit).
 * So a resumed run makes the same steps as an uninterrupted one, bit for bit, with the same thread count.
 * Resuming also drops the lines of train.jsonl after the checkpoint's step (steps a kill made twice).
 * The trajectory's settings (stage, steps, batch, lr, schedule, AdamW, clip, EMA, seed, the task's config)
 * are stored in the checkpoint as JSON; a resume with different ones fails, naming the first that differs.
 *
 * Threads: the trainer itself runs on the calling thread; the task's ops use nn_threads_get() threads.
 *
 * Ranks (under mpirun, dist.h): every rank calls ild_train_run with the same settings; task->batch is the global
 * batch and each rank's task makes only its share of it (stages.h). Rank 0 alone checks or creates out_dir and
 * loads the resume checkpoint, then sends the start (step, values, moments, EMA, RNG, task state) to every rank;
 * after forward_backward the gradients are averaged over the ranks (allreduce.h), so every rank takes the same
 * step; the loss terms logged are their means over the ranks; a stop request on any rank stops every rank after
 * the same step. Rank 0 alone logs, shows progress (samples/s of the global batch), validates and writes
 * checkpoints and the model; res->val and res->checkpoint are filled on rank 0 only.
 */
#ifndef ILDIFF_TRAIN_TRAINER_H
#define ILDIFF_TRAIN_TRAINER_H

#include "ildiff.h"
#include "nn/optim.h"
#include "nn/params.h"
#include "nn/rng.h"

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Named scalars: the loss terms of a step, the metrics of a validation. */
#define ILD_TERMS_MAX 16
#define ILD_TERM_NAME_MAX 32
typedef struct ild_terms {
    int count;
    char name[ILD_TERMS_MAX][ILD_TERM_NAME_MAX];
    double value[ILD_TERMS_MAX];
} ild_terms;

/* Appends a term (names longer than ILD_TERM_NAME_MAX - 1 are cut). Returns false when the list is full. */
bool ild_terms_add(ild_terms *t, const char *name, double value);

typedef struct ild_task {
    void *user;
    nn_params *params;   /* allocated and initialised; the trainer allocates its moments and EMA */
    int64_t batch;       /* samples per step (the data cursor and samples/s count them) */
    const char *config;  /* the task's settings as a JSON object (stored in checkpoints; "{}" if none) */
    /* Makes the batch of 0-based step `step` in the task's own buffers. */
    ildiff_status (*next_batch)(void *user, int64_t step, nn_rng *rng);
    /* Forward and backward of the current batch: ACCUMULATES the gradients into the table's grad block (zeroed
     * by the trainer) and fills `loss` (the first term is the objective shown first; all are logged). */
    ildiff_status (*forward_backward)(void *user, nn_rng *rng, ild_terms *loss);
    /* Optional: metrics on the task's held-out set with the table's current values. */
    ildiff_status (*validate)(void *user, ild_terms *metrics);
    /* Optional: called after each checkpoint is written, with its path. */
    ildiff_status (*on_checkpoint)(void *user, const char *path);
    /* Optional: the task's own resumable state (e.g. a sampler cursor) as malloc'd JSON, and its restore. */
    char *(*save_state)(void *user);
    ildiff_status (*load_state)(void *user, const char *json);
} ild_task;

typedef struct ild_train_cfg {
    const char *out_dir;          /* the run folder (created if missing) */
    const char *stage;            /* stage name stored in checkpoints */
    int64_t steps;                /* total optimizer steps, e.g. 3000 */
    int64_t warmup;               /* linear warmup steps, e.g. 100 */
    float lr, lr_min;             /* peak learning rate and the cosine's floor */
    nn_adamw_cfg adamw;           /* betas, eps, weight decay (its lr is ignored) */
    float clip;                   /* global gradient-norm limit; 0 = no clipping */
    float ema_decay;              /* 0 = no EMA, e.g. 0.999 */
    uint64_t seed;                /* seeds the trainer's RNG */
    int64_t val_every;            /* validate every N steps (and at the end); 0 = only at the end */
    int64_t ckpt_every;           /* checkpoint every N steps (and at the end, and on stop); 0 = only then */
    int keep;                     /* checkpoints kept, e.g. 3 */
    int64_t log_every;            /* progress lines every N steps when `progress` is not a terminal */
    bool resume;                  /* continue from out_dir/latest */
    bool val_on_ema;              /* validate with the EMA weights when EMA is on */
    FILE *progress;               /* the progress line's stream (stderr), NULL for none */
    volatile sig_atomic_t *stop;  /* set non-zero (e.g. by a signal handler) to stop after the current step */
} ild_train_cfg;

/* steps 1000, warmup 50, lr 1e-3, lr_min 1e-5, AdamW defaults, clip 1, EMA 0.999, seed 1, val_every 100,
 * ckpt_every 500, keep 3, log_every 50, val_on_ema, no progress stream. */
ild_train_cfg ild_train_defaults(void);

typedef struct ild_train_result {
    int64_t step;          /* completed steps */
    bool interrupted;      /* stopped by *stop before the last step (a checkpoint was written) */
    double seconds;        /* wall time of this call's steps */
    ild_terms loss;        /* the last step's loss terms */
    ild_terms val;         /* the last validation's metrics (count 0 if none ran) */
    char checkpoint[4200]; /* the last checkpoint written ("" if none) */
} ild_train_result;

/* Runs (or resumes) training. Fails with ILDIFF_ERR_EXISTS (a fresh run in a folder that holds a run),
 * ILDIFF_ERR_ARG (bad settings, or a resume whose settings or stage differ from the checkpoint's),
 * ILDIFF_ERR_FORMAT (checkpoint of another model), ILDIFF_ERR_INTERNAL (a loss that is not finite, naming
 * the step), ILDIFF_ERR_IO, ILDIFF_ERR_NOMEM, or whatever the task's callbacks return. *res is filled as far
 * as the run got. */
ildiff_status ild_train_run(const ild_train_cfg *cfg, const ild_task *task, ild_train_result *res);

/* The trajectory's settings of cfg + task as a malloc'd JSON object (what checkpoints store), NULL on NOMEM. */
char *ild_train_config_json(const ild_train_cfg *cfg, const ild_task *task);

#endif
