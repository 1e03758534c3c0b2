/*
 * groupnorm.c: GroupNorm forward/backward (norm.h): the plain reference and the fast path.
 *
 * Fast forward: one task per (sample, group) slab, which is contiguous in (N, C, S): a single pass of sum and
 * sum of squares in 8 double lanes (vectorised), then out = x * a_c + b_c per channel.
 * Fast backward: one task per group, looping over the samples in order, so the per-channel dweight/dbias sums
 * have a single writer and a fixed order (deterministic); per (sample, group) the slab is read once for the sums
 * and again (from cache) to write dinp = a_c * dout + k1 * x + k0.
 */
#include "nn/norm.h"

#include "base/base.h"

#include <math.h>

#define LANES 8

void nn_groupnorm_forward_ref(float *out, float *mean, float *rstd, const float *inp, const float *weight,
                              const float *bias, int64_t N, int64_t C, int64_t S, int64_t G, float eps)
{
    ILD_ASSERT(G >= 1 && C % G == 0);
    const int64_t cg = C / G, len = cg * S;
    for (int64_t n = 0; n < N; n++)
        for (int64_t g = 0; g < G; g++) {
            const float *x = inp + (n * C + g * cg) * S;
            double sum = 0, var = 0;
            for (int64_t i = 0; i < len; i++) sum += x[i];
            double m = sum / (double)len;
            for (int64_t i = 0; i < len; i++) var += (x[i] - m) * (x[i] - m);
            double r = 1.0 / sqrt(var / (double)len + eps);
            mean[n * G + g] = (float)m;
            rstd[n * G + g] = (float)r;
            for (int64_t c = g * cg; c < (g + 1) * cg; c++)
                for (int64_t s = 0; s < S; s++) {
                    double v = (inp[(n * C + c) * S + s] - m) * r;
                    out[(n * C + c) * S + s] = (float)(v * (weight ? weight[c] : 1.0) + (bias ? bias[c] : 0.0));
                }
        }
}

void nn_groupnorm_backward_ref(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                               const float *weight, const float *mean, const float *rstd, int64_t N, int64_t C,
                               int64_t S, int64_t G)
{
    const int64_t cg = C / G, len = cg * S;
    for (int64_t c = 0; c < C; c++) {
        double dw = 0, db = 0;
        for (int64_t n = 0; n < N; n++)
            for (int64_t s = 0; s < S; s++) {
                int64_t i = (n * C + c) * S + s, ng = n * G + c / cg;
                dw += (double)dout[i] * (inp[i] - mean[ng]) * rstd[ng];
                db += dout[i];
            }
        if (dweight) dweight[c] += (float)dw;
        if (dbias) dbias[c] += (float)db;
    }
    if (!dinp) return;
    for (int64_t n = 0; n < N; n++)
        for (int64_t g = 0; g < G; g++) {
            double m = mean[n * G + g], r = rstd[n * G + g], sdx = 0, sdxx = 0;
            for (int64_t c = g * cg; c < (g + 1) * cg; c++)
                for (int64_t s = 0; s < S; s++) {
                    int64_t i = (n * C + c) * S + s;
                    double dxh = dout[i] * (weight ? weight[c] : 1.0);
                    sdx += dxh;
                    sdxx += dxh * (inp[i] - m) * r;
                }
            for (int64_t c = g * cg; c < (g + 1) * cg; c++)
                for (int64_t s = 0; s < S; s++) {
                    int64_t i = (n * C + c) * S + s;
                    double dxh = dout[i] * (weight ? weight[c] : 1.0), xh = (inp[i] - m) * r;
                    dinp[i] += (float)(r * (dxh - sdx / (double)len - xh * sdxx / (double)len));
                }
        }
}

/* Sums of x and x*x over n floats in LANES double lanes. */
static void sum2(const float *x, int64_t n, double *sum, double *sumsq)
{
    double a[LANES] = {0}, b[LANES] = {0};
    int64_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int j = 0; j < LANES; j++) {
            double v = x[i + j];
            a[j] += v;
            b[j] += v * v;
        }
    for (; i < n; i++) a[0] += x[i], b[0] += (double)x[i] * x[i];
    double s = 0, q = 0;
    for (int j = 0; j < LANES; j++) s += a[j], q += b[j];
    *sum = s, *sumsq = q;
}

/* Sums of d and d*x over n floats in LANES double lanes. */
static void dot2(const float *d, const float *x, int64_t n, double *sum, double *sumdx)
{
    double a[LANES] = {0}, b[LANES] = {0};
    int64_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int j = 0; j < LANES; j++) {
            a[j] += d[i + j];
            b[j] += (double)d[i + j] * x[i + j];
        }
    for (; i < n; i++) a[0] += d[i], b[0] += (double)d[i] * x[i];
    double s = 0, q = 0;
    for (int j = 0; j < LANES; j++) s += a[j], q += b[j];
    *sum = s, *sumdx = q;
}

void nn_groupnorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *weight,
                          const float *bias, int64_t N, int64_t C, int64_t S, int64_t G, float eps)
{
    ILD_ASSERT(G >= 1 && C % G == 0);
    const int64_t cg = C / G, len = cg * S;
#pragma omp parallel for schedule(static)
    for (int64_t ng = 0; ng < N * G; ng++) {
        const int64_t n = ng / G, g = ng % G;
        const float *x = inp + (n * C + g * cg) * S;
        double sum, sumsq;
        sum2(x, len, &sum, &sumsq);
        double m = sum / (double)len, var = sumsq / (double)len - m * m;
        float r = (float)(1.0 / sqrt(ILD_MAX(var, 0.0) + eps));
        mean[ng] = (float)m;
        rstd[ng] = r;
        for (int64_t c = g * cg; c < (g + 1) * cg; c++) {
            const float a = r * (weight ? weight[c] : 1.0f), b = (bias ? bias[c] : 0.0f) - (float)m * a;
            const float *xc = inp + (n * C + c) * S;
            float *yc = out + (n * C + c) * S;
            for (int64_t s = 0; s < S; s++) yc[s] = xc[s] * a + b;
        }
    }
}

void nn_groupnorm_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                           const float *weight, const float *mean, const float *rstd, int64_t N, int64_t C,
                           int64_t S, int64_t G)
{
    const int64_t cg = C / G;
    const double len = (double)(cg * S);
#pragma omp parallel for schedule(static)
    for (int64_t g = 0; g < G; g++)
        for (int64_t n = 0; n < N; n++) {
            const double m = mean[n * G + g], r = rstd[n * G + g];
            double sdx = 0, sdxx = 0; /* sums over the group of dxhat and dxhat * xhat */
            for (int64_t c = g * cg; c < (g + 1) * cg; c++) {
                const int64_t off = (n * C + c) * S;
                double a, b; /* sum dout, sum dout * x */
                dot2(dout + off, inp + off, S, &a, &b);
                const double w = weight ? weight[c] : 1.0, dxh = r * (b - m * a);
                if (dbias) dbias[c] += (float)a;
                if (dweight) dweight[c] += (float)dxh;
                sdx += w * a;
                sdxx += w * dxh;
            }
            if (!dinp) continue;
            /* dinp = r * (w dout - sdx/len - xhat * sdxx/len) = a_c dout + k1 x + k0 */
            const float k1 = (float)(-r * r * sdxx / len), k0 = (float)(-r * sdx / len + r * r * m * sdxx / len);
            for (int64_t c = g * cg; c < (g + 1) * cg; c++) {
                const int64_t off = (n * C + c) * S;
                const float a = (float)r * (weight ? weight[c] : 1.0f);
                const float *dy = dout + off, *x = inp + off;
                float *dx = dinp + off;
                for (int64_t s = 0; s < S; s++) dx[s] += a * dy[s] + k1 * x[s] + k0;
            }
        }
}
