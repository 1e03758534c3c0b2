/*
 * optim.h: AdamW, global-norm gradient clipping, the warmup + cosine learning-rate schedule and an EMA of the
 * weights. Each is a flat loop over float arrays; the *_params forms walk an nn_params table (params.h).
 *
 * AdamW follows torch.optim.AdamW (1.13, non-fused): with t the 1-based step,
 *     p -= lr * wd * p;  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
 *     p -= (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
 * Clipping follows torch.nn.utils.clip_grad_norm_: total = ||all gradients||_2, every gradient is scaled by
 * min(1, max_norm / (total + 1e-6)). No function here fails.
 *
 *     nn_adamw_cfg cfg = nn_adamw_defaults();   // lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight decay 0.01
 *     float norm = nn_clip_grad_norm_params(&params, 1.0f);
 *     cfg.lr = nn_lr_warmup_cosine(step, warmup, total, lr_max, lr_min);
 *     nn_adamw_step_params(&params, &cfg, step + 1);
 *     nn_ema_update_params(&params, 0.999f);
 */
#ifndef ILDIFF_NN_OPTIM_H
#define ILDIFF_NN_OPTIM_H

#include "nn/params.h"

#include <stddef.h>
#include <stdint.h>

typedef struct nn_adamw_cfg {
    float lr;           /* 1e-3 */
    float beta1, beta2; /* 0.9, 0.999 */
    float eps;          /* 1e-8 */
    float weight_decay; /* 0.01 (torch's AdamW default) */
} nn_adamw_cfg;

nn_adamw_cfg nn_adamw_defaults(void);

/* One AdamW update of n values with weight decay `wd`; t >= 1 is the step number (bias correction). */
void nn_adamw_update(float *p, const float *g, float *m, float *v, size_t n, const nn_adamw_cfg *cfg, float wd,
                     int64_t t);
/* One AdamW step over the table: tensors flagged NN_PARAM_DECAY get cfg->weight_decay, others 0, NN_PARAM_FROZEN
 * ones are skipped. The table must have its moments (nn_params_alloc_adam). */
void nn_adamw_step_params(nn_params *p, const nn_adamw_cfg *cfg, int64_t t);

/* The L2 norm of n gradients (summed in double). */
double nn_grad_norm(const float *g, size_t n);
/* Scales g so its norm is at most max_norm (torch's formula above); returns the norm before clipping. */
float nn_clip_grad_norm(float *g, size_t n, float max_norm);
/* The same over every gradient of the table (one norm for all of them). */
float nn_clip_grad_norm_params(nn_params *p, float max_norm);

/* Learning rate at 0-based `step`: linear warmup lr_max * (step + 1) / warmup for step < warmup, then a cosine
 * from lr_max down to lr_min reached at step == total (and held after). warmup may be 0. */
float nn_lr_warmup_cosine(int64_t step, int64_t warmup, int64_t total, float lr_max, float lr_min);

/* ema = decay * ema + (1 - decay) * p over n values. */
void nn_ema_update(float *ema, const float *p, size_t n, float decay);
/* The decay to use after step t (1-based): min(decay, (1 + t) / (10 + t)), so a short run's EMA does not
 * remember its first, random weights (the usual EMA warmup). */
float nn_ema_decay_at(float decay, int64_t t);
/* The same over the table's EMA block (nn_params_alloc_ema first). */
void nn_ema_update_params(nn_params *p, float decay);

#endif
