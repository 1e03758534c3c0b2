/*
 * loss.h: mean-reduced L1, L2 (MSE) and binary cross-entropy on logits, each with an optional mask.
 *
 * pred, target, mask: n floats each. Without a mask (mask == NULL) the loss is the mean over all n elements, as
 * torch's F.l1_loss / F.mse_loss / F.binary_cross_entropy_with_logits with reduction='mean'. With a mask the
 * loss is sum(mask_i * l_i) / sum(mask_i): a 0/1 mask gives the mean over the selected elements (the paper's L_rgb
 * is L1 where alpha > 0: mask_i = alpha_i > 0), a soft mask weights them; when sum(mask) is 0 the loss and its
 * gradient are 0. Sums are taken in double.
 *
 * *_forward returns the loss. *_backward ACCUMULATES dloss * d(loss)/d(pred) into dpred (dloss is the upstream
 * gradient, 1 for a loss that is the whole objective). The L1 gradient at pred == target is 0 (torch's sign).
 * No function here fails.
 */
#ifndef ILDIFF_NN_LOSS_H
#define ILDIFF_NN_LOSS_H

#include <stdint.h>

float nn_l1_forward(const float *pred, const float *target, const float *mask, int64_t n);
void nn_l1_backward(float *dpred, float dloss, const float *pred, const float *target, const float *mask, int64_t n);

float nn_l2_forward(const float *pred, const float *target, const float *mask, int64_t n);
void nn_l2_backward(float *dpred, float dloss, const float *pred, const float *target, const float *mask, int64_t n);

/* Numerically stable: l = max(x, 0) - x * y + log(1 + exp(-|x|)); dl/dx = sigmoid(x) - y. Targets in [0, 1]. */
float nn_bce_logits_forward(const float *logits, const float *target, const float *mask, int64_t n);
void nn_bce_logits_backward(float *dlogits, float dloss, const float *logits, const float *target, const float *mask,
                            int64_t n);

#endif
