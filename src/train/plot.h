/*
 * plot.h: small charts drawn as RGBA and written as PNG, with no dependency beyond the PNG encoder: line
 * charts (loss curves, linear or log10 y axis) and grouped bar charts (the paper's Fig. 4: one group per
 * category, one bar per series). Axes with "nice" ticks and grid lines, a title, axis labels, and a legend with
 * one colour per series, all lettered with a built-in 5x7 bitmap font (ASCII; other bytes print as '?').
 *
 *     double x[3] = {1, 2, 3}, y[3] = {0.9, 0.5, 0.3};
 *     ild_plot_series s = {.name = "loss", .x = x, .y = y, .n = 3};
 *     ild_plot pl = ild_plot_defaults();
 *     pl.title = "training loss", pl.log_y = true;
 *     ild_plot_write("loss.png", &pl, &s, 1);
 *
 *     // bars: series[i].y[k] is series i's value in category k (x unused)
 *     const char *cats[] = {"semi-open", "white parts", "soft alpha"};
 *     pl = ild_plot_defaults(), pl.kind = ILD_PLOT_BARS, pl.categories = cats, pl.category_count = 3;
 *
 * Non-finite y values (and y <= 0 on a log axis) are skipped: a line breaks there, a bar is not drawn.
 */
#ifndef ILDIFF_TRAIN_PLOT_H
#define ILDIFF_TRAIN_PLOT_H

#include "ildiff.h"

#include <stdbool.h>
#include <stdint.h>

typedef enum ild_plot_kind { ILD_PLOT_LINES, ILD_PLOT_BARS } ild_plot_kind;

typedef struct ild_plot_series {
    const char *name;     /* legend text */
    const double *x, *y;  /* (n) points in x order for lines; bars use y only, (category_count) values */
    int64_t n;
} ild_plot_series;

typedef struct ild_plot {
    ild_plot_kind kind;
    int32_t width, height;             /* pixels, 160..8192, default 800 x 480 */
    const char *title, *xlabel, *ylabel; /* may be NULL */
    bool log_y;                        /* log10 y axis */
    const char *const *categories;     /* bars: (category_count) labels under the groups */
    int category_count;
} ild_plot;

#define ILD_PLOT_MAX_SERIES 16

/* Lines, 800 x 480, linear axes, no texts. */
ild_plot ild_plot_defaults(void);

/* The colour of series i (a fixed palette, repeating after 10). */
void ild_plot_color(int i, uint8_t rgb[3]);

/* Draws the chart into a malloc'd (height, width, 4) RGBA8 image. Fails with ILDIFF_ERR_ARG (size out of
 * range, no series, more than ILD_PLOT_MAX_SERIES, bars without categories or with a series of another length),
 * ILDIFF_ERR_NOMEM. A chart with no drawable value draws empty axes. */
ildiff_status ild_plot_render(const ild_plot *pl, const ild_plot_series *s, int count, uint8_t **rgba);

/* ild_plot_render, then PNG-encoded and written atomically to `path` (overwriting). Errors as render, plus
 * ILDIFF_ERR_IO naming the file. */
ildiff_status ild_plot_write(const char *path, const ild_plot *pl, const ild_plot_series *s, int count);

/* Draws a training log (train.jsonl, trainer.h): DIR/loss.png with every loss term against the step, and
 * DIR/val.png with every validation metric when there are validations. Fails with ILDIFF_ERR_IO (unreadable),
 * ILDIFF_ERR_FORMAT (no line of the log is a training record), ILDIFF_ERR_NOMEM. */
ildiff_status ild_plot_train_log(const char *jsonl_path, const char *dir, bool log_y);

#endif
