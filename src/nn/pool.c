/*
 * pool.c: nearest x2 upsampling, average pooling and adaptive average pooling (pool.h). Fast paths work a row
 * (or a channel plane) at a time over OpenMP threads, each output written by one thread; the references loop
 * over every element straight from the definitions.
 */
#include "nn/pool.h"

#include "base/base.h"

/* ---- nearest x2 ---- */

void nn_upsample2x_forward(float *out, const float *inp, int64_t N, int64_t C, int64_t H, int64_t W)
{
    const int64_t rows = N * C * H;
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < rows; r++) {
        const float *x = inp + r * W;
        float *y0 = out + r * 4 * W, *y1 = y0 + 2 * W;
        for (int64_t w = 0; w < W; w++) y0[2 * w] = y0[2 * w + 1] = x[w];
        for (int64_t w = 0; w < 2 * W; w++) y1[w] = y0[w];
    }
}

void nn_upsample2x_backward(float *dinp, const float *dout, int64_t N, int64_t C, int64_t H, int64_t W)
{
    const int64_t rows = N * C * H;
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < rows; r++) {
        const float *d0 = dout + r * 4 * W, *d1 = d0 + 2 * W;
        float *dx = dinp + r * W;
        for (int64_t w = 0; w < W; w++) dx[w] += (d0[2 * w] + d0[2 * w + 1]) + (d1[2 * w] + d1[2 * w + 1]);
    }
}

void nn_upsample2x_forward_ref(float *out, const float *inp, int64_t N, int64_t C, int64_t H, int64_t W)
{
    for (int64_t p = 0; p < N * C; p++)
        for (int64_t oh = 0; oh < 2 * H; oh++)
            for (int64_t ow = 0; ow < 2 * W; ow++)
                out[(p * 2 * H + oh) * 2 * W + ow] = inp[(p * H + oh / 2) * W + ow / 2];
}

void nn_upsample2x_backward_ref(float *dinp, const float *dout, int64_t N, int64_t C, int64_t H, int64_t W)
{
    for (int64_t p = 0; p < N * C; p++)
        for (int64_t oh = 0; oh < 2 * H; oh++)
            for (int64_t ow = 0; ow < 2 * W; ow++)
                dinp[(p * H + oh / 2) * W + ow / 2] += dout[(p * 2 * H + oh) * 2 * W + ow];
}

/* ---- average pooling, kernel = stride = k ---- */

void nn_avgpool_forward(float *out, const float *inp, int64_t N, int64_t C, int64_t H, int64_t W, int64_t k)
{
    const int64_t OH = H / k, OW = W / k, rows = N * C * OH;
    const float inv = 1.0f / (float)(k * k);
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < rows; r++) {
        const int64_t p = r / OH, oh = r % OH;
        float *y = out + r * OW;
        for (int64_t ow = 0; ow < OW; ow++) y[ow] = 0;
        for (int64_t i = 0; i < k; i++) {
            const float *x = inp + (p * H + oh * k + i) * W;
            for (int64_t ow = 0; ow < OW; ow++)
                for (int64_t j = 0; j < k; j++) y[ow] += x[ow * k + j];
        }
        for (int64_t ow = 0; ow < OW; ow++) y[ow] *= inv;
    }
}

void nn_avgpool_backward(float *dinp, const float *dout, int64_t N, int64_t C, int64_t H, int64_t W, int64_t k)
{
    const int64_t OH = H / k, OW = W / k, rows = N * C * OH;
    const float inv = 1.0f / (float)(k * k);
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < rows; r++) {
        const int64_t p = r / OH, oh = r % OH;
        const float *dy = dout + r * OW;
        for (int64_t i = 0; i < k; i++) {
            float *dx = dinp + (p * H + oh * k + i) * W;
            for (int64_t ow = 0; ow < OW; ow++)
                for (int64_t j = 0; j < k; j++) dx[ow * k + j] += dy[ow] * inv;
        }
    }
}

void nn_avgpool_forward_ref(float *out, const float *inp, int64_t N, int64_t C, int64_t H, int64_t W, int64_t k)
{
    const int64_t OH = H / k, OW = W / k;
    for (int64_t p = 0; p < N * C; p++)
        for (int64_t oh = 0; oh < OH; oh++)
            for (int64_t ow = 0; ow < OW; ow++) {
                double acc = 0;
                for (int64_t i = 0; i < k; i++)
                    for (int64_t j = 0; j < k; j++) acc += inp[(p * H + oh * k + i) * W + ow * k + j];
                out[(p * OH + oh) * OW + ow] = (float)(acc / (double)(k * k));
            }
}

void nn_avgpool_backward_ref(float *dinp, const float *dout, int64_t N, int64_t C, int64_t H, int64_t W,
                             int64_t k)
{
    const int64_t OH = H / k, OW = W / k;
    for (int64_t p = 0; p < N * C; p++)
        for (int64_t oh = 0; oh < OH; oh++)
            for (int64_t ow = 0; ow < OW; ow++)
                for (int64_t i = 0; i < k; i++)
                    for (int64_t j = 0; j < k; j++)
                        dinp[(p * H + oh * k + i) * W + ow * k + j] +=
                            (float)(dout[(p * OH + oh) * OW + ow] / (double)(k * k));
}

/* ---- adaptive average pooling ---- */

static inline int64_t cell_start(int64_t i, int64_t in, int64_t outn) { return i * in / outn; }
static inline int64_t cell_end(int64_t i, int64_t in, int64_t outn) { return ((i + 1) * in + outn - 1) / outn; }

void nn_adaptive_avgpool_forward(float *out, const float *inp, int64_t N, int64_t C, int64_t H, int64_t W,
                                 int64_t OH, int64_t OW)
{
    const int64_t rows = N * C * OH;
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < rows; r++) {
        const int64_t p = r / OH, oh = r % OH;
        const int64_t h0 = cell_start(oh, H, OH), h1 = cell_end(oh, H, OH);
        for (int64_t ow = 0; ow < OW; ow++) {
            const int64_t w0 = cell_start(ow, W, OW), w1 = cell_end(ow, W, OW);
            float acc = 0;
            for (int64_t h = h0; h < h1; h++)
                for (int64_t w = w0; w < w1; w++) acc += inp[(p * H + h) * W + w];
            out[r * OW + ow] = acc / (float)((h1 - h0) * (w1 - w0));
        }
    }
}

void nn_adaptive_avgpool_backward(float *dinp, const float *dout, int64_t N, int64_t C, int64_t H, int64_t W,
                                  int64_t OH, int64_t OW)
{
    /* cells may overlap (when OH does not divide H), so split by channel plane: one writer per input */
#pragma omp parallel for schedule(static)
    for (int64_t p = 0; p < N * C; p++)
        for (int64_t oh = 0; oh < OH; oh++) {
            const int64_t h0 = cell_start(oh, H, OH), h1 = cell_end(oh, H, OH);
            for (int64_t ow = 0; ow < OW; ow++) {
                const int64_t w0 = cell_start(ow, W, OW), w1 = cell_end(ow, W, OW);
                const float g = dout[(p * OH + oh) * OW + ow] / (float)((h1 - h0) * (w1 - w0));
                for (int64_t h = h0; h < h1; h++)
                    for (int64_t w = w0; w < w1; w++) dinp[(p * H + h) * W + w] += g;
            }
        }
}

void nn_adaptive_avgpool_forward_ref(float *out, const float *inp, int64_t N, int64_t C, int64_t H, int64_t W,
                                     int64_t OH, int64_t OW)
{
    for (int64_t p = 0; p < N * C; p++)
        for (int64_t oh = 0; oh < OH; oh++)
            for (int64_t ow = 0; ow < OW; ow++) {
                int64_t h0 = (oh * H) / OH, h1 = ((oh + 1) * H + OH - 1) / OH;
                int64_t w0 = (ow * W) / OW, w1 = ((ow + 1) * W + OW - 1) / OW;
                double acc = 0;
                for (int64_t h = h0; h < h1; h++)
                    for (int64_t w = w0; w < w1; w++) acc += inp[(p * H + h) * W + w];
                out[(p * OH + oh) * OW + ow] = (float)(acc / (double)((h1 - h0) * (w1 - w0)));
            }
}

void nn_adaptive_avgpool_backward_ref(float *dinp, const float *dout, int64_t N, int64_t C, int64_t H, int64_t W,
                                      int64_t OH, int64_t OW)
{
    for (int64_t p = 0; p < N * C; p++)
        for (int64_t oh = 0; oh < OH; oh++)
            for (int64_t ow = 0; ow < OW; ow++) {
                int64_t h0 = (oh * H) / OH, h1 = ((oh + 1) * H + OH - 1) / OH;
                int64_t w0 = (ow * W) / OW, w1 = ((ow + 1) * W + OW - 1) / OW;
                double g = dout[(p * OH + oh) * OW + ow] / (double)((h1 - h0) * (w1 - w0));
                for (int64_t h = h0; h < h1; h++)
                    for (int64_t w = w0; w < w1; w++) dinp[(p * H + h) * W + w] += (float)g;
            }
}
