/*
 * conv_impl.h: internals shared by conv2d.c and conv3d.c (not part of the engine's API): the direct-loop
 * reference over three spatial dimensions (conv2d is the case D = 1, KD = 1) and the oneDNN plan.
 */
#ifndef ILDIFF_NN_CONV_IMPL_H
#define ILDIFF_NN_CONV_IMPL_H

#include "nn/conv.h"
#include "nn/nn.h"

typedef struct nn_conv_plan nn_conv_plan;

/* The geometry of one convolution over (D, H, W): per dimension input size, kernel, stride, padding, output. */
typedef struct conv_geom {
    int64_t N, C, OC;
    int64_t in[3], k[3], stride[3], pad[3], out[3];
} conv_geom;

/* The geometry of `s` (is3d false: D = 1 with a kernel depth of 1). The shape must have passed
 * nn_conv_shape_check. */
conv_geom conv_geom_of(const nn_conv_shape *s, bool is3d);

void conv_ref_forward(float *out, const float *inp, const float *weight, const float *bias, const conv_geom *g);
void conv_ref_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                       const float *weight, const conv_geom *g);

ildiff_status conv_plan_new(struct nn_conv_plan **out, const nn_conv_shape *s, bool is3d, nn_workspace *ws);
void conv_plan_free(struct nn_conv_plan *p);
size_t conv_plan_bytes(const struct nn_conv_plan *p);
void conv_plan_forward(struct nn_conv_plan *p, float *out, const float *inp, const float *weight,
                       const float *bias);
void conv_plan_backward(struct nn_conv_plan *p, float *dinp, float *dweight, float *dbias, const float *dout,
                        const float *inp, const float *weight);

#endif
