/* linear.c: y = x W^T + b with OpenBLAS sgemm, its backward, and the plain-C reference pair (linear.h). */
#include "nn/linear.h"

#include "base/base.h"

#include <cblas.h>
#include <limits.h>

static void check_dims(int64_t n, int64_t in, int64_t out)
{
    ILD_ASSERT(n >= 1 && in >= 1 && out >= 1);
    ILD_ASSERT(n <= INT_MAX && in <= INT_MAX && out <= INT_MAX);
}

void nn_linear_forward(float *y, const float *x, const float *w, const float *b, int64_t n, int64_t in,
                       int64_t out)
{
    check_dims(n, in, out);
    float beta = 0.0f;
    if (b) {
        for (int64_t i = 0; i < n; i++) {
            float *yi = y + i * out;
            for (int64_t o = 0; o < out; o++) yi[o] = b[o];
        }
        beta = 1.0f;
    }
    /* y (N, OUT) = x (N, IN) . W^T (IN, OUT) */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)out, (int)in, 1.0f, x, (int)in, w, (int)in,
                beta, y, (int)out);
}

void nn_linear_backward(float *dx, float *dw, float *db, const float *dy, const float *x, const float *w, int64_t n,
                        int64_t in, int64_t out)
{
    check_dims(n, in, out);
    /* dx (N, IN) += dy (N, OUT) . W (OUT, IN) */
    if (dx)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)in, (int)out, 1.0f, dy, (int)out, w,
                    (int)in, 1.0f, dx, (int)in);
    /* dW (OUT, IN) += dy^T (OUT, N) . x (N, IN) */
    if (dw)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)out, (int)in, (int)n, 1.0f, dy, (int)out, x,
                    (int)in, 1.0f, dw, (int)in);
    if (db)
        for (int64_t i = 0; i < n; i++) {
            const float *dyi = dy + i * out;
            for (int64_t o = 0; o < out; o++) db[o] += dyi[o];
        }
}

void nn_linear_forward_ref(float *y, const float *x, const float *w, const float *b, int64_t n, int64_t in,
                           int64_t out)
{
    check_dims(n, in, out);
    for (int64_t i = 0; i < n; i++)
        for (int64_t o = 0; o < out; o++) {
            float s = b ? b[o] : 0.0f;
            for (int64_t k = 0; k < in; k++) s += x[i * in + k] * w[o * in + k];
            y[i * out + o] = s;
        }
}

void nn_linear_backward_ref(float *dx, float *dw, float *db, const float *dy, const float *x, const float *w,
                            int64_t n, int64_t in, int64_t out)
{
    check_dims(n, in, out);
    for (int64_t i = 0; i < n; i++)
        for (int64_t o = 0; o < out; o++) {
            float g = dy[i * out + o];
            if (db) db[o] += g;
            for (int64_t k = 0; k < in; k++) {
                if (dx) dx[i * in + k] += g * w[o * in + k];
                if (dw) dw[o * in + k] += g * x[i * in + k];
            }
        }
}
