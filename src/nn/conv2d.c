/*
 * conv2d.c: 2D convolution (conv.h): shape checks shared with conv3d, and the conv2d entry points of the
 * reference (conv_ref.c) and the oneDNN plan (conv_dnnl.c).
 */
#include "nn/conv_impl.h"

#include "base/base.h"

int64_t nn_conv_out_size(int64_t in, int64_t K, int64_t stride, int64_t pad)
{
    int64_t span = in + 2 * pad - K;
    return span < 0 || stride < 1 ? 0 : span / stride + 1;
}

ildiff_status nn_conv_shape_check(const nn_conv_shape *s, bool is3d)
{
    const int64_t big = (int64_t)1 << 40;
    if (s->N < 1 || s->C < 1 || s->OC < 1 || s->D < 1 || s->H < 1 || s->W < 1 || s->K < 1 || s->stride < 1 ||
        s->pad < 0)
        return ild_fail(ILDIFF_ERR_ARG, "conv: sizes must be positive (padding >= 0)");
    if (!is3d && s->D != 1) return ild_fail(ILDIFF_ERR_ARG, "conv2d: D must be 1, got %lld", (long long)s->D);
    if (s->N > big || s->C > big || s->OC > big || s->D > big || s->H > big || s->W > big || s->K > s->H + 2 * s->pad ||
        s->K > s->W + 2 * s->pad || (is3d && s->K > s->D + 2 * s->pad) || s->pad >= s->K)
        return ild_fail(ILDIFF_ERR_ARG, "conv: kernel %lld with padding %lld does not fit %lldx%lldx%lld",
                        (long long)s->K, (long long)s->pad, (long long)s->D, (long long)s->H, (long long)s->W);
    size_t n;
    if (!ild_mul_size4(&n, (size_t)s->N, (size_t)ILD_MAX(s->C, s->OC), (size_t)s->D, (size_t)s->H) ||
        !ild_mul_size(&n, n, (size_t)s->W) || !ild_mul_size(&n, n, sizeof(float)))
        return ild_fail(ILDIFF_ERR_ARG, "conv: tensor size overflows");
    return ILDIFF_OK;
}

double nn_conv_flops(const nn_conv_shape *s, bool is3d)
{
    conv_geom g = conv_geom_of(s, is3d);
    return 2.0 * (double)g.N * (double)g.OC * (double)g.C * (double)(g.k[0] * g.k[1] * g.k[2]) *
           (double)(g.out[0] * g.out[1] * g.out[2]);
}

void nn_conv2d_forward_ref(float *out, const float *inp, const float *weight, const float *bias,
                           const nn_conv_shape *s)
{
    ILD_ASSERT(s->D == 1 && (bias != NULL) == s->bias);
    conv_geom g = conv_geom_of(s, false);
    conv_ref_forward(out, inp, weight, bias, &g);
}

void nn_conv2d_backward_ref(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                            const float *weight, const nn_conv_shape *s)
{
    ILD_ASSERT(s->D == 1 && (!dbias || s->bias));
    conv_geom g = conv_geom_of(s, false);
    conv_ref_backward(dinp, dweight, dbias, dout, inp, weight, &g);
}

ildiff_status nn_conv2d_plan_new(nn_conv2d_plan **out, const nn_conv_shape *s)
{
    return conv_plan_new(out, s, false, NULL);
}

ildiff_status nn_conv2d_plan_new_shared(nn_conv2d_plan **out, const nn_conv_shape *s, nn_workspace *ws)
{
    return conv_plan_new(out, s, false, ws);
}
void nn_conv2d_plan_free(nn_conv2d_plan *p) { conv_plan_free(p); }
size_t nn_conv2d_plan_bytes(const nn_conv2d_plan *p) { return conv_plan_bytes(p); }

void nn_conv2d_forward(nn_conv2d_plan *p, float *out, const float *inp, const float *weight, const float *bias)
{
    conv_plan_forward(p, out, inp, weight, bias);
}

void nn_conv2d_backward(nn_conv2d_plan *p, float *dinp, float *dweight, float *dbias, const float *dout,
                        const float *inp, const float *weight)
{
    conv_plan_backward(p, dinp, dweight, dbias, dout, inp, weight);
}
