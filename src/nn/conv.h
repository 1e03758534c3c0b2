/*
 * conv.h: 2D and 3D convolution (PyTorch's nn.Conv2d / nn.Conv3d with groups=1, dilation=1, zero padding).
 *
 *   conv2d: inp (N, C, H, W),    weight (OC, C, K, K),    bias (OC) -> out (N, OC, OH, OW)
 *   conv3d: inp (N, C, D, H, W), weight (OC, C, K, K, K), bias (OC) -> out (N, OC, OD, OH, OW)
 *   with O = (I + 2*pad - K) / stride + 1 (floor) in every spatial dimension, as PyTorch.
 *
 * Two paths that compute the same thing:
 *   - *_ref: direct loops in plain C, single-threaded; the oracle of the tests.
 *   - the plan: oneDNN primitives (forward, backward-data, backward-weights+bias; the forward alone for a shape
 *     with `inference`) created once for a shape by
 *     nn_conv2d_plan_new / nn_conv3d_plan_new and reused every step. The caller's tensors stay NCHW/NCDHW; the
 *     plan reorders them into oneDNN's blocked layouts (nChw16c ...) in scratch buffers and back, accumulating
 *     gradients. The scratch is the plan's own, or with *_plan_new_shared a shared nn_workspace (nn.h) that
 *     the plan reserves its size in; nothing is allocated per call. A plan runs with the thread count
 *     (nn_threads_get) of the moment it was made. Plans sharing a workspace, or one plan, must not run on two
 *     threads at once.
 *
 * Backward accumulates (+=) into dinp, dweight and dbias; any of them may be NULL to skip it (dbias must be NULL
 * for a shape without bias).
 */
#ifndef ILDIFF_NN_CONV_H
#define ILDIFF_NN_CONV_H

#include "ildiff.h"
#include "nn/nn.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct nn_conv_shape {
    int64_t N;       /* batch, e.g. 16 */
    int64_t C, OC;   /* input and output channels, e.g. 64 -> 64 */
    int64_t D, H, W; /* input frames (1 for conv2d), height, width, e.g. 8, 128, 128 */
    int64_t K;       /* kernel size in every spatial dimension, e.g. 3 */
    int64_t stride;  /* >= 1, e.g. 1 or 2 */
    int64_t pad;     /* zero padding on both sides of every spatial dimension, 0 <= pad < K, e.g. 1 */
    bool bias;       /* whether a (OC) bias is added */
    bool bf16;       /* plans only: the kernels read bfloat16 copies of inp, weight and dout (rounded, about 3
                        significant digits); accumulation, outputs and gradients stay float32. The references
                        ignore it. */
    bool inference;  /* plans only: forward only (oneDNN's forward_inference, no backward primitives, scratch sized
                        for the forward alone); nn_conv*_backward must not be called. The references ignore it. */
} nn_conv_shape;

/* Output size of one spatial dimension: (in + 2*pad - K) / stride + 1, or 0 if the kernel does not fit. */
int64_t nn_conv_out_size(int64_t in, int64_t K, int64_t stride, int64_t pad);

/* Checks a shape (positive sizes, the kernel fits, no size overflows); D must be 1 for conv2d (is3d false).
 * Returns ILDIFF_OK or ILDIFF_ERR_ARG with a reason. */
ildiff_status nn_conv_shape_check(const nn_conv_shape *s, bool is3d);

/* Nominal multiply-add FLOPs of one forward pass: 2 * N * OC * C * K^d * out_positions. */
double nn_conv_flops(const nn_conv_shape *s, bool is3d);

/* ---- reference (direct loops) ---- */

void nn_conv2d_forward_ref(float *out, const float *inp, const float *weight, const float *bias,
                           const nn_conv_shape *s);
void nn_conv2d_backward_ref(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                            const float *weight, const nn_conv_shape *s);
void nn_conv3d_forward_ref(float *out, const float *inp, const float *weight, const float *bias,
                           const nn_conv_shape *s);
void nn_conv3d_backward_ref(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                            const float *weight, const nn_conv_shape *s);

/* ---- fast path (oneDNN plans) ---- */

typedef struct nn_conv_plan nn_conv2d_plan;
typedef struct nn_conv_plan nn_conv3d_plan;

/* Creates the plan for one shape. On success *out owns oneDNN primitives and its scratch; free it with
 * nn_conv2d_plan_free. Fails with ILDIFF_ERR_ARG (bad shape), ILDIFF_ERR_NOMEM, or ILDIFF_ERR_INTERNAL (oneDNN
 * refused); *out is NULL then. */
ildiff_status nn_conv2d_plan_new(nn_conv2d_plan **out, const nn_conv_shape *s);
/* The same, with its scratch in a shared workspace: the plan reserves its size there; call
 * nn_workspace_alloc before running it. The workspace must outlive the plan. */
ildiff_status nn_conv2d_plan_new_shared(nn_conv2d_plan **out, const nn_conv_shape *s, nn_workspace *ws);
void nn_conv2d_plan_free(nn_conv2d_plan *p); /* NULL is allowed */
/* Bytes of scratch the plan uses during a call (its own block, or its reservation in the workspace). */
size_t nn_conv2d_plan_bytes(const nn_conv2d_plan *p);

/* bias may be NULL only for a shape without bias. */
void nn_conv2d_forward(nn_conv2d_plan *p, float *out, const float *inp, const float *weight, const float *bias);
void nn_conv2d_backward(nn_conv2d_plan *p, float *dinp, float *dweight, float *dbias, const float *dout,
                        const float *inp, const float *weight);

ildiff_status nn_conv3d_plan_new(nn_conv3d_plan **out, const nn_conv_shape *s);
ildiff_status nn_conv3d_plan_new_shared(nn_conv3d_plan **out, const nn_conv_shape *s, nn_workspace *ws);
void nn_conv3d_plan_free(nn_conv3d_plan *p);
size_t nn_conv3d_plan_bytes(const nn_conv3d_plan *p);
void nn_conv3d_forward(nn_conv3d_plan *p, float *out, const float *inp, const float *weight, const float *bias);
void nn_conv3d_backward(nn_conv3d_plan *p, float *dinp, float *dweight, float *dbias, const float *dout,
                        const float *inp, const float *weight);

#endif
