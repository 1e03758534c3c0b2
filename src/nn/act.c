/*
 * act.c: elementwise activations (act.h). The fast path picks the loop once per call (no branch per element),
 * evaluates exp/erf/tanh with branch-free polynomial approximations the compiler vectorises, and splits the
 * loop over OpenMP threads in fixed chunks; the reference evaluates the formulas with libm in double.
 */
#include "nn/act.h"

#include "base/base.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

static const char *const act_names[NN_ACT_COUNT] = {"relu", "silu", "gelu", "sigmoid", "tanh"};

const char *nn_act_name(nn_act act) { return act >= 0 && act < NN_ACT_COUNT ? act_names[act] : "?"; }

nn_act nn_act_from_name(const char *name)
{
    for (int i = 0; i < NN_ACT_COUNT; i++)
        if (strcmp(name, act_names[i]) == 0) return (nn_act)i;
    return NN_ACT_COUNT;
}

/* Vectorisable float math (no calls, no branches: the loops below compile to AVX-512). Each is within a few
 * ulp of libm over the range that matters, which the PyTorch parity test holds to 2e-5. */

/* exp(x): Cody-Waite reduction x = n ln2 + r, |r| <= ln2 / 2, Cephes' degree-6 polynomial, 2^n from bits. n is
 * rounded by adding and subtracting 1.5 * 2^23 (floorf would not vectorise without -fno-trapping-math). */
static inline float vexpf(float x)
{
    x = x < -87.0f ? -87.0f : x > 88.0f ? 88.0f : x; /* not fminf/fmaxf: those stay libm calls */
    float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    float r = x - n * 0.693359375f + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    int32_t bits = ((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

static inline float vsigmoidf(float x) { return 1.0f / (1.0f + vexpf(-x)); }

/* tanh: Cephes' odd polynomial for |x| < 0.625, else 1 - 2 / (exp(2|x|) + 1) with the sign of x. */
static inline float vtanhf(float x)
{
    float z = x * x;
    float small = ((((-5.70498872745e-3f * z + 2.06390887954e-2f) * z - 5.37397155531e-2f) * z + 1.33314422036e-1f) *
                       z -
                   3.33332819422e-1f) *
                      z * x +
                  x;
    float big = 1.0f - 2.0f / (vexpf(2.0f * fabsf(x)) + 1.0f);
    big = x < 0 ? -big : big;
    return fabsf(x) < 0.625f ? small : big;
}

/* erf: Abramowitz & Stegun 7.1.26 (absolute error < 1.5e-7), odd extension. */
static inline float verff(float x)
{
    float a = fabsf(x), t = 1.0f / (1.0f + 0.3275911f * a);
    float p = ((((1.061405429f * t - 1.453152027f) * t + 1.421413741f) * t - 0.284496736f) * t + 0.254829592f) * t;
    float y = 1.0f - p * vexpf(-a * a);
    return x < 0 ? -y : y;
}

static inline double sigmoid_d(double x) { return x >= 0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x)); }

/* The loop over every element: blocks of BLOCK over OpenMP threads, each block a simd loop (the combined
 * `parallel for simd` does not vectorise these bodies with gcc 12 at -O2). Put before the loop body. */
#define BLOCK 4096
#define EACH(i)                                                                                                \
    _Pragma("omp parallel for schedule(static)") for (int64_t b_ = 0; b_ < (len + BLOCK - 1) / BLOCK; b_++)   \
        _Pragma("omp simd") for (int64_t i = b_ * BLOCK; i < ILD_MIN(len, (b_ + 1) * BLOCK); i++)

#define INV_SQRT2 0.70710678118654752440
#define INV_SQRT_2PI 0.39894228040143267794

void nn_act_forward(float *out, const float *inp, size_t n, nn_act act)
{
    const int64_t len = (int64_t)n;
    switch (act) {
    case NN_ACT_RELU:
EACH(i) out[i] = inp[i] > 0 ? inp[i] : 0.0f;
        break;
    case NN_ACT_SILU:
EACH(i) out[i] = inp[i] * vsigmoidf(inp[i]);
        break;
    case NN_ACT_GELU:
EACH(i) out[i] = 0.5f * inp[i] * (1.0f + verff(inp[i] * (float)INV_SQRT2));
        break;
    case NN_ACT_SIGMOID:
EACH(i) out[i] = vsigmoidf(inp[i]);
        break;
    case NN_ACT_TANH:
EACH(i) out[i] = vtanhf(inp[i]);
        break;
    default: ILD_ASSERT(!"unknown activation");
    }
}

void nn_act_backward(float *dinp, const float *dout, const float *inp, size_t n, nn_act act)
{
    const int64_t len = (int64_t)n;
    switch (act) {
    case NN_ACT_RELU:
EACH(i) dinp[i] += inp[i] > 0 ? dout[i] : 0.0f;
        break;
    case NN_ACT_SILU:
EACH(i) {
            float s = vsigmoidf(inp[i]);
            dinp[i] += dout[i] * s * (1.0f + inp[i] * (1.0f - s));
        }
        break;
    case NN_ACT_GELU:
EACH(i) {
            float x = inp[i];
            float cdf = 0.5f * (1.0f + verff(x * (float)INV_SQRT2)), pdf = (float)INV_SQRT_2PI * vexpf(-0.5f * x * x);
            dinp[i] += dout[i] * (cdf + x * pdf);
        }
        break;
    case NN_ACT_SIGMOID:
EACH(i) {
            float s = vsigmoidf(inp[i]);
            dinp[i] += dout[i] * s * (1.0f - s);
        }
        break;
    case NN_ACT_TANH:
EACH(i) {
            float t = vtanhf(inp[i]);
            dinp[i] += dout[i] * (1.0f - t * t);
        }
        break;
    default: ILD_ASSERT(!"unknown activation");
    }
}

static double act_ref(double x, nn_act act, double *deriv)
{
    double y, s, t;
    switch (act) {
    case NN_ACT_RELU: y = x > 0 ? x : 0, *deriv = x > 0 ? 1 : 0; break;
    case NN_ACT_SILU: s = sigmoid_d(x), y = x * s, *deriv = s * (1 + x * (1 - s)); break;
    case NN_ACT_GELU:
        y = 0.5 * x * (1 + erf(x * INV_SQRT2));
        *deriv = 0.5 * (1 + erf(x * INV_SQRT2)) + x * INV_SQRT_2PI * exp(-0.5 * x * x);
        break;
    case NN_ACT_SIGMOID: s = sigmoid_d(x), y = s, *deriv = s * (1 - s); break;
    case NN_ACT_TANH: t = tanh(x), y = t, *deriv = 1 - t * t; break;
    default: ILD_ASSERT(!"unknown activation");
    }
    return y;
}

void nn_act_forward_ref(float *out, const float *inp, size_t n, nn_act act)
{
    double d;
    for (size_t i = 0; i < n; i++) out[i] = (float)act_ref(inp[i], act, &d);
}

void nn_act_backward_ref(float *dinp, const float *dout, const float *inp, size_t n, nn_act act)
{
    double d;
    for (size_t i = 0; i < n; i++) {
        act_ref(inp[i], act, &d);
        dinp[i] += (float)(d * dout[i]);
    }
}
