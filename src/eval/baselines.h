/*
 * baselines.h: the two classical ways people cut a sticker out of its background today, as Table II rows:
 *   key    colour keying: each pixel's alpha ramps from 0 to 1 as its RGB distance to the background colour goes
 *          from key_lo to key_hi (Euclidean, 8-bit units).
 *   flood  border flood fill: the 4-connected region reached from the border through pixels within flood_tol of
 *          the background colour becomes transparent, the rest opaque; then a box feather of radius
 *          flood_feather softens the cut.
 * Both estimate the background colour of each frame as the per-channel median of its border pixels, and both
 * give straight colour by un-compositing: F = B + (I - B) / alpha (clamped), so colour metrics can score them.
 * Internal to libildiff.
 */
#ifndef ILDIFF_EVAL_BASELINES_H
#define ILDIFF_EVAL_BASELINES_H

#include "../base/base.h"

typedef struct ild_baseline_params {
    double key_lo, key_hi;  /* 0 <= key_lo < key_hi <= 442 (the RGB cube's diagonal) */
    double flood_tol;       /* 0..442 */
    double flood_feather;   /* box radius in pixels, a whole number 0..8 */
} ild_baseline_params;

/* The frozen defaults (see baselines.c for how they were chosen). */
ild_baseline_params ild_baseline_params_default(void);

/* The parameters by name, for `--set NAME=VALUE` and for printing: "key_lo", "key_hi", "flood_tol",
 * "flood_feather". */
typedef struct ild_baseline_param_info {
    const char *name;
    size_t offset; /* of the double in ild_baseline_params */
    double lo, hi;
    bool integer;
    const char *help;
} ild_baseline_param_info;
extern const ild_baseline_param_info ild_baseline_param_table[];
extern const int ild_baseline_param_count;

/* Sets one parameter from "NAME=VALUE". Fails with ILDIFF_ERR_ARG for an unknown name or a value out of range. */
ildiff_status ild_baseline_param_set(ild_baseline_params *params, const char *assignment);
/* Checks the ranges and key_lo < key_hi. Fails with ILDIFF_ERR_ARG naming the bad parameter. */
ildiff_status ild_baseline_params_check(const ild_baseline_params *params);

/* The per-channel median (lower median) of the border pixels of one (H, W, 3) frame. */
void ild_border_colour(const uint8_t *rgb, int32_t w, int32_t h, uint8_t bg[3]);
/* dist[i] = Euclidean distance of pixel i to bg, in 8-bit units: (H, W). */
void ild_colour_distance(const uint8_t *rgb, size_t n, const uint8_t bg[3], float *dist);

/* Alpha of one frame from its distance map. */
void ild_key_alpha(const float *dist, size_t n, const ild_baseline_params *params, float *alpha);
/* stack: (H, W) int32 scratch, tmp: (H, W) float scratch. */
void ild_flood_alpha(const float *dist, int32_t w, int32_t h, const ild_baseline_params *params, float *alpha,
                     int32_t *stack, float *tmp);

typedef enum ild_baseline { ILD_BASELINE_KEY, ILD_BASELINE_FLOOD } ild_baseline;

/* Runs a baseline over T frames: rgb (T, H, W, 3) -> alpha (T, H, W) and, when colour is not NULL, straight
 * colour (T, H, W, 3). Fails with ILDIFF_ERR_ARG for bad parameters, ILDIFF_ERR_NOMEM. */
ildiff_status ild_baseline_run(ild_baseline which, const ild_baseline_params *params, const uint8_t *rgb, int32_t w,
                               int32_t h, int32_t frames, float *alpha, uint8_t *colour);

#endif
