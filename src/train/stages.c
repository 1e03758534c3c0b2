/*
 * stages.c: the one table of training stages (stages.h).
 *
 * A model stage is src/train/stage_sN.c with ild_sN_create / ild_sN_destroy building an ild_task (trainer.h) whose
 * params table holds the model (frozen parts carry NN_PARAM_FROZEN, so each stage's model file carries what the
 * next stage loads with --init), next_batch drawing clips from the corpus through stage_util.h / loader.h (the
 * train split, keyed by (seed, step, global index)), forward_backward running the model and its losses, and
 * validate scoring the corpus's val split (never the test split, TASD-T). A row whose create is NULL would make
 * `ildiff train --stage NAME` say "stage NAME is not available yet" and --help list it as planned.
 *
 *   S0  VAE E + D on corpus frames (L1 + MSE reconstruction, a small latent regulariser), then frozen
 *   S1  offset encoder E_a + transparent decoder D_T on single frames (L_alpha, L_rgb, harmlessness)
 *   S2a layout teacher on part masks
 *   S2b the ViT student distilled from the frozen teacher by SAMI (masked image modelling)
 *   S3  temporal adapter + D_T fine-tune on clips, E and the student frozen
 */
#include "train/stages.h"

#include <string.h>

const ild_stage ild_stages[] = {
    {.name = "toy", .summary = "tiny conv net learning a synthetic alpha task (tests, smoke runs)",
     .steps = 300, .batch = 8, .warmup = 20, .lr = 3e-3f, .lr_min = 1e-4f, .clip = 1.0f, .ema = 0.99f,
     .create = ild_toy_create, .destroy = ild_toy_destroy},
    {.name = "S0", .summary = "VAE encoder + decoder on corpus frames", .needs_corpus = true,
     .steps = 8000, .batch = 16, .warmup = 500, .lr = 1e-3f, .lr_min = 1e-5f, .clip = 1.0f, .ema = 0.999f,
     .create = ild_s0_create, .destroy = ild_s0_destroy},
    {.name = "S1", .summary = "offset encoder + transparent decoder on single frames", .needs_corpus = true,
     .steps = 4000, .batch = 8, .warmup = 500, .lr = 1e-3f, .lr_min = 1e-5f, .clip = 1.0f, .ema = 0.999f,
     .create = ild_s1_create, .destroy = ild_s1_destroy},
    {.name = "S2a", .summary = "layout teacher on the corpus's part masks", .needs_corpus = true,
     .steps = 3000, .batch = 8, .warmup = 200, .lr = 5e-4f, .lr_min = 1e-5f, .clip = 1.0f, .ema = 0.999f,
     .create = ild_s2a_create, .destroy = ild_s2a_destroy},
    {.name = "S2b", .summary = "SAMI distillation of the layout student from the frozen teacher",
     .needs_corpus = true, .steps = 5000, .batch = 64, .warmup = 200, .lr = 5e-4f, .lr_min = 1e-5f, .clip = 1.0f,
     .ema = 0.999f, .create = ild_s2b_create, .destroy = ild_s2b_destroy},
    {.name = "S3", .summary = "temporal adapter + transparent decoder fine-tune on clips", .needs_corpus = true,
     .steps = 2000, .batch = 2, .warmup = 100, .lr = 2e-4f, .lr_min = 1e-5f, .clip = 1.0f, .ema = 0.999f,
     .create = ild_s3_create, .destroy = ild_s3_destroy},
};
const int ild_stage_count = sizeof ild_stages / sizeof ild_stages[0];

const ild_stage *ild_stage_find(const char *name)
{
    for (int i = 0; i < ild_stage_count; i++)
        if (strcmp(ild_stages[i].name, name) == 0) return &ild_stages[i];
    return NULL;
}
