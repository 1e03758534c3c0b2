/*
 * layernorm.c: LayerNorm over the last dim of (M, C) and LayerNorm2d over the channels of (N, C, S), forward
 * and backward (norm.h): the plain references and the fast paths.
 *
 * Fast LayerNorm: rows in parallel (forward, dinp), each row's sums as float SIMD reductions (two passes: mean,
 * centred variance); dweight/dbias in a second pass over blocks of COLS columns, each summing over every row
 * in order (one writer per column, deterministic).
 * Fast LayerNorm2d: the statistics of a position run across channels (stride S), so work goes in tiles of TILE
 * positions of one sample: per tile, per-position sums accumulate channel by channel in small arrays, and every
 * read is a contiguous run of TILE floats. dweight/dbias: channels in parallel.
 */
#include "nn/norm.h"

#include "base/base.h"

#include <math.h>
#include <string.h>

#define COLS 64
#define TILE 64

void nn_layernorm_forward_ref(float *out, float *mean, float *rstd, const float *inp, const float *weight,
                              const float *bias, int64_t M, int64_t C, float eps)
{
    for (int64_t m = 0; m < M; m++) {
        const float *x = inp + m * C;
        double sum = 0, var = 0;
        for (int64_t c = 0; c < C; c++) sum += x[c];
        double mu = sum / (double)C;
        for (int64_t c = 0; c < C; c++) var += (x[c] - mu) * (x[c] - mu);
        double r = 1.0 / sqrt(var / (double)C + eps);
        mean[m] = (float)mu;
        rstd[m] = (float)r;
        for (int64_t c = 0; c < C; c++)
            out[m * C + c] = (float)((x[c] - mu) * r * (weight ? weight[c] : 1.0) + (bias ? bias[c] : 0.0));
    }
}

void nn_layernorm_backward_ref(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                               const float *weight, const float *mean, const float *rstd, int64_t M, int64_t C)
{
    for (int64_t m = 0; m < M; m++) {
        const float *x = inp + m * C, *dy = dout + m * C;
        double mu = mean[m], r = rstd[m], sdx = 0, sdxx = 0;
        for (int64_t c = 0; c < C; c++) {
            double dxh = dy[c] * (weight ? weight[c] : 1.0);
            sdx += dxh;
            sdxx += dxh * (x[c] - mu) * r;
            if (dweight) dweight[c] += (float)(dy[c] * (x[c] - mu) * r);
            if (dbias) dbias[c] += dy[c];
        }
        if (dinp)
            for (int64_t c = 0; c < C; c++) {
                double dxh = dy[c] * (weight ? weight[c] : 1.0), xh = (x[c] - mu) * r;
                dinp[m * C + c] += (float)(r * (dxh - sdx / (double)C - xh * sdxx / (double)C));
            }
    }
}

void nn_layernorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *weight,
                          const float *bias, int64_t M, int64_t C, float eps)
{
#pragma omp parallel for schedule(static)
    for (int64_t m = 0; m < M; m++) {
        const float *x = inp + m * C;
        float *y = out + m * C;
        float sum = 0, var = 0;
#pragma omp simd reduction(+ : sum)
        for (int64_t c = 0; c < C; c++) sum += x[c];
        const float fm = sum / (float)C;
#pragma omp simd reduction(+ : var)
        for (int64_t c = 0; c < C; c++) var += (x[c] - fm) * (x[c] - fm);
        const float r = (float)(1.0 / sqrt((double)var / (double)C + eps));
        mean[m] = fm;
        rstd[m] = r;
        if (weight && bias) {
#pragma omp simd
            for (int64_t c = 0; c < C; c++) y[c] = (x[c] - fm) * r * weight[c] + bias[c];
        } else {
            for (int64_t c = 0; c < C; c++)
                y[c] = (x[c] - fm) * r * (weight ? weight[c] : 1.0f) + (bias ? bias[c] : 0.0f);
        }
    }
}

void nn_layernorm_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                           const float *weight, const float *mean, const float *rstd, int64_t M, int64_t C)
{
    if (dinp) {
#pragma omp parallel for schedule(static)
        for (int64_t m = 0; m < M; m++) {
            const float *x = inp + m * C, *dy = dout + m * C;
            const float mu = mean[m], r = rstd[m];
            float sdx = 0, sdxx = 0;
#pragma omp simd reduction(+ : sdx, sdxx)
            for (int64_t c = 0; c < C; c++) {
                float dxh = dy[c] * (weight ? weight[c] : 1.0f);
                sdx += dxh;
                sdxx += dxh * ((x[c] - mu) * r);
            }
            const float k1 = sdx / (float)C, k2 = sdxx / (float)C;
            float *dx = dinp + m * C;
#pragma omp simd
            for (int64_t c = 0; c < C; c++)
                dx[c] += r * (dy[c] * (weight ? weight[c] : 1.0f) - k1 - (x[c] - mu) * r * k2);
        }
    }
    if (!dweight && !dbias) return;
    const int64_t blocks = (C + COLS - 1) / COLS;
#pragma omp parallel for schedule(static)
    for (int64_t bk = 0; bk < blocks; bk++) {
        const int64_t c0 = bk * COLS, nc = ILD_MIN(COLS, C - c0);
        double dw[COLS] = {0}, db[COLS] = {0};
        for (int64_t m = 0; m < M; m++) {
            const float *x = inp + m * C + c0, *dy = dout + m * C + c0;
            const float mu = mean[m], r = rstd[m];
#pragma omp simd
            for (int64_t j = 0; j < nc; j++) {
                dw[j] += dy[j] * ((x[j] - mu) * r);
                db[j] += dy[j];
            }
        }
        for (int64_t j = 0; j < nc; j++) {
            if (dweight) dweight[c0 + j] += (float)dw[j];
            if (dbias) dbias[c0 + j] += (float)db[j];
        }
    }
}

void nn_layernorm2d_forward_ref(float *out, float *mean, float *rstd, const float *inp, const float *weight,
                                const float *bias, int64_t N, int64_t C, int64_t S, float eps)
{
    for (int64_t n = 0; n < N; n++)
        for (int64_t s = 0; s < S; s++) {
            const float *x = inp + n * C * S + s;
            double sum = 0, var = 0;
            for (int64_t c = 0; c < C; c++) sum += x[c * S];
            double mu = sum / (double)C;
            for (int64_t c = 0; c < C; c++) var += (x[c * S] - mu) * (x[c * S] - mu);
            double r = 1.0 / sqrt(var / (double)C + eps);
            mean[n * S + s] = (float)mu;
            rstd[n * S + s] = (float)r;
            for (int64_t c = 0; c < C; c++)
                out[n * C * S + c * S + s] =
                    (float)((x[c * S] - mu) * r * (weight ? weight[c] : 1.0) + (bias ? bias[c] : 0.0));
        }
}

void nn_layernorm2d_backward_ref(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                                 const float *weight, const float *mean, const float *rstd, int64_t N, int64_t C,
                                 int64_t S)
{
    for (int64_t n = 0; n < N; n++)
        for (int64_t s = 0; s < S; s++) {
            const float *x = inp + n * C * S + s, *dy = dout + n * C * S + s;
            double mu = mean[n * S + s], r = rstd[n * S + s], sdx = 0, sdxx = 0;
            for (int64_t c = 0; c < C; c++) {
                double dxh = dy[c * S] * (weight ? weight[c] : 1.0);
                sdx += dxh;
                sdxx += dxh * (x[c * S] - mu) * r;
                if (dweight) dweight[c] += (float)(dy[c * S] * (x[c * S] - mu) * r);
                if (dbias) dbias[c] += dy[c * S];
            }
            if (dinp)
                for (int64_t c = 0; c < C; c++) {
                    double dxh = dy[c * S] * (weight ? weight[c] : 1.0), xh = (x[c * S] - mu) * r;
                    dinp[n * C * S + c * S + s] += (float)(r * (dxh - sdx / (double)C - xh * sdxx / (double)C));
                }
        }
}

void nn_layernorm2d_forward(float *out, float *mean, float *rstd, const float *inp, const float *weight,
                            const float *bias, int64_t N, int64_t C, int64_t S, float eps)
{
    const int64_t tiles = (S + TILE - 1) / TILE;
#pragma omp parallel for schedule(static)
    for (int64_t nt = 0; nt < N * tiles; nt++) {
        const int64_t n = nt / tiles, s0 = nt % tiles * TILE, ns = ILD_MIN(TILE, S - s0);
        double sum[TILE] = {0}, sumsq[TILE] = {0};
        for (int64_t c = 0; c < C; c++) {
            const float *x = inp + (n * C + c) * S + s0;
#pragma omp simd
            for (int64_t j = 0; j < ns; j++) sum[j] += x[j], sumsq[j] += (double)x[j] * x[j];
        }
        float mu[TILE], r[TILE];
        for (int64_t j = 0; j < ns; j++) {
            double m = sum[j] / (double)C, var = sumsq[j] / (double)C - m * m;
            mu[j] = (float)m;
            r[j] = (float)(1.0 / sqrt(ILD_MAX(var, 0.0) + eps));
            mean[n * S + s0 + j] = mu[j];
            rstd[n * S + s0 + j] = r[j];
        }
        for (int64_t c = 0; c < C; c++) {
            const float *x = inp + (n * C + c) * S + s0;
            float *y = out + (n * C + c) * S + s0;
            const float w = weight ? weight[c] : 1.0f, b = bias ? bias[c] : 0.0f;
#pragma omp simd
            for (int64_t j = 0; j < ns; j++) y[j] = (x[j] - mu[j]) * r[j] * w + b;
        }
    }
}

void nn_layernorm2d_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                             const float *weight, const float *mean, const float *rstd, int64_t N, int64_t C,
                             int64_t S)
{
    const int64_t tiles = (S + TILE - 1) / TILE;
    if (dinp) {
#pragma omp parallel for schedule(static)
        for (int64_t nt = 0; nt < N * tiles; nt++) {
            const int64_t n = nt / tiles, s0 = nt % tiles * TILE, ns = ILD_MIN(TILE, S - s0);
            const float *mu = mean + n * S + s0, *r = rstd + n * S + s0;
            float sdx[TILE] = {0}, sdxx[TILE] = {0};
            for (int64_t c = 0; c < C; c++) {
                const float *x = inp + (n * C + c) * S + s0, *dy = dout + (n * C + c) * S + s0;
                const float w = weight ? weight[c] : 1.0f;
#pragma omp simd
                for (int64_t j = 0; j < ns; j++) {
                    float dxh = dy[j] * w;
                    sdx[j] += dxh;
                    sdxx[j] += dxh * (x[j] - mu[j]) * r[j];
                }
            }
            for (int64_t j = 0; j < ns; j++) sdx[j] /= (float)C, sdxx[j] /= (float)C;
            for (int64_t c = 0; c < C; c++) {
                const float *x = inp + (n * C + c) * S + s0, *dy = dout + (n * C + c) * S + s0;
                float *dx = dinp + (n * C + c) * S + s0;
                const float w = weight ? weight[c] : 1.0f;
#pragma omp simd
                for (int64_t j = 0; j < ns; j++)
                    dx[j] += r[j] * (dy[j] * w - sdx[j] - (x[j] - mu[j]) * r[j] * sdxx[j]);
            }
        }
    }
    if (!dweight && !dbias) return;
#pragma omp parallel for schedule(static)
    for (int64_t c = 0; c < C; c++) {
        double dw = 0, db = 0;
        for (int64_t n = 0; n < N; n++) {
            const float *x = inp + (n * C + c) * S, *dy = dout + (n * C + c) * S;
            const float *mu = mean + n * S, *r = rstd + n * S;
            for (int64_t s0 = 0; s0 < S; s0 += 1024) {
                float pw = 0, pb = 0;
#pragma omp simd reduction(+ : pw, pb)
                for (int64_t s = s0; s < ILD_MIN(S, s0 + 1024); s++) pw += dy[s] * (x[s] - mu[s]) * r[s], pb += dy[s];
                dw += pw, db += pb;
            }
        }
        if (dweight) dweight[c] += (float)dw;
        if (dbias) dbias[c] += (float)db;
    }
}
