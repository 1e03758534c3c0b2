/*
 * checkpoint.h: training checkpoints. A checkpoint is one safetensors file (F32, bit-exact) holding everything
 * a run needs to continue exactly as if it had never stopped:
 *
 *   tensors    NAME             the parameters (state-dict keys, so the file also loads as plain weights with
 *                               nn_st_load_params(..., NN_ST_ALLOW_UNUSED))
 *              optim.m/NAME     AdamW first moments   (when the table has them)
 *              optim.v/NAME     AdamW second moments  (when the table has them)
 *              ema/NAME         EMA of the parameters (when the table has it)
 *   metadata   format "ildiff-checkpoint-1", stage, step (completed steps), data_cursor (samples consumed),
 *              rng (the trainer's xoshiro state, four 16-digit hex words joined by ':'), config (JSON text),
 *              task_state (optional JSON text the task saves: its own cursors or RNGs)
 *
 * In a run folder, checkpoints are named ckpt-SSSSSSSS.safetensors (S = step, 8 digits or more) and the text
 * file `latest` names the newest; both are written atomically (temporary file + rename), the checkpoint first,
 * so a crash at any moment leaves `latest` pointing at a complete file. Older checkpoints beyond the last K
 * are deleted after `latest` is updated.
 *
 *     ild_ckpt_meta m = {.step = 100, .data_cursor = 800, .rng = rng, .stage = "toy", .config = json};
 *     ild_ckpt_save("run", &params, &m, 3, path, sizeof path);
 *     ild_ckpt_latest("run", path, sizeof path);
 *     ild_ckpt_meta got;
 *     ild_ckpt_load(path, &params, &got);   // validates every tensor before copying any
 *     ild_ckpt_meta_clear(&got);
 */
#ifndef ILDIFF_TRAIN_CHECKPOINT_H
#define ILDIFF_TRAIN_CHECKPOINT_H

#include "ildiff.h"
#include "nn/params.h"
#include "nn/rng.h"

#include <stddef.h>
#include <stdint.h>

#define ILD_CKPT_FORMAT "ildiff-checkpoint-1"
#define ILD_CKPT_STAGE_MAX 64
#define ILD_CKPT_MAX_BYTES ((int64_t)1 << 40)

typedef struct ild_ckpt_meta {
    int64_t step;                  /* completed optimizer steps */
    int64_t data_cursor;           /* training samples consumed so far */
    nn_rng rng;                    /* the trainer's random state after `step` steps */
    char stage[ILD_CKPT_STAGE_MAX]; /* "toy", "S1", ... */
    char *config;                  /* JSON text; on save the caller's, on load malloc'd (meta_clear frees) */
    char *task_state;              /* JSON text or NULL; same ownership as config */
} ild_ckpt_meta;

/* Frees config and task_state of a loaded meta and zeroes it. */
void ild_ckpt_meta_clear(ild_ckpt_meta *m);

/* The file name of the checkpoint of `step` ("ckpt-00000100.safetensors") into buf. */
void ild_ckpt_name(int64_t step, char *buf, size_t cap);

/* Writes DIR/ckpt-STEP.safetensors from the table's values, moments and EMA (those allocated), then DIR/latest,
 * then deletes all but the `keep` newest checkpoints of DIR (keep < 1 keeps all). `path_out` (may be NULL)
 * receives the written path. The folder must exist. Fails with ILDIFF_ERR_IO / ILDIFF_ERR_EXISTS (the previous
 * checkpoint and `latest` are left as they were), ILDIFF_ERR_NOMEM, ILDIFF_ERR_ARG (no stage or config). */
ildiff_status ild_ckpt_save(const char *dir, const nn_params *p, const ild_ckpt_meta *meta, int keep, char *path_out,
                            size_t cap);

/* The path of the checkpoint DIR/latest names. Fails with ILDIFF_ERR_IO "no checkpoint in DIR" when there is no
 * `latest`, ILDIFF_ERR_FORMAT when it does not name a checkpoint file. */
ildiff_status ild_ckpt_latest(const char *dir, char *path, size_t cap);

/* Reads only the metadata of a checkpoint into *meta (caller clears it). Fails with ILDIFF_ERR_IO,
 * ILDIFF_ERR_FORMAT (not a checkpoint: missing or malformed key, named in the reason), ILDIFF_ERR_NOMEM. */
ildiff_status ild_ckpt_read_meta(const char *path, ild_ckpt_meta *meta);

/* Loads a checkpoint into an allocated table: its values, and its moments and EMA when the table has those
 * blocks. Everything is validated before anything is copied: every tensor the table's blocks need must be in
 * the file as F32 with the same shape, and the file must have no other tensor. On failure (ILDIFF_ERR_FORMAT
 * naming the first mismatch, ILDIFF_ERR_IO, ILDIFF_ERR_NOMEM) the table is untouched. `meta` (may be NULL)
 * receives the metadata; the caller clears it. */
ildiff_status ild_ckpt_load(const char *path, nn_params *p, ild_ckpt_meta *meta);

#endif
