/* loss.c: masked mean L1 / L2 / BCE-with-logits losses and their gradients (loss.h). */
#include "nn/loss.h"

#include <math.h>

typedef enum { LOSS_L1, LOSS_L2, LOSS_BCE } loss_kind;

static double elem_loss(loss_kind kind, float x, float y)
{
    double d = (double)x - (double)y;
    switch (kind) {
    case LOSS_L1: return fabs(d);
    case LOSS_L2: return d * d;
    case LOSS_BCE: return fmax((double)x, 0.0) - (double)x * (double)y + log1p(exp(-fabs((double)x)));
    }
    return 0.0;
}

static float elem_grad(loss_kind kind, float x, float y)
{
    float d = x - y;
    switch (kind) {
    case LOSS_L1: return (float)((d > 0) - (d < 0));
    case LOSS_L2: return 2.0f * d;
    case LOSS_BCE: return 1.0f / (1.0f + expf(-x)) - y;
    }
    return 0.0f;
}

/* sum of the mask (or n without one) */
static double weight_sum(const float *mask, int64_t n)
{
    if (!mask) return (double)n;
    double s = 0.0;
    for (int64_t i = 0; i < n; i++) s += mask[i];
    return s;
}

static float loss_forward(loss_kind kind, const float *pred, const float *target, const float *mask, int64_t n)
{
    double wsum = weight_sum(mask, n);
    if (!(wsum > 0.0)) return 0.0f;
    double s = 0.0;
    for (int64_t i = 0; i < n; i++) {
        if (mask && mask[i] == 0.0f) continue;
        s += (mask ? mask[i] : 1.0) * elem_loss(kind, pred[i], target[i]);
    }
    return (float)(s / wsum);
}

static void loss_backward(loss_kind kind, float *dpred, float dloss, const float *pred, const float *target,
                          const float *mask, int64_t n)
{
    double wsum = weight_sum(mask, n);
    if (!(wsum > 0.0)) return;
    float scale = (float)((double)dloss / wsum);
    for (int64_t i = 0; i < n; i++) {
        float m = mask ? mask[i] : 1.0f;
        if (m != 0.0f) dpred[i] += scale * m * elem_grad(kind, pred[i], target[i]);
    }
}

float nn_l1_forward(const float *pred, const float *target, const float *mask, int64_t n)
{
    return loss_forward(LOSS_L1, pred, target, mask, n);
}

void nn_l1_backward(float *dpred, float dloss, const float *pred, const float *target, const float *mask, int64_t n)
{
    loss_backward(LOSS_L1, dpred, dloss, pred, target, mask, n);
}

float nn_l2_forward(const float *pred, const float *target, const float *mask, int64_t n)
{
    return loss_forward(LOSS_L2, pred, target, mask, n);
}

void nn_l2_backward(float *dpred, float dloss, const float *pred, const float *target, const float *mask, int64_t n)
{
    loss_backward(LOSS_L2, dpred, dloss, pred, target, mask, n);
}

float nn_bce_logits_forward(const float *logits, const float *target, const float *mask, int64_t n)
{
    return loss_forward(LOSS_BCE, logits, target, mask, n);
}

void nn_bce_logits_backward(float *dlogits, float dloss, const float *logits, const float *target, const float *mask,
                            int64_t n)
{
    loss_backward(LOSS_BCE, dlogits, dloss, logits, target, mask, n);
}
