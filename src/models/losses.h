/*
 * losses.h: the training objectives of ILDiff (DESIGN.md section 2) and the teacher's part targets, each with
 * its gradient. Reference: alpha_loss, rgb_loss, harmless_loss, distill_loss, teacher_loss, coherence_loss and
 * part_targets in tests/reference/ildiff_models.py.
 *
 * Letters: F frames (N*T), S = H*W pixels, T frames of a clip, K affinity offsets. Every *_backward ACCUMULATES
 * dloss * d(loss)/d(pred) into its gradient (nn.h convention). Nothing here allocates or fails.
 */
#ifndef ILDIFF_MODELS_LOSSES_H
#define ILDIFF_MODELS_LOSSES_H

#include <stdint.h>

/* L_alpha = mean |alpha - alpha_gt| over n values. */
float ild_alpha_loss(const float *alpha, const float *alpha_gt, int64_t n);
void ild_alpha_loss_backward(float *dalpha, float dloss, const float *alpha, const float *alpha_gt, int64_t n);

/* L_rgb = mean |fg - fg_gt| over the pixels with alpha_gt > 0, all 3 channels. fg, fg_gt (F, 3, S),
 * alpha_gt (F, 1, S); mask (F, 3, S) is the caller's scratch, filled here. 0 when no pixel is covered. */
float ild_rgb_loss(float *mask, const float *fg, const float *fg_gt, const float *alpha_gt, int64_t F, int64_t S);
/* Uses the mask the forward filled. */
void ild_rgb_loss_backward(float *dfg, float dloss, const float *mask, const float *fg, const float *fg_gt, int64_t F,
                           int64_t S);

/* Harmlessness mean (D(z') - target)^2 and distillation mean (proj - teacher)^2: both the mean squared error. */
float ild_mse_loss(const float *pred, const float *target, int64_t n);
void ild_mse_loss_backward(float *dpred, float dloss, const float *pred, const float *target, int64_t n);

/* Teacher: sum(w * bce_with_logits(logits, t)) / sum(w) (0 when sum(w) = 0). */
float ild_teacher_loss(const float *logits, const float *targets, const float *weights, int64_t n);
void ild_teacher_loss_backward(float *dlogits, float dloss, const float *logits, const float *targets,
                               const float *weights, int64_t n);

/* RVM's temporal coherence on clips alpha, alpha_gt (N, T, S): mean over t >= 1 of
 * ((a_t - a_{t-1}) - (g_t - g_{t-1}))^2. 0 when T < 2. */
float ild_coherence_loss(const float *alpha, const float *alpha_gt, int64_t N, int64_t T, int64_t S);
void ild_coherence_loss_backward(float *dalpha, float dloss, const float *alpha, const float *alpha_gt, int64_t N,
                                 int64_t T, int64_t S);

/* Part targets of the teacher's heads from a part-id map ids (N, H, W), 0 = background, and K (dy, dx) affinity
 * offsets (dy, dx >= 0): targets and weights (N, 2 + K, H, W): object = id > 0 (weight 1); boundary = a
 * 4-neighbour inside the image has another id (weight 1); affinity k = p and p + (dy, dx) share a nonzero id,
 * weighted where p + d is inside the image and either pixel is object. */
void ild_part_targets(float *targets, float *weights, const int32_t *ids, int64_t N, int64_t H, int64_t W,
                      const int32_t (*offsets)[2], int64_t K);

#endif
