/*
 * raster.h: the drawing primitives of the charts (plot.h) on an RGBA8 canvas: filled rectangles, anti-aliased
 * thick polylines, and text in a built-in 5x7 bitmap font (6 pixels per character at scale 1; g p q y hang 2
 * rows below the 7). Internal: used by the charts (plot.c) and the comparison strips (src/eval/strips.c).
 * Every primitive clips to the canvas. A canvas that draws no polyline may leave cov NULL.
 */
#ifndef ILDIFF_TRAIN_RASTER_H
#define ILDIFF_TRAIN_RASTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ild_canvas {
    int32_t w, h;
    uint8_t *rgba; /* (h, w, 4), opaque */
    float *cov;    /* (h, w) coverage scratch of the polyline being drawn */
} ild_canvas;

/* Blends rgb over pixel (x, y) with opacity a in [0, 1]; outside the canvas does nothing. */
void ild_canvas_blend(ild_canvas *c, int32_t x, int32_t y, const uint8_t rgb[3], float a);
/* Fills [x0, x1) x [y0, y1). */
void ild_canvas_rect(ild_canvas *c, int32_t x0, int32_t y0, int32_t x1, int32_t y1, const uint8_t rgb[3]);

/* A polyline of `n` points (px, py in pixels, NaN = a break) `width` pixels thick: coverage is accumulated with
 * max() so joints are not drawn twice, then blended once. */
void ild_canvas_polyline(ild_canvas *c, const float *px, const float *py, int64_t n, float width, const uint8_t rgb[3]);

/* Text with its top-left corner at (x, y), each font pixel scale x scale; newline not interpreted. */
void ild_canvas_text(ild_canvas *c, int32_t x, int32_t y, const char *s, int scale, const uint8_t rgb[3]);
/* Width in pixels of `s` at `scale` (6 * scale per character, the last column's gap included). */
int32_t ild_text_width(const char *s, int scale);
/* The same vertically (bottom to top), for a y-axis label; (x, y) is the top-left of the rotated box. */
void ild_canvas_text_up(ild_canvas *c, int32_t x, int32_t y, const char *s, int scale, const uint8_t rgb[3]);

#endif
