/*
 * grad.c: RVM's gradient error (evaluation/evaluate_lr.py, MetricGRAD). Each alpha plane is min-max normalised to
 * [0, 1] (a constant plane becomes 0, as cv2.normalize does), filtered with the 9x9 Gaussian-derivative filters
 * filter_x[i][j] = G(i - 4) G'(j - 4) / norm (sigma 1.4; filter_y its transpose) by correlation with a replicated
 * border (cv2.filter2D, BORDER_REPLICATE), and the gradient magnitudes are compared:
 * Grad = sum (|grad t| - |grad p|)^2 / 1000. The filters are separable, so each is applied as a row pass and a
 * column pass (exact, since the replicated border clamps each axis on its own). Computed in double.
 */
#include "metrics.h"

#include <math.h>
#include <stdlib.h>

#define GRAD_SIGMA 1.4
enum { HALF = 4, TAPS = 2 * HALF + 1 }; /* ceil(sigma sqrt(-2 ln(sqrt(2 pi) sigma 0.01))) = 4 for sigma 1.4 */

static double gaussian(double x) { return exp(-x * x / (2 * GRAD_SIGMA * GRAD_SIGMA)) / (GRAD_SIGMA * sqrt(2 * M_PI)); }

/* g: the Gaussian taps, dg: the derivative taps, both scaled so the 2-D filter has unit L2 norm. */
static void gauss_taps(double g[TAPS], double dg[TAPS])
{
    double sg = 0, sd = 0;
    for (int i = 0; i < TAPS; i++) {
        double x = i - HALF;
        g[i] = gaussian(x);
        dg[i] = -x * gaussian(x) / (GRAD_SIGMA * GRAD_SIGMA);
        sg += g[i] * g[i];
        sd += dg[i] * dg[i];
    }
    double norm = sqrt(sg * sd);
    for (int i = 0; i < TAPS; i++) dg[i] /= norm;
}

/* Min-max normalised copy of a (H, W) plane. */
static void normalise(const float *a, size_t n, double *out)
{
    double lo = a[0], hi = a[0];
    for (size_t i = 1; i < n; i++) {
        lo = a[i] < lo ? a[i] : lo;
        hi = a[i] > hi ? a[i] : hi;
    }
    double scale = hi - lo > 2.220446049250313e-16 ? 1.0 / (hi - lo) : 0.0;
    for (size_t i = 0; i < n; i++) out[i] = ((double)a[i] - lo) * scale;
}

/* out = correlation of `in` with taps `kx` along x then `ky` along y, replicated border. tmp: (H, W). */
static void sep_filter(const double *in, int32_t w, int32_t h, const double *kx, const double *ky, double *tmp,
                       double *out)
{
    for (int32_t y = 0; y < h; y++)
        for (int32_t x = 0; x < w; x++) {
            double s = 0;
            for (int k = 0; k < TAPS; k++) s += kx[k] * in[(size_t)y * w + ILD_CLAMP(x + k - HALF, 0, w - 1)];
            tmp[(size_t)y * w + x] = s;
        }
    for (int32_t y = 0; y < h; y++)
        for (int32_t x = 0; x < w; x++) {
            double s = 0;
            for (int k = 0; k < TAPS; k++) s += ky[k] * tmp[(size_t)ILD_CLAMP(y + k - HALF, 0, h - 1) * w + x];
            out[(size_t)y * w + x] = s;
        }
}

/* mag = |gradient| of the normalised plane `a`. buf: 3 planes of scratch. */
static void grad_mag(const float *a, int32_t w, int32_t h, const double *g, const double *dg, double *buf,
                     double *mag)
{
    size_t n = (size_t)w * (size_t)h;
    double *norm = buf, *tmp = buf + n, *gy = buf + 2 * n;
    normalise(a, n, norm);
    sep_filter(norm, w, h, dg, g, tmp, mag); /* filter_x: derivative along x, Gaussian along y */
    sep_filter(norm, w, h, g, dg, tmp, gy);  /* filter_y = filter_x transposed */
    for (size_t i = 0; i < n; i++) mag[i] = sqrt(mag[i] * mag[i] + gy[i] * gy[i]);
}

ildiff_status ild_metric_grad(const float *p, const float *t, int32_t w, int32_t h, double *out)
{
    size_t n = (size_t)w * (size_t)h;
    double *buf = malloc(sizeof(double) * 5 * n);
    if (!buf) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory for Grad of a %dx%d frame", w, h);
    double g[TAPS], dg[TAPS];
    gauss_taps(g, dg);
    double *mp = buf + 3 * n, *mt = buf + 4 * n;
    grad_mag(p, w, h, g, dg, buf, mp);
    grad_mag(t, w, h, g, dg, buf, mt);
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (mt[i] - mp[i]) * (mt[i] - mp[i]);
    free(buf);
    *out = s / 1000.0;
    return ILDIFF_OK;
}
