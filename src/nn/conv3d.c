/*
 * conv3d.c: 3D convolution (conv.h), the temporal layers' Conv3d over (N, C, D, H, W): the conv3d entry points
 * of the reference (conv_ref.c) and the oneDNN plan (conv_dnnl.c).
 */
#include "nn/conv_impl.h"

#include "base/base.h"

void nn_conv3d_forward_ref(float *out, const float *inp, const float *weight, const float *bias,
                           const nn_conv_shape *s)
{
    ILD_ASSERT((bias != NULL) == s->bias);
    conv_geom g = conv_geom_of(s, true);
    conv_ref_forward(out, inp, weight, bias, &g);
}

void nn_conv3d_backward_ref(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                            const float *weight, const nn_conv_shape *s)
{
    ILD_ASSERT(!dbias || s->bias);
    conv_geom g = conv_geom_of(s, true);
    conv_ref_backward(dinp, dweight, dbias, dout, inp, weight, &g);
}

ildiff_status nn_conv3d_plan_new(nn_conv3d_plan **out, const nn_conv_shape *s)
{
    return conv_plan_new(out, s, true, NULL);
}

ildiff_status nn_conv3d_plan_new_shared(nn_conv3d_plan **out, const nn_conv_shape *s, nn_workspace *ws)
{
    return conv_plan_new(out, s, true, ws);
}
void nn_conv3d_plan_free(nn_conv3d_plan *p) { conv_plan_free(p); }
size_t nn_conv3d_plan_bytes(const nn_conv3d_plan *p) { return conv_plan_bytes(p); }

void nn_conv3d_forward(nn_conv3d_plan *p, float *out, const float *inp, const float *weight, const float *bias)
{
    conv_plan_forward(p, out, inp, weight, bias);
}

void nn_conv3d_backward(nn_conv3d_plan *p, float *dinp, float *dweight, float *dbias, const float *dout,
                        const float *inp, const float *weight)
{
    conv_plan_backward(p, dinp, dweight, dbias, dout, inp, weight);
}
