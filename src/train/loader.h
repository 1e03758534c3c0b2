/*
 * loader.h: the training data source of the model stages: clips drawn from a built corpus folder
 * (`ildiff dataset build`: manifest.jsonl + corpus.json + shard-NNNNN.tar), as the model meets them.
 *
 * Only the samples of the requested split are used (train for training, val for validation; the test split is
 * refused). A sample is decoded only when a clip needs it: the loader indexes a shard's tar headers the first
 * time it reads from it (offsets only), reads that one sample's bytes, and keeps the last `cache` decoded samples
 * (LRU). A clip of sample i with key k: T consecutive frames from a start drawn from k (looping short stickers),
 * a random square crop (side 70-100 % of the canvas, random position, random horizontal flip) resized bilinearly
 * (premultiplied) to size x size, part ids by nearest neighbour, then composited over a background with damage by
 * the clip sampler (ild_clip_sample, seeded from k). Everything is a function of (sample, key).
 *
 * Sample order: the cursor-th sample drawn is perm_e[cursor mod n], e = cursor / n, where perm_e is a shuffle of
 * the split's samples seeded from (seed, e): every sample once per epoch, the order a function of the cursor.
 */
#ifndef ILDIFF_TRAIN_LOADER_H
#define ILDIFF_TRAIN_LOADER_H

#include "ildiff.h"

#include <stdint.h>

typedef struct ild_loader ild_loader;

typedef struct ild_loader_cfg {
    const char *dir;   /* corpus folder */
    const char *split; /* "train" or "val" */
    int32_t size;      /* output side in pixels (>= 8) */
    int32_t frames;    /* T, frames per clip (>= 1) */
    uint64_t seed;     /* sample order */
    int32_t cache;     /* decoded samples kept (>= 1) */
} ild_loader_cfg;

/* One clip, caller-allocated for the loader's T and size (S = size * size). */
typedef struct ild_clip {
    float *rgb;     /* (T, 3, S) the composited, damaged input in [0,1] */
    float *alpha;   /* (T, 1, S) ground-truth alpha */
    float *fg;      /* (T, 3, S) ground-truth straight foreground colour (0 where alpha is 0) */
    int32_t *ids;   /* (T, S) part ids, 0 background; may be NULL */
} ild_clip;

/* Opens the corpus. Fails with ILDIFF_ERR_ARG (bad settings, the test split), ILDIFF_ERR_IO (no manifest:
 * naming the folder), ILDIFF_ERR_FORMAT (a bad manifest line), ILDIFF_ERR_NOMEM. A split without samples is
 * not an error (ild_loader_count is 0). */
ildiff_status ild_loader_open(const ild_loader_cfg *cfg, ild_loader **out);
void ild_loader_free(ild_loader *l);

/* Samples of the split. */
int64_t ild_loader_count(const ild_loader *l);

/* The sample position (0 .. count-1) the cursor-th draw takes (count must be >= 1). */
int64_t ild_loader_pick(ild_loader *l, int64_t cursor);

/* Makes the clip of sample `pos` with key `key` into *out. Fails with ILDIFF_ERR_IO / ILDIFF_ERR_FORMAT naming
 * the shard (a missing, corrupt or truncated sample), ILDIFF_ERR_NOMEM, or the clip sampler's errors. */
ildiff_status ild_loader_clip(ild_loader *l, int64_t pos, uint64_t key, ild_clip *out);

#endif
