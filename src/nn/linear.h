/*
 * linear.h: the fully connected layer y = x W^T + b (torch.nn.Linear), forward and backward.
 *
 * Shapes: x (N, IN), W (OUT, IN) (PyTorch's layout), b (OUT) or NULL, y (N, OUT). N is every leading dimension
 * flattened (batch x tokens). The fast path is OpenBLAS sgemm; *_ref is the plain-C reference (test oracle).
 * Backward ACCUMULATES (+=) into dx, dW, db; any of them may be NULL to skip it. No function here fails; shapes
 * must be >= 1 and each below 2^31 (BLAS uses int), which is asserted. The GEMM runs on OpenBLAS's own threads
 * (openblas_set_num_threads / OPENBLAS_NUM_THREADS), not OpenMP's; call it from one thread, not from inside an
 * OpenMP parallel region.
 */
#ifndef ILDIFF_NN_LINEAR_H
#define ILDIFF_NN_LINEAR_H

#include <stdint.h>

void nn_linear_forward(float *y, const float *x, const float *w, const float *b, int64_t n, int64_t in,
                       int64_t out);
void nn_linear_backward(float *dx, float *dw, float *db, const float *dy, const float *x, const float *w, int64_t n,
                        int64_t in, int64_t out);

void nn_linear_forward_ref(float *y, const float *x, const float *w, const float *b, int64_t n, int64_t in,
                           int64_t out);
void nn_linear_backward_ref(float *dx, float *dw, float *db, const float *dy, const float *x, const float *w,
                            int64_t n, int64_t in, int64_t out);

#endif
