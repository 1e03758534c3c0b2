/* optim.c: AdamW, gradient clipping, warmup + cosine schedule, EMA (optim.h). */
#include "nn/optim.h"

#include "base/base.h"

#include <math.h>

nn_adamw_cfg nn_adamw_defaults(void)
{
    return (nn_adamw_cfg){.lr = 1e-3f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f, .weight_decay = 0.01f};
}

void nn_adamw_update(float *p, const float *g, float *m, float *v, size_t n, const nn_adamw_cfg *cfg, float wd,
                     int64_t t)
{
    ILD_ASSERT(t >= 1);
    const float b1 = cfg->beta1, b2 = cfg->beta2, lr = cfg->lr, eps = cfg->eps;
    /* scalars in double, as torch computes them in Python before the float tensor ops */
    const float decay = (float)(1.0 - (double)lr * wd);
    const float bc2_sqrt = (float)sqrt(1.0 - pow(b2, (double)t));
    const float step_size = (float)(lr / (1.0 - pow(b1, (double)t)));
#pragma omp parallel for simd schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) {
        float gi = g[i];
        float mi = b1 * m[i] + (1.0f - b1) * gi;
        float vi = b2 * v[i] + (1.0f - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        float denom = sqrtf(vi) / bc2_sqrt + eps;
        p[i] = p[i] * decay - step_size * (mi / denom);
    }
}

void nn_adamw_step_params(nn_params *p, const nn_adamw_cfg *cfg, int64_t t)
{
    ILD_ASSERT(p->m && p->v);
    for (int i = 0; i < p->count; i++) {
        const nn_param *e = &p->items[i];
        if (e->flags & NN_PARAM_FROZEN) continue;
        float wd = (e->flags & NN_PARAM_DECAY) ? cfg->weight_decay : 0.0f;
        size_t o = e->offset;
        nn_adamw_update(p->data + o, p->grad + o, p->m + o, p->v + o, e->numel, cfg, wd, t);
    }
}

double nn_grad_norm(const float *g, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += (double)g[i] * g[i];
    return sqrt(s);
}

static float clip_coef(double norm, float max_norm)
{
    double c = (double)max_norm / (norm + 1e-6);
    return c < 1.0 ? (float)c : 1.0f;
}

float nn_clip_grad_norm(float *g, size_t n, float max_norm)
{
    double norm = nn_grad_norm(g, n);
    float c = clip_coef(norm, max_norm);
    if (c < 1.0f)
        for (size_t i = 0; i < n; i++) g[i] *= c;
    return (float)norm;
}

float nn_clip_grad_norm_params(nn_params *p, float max_norm)
{
    /* padding between tensors is zero, so the whole block has the same norm as the tensors */
    return nn_clip_grad_norm(p->grad, p->total, max_norm);
}

float nn_lr_warmup_cosine(int64_t step, int64_t warmup, int64_t total, float lr_max, float lr_min)
{
    if (step < warmup) return lr_max * (float)(step + 1) / (float)warmup;
    if (total <= warmup || step >= total) return lr_min;
    double progress = (double)(step - warmup) / (double)(total - warmup);
    return (float)(lr_min + 0.5 * (lr_max - lr_min) * (1.0 + cos(M_PI * progress)));
}

void nn_ema_update(float *ema, const float *p, size_t n, float decay)
{
    const float keep = decay, take = 1.0f - decay;
    for (size_t i = 0; i < n; i++) ema[i] = keep * ema[i] + take * p[i];
}

float nn_ema_decay_at(float decay, int64_t t)
{
    double warm = (1.0 + (double)t) / (10.0 + (double)t);
    return warm < decay ? (float)warm : decay;
}

void nn_ema_update_params(nn_params *p, float decay)
{
    ILD_ASSERT(p->ema);
    nn_ema_update(p->ema, p->data, p->total, decay);
}
