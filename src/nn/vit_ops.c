/* vit_ops.c: patch embedding (im2col + GEMM and direct reference), bicubic grid resize, MAE masking and token
 * gather/scatter, feature-map <-> token transposes (vit_ops.h). */
#include "nn/vit_ops.h"

#include "base/base.h"
#include "nn/linear.h"

#include <math.h>
#include <string.h>

/* ---- patch embedding ---- */

static void check_patch(int64_t B, int64_t CI, int64_t H, int64_t W, int64_t P, int64_t D)
{
    ILD_ASSERT(B >= 1 && CI >= 1 && P >= 1 && D >= 1 && H >= P && W >= P);
}

/* cols (B * HP * WP, CI * P * P) <-> img (B, CI, H, W). The patches do not overlap, so each direction is a
 * permutation: row (b, py, px) of cols holds the (c, ky, kx) pixels of patch (py, px). */
static void patches_to_cols(float *cols, const float *img, int64_t B, int64_t CI, int64_t H, int64_t W, int64_t P)
{
    const int64_t HP = H / P, WP = W / P, K = CI * P * P;
#pragma omp parallel for schedule(static) collapse(2)
    for (int64_t b = 0; b < B; b++)
        for (int64_t py = 0; py < HP; py++)
            for (int64_t px = 0; px < WP; px++)
                for (int64_t c = 0; c < CI; c++)
                    for (int64_t ky = 0; ky < P; ky++)
                        memcpy(cols + ((b * HP + py) * WP + px) * K + (c * P + ky) * P,
                               img + ((b * CI + c) * H + py * P + ky) * W + px * P, sizeof(float) * (size_t)P);
}

static void cols_add_to_patches(float *img, const float *cols, int64_t B, int64_t CI, int64_t H, int64_t W, int64_t P)
{
    const int64_t HP = H / P, WP = W / P, K = CI * P * P;
#pragma omp parallel for schedule(static) collapse(2)
    for (int64_t b = 0; b < B; b++)
        for (int64_t py = 0; py < HP; py++)
            for (int64_t px = 0; px < WP; px++)
                for (int64_t c = 0; c < CI; c++)
                    for (int64_t ky = 0; ky < P; ky++) {
                        const float *src = cols + ((b * HP + py) * WP + px) * K + (c * P + ky) * P;
                        float *dst = img + ((b * CI + c) * H + py * P + ky) * W + px * P;
                        for (int64_t kx = 0; kx < P; kx++) dst[kx] += src[kx];
                    }
}

void nn_patch_embed_forward(float *out, float *cols, const float *img, const float *w, const float *b, int64_t B,
                            int64_t CI, int64_t H, int64_t W, int64_t P, int64_t D)
{
    check_patch(B, CI, H, W, P, D);
    patches_to_cols(cols, img, B, CI, H, W, P);
    nn_linear_forward(out, cols, w, b, B * (H / P) * (W / P), CI * P * P, D);
}

void nn_patch_embed_backward(float *dimg, float *dw, float *db, float *dcols, const float *dout, const float *cols,
                             const float *w, int64_t B, int64_t CI, int64_t H, int64_t W, int64_t P, int64_t D)
{
    check_patch(B, CI, H, W, P, D);
    const int64_t N = B * (H / P) * (W / P), K = CI * P * P;
    if (dimg) memset(dcols, 0, sizeof(float) * (size_t)(N * K));
    nn_linear_backward(dimg ? dcols : NULL, dw, db, dout, cols, w, N, K, D);
    if (dimg) cols_add_to_patches(dimg, dcols, B, CI, H, W, P);
}

void nn_patch_embed_forward_ref(float *out, const float *img, const float *w, const float *b, int64_t B, int64_t CI,
                                int64_t H, int64_t W, int64_t P, int64_t D)
{
    check_patch(B, CI, H, W, P, D);
    const int64_t HP = H / P, WP = W / P;
    for (int64_t n = 0; n < B; n++)
        for (int64_t py = 0; py < HP; py++)
            for (int64_t px = 0; px < WP; px++)
                for (int64_t d = 0; d < D; d++) {
                    float s = b ? b[d] : 0.0f;
                    for (int64_t c = 0; c < CI; c++)
                        for (int64_t ky = 0; ky < P; ky++)
                            for (int64_t kx = 0; kx < P; kx++)
                                s += w[((d * CI + c) * P + ky) * P + kx] *
                                     img[((n * CI + c) * H + py * P + ky) * W + px * P + kx];
                    out[((n * HP + py) * WP + px) * D + d] = s;
                }
}

void nn_patch_embed_backward_ref(float *dimg, float *dw, float *db, const float *dout, const float *img,
                                 const float *w, int64_t B, int64_t CI, int64_t H, int64_t W, int64_t P, int64_t D)
{
    check_patch(B, CI, H, W, P, D);
    const int64_t HP = H / P, WP = W / P;
    for (int64_t n = 0; n < B; n++)
        for (int64_t py = 0; py < HP; py++)
            for (int64_t px = 0; px < WP; px++)
                for (int64_t d = 0; d < D; d++) {
                    float g = dout[((n * HP + py) * WP + px) * D + d];
                    if (db) db[d] += g;
                    for (int64_t c = 0; c < CI; c++)
                        for (int64_t ky = 0; ky < P; ky++)
                            for (int64_t kx = 0; kx < P; kx++) {
                                int64_t wi = ((d * CI + c) * P + ky) * P + kx;
                                int64_t ii = ((n * CI + c) * H + py * P + ky) * W + px * P + kx;
                                if (dw) dw[wi] += g * img[ii];
                                if (dimg) dimg[ii] += g * w[wi];
                            }
                }
}

/* ---- bicubic resize ---- */

/* The 4 source taps (clamped to [0, in - 1]) and weights of output index o, as torch's upsample_bicubic2d with
 * align_corners=False and an output size: src = (in / out) * (o + 0.5) - 0.5, A = -0.75. */
static void cubic_taps(int64_t o, int64_t in, int64_t out, int64_t idx[4], float wt[4])
{
    const float A = -0.75f;
    float scale = (float)in / (float)out;
    float real = scale * ((float)o + 0.5f) - 0.5f;
    float fl = floorf(real);
    float t = real - fl;
    int64_t i0 = (int64_t)fl;
    float x1 = t + 1.0f, x2 = 1.0f - t, x3 = 2.0f - t;
    wt[0] = ((A * x1 - 5.0f * A) * x1 + 8.0f * A) * x1 - 4.0f * A;
    wt[1] = ((A + 2.0f) * t - (A + 3.0f)) * t * t + 1.0f;
    wt[2] = ((A + 2.0f) * x2 - (A + 3.0f)) * x2 * x2 + 1.0f;
    wt[3] = ((A * x3 - 5.0f * A) * x3 + 8.0f * A) * x3 - 4.0f * A;
    for (int j = 0; j < 4; j++) idx[j] = ILD_CLAMP(i0 - 1 + j, 0, in - 1);
}

static void check_resize(int64_t HI, int64_t WI, int64_t HO, int64_t WO, int64_t C)
{
    ILD_ASSERT(HI >= 1 && WI >= 1 && HO >= 1 && WO >= 1 && C >= 1);
}

void nn_bicubic_resize_forward(float *out, const float *inp, int64_t HI, int64_t WI, int64_t HO, int64_t WO, int64_t C)
{
    check_resize(HI, WI, HO, WO, C);
#pragma omp parallel for schedule(static)
    for (int64_t oy = 0; oy < HO; oy++) {
        int64_t iy[4], ix[4];
        float wy[4], wx[4];
        cubic_taps(oy, HI, HO, iy, wy);
        for (int64_t ox = 0; ox < WO; ox++) {
            cubic_taps(ox, WI, WO, ix, wx);
            float *o = out + (oy * WO + ox) * C;
            for (int64_t c = 0; c < C; c++) o[c] = 0.0f;
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++) {
                    const float *s = inp + (iy[i] * WI + ix[j]) * C;
                    float wgt = wy[i] * wx[j];
                    for (int64_t c = 0; c < C; c++) o[c] += wgt * s[c];
                }
        }
    }
}

void nn_bicubic_resize_backward(float *dinp, const float *dout, int64_t HI, int64_t WI, int64_t HO, int64_t WO,
                                int64_t C)
{
    check_resize(HI, WI, HO, WO, C);
    /* taps of neighbouring outputs share inputs, so split the work over channel blocks, not over pixels */
    const int64_t CB = 16, nblocks = (C + CB - 1) / CB;
#pragma omp parallel for schedule(static)
    for (int64_t blk = 0; blk < nblocks; blk++) {
        const int64_t c0 = blk * CB, c1 = ILD_MIN(C, c0 + CB);
        for (int64_t oy = 0; oy < HO; oy++) {
            int64_t iy[4], ix[4];
            float wy[4], wx[4];
            cubic_taps(oy, HI, HO, iy, wy);
            for (int64_t ox = 0; ox < WO; ox++) {
                cubic_taps(ox, WI, WO, ix, wx);
                const float *g = dout + (oy * WO + ox) * C;
                for (int i = 0; i < 4; i++)
                    for (int j = 0; j < 4; j++) {
                        float *d = dinp + (iy[i] * WI + ix[j]) * C;
                        float wgt = wy[i] * wx[j];
                        for (int64_t c = c0; c < c1; c++) d[c] += wgt * g[c];
                    }
            }
        }
    }
}

void nn_bicubic_resize_forward_ref(float *out, const float *inp, int64_t HI, int64_t WI, int64_t HO, int64_t WO,
                                   int64_t C)
{
    check_resize(HI, WI, HO, WO, C);
    for (int64_t oy = 0; oy < HO; oy++)
        for (int64_t ox = 0; ox < WO; ox++)
            for (int64_t c = 0; c < C; c++) {
                int64_t iy[4], ix[4];
                float wy[4], wx[4];
                cubic_taps(oy, HI, HO, iy, wy);
                cubic_taps(ox, WI, WO, ix, wx);
                float s = 0.0f;
                for (int i = 0; i < 4; i++) { /* separable: rows first, as torch */
                    float r = 0.0f;
                    for (int j = 0; j < 4; j++) r += wx[j] * inp[(iy[i] * WI + ix[j]) * C + c];
                    s += wy[i] * r;
                }
                out[(oy * WO + ox) * C + c] = s;
            }
}

void nn_bicubic_resize_backward_ref(float *dinp, const float *dout, int64_t HI, int64_t WI, int64_t HO, int64_t WO,
                                    int64_t C)
{
    check_resize(HI, WI, HO, WO, C);
    for (int64_t oy = 0; oy < HO; oy++)
        for (int64_t ox = 0; ox < WO; ox++)
            for (int64_t c = 0; c < C; c++) {
                int64_t iy[4], ix[4];
                float wy[4], wx[4];
                cubic_taps(oy, HI, HO, iy, wy);
                cubic_taps(ox, WI, WO, ix, wx);
                for (int i = 0; i < 4; i++)
                    for (int j = 0; j < 4; j++)
                        dinp[(iy[i] * WI + ix[j]) * C + c] += wy[i] * wx[j] * dout[(oy * WO + ox) * C + c];
            }
}

/* ---- MAE masking ---- */

int64_t nn_mask_keep_count(int64_t T, float mask_ratio)
{
    int64_t k = (int64_t)((double)T * (1.0 - (double)mask_ratio));
    return ILD_CLAMP(k, 1, T);
}

void nn_mask_random(int64_t *keep_idx, int64_t *mask_idx, nn_rng *rng, int64_t B, int64_t T, int64_t K)
{
    ILD_ASSERT(B >= 1 && K >= 1 && K <= T);
    for (int64_t b = 0; b < B; b++) {
        /* selection sampling (Knuth's algorithm S): token t is kept with probability needed / remaining, which
         * picks every K-subset with equal probability and yields the indices already sorted */
        int64_t *keep = keep_idx + b * K, *mask = mask_idx ? mask_idx + b * (T - K) : NULL;
        int64_t nk = 0, nm = 0;
        for (int64_t t = 0; t < T; t++) {
            if ((int64_t)nn_rng_below(rng, (uint64_t)(T - t)) < K - nk) keep[nk++] = t;
            else if (mask) mask[nm++] = t;
        }
        ILD_ASSERT(nk == K);
    }
}

void nn_gather_tokens_forward(float *out, const float *x, const int64_t *idx, int64_t B, int64_t T, int64_t K,
                              int64_t C)
{
    for (int64_t b = 0; b < B; b++)
        for (int64_t i = 0; i < K; i++) {
            int64_t t = idx[b * K + i];
            ILD_ASSERT(t >= 0 && t < T);
            memcpy(out + (b * K + i) * C, x + (b * T + t) * C, sizeof(float) * (size_t)C);
        }
}

void nn_gather_tokens_backward(float *dx, const float *dout, const int64_t *idx, int64_t B, int64_t T, int64_t K,
                               int64_t C)
{
    for (int64_t b = 0; b < B; b++)
        for (int64_t i = 0; i < K; i++) {
            int64_t t = idx[b * K + i];
            ILD_ASSERT(t >= 0 && t < T);
            float *d = dx + (b * T + t) * C;
            const float *g = dout + (b * K + i) * C;
            for (int64_t c = 0; c < C; c++) d[c] += g[c];
        }
}

void nn_scatter_tokens_forward(float *out, const float *x, const int64_t *idx, int64_t B, int64_t T, int64_t K,
                               int64_t C)
{
    for (int64_t b = 0; b < B; b++)
        for (int64_t i = 0; i < K; i++) {
            int64_t t = idx[b * K + i];
            ILD_ASSERT(t >= 0 && t < T);
            memcpy(out + (b * T + t) * C, x + (b * K + i) * C, sizeof(float) * (size_t)C);
        }
}

void nn_scatter_tokens_backward(float *dx, const float *dout, const int64_t *idx, int64_t B, int64_t T, int64_t K,
                                int64_t C)
{
    for (int64_t b = 0; b < B; b++)
        for (int64_t i = 0; i < K; i++) {
            int64_t t = idx[b * K + i];
            ILD_ASSERT(t >= 0 && t < T);
            float *d = dx + (b * K + i) * C;
            const float *g = dout + (b * T + t) * C;
            for (int64_t c = 0; c < C; c++) d[c] += g[c];
        }
}

/* ---- feature map <-> tokens ---- */

/* dst (N, S, C) (+)= src (N, C, S) when to_tokens, else dst (N, C, S) (+)= src (N, S, C) */
static void transpose_cs(float *dst, const float *src, bool to_tokens, bool add, int64_t N, int64_t C, int64_t S)
{
    ILD_ASSERT(N >= 1 && C >= 1 && S >= 1);
#pragma omp parallel for schedule(static) if (N * C * S > 65536)
    for (int64_t n = 0; n < N; n++)
        for (int64_t c = 0; c < C; c++)
            for (int64_t s = 0; s < S; s++) {
                int64_t im = (n * C + c) * S + s, it = (n * S + s) * C + c;
                float *d = dst + (to_tokens ? it : im);
                float v = src[to_tokens ? im : it];
                *d = add ? *d + v : v;
            }
}

void nn_map_to_tokens_forward(float *out, const float *inp, int64_t N, int64_t C, int64_t S)
{
    transpose_cs(out, inp, true, false, N, C, S);
}

void nn_map_to_tokens_backward(float *dinp, const float *dout, int64_t N, int64_t C, int64_t S)
{
    transpose_cs(dinp, dout, false, true, N, C, S);
}

void nn_tokens_to_map_forward(float *out, const float *inp, int64_t N, int64_t C, int64_t S)
{
    transpose_cs(out, inp, false, false, N, C, S);
}

void nn_tokens_to_map_backward(float *dinp, const float *dout, int64_t N, int64_t C, int64_t S)
{
    transpose_cs(dinp, dout, true, true, N, C, S);
}
