/* losses.c: ILDiff's training objectives and the teacher's part targets (losses.h). */
#include "models/losses.h"

#include "nn/loss.h"

#include <stdbool.h>
#include <string.h>

float ild_alpha_loss(const float *alpha, const float *alpha_gt, int64_t n) { return nn_l1_forward(alpha, alpha_gt, NULL, n); }

void ild_alpha_loss_backward(float *dalpha, float dloss, const float *alpha, const float *alpha_gt, int64_t n)
{
    nn_l1_backward(dalpha, dloss, alpha, alpha_gt, NULL, n);
}

float ild_rgb_loss(float *mask, const float *fg, const float *fg_gt, const float *alpha_gt, int64_t F, int64_t S)
{
    for (int64_t f = 0; f < F; f++)
        for (int64_t c = 0; c < 3; c++)
            for (int64_t s = 0; s < S; s++) mask[(f * 3 + c) * S + s] = alpha_gt[f * S + s] > 0 ? 1.0f : 0.0f;
    return nn_l1_forward(fg, fg_gt, mask, F * 3 * S);
}

void ild_rgb_loss_backward(float *dfg, float dloss, const float *mask, const float *fg, const float *fg_gt, int64_t F,
                           int64_t S)
{
    nn_l1_backward(dfg, dloss, fg, fg_gt, mask, F * 3 * S);
}

float ild_mse_loss(const float *pred, const float *target, int64_t n) { return nn_l2_forward(pred, target, NULL, n); }

void ild_mse_loss_backward(float *dpred, float dloss, const float *pred, const float *target, int64_t n)
{
    nn_l2_backward(dpred, dloss, pred, target, NULL, n);
}

float ild_teacher_loss(const float *logits, const float *targets, const float *weights, int64_t n)
{
    return nn_bce_logits_forward(logits, targets, weights, n);
}

void ild_teacher_loss_backward(float *dlogits, float dloss, const float *logits, const float *targets,
                               const float *weights, int64_t n)
{
    nn_bce_logits_backward(dlogits, dloss, logits, targets, weights, n);
}

float ild_coherence_loss(const float *alpha, const float *alpha_gt, int64_t N, int64_t T, int64_t S)
{
    if (T < 2) return 0;
    double sum = 0;
    for (int64_t n = 0; n < N; n++)
        for (int64_t t = 1; t < T; t++)
            for (int64_t s = 0; s < S; s++) {
                int64_t i = (n * T + t) * S + s, j = i - S;
                double d = ((double)alpha[i] - alpha[j]) - ((double)alpha_gt[i] - alpha_gt[j]);
                sum += d * d;
            }
    return (float)(sum / (double)(N * (T - 1) * S));
}

void ild_coherence_loss_backward(float *dalpha, float dloss, const float *alpha, const float *alpha_gt, int64_t N,
                                 int64_t T, int64_t S)
{
    if (T < 2) return;
    float k = (float)(2.0 * dloss / (double)(N * (T - 1) * S));
    for (int64_t n = 0; n < N; n++)
        for (int64_t t = 1; t < T; t++)
            for (int64_t s = 0; s < S; s++) {
                int64_t i = (n * T + t) * S + s, j = i - S;
                float g = k * ((alpha[i] - alpha[j]) - (alpha_gt[i] - alpha_gt[j]));
                dalpha[i] += g;
                dalpha[j] -= g;
            }
}

void ild_part_targets(float *targets, float *weights, const int32_t *ids, int64_t N, int64_t H, int64_t W,
                      const int32_t (*offsets)[2], int64_t K)
{
    int64_t S = H * W, C = 2 + K;
    for (int64_t n = 0; n < N; n++) {
        const int32_t *id = ids + n * S;
        float *t = targets + n * C * S, *w = weights + n * C * S;
        memset(t, 0, sizeof(float) * (size_t)(C * S));
        memset(w, 0, sizeof(float) * (size_t)(C * S));
        for (int64_t y = 0; y < H; y++)
            for (int64_t x = 0; x < W; x++) {
                int64_t p = y * W + x;
                int32_t v = id[p];
                t[p] = v > 0;
                w[p] = 1, w[S + p] = 1;
                bool edge = (x > 0 && id[p - 1] != v) || (x + 1 < W && id[p + 1] != v) ||
                            (y > 0 && id[p - W] != v) || (y + 1 < H && id[p + W] != v);
                t[S + p] = edge;
                for (int64_t k = 0; k < K; k++) {
                    int64_t dy = offsets[k][0], dx = offsets[k][1];
                    if (y + dy >= H || x + dx >= W) continue;
                    int32_t u = id[p + dy * W + dx];
                    t[(2 + k) * S + p] = v > 0 && u == v;
                    w[(2 + k) * S + p] = v > 0 || u > 0;
                }
            }
    }
}
