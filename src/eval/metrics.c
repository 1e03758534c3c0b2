/*
 * metrics.c: the pixel-wise alpha metrics (PSNR, MAD, MSE, dtSSD, foreground colour), the two stand-ins (hole
 * residue, collapse) and the scoring of one clip: each metric per frame, then the mean over the clip's frames.
 * Definitions in metrics.h. SSIM, Grad and Conn live in ssim.c, grad.c and conn.c.
 */
#include "metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const metric_names[ILD_METRIC_COUNT] = {
    [ILD_METRIC_PSNR] = "PSNR",       [ILD_METRIC_SSIM] = "SSIM",        [ILD_METRIC_MAD] = "MAD",
    [ILD_METRIC_MSE] = "MSE",         [ILD_METRIC_GRAD] = "Grad",        [ILD_METRIC_CONN] = "Conn",
    [ILD_METRIC_DTSSD] = "dtSSD",     [ILD_METRIC_FGR_MAD] = "fgrMAD",   [ILD_METRIC_FGR_MSE] = "fgrMSE",
    [ILD_METRIC_HOLE] = "hole",       [ILD_METRIC_COLLAPSE] = "collapse",
};

const char *ild_metric_name(ild_metric m)
{
    ILD_ASSERT((int)m >= 0 && m < ILD_METRIC_COUNT);
    return metric_names[m];
}

bool ild_metric_higher_better(ild_metric m) { return m == ILD_METRIC_PSNR || m == ILD_METRIC_SSIM; }

static double sq_err(const float *p, const float *t, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)p[i] - (double)t[i];
        s += d * d;
    }
    return s;
}

double ild_metric_psnr(const float *p, const float *t, size_t n)
{
    double mse = sq_err(p, t, n) / (double)n;
    if (mse < ILD_PSNR_MSE_FLOOR) mse = ILD_PSNR_MSE_FLOOR;
    return 10.0 * log10(1.0 / mse);
}

double ild_metric_mad(const float *p, const float *t, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += fabs((double)p[i] - (double)t[i]);
    return s / (double)n * 1e3;
}

double ild_metric_mse(const float *p, const float *t, size_t n) { return sq_err(p, t, n) / (double)n * 1e3; }

double ild_metric_dtssd(const float *p, const float *p_prev, const float *t, const float *t_prev, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        /* float32 differences, as RVM computes them on float32 arrays */
        double d = (double)(p[i] - p_prev[i]) - (double)(t[i] - t_prev[i]);
        s += d * d;
    }
    return sqrt(s / (double)n) * 1e2;
}

bool ild_metric_fgr(const uint8_t *p_rgb, int p_stride, const uint8_t *t_rgb, int t_stride, const float *t_alpha,
                    size_t n, double *mad, double *mse)
{
    double sa = 0, ss = 0;
    int64_t count = 0;
    for (size_t i = 0; i < n; i++) {
        if (!(t_alpha[i] > 0)) continue;
        for (int c = 0; c < 3; c++) {
            double d = ((double)p_rgb[i * (size_t)p_stride + c] - (double)t_rgb[i * (size_t)t_stride + c]) / 255.0;
            sa += fabs(d);
            ss += d * d;
        }
        count += 3;
    }
    if (count == 0) return false;
    *mad = sa / (double)count * 1e3;
    *mse = ss / (double)count * 1e3;
    return true;
}

/* ---- stand-ins ---- */

int64_t ild_hole_mask(const float *t, int32_t w, int32_t h, uint8_t *mask, int32_t *stack)
{
    /* mask: 0 = not background, 1 = background not yet reached from the border, 2 = reached */
    size_t n = (size_t)w * (size_t)h;
    for (size_t i = 0; i < n; i++) mask[i] = (double)t[i] < ILD_HOLE_ALPHA ? 1 : 0;
    int64_t top = 0;
    for (int32_t y = 0; y < h; y++)
        for (int32_t x = 0; x < w; x++) {
            if (y != 0 && y != h - 1 && x != 0 && x != w - 1) continue;
            int32_t i = y * w + x;
            if (mask[i] == 1) {
                mask[i] = 2;
                stack[top++] = i;
            }
        }
    while (top > 0) {
        int32_t i = stack[--top];
        int32_t x = i % w, y = i / w;
        int32_t nb[4] = {x > 0 ? i - 1 : -1, x < w - 1 ? i + 1 : -1, y > 0 ? i - w : -1, y < h - 1 ? i + w : -1};
        for (int k = 0; k < 4; k++)
            if (nb[k] >= 0 && mask[nb[k]] == 1) {
                mask[nb[k]] = 2;
                stack[top++] = nb[k];
            }
    }
    int64_t holes = 0;
    for (size_t i = 0; i < n; i++) {
        mask[i] = mask[i] == 1;
        holes += mask[i];
    }
    return holes;
}

ildiff_status ild_hole_add(const float *p, const float *t, int32_t w, int32_t h, ild_pool *pool)
{
    size_t n = (size_t)w * (size_t)h;
    uint8_t *mask = malloc(n);
    int32_t *stack = malloc(n * sizeof *stack);
    if (!mask || !stack) {
        free(mask);
        free(stack);
        return ild_fail(ILDIFF_ERR_NOMEM, "out of memory for the hole mask of a %dx%d frame", w, h);
    }
    if (ild_hole_mask(t, w, h, mask, stack) > 0)
        for (size_t i = 0; i < n; i++)
            if (mask[i]) {
                pool->sum += p[i];
                pool->count++;
            }
    free(mask);
    free(stack);
    return ILDIFF_OK;
}

void ild_collapse_add(const float *p, const float *t, const uint8_t *t_rgba, const uint8_t *bg_rgb, size_t n,
                      ild_pool *pool)
{
    for (size_t i = 0; i < n; i++) {
        if (!((double)t[i] > ILD_OPAQUE_ALPHA)) continue;
        int diff = 0;
        for (int c = 0; c < 3; c++) diff = ILD_MAX(diff, abs((int)t_rgba[i * 4 + c] - (int)bg_rgb[i * 3 + c]));
        if (diff > ILD_COLLAPSE_COLOUR) continue;
        pool->sum += 1.0 - (double)p[i];
        pool->count++;
    }
}

bool ild_pool_mean(const ild_pool *pool, double *out)
{
    if (pool->count < ILD_POOL_MIN_PIXELS) return false;
    *out = pool->sum / (double)pool->count;
    return true;
}

/* ---- one clip ---- */

ildiff_status ild_score_clip(const ild_clip_view *c, ild_clip_scores *out)
{
    memset(out, 0, sizeof *out);
    if (c->frames < 1 || c->width < 1 || c->height < 1)
        return ild_fail(ILDIFF_ERR_ARG, "empty clip (%d frames of %dx%d)", c->frames, c->width, c->height);
    size_t n = (size_t)c->width * (size_t)c->height;
    double sum[ILD_METRIC_COUNT] = {0};
    int32_t fgr_frames = 0;
    ild_pool hole = {0}, collapse = {0};
    for (int32_t f = 0; f < c->frames; f++) {
        const float *p = c->pred + (size_t)f * n, *t = c->gt + (size_t)f * n;
        double ssim, grad, conn;
        ildiff_status st;
        if ((st = ild_metric_ssim(p, t, c->width, c->height, &ssim)) != ILDIFF_OK) return st;
        if ((st = ild_metric_grad(p, t, c->width, c->height, &grad)) != ILDIFF_OK) return st;
        if ((st = ild_metric_conn(p, t, c->width, c->height, &conn)) != ILDIFF_OK) return st;
        if ((st = ild_hole_add(p, t, c->width, c->height, &hole)) != ILDIFF_OK) return st;
        sum[ILD_METRIC_PSNR] += ild_metric_psnr(p, t, n);
        sum[ILD_METRIC_SSIM] += ssim;
        sum[ILD_METRIC_MAD] += ild_metric_mad(p, t, n);
        sum[ILD_METRIC_MSE] += ild_metric_mse(p, t, n);
        sum[ILD_METRIC_GRAD] += grad;
        sum[ILD_METRIC_CONN] += conn;
        if (f > 0) sum[ILD_METRIC_DTSSD] += ild_metric_dtssd(p, p - n, t, t - n, n);
        if (c->pred_rgb && c->gt_rgba) {
            double mad, mse;
            if (ild_metric_fgr(c->pred_rgb + (size_t)f * n * 3, 3, c->gt_rgba + (size_t)f * n * 4, 4, t, n, &mad,
                               &mse)) {
                sum[ILD_METRIC_FGR_MAD] += mad;
                sum[ILD_METRIC_FGR_MSE] += mse;
                fgr_frames++;
            }
        }
        if (c->gt_rgba && c->bg_rgb) ild_collapse_add(p, t, c->gt_rgba + (size_t)f * n * 4, c->bg_rgb, n, &collapse);
    }
    for (int m = ILD_METRIC_PSNR; m <= ILD_METRIC_DTSSD; m++) {
        out->value[m] = sum[m] / c->frames;
        out->has[m] = true;
    }
    if (fgr_frames > 0)
        for (int m = ILD_METRIC_FGR_MAD; m <= ILD_METRIC_FGR_MSE; m++) {
            out->value[m] = sum[m] / fgr_frames;
            out->has[m] = true;
        }
    out->has[ILD_METRIC_HOLE] = ild_pool_mean(&hole, &out->value[ILD_METRIC_HOLE]);
    out->has[ILD_METRIC_COLLAPSE] = ild_pool_mean(&collapse, &out->value[ILD_METRIC_COLLAPSE]);
    return ILDIFF_OK;
}
