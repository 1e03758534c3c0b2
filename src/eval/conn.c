/*
 * conn.c: RVM's connectivity error (evaluation/evaluate_lr.py, MetricCONN; after DIM). For each threshold
 * t_i = i * 0.1, i = 1..10, the largest 4-connected component omega of (t >= t_i) & (p >= t_i) is found (ties go
 * to the component met first in raster order); pixels not yet assigned and outside omega get round_down = t_{i-1};
 * pixels never assigned get 1. Then d = a - round_down, phi = 1 - d [d >= 0.15] for a in {t, p}, and
 * Conn = sum |phi_t - phi_p| / 1000. Per-pixel arithmetic and comparisons are float32, as numpy 1.x does on RVM's
 * float32 arrays against float scalars, so threshold decisions match the reference bit for bit.
 */
#include "metrics.h"

#include <math.h>
#include <stdlib.h>

#define CONN_STEP 0.1
#define CONN_THETA 0.15
enum { CONN_LEVELS = 11 }; /* thresholds 0, 0.1, ..., 1.0 */

/* Labels the 4-connected components of mask (1 = in) in raster order and returns, in *best, the first pixel of
 * the largest one (-1 if the mask is empty). mask values of visited pixels become 2. stack: (H*W) scratch. */
static void largest_component(uint8_t *mask, int32_t w, int32_t h, int32_t *stack, int32_t *best)
{
    int64_t best_size = 0;
    *best = -1;
    int32_t n = w * h;
    for (int32_t s = 0; s < n; s++) {
        if (mask[s] != 1) continue;
        int64_t size = 0, top = 0;
        mask[s] = 2;
        stack[top++] = s;
        while (top > 0) {
            int32_t i = stack[--top];
            size++;
            int32_t x = i % w, y = i / w;
            int32_t nb[4] = {x > 0 ? i - 1 : -1, x < w - 1 ? i + 1 : -1, y > 0 ? i - w : -1, y < h - 1 ? i + w : -1};
            for (int k = 0; k < 4; k++)
                if (nb[k] >= 0 && mask[nb[k]] == 1) {
                    mask[nb[k]] = 2;
                    stack[top++] = nb[k];
                }
        }
        if (size > best_size) {
            best_size = size;
            *best = s;
        }
    }
}

/* Marks the component containing `seed` in mask (values 2) with 3. */
static void mark_component(uint8_t *mask, int32_t w, int32_t h, int32_t *stack, int32_t seed)
{
    int64_t top = 0;
    mask[seed] = 3;
    stack[top++] = seed;
    while (top > 0) {
        int32_t i = stack[--top];
        int32_t x = i % w, y = i / w;
        int32_t nb[4] = {x > 0 ? i - 1 : -1, x < w - 1 ? i + 1 : -1, y > 0 ? i - w : -1, y < h - 1 ? i + w : -1};
        for (int k = 0; k < 4; k++)
            if (nb[k] >= 0 && mask[nb[k]] == 2) {
                mask[nb[k]] = 3;
                stack[top++] = nb[k];
            }
    }
}

ildiff_status ild_metric_conn(const float *p, const float *t, int32_t w, int32_t h, double *out)
{
    size_t n = (size_t)w * (size_t)h;
    uint8_t *mask = malloc(n);
    int32_t *stack = malloc(n * sizeof *stack);
    float *round_down = malloc(n * sizeof *round_down); /* (H, W); -1 = not yet assigned */
    if (!mask || !stack || !round_down) {
        free(mask);
        free(stack);
        free(round_down);
        return ild_fail(ILDIFF_ERR_NOMEM, "out of memory for Conn of a %dx%d frame", w, h);
    }
    for (size_t i = 0; i < n; i++) round_down[i] = -1.0f;
    for (int lv = 1; lv < CONN_LEVELS; lv++) {
        float th = (float)(lv * CONN_STEP); /* numpy arange: start + i * step */
        for (size_t i = 0; i < n; i++) mask[i] = t[i] >= th && p[i] >= th;
        int32_t seed;
        largest_component(mask, w, h, stack, &seed);
        if (seed >= 0) mark_component(mask, w, h, stack, seed);
        float prev = (float)((lv - 1) * CONN_STEP);
        for (size_t i = 0; i < n; i++)
            if (round_down[i] == -1.0f && mask[i] != 3) round_down[i] = prev;
    }
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        float rd = round_down[i] == -1.0f ? 1.0f : round_down[i];
        float dt = t[i] - rd, dp = p[i] - rd;
        float phi_t = dt >= (float)CONN_THETA ? 1.0f - dt : 1.0f;
        float phi_p = dp >= (float)CONN_THETA ? 1.0f - dp : 1.0f;
        s += fabs((double)phi_t - (double)phi_p);
    }
    free(mask);
    free(stack);
    free(round_down);
    *out = s / 1000.0;
    return ILDIFF_OK;
}
