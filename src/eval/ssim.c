/*
 * ssim.c: SSIM exactly as scikit-image 0.19's structural_similarity(im1, im2, data_range=1) with its defaults:
 * a 7x7 uniform window, K1 = 0.01, K2 = 0.03, sample covariance (N / (N - 1) with N = 49), and the mean of the
 * SSIM map over the pixels whose window lies wholly inside the image (skimage crops pad = 3 on each side, so
 * its filter's border mode never matters). Computed in double. Frames under 7x7 are refused, as skimage does.
 */
#include "metrics.h"

#include <stdlib.h>

enum { WIN = 7, PAD = (WIN - 1) / 2, NQ = 5 }; /* NQ quantities: x, y, xx, yy, xy */

ildiff_status ild_metric_ssim(const float *p, const float *t, int32_t w, int32_t h, double *out)
{
    if (w < WIN || h < WIN) return ild_fail(ILDIFF_ERR_ARG, "SSIM needs frames of at least 7x7, got %dx%d", w, h);
    int32_t ow = w - WIN + 1, oh = h - WIN + 1; /* the valid (cropped) region */
    /* row sums over the horizontal window: (NQ, H, ow) */
    double *rows = malloc(sizeof(double) * NQ * (size_t)h * (size_t)ow);
    if (!rows) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory for SSIM of a %dx%d frame", w, h);
    size_t plane = (size_t)h * (size_t)ow;
    for (int32_t y = 0; y < h; y++) {
        const float *py = p + (size_t)y * w, *ty = t + (size_t)y * w;
        for (int32_t x = 0; x < ow; x++) {
            double s[NQ] = {0};
            for (int k = 0; k < WIN; k++) {
                double a = py[x + k], b = ty[x + k];
                s[0] += a;
                s[1] += b;
                s[2] += a * a;
                s[3] += b * b;
                s[4] += a * b;
            }
            for (int q = 0; q < NQ; q++) rows[q * plane + (size_t)y * ow + x] = s[q];
        }
    }
    const double np = WIN * WIN, cov_norm = np / (np - 1);
    const double c1 = 0.01 * 0.01, c2 = 0.03 * 0.03; /* (K * data_range)^2 with data_range 1 */
    double total = 0;
    for (int32_t y = 0; y < oh; y++)
        for (int32_t x = 0; x < ow; x++) {
            double s[NQ] = {0};
            for (int q = 0; q < NQ; q++)
                for (int k = 0; k < WIN; k++) s[q] += rows[q * plane + (size_t)(y + k) * ow + x];
            double ux = s[0] / np, uy = s[1] / np;
            double vx = cov_norm * (s[2] / np - ux * ux);
            double vy = cov_norm * (s[3] / np - uy * uy);
            double vxy = cov_norm * (s[4] / np - ux * uy);
            double a1 = 2 * ux * uy + c1, a2 = 2 * vxy + c2;
            double b1 = ux * ux + uy * uy + c1, b2 = vx + vy + c2;
            total += (a1 * a2) / (b1 * b2);
        }
    free(rows);
    *out = total / ((double)ow * (double)oh);
    return ILDIFF_OK;
}
