/*
 * tensor_ops.c: concat/slice along channels, add/mul/scale, flip and rot90 (tensor_ops.h).
 *
 * The fast paths move whole channel planes or rows (memcpy-sized runs) and split them over OpenMP threads;
 * rot90 goes through 32x32 tiles so both the reads and the writes stay in cache. The references compute each
 * output element from the index formula of the definition.
 */
#include "nn/tensor_ops.h"

#include "base/base.h"

#include <string.h>

#define TILE 32

/* ---- concat / slice along channels ---- */

void nn_concat_forward(float *out, const float *const *inps, const int64_t *C, int count, int64_t N, int64_t S)
{
    int64_t CT = 0;
    for (int i = 0; i < count; i++) CT += C[i];
    int64_t c0 = 0;
    for (int i = 0; i < count; c0 += C[i], i++) {
        const int64_t ci = C[i];
        const float *x = inps[i];
#pragma omp parallel for schedule(static)
        for (int64_t n = 0; n < N; n++)
            memcpy(out + (n * CT + c0) * S, x + n * ci * S, sizeof(float) * (size_t)(ci * S));
    }
}

void nn_concat_backward(float *const *dinps, const float *dout, const int64_t *C, int count, int64_t N, int64_t S)
{
    int64_t CT = 0;
    for (int i = 0; i < count; i++) CT += C[i];
    int64_t c0 = 0;
    for (int i = 0; i < count; c0 += C[i], i++) {
        if (!dinps[i]) continue;
        const int64_t len = C[i] * S;
        float *dx = dinps[i];
#pragma omp parallel for schedule(static)
        for (int64_t n = 0; n < N; n++) {
            const float *dy = dout + (n * CT + c0) * S;
            for (int64_t j = 0; j < len; j++) dx[n * len + j] += dy[j];
        }
    }
}

void nn_concat_forward_ref(float *out, const float *const *inps, const int64_t *C, int count, int64_t N, int64_t S)
{
    int64_t CT = 0;
    for (int i = 0; i < count; i++) CT += C[i];
    for (int64_t n = 0; n < N; n++)
        for (int64_t c = 0; c < CT; c++) {
            int i = 0;
            int64_t cl = c;
            while (cl >= C[i]) cl -= C[i++];
            for (int64_t s = 0; s < S; s++) out[(n * CT + c) * S + s] = inps[i][(n * C[i] + cl) * S + s];
        }
}

void nn_concat_backward_ref(float *const *dinps, const float *dout, const int64_t *C, int count, int64_t N,
                            int64_t S)
{
    int64_t CT = 0;
    for (int i = 0; i < count; i++) CT += C[i];
    for (int64_t n = 0; n < N; n++)
        for (int64_t c = 0; c < CT; c++) {
            int i = 0;
            int64_t cl = c;
            while (cl >= C[i]) cl -= C[i++];
            if (!dinps[i]) continue;
            for (int64_t s = 0; s < S; s++) dinps[i][(n * C[i] + cl) * S + s] += dout[(n * CT + c) * S + s];
        }
}

void nn_slice_forward(float *out, const float *inp, int64_t N, int64_t C, int64_t S, int64_t c0, int64_t CS)
{
    ILD_ASSERT(c0 >= 0 && CS >= 0 && c0 + CS <= C);
#pragma omp parallel for schedule(static)
    for (int64_t n = 0; n < N; n++)
        memcpy(out + n * CS * S, inp + (n * C + c0) * S, sizeof(float) * (size_t)(CS * S));
}

void nn_slice_backward(float *dinp, const float *dout, int64_t N, int64_t C, int64_t S, int64_t c0, int64_t CS)
{
    ILD_ASSERT(c0 >= 0 && CS >= 0 && c0 + CS <= C);
    const int64_t len = CS * S;
#pragma omp parallel for schedule(static)
    for (int64_t n = 0; n < N; n++) {
        float *dx = dinp + (n * C + c0) * S;
        const float *dy = dout + n * len;
        for (int64_t i = 0; i < len; i++) dx[i] += dy[i];
    }
}

void nn_slice_forward_ref(float *out, const float *inp, int64_t N, int64_t C, int64_t S, int64_t c0, int64_t CS)
{
    for (int64_t n = 0; n < N; n++)
        for (int64_t c = 0; c < CS; c++)
            for (int64_t s = 0; s < S; s++) out[(n * CS + c) * S + s] = inp[(n * C + c0 + c) * S + s];
}

void nn_slice_backward_ref(float *dinp, const float *dout, int64_t N, int64_t C, int64_t S, int64_t c0,
                           int64_t CS)
{
    for (int64_t n = 0; n < N; n++)
        for (int64_t c = 0; c < CS; c++)
            for (int64_t s = 0; s < S; s++) dinp[(n * C + c0 + c) * S + s] += dout[(n * CS + c) * S + s];
}

/* ---- elementwise ---- */

void nn_add_forward(float *out, const float *a, const float *b, size_t n)
{
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < (int64_t)n; i++) out[i] = a[i] + b[i];
}

void nn_add_backward(float *da, float *db, const float *dout, size_t n)
{
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < (int64_t)n; i++) {
        if (da) da[i] += dout[i];
        if (db) db[i] += dout[i];
    }
}

void nn_mul_forward(float *out, const float *a, const float *b, size_t n)
{
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < (int64_t)n; i++) out[i] = a[i] * b[i];
}

void nn_mul_backward(float *da, float *db, const float *dout, const float *a, const float *b, size_t n)
{
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < (int64_t)n; i++) {
        if (da) da[i] += dout[i] * b[i];
        if (db) db[i] += dout[i] * a[i];
    }
}

void nn_scale_forward(float *out, const float *a, float s, size_t n)
{
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < (int64_t)n; i++) out[i] = a[i] * s;
}

void nn_scale_backward(float *da, const float *dout, float s, size_t n)
{
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < (int64_t)n; i++) da[i] += dout[i] * s;
}

void nn_add_forward_ref(float *out, const float *a, const float *b, size_t n)
{
    for (size_t i = 0; i < n; i++) out[i] = a[i] + b[i];
}

void nn_add_backward_ref(float *da, float *db, const float *dout, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (da) da[i] += dout[i];
        if (db) db[i] += dout[i];
    }
}

void nn_mul_forward_ref(float *out, const float *a, const float *b, size_t n)
{
    for (size_t i = 0; i < n; i++) out[i] = a[i] * b[i];
}

void nn_mul_backward_ref(float *da, float *db, const float *dout, const float *a, const float *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (da) da[i] += dout[i] * b[i];
        if (db) db[i] += dout[i] * a[i];
    }
}

void nn_scale_forward_ref(float *out, const float *a, float s, size_t n)
{
    for (size_t i = 0; i < n; i++) out[i] = a[i] * s;
}

void nn_scale_backward_ref(float *da, const float *dout, float s, size_t n)
{
    for (size_t i = 0; i < n; i++) da[i] += dout[i] * s;
}

/* ---- flip ---- */

/* Copies (acc false) or adds (acc true) the flip of src into dst; flip is its own inverse, so backward is the
 * same walk with dout as src. */
static void flip_rows(float *dst, const float *src, int64_t N, int64_t C, int64_t H, int64_t W, bool fh, bool fw,
                      bool acc)
{
    const int64_t rows = N * C * H;
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < rows; r++) {
        const int64_t p = r / H, h = r % H;
        const float *x = src + (p * H + (fh ? H - 1 - h : h)) * W;
        float *y = dst + r * W;
        if (fw && acc)
            for (int64_t w = 0; w < W; w++) y[w] += x[W - 1 - w];
        else if (fw)
            for (int64_t w = 0; w < W; w++) y[w] = x[W - 1 - w];
        else if (acc)
            for (int64_t w = 0; w < W; w++) y[w] += x[w];
        else
            memcpy(y, x, sizeof(float) * (size_t)W);
    }
}

void nn_flip_forward(float *out, const float *inp, int64_t N, int64_t C, int64_t H, int64_t W, bool flip_h,
                     bool flip_w)
{
    flip_rows(out, inp, N, C, H, W, flip_h, flip_w, false);
}

void nn_flip_backward(float *dinp, const float *dout, int64_t N, int64_t C, int64_t H, int64_t W, bool flip_h,
                      bool flip_w)
{
    flip_rows(dinp, dout, N, C, H, W, flip_h, flip_w, true);
}

void nn_flip_forward_ref(float *out, const float *inp, int64_t N, int64_t C, int64_t H, int64_t W, bool flip_h,
                         bool flip_w)
{
    for (int64_t p = 0; p < N * C; p++)
        for (int64_t h = 0; h < H; h++)
            for (int64_t w = 0; w < W; w++)
                out[(p * H + h) * W + w] = inp[(p * H + (flip_h ? H - 1 - h : h)) * W + (flip_w ? W - 1 - w : w)];
}

void nn_flip_backward_ref(float *dinp, const float *dout, int64_t N, int64_t C, int64_t H, int64_t W, bool flip_h,
                          bool flip_w)
{
    for (int64_t p = 0; p < N * C; p++)
        for (int64_t h = 0; h < H; h++)
            for (int64_t w = 0; w < W; w++)
                dinp[(p * H + (flip_h ? H - 1 - h : h)) * W + (flip_w ? W - 1 - w : w)] += dout[(p * H + h) * W + w];
}

/* ---- rot90 ---- */

/* The input position (h, w) that output (i, j) of rot90 by k reads; the output is (W, H) for odd k. */
static inline void rot_src(int k, int64_t H, int64_t W, int64_t i, int64_t j, int64_t *h, int64_t *w)
{
    switch (k) {
    case 1: *h = j, *w = W - 1 - i; break;
    case 2: *h = H - 1 - i, *w = W - 1 - j; break;
    case 3: *h = H - 1 - j, *w = i; break;
    default: *h = i, *w = j; break;
    }
}

/* dst (rotation of src by k) = or += the rotation, one output tile of TILE x TILE per task. */
static void rot_tiles(float *dst, const float *src, int64_t N, int64_t C, int64_t H, int64_t W, int k, bool acc)
{
    k = ((k % 4) + 4) % 4;
    const int64_t OH = k % 2 ? W : H, OW = k % 2 ? H : W;
    const int64_t th = (OH + TILE - 1) / TILE, tw = (OW + TILE - 1) / TILE, tasks = N * C * th * tw;
#pragma omp parallel for schedule(static)
    for (int64_t t = 0; t < tasks; t++) {
        const int64_t p = t / (th * tw), i0 = t / tw % th * TILE, j0 = t % tw * TILE;
        const float *x = src + p * H * W;
        float *y = dst + p * OH * OW;
        for (int64_t i = i0; i < ILD_MIN(i0 + TILE, OH); i++)
            for (int64_t j = j0; j < ILD_MIN(j0 + TILE, OW); j++) {
                int64_t h, w;
                rot_src(k, H, W, i, j, &h, &w);
                if (acc)
                    y[i * OW + j] += x[h * W + w];
                else
                    y[i * OW + j] = x[h * W + w];
            }
    }
}

void nn_rot90_forward(float *out, const float *inp, int64_t N, int64_t C, int64_t H, int64_t W, int k)
{
    rot_tiles(out, inp, N, C, H, W, k, false);
}

void nn_rot90_backward(float *dinp, const float *dout, int64_t N, int64_t C, int64_t H, int64_t W, int k)
{
    /* the gradient rotates back: by 4 - k, from the output's (OH, OW) */
    k = ((k % 4) + 4) % 4;
    const int64_t OH = k % 2 ? W : H, OW = k % 2 ? H : W;
    rot_tiles(dinp, dout, N, C, OH, OW, 4 - k, true);
}

void nn_rot90_forward_ref(float *out, const float *inp, int64_t N, int64_t C, int64_t H, int64_t W, int k)
{
    k = ((k % 4) + 4) % 4;
    const int64_t OH = k % 2 ? W : H, OW = k % 2 ? H : W;
    for (int64_t p = 0; p < N * C; p++)
        for (int64_t i = 0; i < OH; i++)
            for (int64_t j = 0; j < OW; j++) {
                int64_t h, w;
                rot_src(k, H, W, i, j, &h, &w);
                out[(p * OH + i) * OW + j] = inp[(p * H + h) * W + w];
            }
}

void nn_rot90_backward_ref(float *dinp, const float *dout, int64_t N, int64_t C, int64_t H, int64_t W, int k)
{
    k = ((k % 4) + 4) % 4;
    const int64_t OH = k % 2 ? W : H, OW = k % 2 ? H : W;
    for (int64_t p = 0; p < N * C; p++)
        for (int64_t i = 0; i < OH; i++)
            for (int64_t j = 0; j < OW; j++) {
                int64_t h, w;
                rot_src(k, H, W, i, j, &h, &w);
                dinp[(p * H + h) * W + w] += dout[(p * OH + i) * OW + j];
            }
}
