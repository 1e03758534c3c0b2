/*
 * conv_ref.c: the reference convolution: direct loops over (N, OC, D, H, W) in plain C, single-threaded, with
 * double accumulators. It is the oracle the tests hold the oneDNN plans and PyTorch against, and it handles any
 * shape nn_conv_shape_check accepts. Slow by design: use it on small shapes only.
 */
#include "nn/conv_impl.h"

#include "base/base.h"

conv_geom conv_geom_of(const nn_conv_shape *s, bool is3d)
{
    conv_geom g = {.N = s->N, .C = s->C, .OC = s->OC};
    const int64_t in[3] = {is3d ? s->D : 1, s->H, s->W};
    for (int d = 0; d < 3; d++) {
        int flat = d == 0 && !is3d;
        g.in[d] = in[d];
        g.k[d] = flat ? 1 : s->K;
        g.stride[d] = flat ? 1 : s->stride;
        g.pad[d] = flat ? 0 : s->pad;
        g.out[d] = nn_conv_out_size(g.in[d], g.k[d], g.stride[d], g.pad[d]);
    }
    return g;
}

/* The input index that output index o reads through kernel tap k, or -1 when it lands in the padding. */
static inline int64_t tap_in(const conv_geom *g, int d, int64_t o, int64_t k)
{
    int64_t i = o * g->stride[d] - g->pad[d] + k;
    return i >= 0 && i < g->in[d] ? i : -1;
}

/* out (N, OC, OD, OH, OW) = conv(inp (N, C, D, H, W), weight (OC, C, KD, KH, KW)) + bias (OC) */
void conv_ref_forward(float *out, const float *inp, const float *weight, const float *bias, const conv_geom *g)
{
    const int64_t isz = g->in[0] * g->in[1] * g->in[2], osz = g->out[0] * g->out[1] * g->out[2];
    const int64_t ksz = g->k[0] * g->k[1] * g->k[2];
    for (int64_t n = 0; n < g->N; n++)
        for (int64_t oc = 0; oc < g->OC; oc++)
            for (int64_t od = 0; od < g->out[0]; od++)
                for (int64_t oh = 0; oh < g->out[1]; oh++)
                    for (int64_t ow = 0; ow < g->out[2]; ow++) {
                        double acc = bias ? bias[oc] : 0.0;
                        for (int64_t c = 0; c < g->C; c++) {
                            const float *x = inp + (n * g->C + c) * isz;
                            const float *w = weight + (oc * g->C + c) * ksz;
                            for (int64_t kd = 0; kd < g->k[0]; kd++) {
                                int64_t id = tap_in(g, 0, od, kd);
                                if (id < 0) continue;
                                for (int64_t kh = 0; kh < g->k[1]; kh++) {
                                    int64_t ih = tap_in(g, 1, oh, kh);
                                    if (ih < 0) continue;
                                    for (int64_t kw = 0; kw < g->k[2]; kw++) {
                                        int64_t iw = tap_in(g, 2, ow, kw);
                                        if (iw < 0) continue;
                                        acc += (double)x[(id * g->in[1] + ih) * g->in[2] + iw] *
                                               w[(kd * g->k[1] + kh) * g->k[2] + kw];
                                    }
                                }
                            }
                        }
                        out[(n * g->OC + oc) * osz + (od * g->out[1] + oh) * g->out[2] + ow] = (float)acc;
                    }
}

/* The output index that reads input index i through kernel tap k, or -1 if none does. */
static inline int64_t tap_out(const conv_geom *g, int d, int64_t i, int64_t k)
{
    int64_t t = i + g->pad[d] - k;
    if (t < 0 || t % g->stride[d] != 0) return -1;
    t /= g->stride[d];
    return t < g->out[d] ? t : -1;
}

/* dinp (N, C, D, H, W): each input gathers the output gradients of every tap that read it. */
static void ref_backward_data(float *dinp, const float *dout, const float *weight, const conv_geom *g)
{
    const int64_t isz = g->in[0] * g->in[1] * g->in[2], osz = g->out[0] * g->out[1] * g->out[2];
    const int64_t ksz = g->k[0] * g->k[1] * g->k[2];
    for (int64_t n = 0; n < g->N; n++)
        for (int64_t c = 0; c < g->C; c++)
            for (int64_t id = 0; id < g->in[0]; id++)
                for (int64_t ih = 0; ih < g->in[1]; ih++)
                    for (int64_t iw = 0; iw < g->in[2]; iw++) {
                        double acc = 0;
                        for (int64_t oc = 0; oc < g->OC; oc++) {
                            const float *dy = dout + (n * g->OC + oc) * osz;
                            const float *w = weight + (oc * g->C + c) * ksz;
                            for (int64_t kd = 0; kd < g->k[0]; kd++) {
                                int64_t od = tap_out(g, 0, id, kd);
                                if (od < 0) continue;
                                for (int64_t kh = 0; kh < g->k[1]; kh++) {
                                    int64_t oh = tap_out(g, 1, ih, kh);
                                    if (oh < 0) continue;
                                    for (int64_t kw = 0; kw < g->k[2]; kw++) {
                                        int64_t ow = tap_out(g, 2, iw, kw);
                                        if (ow < 0) continue;
                                        acc += (double)dy[(od * g->out[1] + oh) * g->out[2] + ow] *
                                               w[(kd * g->k[1] + kh) * g->k[2] + kw];
                                    }
                                }
                            }
                        }
                        dinp[(n * g->C + c) * isz + (id * g->in[1] + ih) * g->in[2] + iw] += (float)acc;
                    }
}

/* dweight (OC, C, KD, KH, KW): each tap sums dout * the input it read, over the batch and every output. */
static void ref_backward_weight(float *dweight, const float *dout, const float *inp, const conv_geom *g)
{
    const int64_t isz = g->in[0] * g->in[1] * g->in[2], osz = g->out[0] * g->out[1] * g->out[2];
    for (int64_t oc = 0; oc < g->OC; oc++)
        for (int64_t c = 0; c < g->C; c++)
            for (int64_t kd = 0; kd < g->k[0]; kd++)
                for (int64_t kh = 0; kh < g->k[1]; kh++)
                    for (int64_t kw = 0; kw < g->k[2]; kw++) {
                        double acc = 0;
                        for (int64_t n = 0; n < g->N; n++) {
                            const float *dy = dout + (n * g->OC + oc) * osz;
                            const float *x = inp + (n * g->C + c) * isz;
                            for (int64_t od = 0; od < g->out[0]; od++) {
                                int64_t id = tap_in(g, 0, od, kd);
                                if (id < 0) continue;
                                for (int64_t oh = 0; oh < g->out[1]; oh++) {
                                    int64_t ih = tap_in(g, 1, oh, kh);
                                    if (ih < 0) continue;
                                    for (int64_t ow = 0; ow < g->out[2]; ow++) {
                                        int64_t iw = tap_in(g, 2, ow, kw);
                                        if (iw < 0) continue;
                                        acc += (double)dy[(od * g->out[1] + oh) * g->out[2] + ow] *
                                               x[(id * g->in[1] + ih) * g->in[2] + iw];
                                    }
                                }
                            }
                        }
                        dweight[(((oc * g->C + c) * g->k[0] + kd) * g->k[1] + kh) * g->k[2] + kw] += (float)acc;
                    }
}

void conv_ref_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                       const float *weight, const conv_geom *g)
{
    const int64_t osz = g->out[0] * g->out[1] * g->out[2];
    if (dinp) ref_backward_data(dinp, dout, weight, g);
    if (dweight) ref_backward_weight(dweight, dout, inp, g);
    if (dbias)
        for (int64_t oc = 0; oc < g->OC; oc++) {
            double acc = 0;
            for (int64_t n = 0; n < g->N; n++)
                for (int64_t o = 0; o < osz; o++) acc += dout[(n * g->OC + oc) * osz + o];
            dbias[oc] += (float)acc;
        }
}
