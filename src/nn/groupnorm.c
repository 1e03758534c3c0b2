/*
 * groupnorm.c: GroupNorm forward/backward (norm.h): the plain reference and the fast path.
 *
 * Fast forward: one task per (sample, group) slab, which is contiguous in (N, C, S) and stays in L2: one pass
 * for the statistics (sums shifted by the slab's first value, float SIMD per block, added in double), one for
 * out = (x - mean) * a_c + b_c.
 * Fast backward: one task per group, looping over the samples in order, so the per-channel dweight/dbias sums
 * have a single writer and a fixed order (deterministic); per (sample, group) the slab is read once for the sums
 * and again (from cache) to write dinp = a_c * dout + k1 * (x - mean) + k0.
 */
#include "nn/norm.h"

#include "base/base.h"

#include <math.h>

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

/* Blocked sums: float SIMD reductions over blocks of BLOCK elements (vectorised, fixed order), added up in
 * double, so long slabs keep double-like accuracy. */
#define BLOCK 1024

/* Sums of (x - k) and (x - k)^2 over n floats: one pass; shifting by a value of the data (k) keeps the
 * variance from cancelling when the mean is large against the spread. */
static void shifted_sums(const float *x, int64_t n, float k, double *sum, double *sumsq)
{
    double s = 0, q = 0;
    for (int64_t i0 = 0; i0 < n; i0 += BLOCK) {
        const int64_t i1 = ILD_MIN(n, i0 + BLOCK);
        float a = 0, b = 0;
#pragma omp simd reduction(+ : a, b)
        for (int64_t i = i0; i < i1; i++) a += x[i] - k, b += (x[i] - k) * (x[i] - k);
        s += a, q += b;
    }
    *sum = s, *sumsq = q;
}

/* A double mean as two floats, hi + lo, so x - hi - lo keeps double-like accuracy when the mean is large
 * against the spread (x - hi is exact for x near hi). */
typedef struct split_mean {
    float hi, lo;
} split_mean;

static split_mean split(double m)
{
    split_mean sm = {(float)m, 0.0f};
    sm.lo = (float)(m - sm.hi);
    return sm;
}

/* Sums of d and d * (x - m) over n floats. */
static void dot2(const float *d, const float *x, int64_t n, split_mean m, double *sum, double *sumdx)
{
    double s = 0, q = 0;
    for (int64_t i0 = 0; i0 < n; i0 += BLOCK) {
        const int64_t i1 = ILD_MIN(n, i0 + BLOCK);
        float a = 0, b = 0;
#pragma omp simd reduction(+ : a, b)
        for (int64_t i = i0; i < i1; i++) a += d[i], b += d[i] * ((x[i] - m.hi) - m.lo);
        s += a, q += b;
    }
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
        double sk, sk2; /* sums of x - x[0] and its square */
        shifted_sums(x, len, x[0], &sk, &sk2);
        const double dm = sk / (double)len, m = x[0] + dm, var = ILD_MAX(sk2 / (double)len - dm * dm, 0.0);
        const float r = (float)(1.0 / sqrt(var + eps));
        mean[ng] = (float)m;
        rstd[ng] = r;
        const split_mean sm = split(m); /* (x - m) first: x * a + (b - m * a) would cancel for a large mean */
        for (int64_t c = g * cg; c < (g + 1) * cg; c++) {
            const float a = r * (weight ? weight[c] : 1.0f), b = bias ? bias[c] : 0.0f;
            const float *xc = inp + (n * C + c) * S;
            float *yc = out + (n * C + c) * S;
#pragma omp simd
            for (int64_t s = 0; s < S; s++) yc[s] = ((xc[s] - sm.hi) - sm.lo) * a + b;
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
            const double r = rstd[n * G + g];
            const split_mean sm = {mean[n * G + g], 0.0f}; /* the saved mean is a float: exact as hi */
            double sdx = 0, sdxx = 0; /* sums over the group of dxhat and dxhat * xhat */
            for (int64_t c = g * cg; c < (g + 1) * cg; c++) {
                const int64_t off = (n * C + c) * S;
                double a, b; /* sum dout, sum dout * (x - mean) */
                dot2(dout + off, inp + off, S, sm, &a, &b);
                const double w = weight ? weight[c] : 1.0, dxh = r * b;
                if (dbias) dbias[c] += (float)a;
                if (dweight) dweight[c] += (float)dxh;
                sdx += w * a;
                sdxx += w * dxh;
            }
            if (!dinp) continue;
            /* dinp = r * (w dout - sdx/len - xhat * sdxx/len) = a_c dout + k1 (x - m) + k0 */
            const float k1 = (float)(-r * r * sdxx / len), k0 = (float)(-r * sdx / len);
            for (int64_t c = g * cg; c < (g + 1) * cg; c++) {
                const int64_t off = (n * C + c) * S;
                const float a = (float)r * (weight ? weight[c] : 1.0f);
                const float *dy = dout + off, *x = inp + off;
                float *dx = dinp + off;
#pragma omp simd
                for (int64_t s = 0; s < S; s++) dx[s] += a * dy[s] + k1 * (x[s] - sm.hi) + k0;
            }
        }
}
