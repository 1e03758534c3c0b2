/*
 * metrics.h: the evaluation yardstick (DESIGN.md section 4): alpha-matte metrics per frame, the two automatic
 * stand-ins for the paper's human study, and one clip's scores. Internal to libildiff.
 *
 * Alpha planes are float (H, W) in [0, 1], row-major; `p` is the prediction, `t` the ground truth. To match the
 * reference scripts, an 8-bit alpha k is read as (float)k / 255.0f (RVM reads PNGs to float32 and divides by 255).
 *
 * Definitions (each matches a Python transcription in tests/reference/ref_metrics.py):
 *   PSNR   10 log10(1 / MSE), MSE = mean (p - t)^2 floored at 1e-6, so a perfect frame scores 60 dB.
 *   SSIM   scikit-image 0.19 structural_similarity(data_range=1) with its defaults: 7x7 uniform window, K1 0.01,
 *          K2 0.03, sample covariance (N / (N - 1)), mean over the pixels whose window lies inside the image.
 *   MAD    mean |p - t| x 1e3                               (RVM evaluation/evaluate_lr.py, as all below)
 *   MSE    mean (p - t)^2 x 1e3
 *   Grad   min-max normalise p and t, gradient magnitude with 9x9 Gaussian-derivative filters (sigma 1.4,
 *          replicated border), sum of squared differences / 1e3
 *   Conn   connectivity error with thresholds 0, 0.1, ..., 1 and theta 0.15, 4-connected components, / 1e3
 *   dtSSD  sqrt(sum ((p_t - p_t-1) - (t_t - t_t-1))^2 / N) x 1e2; the first frame of a clip scores 0
 *   fgr    MAD and MSE (x 1e3) of the colour (/255) over the pixels with t > 0, every channel
 *   hole   enclosed holes: pixels with t < 0.05 in 4-connected components of such pixels that do not touch the
 *          border; the mean predicted alpha over them, pooled over a clip's frames (1 = holes filled)
 *   collapse  pixels with t > 0.95 whose clean colour is within 30/255 (max channel difference) of the background
 *          colour at that pixel; the mean of (1 - p) over them, pooled over a clip's frames (1 = parts vanished)
 * hole and collapse count for a clip only when it has at least ILD_POOL_MIN_PIXELS such pixels.
 */
#ifndef ILDIFF_EVAL_METRICS_H
#define ILDIFF_EVAL_METRICS_H

#include "../base/base.h"

/* Every metric a clip is scored on, in report order. */
typedef enum ild_metric {
    ILD_METRIC_PSNR,
    ILD_METRIC_SSIM,
    ILD_METRIC_MAD,
    ILD_METRIC_MSE,
    ILD_METRIC_GRAD,
    ILD_METRIC_CONN,
    ILD_METRIC_DTSSD,
    ILD_METRIC_FGR_MAD,
    ILD_METRIC_FGR_MSE,
    ILD_METRIC_HOLE,
    ILD_METRIC_COLLAPSE,
    ILD_METRIC_COUNT
} ild_metric;

/* Short name used in reports and the summary line ("PSNR", "SSIM", "MAD", ..., "hole", "collapse"). */
const char *ild_metric_name(ild_metric m);
/* True when larger is better (PSNR, SSIM); every other metric is an error. */
bool ild_metric_higher_better(ild_metric m);

#define ILD_PSNR_MSE_FLOOR 1e-6
#define ILD_POOL_MIN_PIXELS 16
#define ILD_HOLE_ALPHA 0.05      /* t below this is background */
#define ILD_OPAQUE_ALPHA 0.95    /* t above this is opaque */
#define ILD_COLLAPSE_COLOUR 30   /* max channel difference (8-bit) to call a colour "the background's" */

/* ---- per frame ---- */
double ild_metric_psnr(const float *p, const float *t, size_t n);
double ild_metric_mad(const float *p, const float *t, size_t n);
double ild_metric_mse(const float *p, const float *t, size_t n);
double ild_metric_dtssd(const float *p, const float *p_prev, const float *t, const float *t_prev, size_t n);
/* Fails with ILDIFF_ERR_ARG when w or h is below 7 (scikit-image refuses those too), ILDIFF_ERR_NOMEM. */
ildiff_status ild_metric_ssim(const float *p, const float *t, int32_t w, int32_t h, double *out);
/* Fails only with ILDIFF_ERR_NOMEM. */
ildiff_status ild_metric_grad(const float *p, const float *t, int32_t w, int32_t h, double *out);
ildiff_status ild_metric_conn(const float *p, const float *t, int32_t w, int32_t h, double *out);
/* Colour error over the pixels with t_alpha > 0. p_rgb and t_rgb step by p_stride / t_stride bytes per pixel
 * (3 for RGB, 4 for RGBA). Returns false (and leaves *mad, *mse alone) when no pixel has t_alpha > 0. */
bool ild_metric_fgr(const uint8_t *p_rgb, int p_stride, const uint8_t *t_rgb, int t_stride, const float *t_alpha,
                    size_t n, double *mad, double *mse);

/* A pooled mean: the stand-ins add sums and counts frame by frame. */
typedef struct ild_pool {
    double sum;
    int64_t count;
} ild_pool;

/* The enclosed-hole mask of a ground-truth frame: mask[i] = 1 for hole pixels. `stack` is scratch of w*h
 * int32. Returns the number of hole pixels. */
int64_t ild_hole_mask(const float *t, int32_t w, int32_t h, uint8_t *mask, int32_t *stack);
/* Adds one frame's hole pixels to the pool. Fails only with ILDIFF_ERR_NOMEM. */
ildiff_status ild_hole_add(const float *p, const float *t, int32_t w, int32_t h, ild_pool *pool);
/* Adds one frame's collapse pixels: clean colour from t_rgba (H, W, 4), background colour from bg_rgb (H, W, 3). */
void ild_collapse_add(const float *p, const float *t, const uint8_t *t_rgba, const uint8_t *bg_rgb, size_t n,
                      ild_pool *pool);
/* The pool's mean when it has at least ILD_POOL_MIN_PIXELS pixels; false otherwise. */
bool ild_pool_mean(const ild_pool *pool, double *out);

/* ---- one clip ---- */

/* What a clip is scored on. Optional parts are NULL when absent; the metrics that need them are then not
 * reported for this clip (fgr needs pred_rgb and gt_rgba, collapse needs gt_rgba and bg_rgb). */
typedef struct ild_clip_view {
    int32_t width, height, frames;
    const float *pred;      /* (T, H, W) predicted alpha */
    const float *gt;        /* (T, H, W) ground-truth alpha */
    const uint8_t *pred_rgb;/* (T, H, W, 3) predicted straight colour, or NULL */
    const uint8_t *gt_rgba; /* (T, H, W, 4) clean straight RGBA, or NULL */
    const uint8_t *bg_rgb;  /* (H, W, 3) clean background plate, or NULL */
} ild_clip_view;

typedef struct ild_clip_scores {
    double value[ILD_METRIC_COUNT];
    bool has[ILD_METRIC_COUNT]; /* false: not defined for this clip (no holes, no fgr data, ...) */
} ild_clip_scores;

/* Scores every frame and averages over the clip (hole and collapse pooled). Fails with ILDIFF_ERR_ARG for
 * frames under 7x7 or an empty clip, ILDIFF_ERR_NOMEM. */
ildiff_status ild_score_clip(const ild_clip_view *clip, ild_clip_scores *out);

#endif
