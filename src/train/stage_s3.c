/*
 * stage_s3.c: stage S3 (stages.h; models/README.md): the layout adapter. The temporal adapter learns, and D_T is
 * fine-tuned, on clips, with E, the student and D frozen (ildiff_model.h's matting path):
 *
 *   z = E(x), f = student(area-resize(x)), l = temporal(f), y = D_T(x, z + l)     x (N, T, 3, H, W)
 *   "loss" = "alpha" (L1) + "rgb" (L1 where alpha_gt > 0, per frame, then the frames' mean) + "harmless" (mean (D(z + l) - x)^2)
 *            + "coherence" (RVM's temporal term on the alpha changes between frames)
 *
 * Parameters: the ILDiff keys "vae_encoder.*", "student.*" (frozen), "temporal.*", "decoder.*", plus
 * "vae_decoder.*" (frozen, the harmlessness term). --init is required: S1's model.safetensors (vae_encoder.,
 * vae_decoder., decoder.) and S2b's (student.), given as two --init options. --depth sets the adapter's depth
 * (0, 3, 5 or 8 for the paper's ablation; default 5), --frames T (default 8), --size the crop (default 256).
 * Validation: the fixed val clips: "alpha_l1", "alpha_psnr", "coherence".
 */
#include "train/stage_util.h"

#include "base/base.h"
#include "models/ildiff_model.h"
#include "models/losses.h"

#include <string.h>

#define S3_SIZE 256
#define S3_FRAMES 8

typedef struct s3 {
    ild_task task;
    nn_params params;
    ild_stage_data data;
    ildiff_model m;
    vae_decoder dec;
    int64_t N, T, H, S, F, nz;   /* this rank's clips; F = N * T frames */
    float *a, *da;               /* (F, S) predicted alpha */
    float *fg, *dfg;             /* (F, 3, S) predicted fg */
    float *dy;                   /* (F, 4, S) */
    float *dhy;                  /* (F, 3, S) gradient by D's output */
    float *dzl;                  /* (F, 4, H/8, W/8) gradient by z + l */
    float *mask;                 /* (F, 3, S) */
    char config[512];
} s3;

static ildiff_status s3_next_batch(void *user, int64_t step, nn_rng *rng)
{
    return ild_stage_data_next(&((s3 *)user)->data, step, rng);
}

/* Splits D_T's output into the alpha and fg buffers. */
static void split_output(s3 *t)
{
    for (int64_t k = 0; k < t->F; k++) {
        memcpy(t->a + k * t->S, t->m.y + k * 4 * t->S, (size_t)t->S * sizeof(float));
        memcpy(t->fg + k * 3 * t->S, t->m.y + (k * 4 + 1) * t->S, (size_t)(3 * t->S) * sizeof(float));
    }
}

static ildiff_status s3_forward_backward(void *user, nn_rng *rng, ild_terms *loss)
{
    s3 *t = user;
    const ild_batch *b = &t->data.batch;
    const float *x = b->rgb;
    int64_t F = t->F, S = t->S;
    ildiff_model_forward(&t->m, x);
    vae_decoder_forward(&t->dec, t->m.zl);
    split_output(t);
    float la = ild_alpha_loss(t->a, b->alpha, F * S);
    float lr = ild_rgb_loss_frames(t->mask, t->fg, b->fg, b->alpha, F, S);
    float lh = ild_mse_loss(t->dec.y, x, F * 3 * S);
    float lc = ild_coherence_loss(t->a, b->alpha, t->N, t->T, S);
    memset(t->da, 0, (size_t)(F * S) * sizeof(float));
    memset(t->dfg, 0, (size_t)(F * 3 * S) * sizeof(float));
    memset(t->dhy, 0, (size_t)(F * 3 * S) * sizeof(float));
    memset(t->dzl, 0, (size_t)t->nz * sizeof(float));
    ild_alpha_loss_backward(t->da, 1, t->a, b->alpha, F * S);
    ild_coherence_loss_backward(t->da, 1, t->a, b->alpha, t->N, t->T, S);
    ild_rgb_loss_frames_backward(t->dfg, 1, t->mask, t->fg, b->fg, F, S);
    for (int64_t k = 0; k < F; k++) {
        memcpy(t->dy + k * 4 * S, t->da + k * S, (size_t)S * sizeof(float));
        memcpy(t->dy + (k * 4 + 1) * S, t->dfg + k * 3 * S, (size_t)(3 * S) * sizeof(float));
    }
    transparent_decoder_backward(&t->m.decoder, NULL, t->dzl, t->dy, x, t->m.zl, false);
    ild_mse_loss_backward(t->dhy, 1, t->dec.y, x, F * 3 * S);
    vae_decoder_backward(&t->dec, t->dzl, t->dhy, true);
    temporal_adapter_backward(&t->m.temporal, NULL, t->dzl);
    ild_terms_add(loss, "loss", la + lr + lh + lc);
    ild_terms_add(loss, "alpha", la);
    ild_terms_add(loss, "rgb", lr);
    ild_terms_add(loss, "harmless", lh);
    ild_terms_add(loss, "coherence", lc);
    return ILDIFF_OK;
}

static ildiff_status s3_validate(void *user, ild_terms *metrics)
{
    s3 *t = user;
    if (!t->data.val) return ILDIFF_OK;
    double acc[2] = {0, 0}, coh = 0;
    int64_t valid = 0;
    for (int64_t b = 0; b < t->data.val_batches; b++) {
        ildiff_status st = ild_stage_data_val(&t->data, b, &valid);
        if (st != ILDIFF_OK) return st;
        ildiff_model_forward(&t->m, t->data.vbatch.rgb);
        split_output(t);
        ild_alpha_accumulate(acc, t->a, t->S, t->data.vbatch.alpha, valid * t->T, t->S);
        coh += (double)valid * ild_coherence_loss(t->a, t->data.vbatch.alpha, valid, t->T, t->S);
    }
    ild_alpha_terms(metrics, acc, (double)(t->T * t->S * t->data.val_count));
    ild_terms_add(metrics, "coherence", coh / (double)t->data.val_count);
    return ILDIFF_OK;
}

static char *s3_save_state(void *user) { return ild_stage_data_save(&((s3 *)user)->data); }
static ildiff_status s3_load_state(void *user, const char *json) { return ild_stage_data_load(&((s3 *)user)->data, json); }

void ild_s3_destroy(ild_task *task)
{
    if (!task) return;
    s3 *t = task->user;
    ildiff_model_free(&t->m), vae_decoder_free(&t->dec);
    ild_stage_data_close(&t->data);
    float *bufs[] = {t->a, t->da, t->fg, t->dfg, t->dy, t->dhy, t->dzl, t->mask};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) free(bufs[i]);
    nn_params_free(&t->params);
    free(t);
}

static ildiff_status build(s3 *t, const ild_stage_opts *opts)
{
    ildiff_model_config mc = ild_stage_model_config(opts->tiny);
    if (opts->depth >= 0) mc.temporal.depth = opts->depth;
    int64_t H = t->H, align = (int64_t)1 << (mc.decoder.levels - 1);
    if (H % align != 0 || H < align || H > 2048)
        return ild_fail(ILDIFF_ERR_ARG, "S3 size %lld: a multiple of %lld up to 2048", (long long)H, (long long)align);
    snprintf(t->config, sizeof t->config, "{\"size\":%lld,\"frames\":%lld,\"tiny\":%s,\"depth\":%lld}", (long long)H,
             (long long)t->T, opts->tiny ? "true" : "false", (long long)mc.temporal.depth);
    nn_params *p = &t->params;
    ildiff_status st = ildiff_model_build(&t->m, &mc, p);
    if (st == ILDIFF_OK) st = vae_decoder_build(&t->dec, &mc.vae, p, "vae_decoder.");
    if (st != ILDIFF_OK) return st;
    ild_params_freeze(p, "vae_encoder.");
    ild_params_freeze(p, "vae_decoder.");
    ild_params_freeze(p, "student.");
    if ((st = nn_params_alloc(p)) != ILDIFF_OK) return st;
    ildiff_model_init(&t->m, p, opts->seed ^ 0x5301ULL);
    static const char *const need[] = {"vae_encoder.", "vae_decoder.", "student.", "decoder.", NULL};
    if ((st = ild_stage_load_init(p, opts, need)) != ILDIFF_OK) return st;
    int64_t h = H / 8;
    t->F = t->N * t->T, t->S = H * H, t->nz = t->F * mc.vae.latent * h * h;
    st = ildiff_model_plan(&t->m, t->N, t->T, H, H, t->F, true);
    if (st == ILDIFF_OK) st = vae_decoder_plan(&t->dec, t->F, h, h, true);
    if (st != ILDIFF_OK) return st;
    size_t F = (size_t)t->F, S = (size_t)t->S;
    struct { float **p; size_t n; } bufs[] = {{&t->a, F * S},         {&t->da, F * S},  {&t->fg, F * 3 * S},
                                              {&t->dfg, F * 3 * S},   {&t->dy, F * 4 * S}, {&t->dhy, F * 3 * S},
                                              {&t->dzl, (size_t)t->nz}, {&t->mask, F * 3 * S}};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        if (!(*bufs[i].p = calloc(bufs[i].n, sizeof(float)))) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    return ild_stage_data_open(&t->data, opts, t->T, H, false);
}

ildiff_status ild_s3_create(const ild_stage_opts *opts, ild_task **out)
{
    *out = NULL;
    int64_t first = 0, N = 0;
    ildiff_status st = ild_stage_share(opts->batch, 256, "S3", &first, &N);
    if (st != ILDIFF_OK) return st;
    if (opts->depth > TEMPORAL_MAX_DEPTH || opts->frames < 0 || opts->frames > 64)
        return ild_fail(ILDIFF_ERR_ARG, "S3: depth 0..%d and frames 1..64", TEMPORAL_MAX_DEPTH);
    s3 *t = calloc(1, sizeof *t);
    if (!t) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    t->N = N, t->T = opts->frames > 0 ? opts->frames : S3_FRAMES;
    t->H = opts->size > 0 ? opts->size : S3_SIZE;
    nn_params_init(&t->params);
    t->task = (ild_task){.user = t, .params = &t->params, .batch = opts->batch, .config = t->config,
                         .next_batch = s3_next_batch, .forward_backward = s3_forward_backward,
                         .validate = s3_validate, .save_state = s3_save_state, .load_state = s3_load_state};
    st = build(t, opts);
    if (st != ILDIFF_OK) {
        ild_s3_destroy(&t->task);
        return st;
    }
    *out = &t->task;
    return ILDIFF_OK;
}
