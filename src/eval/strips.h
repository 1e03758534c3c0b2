/*
 * strips.h: comparison strips (paper Fig. 5 and Fig. 6): pictures that put the input, the ground truth and each
 * method's cut-out side by side, each cut-out composited over a checkerboard (and optionally over black and
 * white) so that holes, lost white parts and soft edges show. Internal to libildiff.
 *
 * Two layers:
 *   - a grid of tiles with a title, column labels and row labels (ild_strip_render / ild_strip_write), drawn
 *     with the chart primitives and 5x7 font of src/train/raster.h;
 *   - the two figures of the paper report, which choose what to show from finished evaluations and run the
 *     methods again on those few samples to get their frames:
 *       hard samples (Fig. 6 stand-in): a row per sample; the samples are the highest-spread one tagged
 *         semi-open, the highest-spread one tagged white parts, then the rest by the spread of clip PSNR between
 *         methods (one method: by its PSNR shortfall from 60 dB); each row shows the frame where the methods'
 *         MAD differ most;
 *       flicker (Fig. 5 stand-in): the clip whose dtSSD differs most between methods, up to
 *         ILD_STRIP_FLICKER_FRAMES consecutive frames around the frame change that differs most; a row for the
 *         ground truth, then one per method.
 */
#ifndef ILDIFF_EVAL_STRIPS_H
#define ILDIFF_EVAL_STRIPS_H

#include "eval.h"

typedef enum ild_backdrop {
    ILD_BACKDROP_NONE,    /* the colour as is (alpha ignored): the input */
    ILD_BACKDROP_CHECKER, /* 8-pixel squares of white and light grey */
    ILD_BACKDROP_BLACK,
    ILD_BACKDROP_WHITE,
} ild_backdrop;

/* One picture in a grid: straight colour rgb (H, W, stride bytes per pixel, 3 or 4) with alpha (H, W) in [0, 1]
 * composited over the backdrop. A tile with rgb NULL stays blank. */
typedef struct ild_tile {
    int32_t width, height;
    const uint8_t *rgb;
    int rgb_stride;
    const float *alpha; /* NULL: opaque */
    ild_backdrop backdrop;
} ild_tile;

/* Each tile is scaled to fit an ILD_STRIP_CELL square (box average down, nearest up), centred. */
#define ILD_STRIP_CELL 144
#define ILD_STRIP_GAP 8
#define ILD_STRIP_TITLE_H 28
#define ILD_STRIP_HEADER_H 22
#define ILD_STRIP_LABEL_H 14
#define ILD_STRIP_MAX_COLS 32
#define ILD_STRIP_MAX_ROWS 32

typedef struct ild_strip_grid {
    const char *title;
    int rows, cols;                  /* 1..ILD_STRIP_MAX_ROWS, 1..ILD_STRIP_MAX_COLS */
    const char *const *col_labels;   /* (cols) */
    const char *const *row_labels;   /* (rows), drawn above each row */
    const ild_tile *tiles;           /* (rows, cols) */
} ild_strip_grid;

/* Width GAP + cols (CELL + GAP), height TITLE_H + HEADER_H + rows (LABEL_H + CELL + GAP). */
void ild_strip_size(int rows, int cols, int32_t *w, int32_t *h);
/* Draws the grid into a malloc'd (h, w, 4) RGBA8 image of ild_strip_size. Fails with ILDIFF_ERR_ARG for rows or
 * cols out of range or a tile of a bad size or stride, ILDIFF_ERR_NOMEM. */
ildiff_status ild_strip_render(const ild_strip_grid *g, uint8_t **rgba);
/* Renders and writes it as PNG at path (replacing it); also fails with ILDIFF_ERR_IO naming the file. */
ildiff_status ild_strip_write(const ild_strip_grid *g, const char *path);

/* ---- the report's figures ---- */

#define ILD_STRIP_FLICKER_FRAMES 6

typedef struct ild_strips_options {
    const ild_eval_options *eval;          /* samples_dir, limits, baseline parameters */
    const char *const *methods;            /* (method_count) method specs, as given to ild_eval_run */
    const char *const *labels;             /* (method_count) short names for the pictures */
    const ild_eval_result *const *results; /* (method_count) their evaluations on eval->samples_dir */
    int method_count;                      /* 1..ILD_STRIP_MAX_COLS - 2 */
    int max_samples;                       /* rows of the hard-sample strip, 1..8 */
    bool black_white;                      /* hard samples also over black and over white */
} ild_strips_options;

/* What a figure shows, for the report's text. */
typedef struct ild_strip_shown {
    char sample[128];
    int32_t frame;       /* the frame (hard samples) or the first frame (flicker) */
    int32_t frames;      /* 1, or the consecutive frames shown */
    char why[40];        /* "semi-open", "white parts", "largest spread", "largest dtSSD spread" */
} ild_strip_shown;

typedef struct ild_strip_info {
    int shown_count;
    ild_strip_shown shown[8];
    int32_t width, height; /* of the picture */
} ild_strip_info;

/* Writes the hard-sample strip to path. Fails when the results do not cover the same clips
 * (ILDIFF_ERR_ARG), when a sample cannot be read or a method fails on it (the reason names it), or with
 * ILDIFF_ERR_IO / ILDIFF_ERR_NOMEM. */
ildiff_status ild_strips_hard(const ild_strips_options *o, const char *path, ild_strip_info *info);
/* Writes the flicker strip to path. When no clip has two frames it writes nothing and sets
 * info->shown_count to 0. Fails as ild_strips_hard. */
ildiff_status ild_strips_flicker(const ild_strips_options *o, const char *path, ild_strip_info *info);

#endif
