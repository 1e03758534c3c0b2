/*
 * act.c: elementwise activations (act.h). The fast path picks the loop once per call (no branch per element)
 * and splits it over OpenMP threads in fixed chunks; the reference evaluates the same formulas in double.
 */
#include "nn/act.h"

#include "base/base.h"

#include <math.h>
#include <string.h>

static const char *const act_names[NN_ACT_COUNT] = {"relu", "silu", "gelu", "sigmoid", "tanh"};

const char *nn_act_name(nn_act act) { return act >= 0 && act < NN_ACT_COUNT ? act_names[act] : "?"; }

nn_act nn_act_from_name(const char *name)
{
    for (int i = 0; i < NN_ACT_COUNT; i++)
        if (strcmp(name, act_names[i]) == 0) return (nn_act)i;
    return NN_ACT_COUNT;
}

static inline float sigmoidf(float x)
{
    if (x >= 0) return 1.0f / (1.0f + expf(-x));
    float e = expf(x);
    return e / (1.0f + e);
}

static inline double sigmoid_d(double x) { return x >= 0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x)); }

#define INV_SQRT2 0.70710678118654752440
#define INV_SQRT_2PI 0.39894228040143267794

void nn_act_forward(float *out, const float *inp, size_t n, nn_act act)
{
    const int64_t len = (int64_t)n;
    switch (act) {
    case NN_ACT_RELU:
#pragma omp parallel for schedule(static)
        for (int64_t i = 0; i < len; i++) out[i] = inp[i] > 0 ? inp[i] : 0.0f;
        break;
    case NN_ACT_SILU:
#pragma omp parallel for schedule(static)
        for (int64_t i = 0; i < len; i++) out[i] = inp[i] * sigmoidf(inp[i]);
        break;
    case NN_ACT_GELU:
#pragma omp parallel for schedule(static)
        for (int64_t i = 0; i < len; i++) out[i] = 0.5f * inp[i] * (1.0f + erff(inp[i] * (float)INV_SQRT2));
        break;
    case NN_ACT_SIGMOID:
#pragma omp parallel for schedule(static)
        for (int64_t i = 0; i < len; i++) out[i] = sigmoidf(inp[i]);
        break;
    case NN_ACT_TANH:
#pragma omp parallel for schedule(static)
        for (int64_t i = 0; i < len; i++) out[i] = tanhf(inp[i]);
        break;
    default: ILD_ASSERT(!"unknown activation");
    }
}

void nn_act_backward(float *dinp, const float *dout, const float *inp, size_t n, nn_act act)
{
    const int64_t len = (int64_t)n;
    switch (act) {
    case NN_ACT_RELU:
#pragma omp parallel for schedule(static)
        for (int64_t i = 0; i < len; i++) dinp[i] += inp[i] > 0 ? dout[i] : 0.0f;
        break;
    case NN_ACT_SILU:
#pragma omp parallel for schedule(static)
        for (int64_t i = 0; i < len; i++) {
            float s = sigmoidf(inp[i]);
            dinp[i] += dout[i] * s * (1.0f + inp[i] * (1.0f - s));
        }
        break;
    case NN_ACT_GELU:
#pragma omp parallel for schedule(static)
        for (int64_t i = 0; i < len; i++) {
            float x = inp[i];
            float cdf = 0.5f * (1.0f + erff(x * (float)INV_SQRT2)), pdf = (float)INV_SQRT_2PI * expf(-0.5f * x * x);
            dinp[i] += dout[i] * (cdf + x * pdf);
        }
        break;
    case NN_ACT_SIGMOID:
#pragma omp parallel for schedule(static)
        for (int64_t i = 0; i < len; i++) {
            float s = sigmoidf(inp[i]);
            dinp[i] += dout[i] * s * (1.0f - s);
        }
        break;
    case NN_ACT_TANH:
#pragma omp parallel for schedule(static)
        for (int64_t i = 0; i < len; i++) {
            float t = tanhf(inp[i]);
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
