/*
 * effects.c: the soft-alpha effects on premultiplied float frames (H, W, 4): box blur (three passes approach a
 * Gaussian), and "under layers": a coverage map in one colour composited beneath the frame (drop shadow, glow,
 * die-cut outline). Cannot fail; callers own every buffer.
 */
#include "dataset.h"

#include <string.h>

/* One running-sum box pass along a line of n samples at stride `step`, radius r, zero outside. */
static void box_line(float *p, int32_t n, size_t step, int32_t r, float *line)
{
    for (int32_t i = 0; i < n; i++) line[i] = p[(size_t)i * step];
    double sum = 0, inv = 1.0 / (2 * r + 1);
    for (int32_t i = 0; i < ILD_MIN(r, n); i++) sum += line[i];
    for (int32_t i = 0; i < n; i++) {
        if (i + r < n) sum += line[i + r];
        if (i - r - 1 >= 0) sum -= line[i - r - 1];
        p[(size_t)i * step] = (float)(sum * inv);
    }
}

void ild_blur_plane(float *plane, int32_t w, int32_t h, int32_t r, float *tmp)
{
    if (r <= 0) return;
    for (int pass = 0; pass < 3; pass++) {
        for (int32_t y = 0; y < h; y++) box_line(plane + (size_t)y * w, w, 1, r, tmp);
        for (int32_t x = 0; x < w; x++) box_line(plane + x, h, (size_t)w, r, tmp);
    }
}

void ild_under_layer(float *frame, const float *cov, const float rgb[3], int32_t w, int32_t h)
{
    size_t n = (size_t)w * h;
    for (size_t i = 0; i < n; i++) {
        float *p = frame + i * 4, c = cov[i] < 0 ? 0 : cov[i] > 1 ? 1 : cov[i], k = c * (1 - p[3]);
        p[0] += rgb[0] * k;
        p[1] += rgb[1] * k;
        p[2] += rgb[2] * k;
        p[3] += k;
    }
}
