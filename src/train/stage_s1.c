/*
 * stage_s1.c: stage S1 (stages.h; models/README.md): latent transparency. The offset encoder E_a and the
 * transparent decoder D_T learn, with the S0 VAE (E, D) frozen:
 *
 *   z  = E(x)                          x (N, 3, H, W) the composited frame, z (N, 4, H/8, W/8)
 *   o  = E_a([alpha_gt, pad_rgb(fg_gt, alpha_gt)])          LayerDiffuse's padding (stage_util.h)
 *   z' = z + keep_k o                  keep_k = 0 for each frame with probability 1/2 (its per-sample RNG), so D_T
 *                                      also learns to decode plain E(x), as the matting path needs
 *   y  = D_T(x, z')                    alpha = y[0], straight fg = y[1..3]
 *   "loss" = "alpha" (L1 vs alpha_gt) + "rgb" (L1 where alpha_gt > 0, per frame, then the frames' mean) + "harmless" (mean (D(z') - x)^2)
 *
 * The gradient of the harmlessness term flows through the frozen D into z', and with D_T's into E_a. The
 * table holds "vae_encoder.*" and "vae_decoder.*" frozen (loaded from --init, S0's model.safetensors, required)
 * and "offset_encoder.*", "decoder.*" trained, so S1's model file carries everything S3 needs from it.
 * Batch: N single frames at size x size (default 256). Validation: the fixed val clips through the matting path
 * D_T(x, E(x)): "alpha_l1", "alpha_psnr".
 */
#include "train/stage_util.h"

#include "base/base.h"
#include "models/losses.h"
#include "models/offset_encoder.h"
#include "models/transparent_decoder.h"
#include "models/vae.h"

#include <string.h>

#define S1_SIZE 256
#define S1_HARMLESS_WEIGHT 1.0f
#define S1_DROP 0.5f

typedef struct s1 {
    ild_task task;
    nn_params params;
    ild_stage_data data;
    vae_encoder enc;
    vae_decoder dec;
    offset_encoder off;
    transparent_decoder dt;
    int64_t N, H, S, nz; /* this rank's frames, side, H*H, latent values */
    float *ea_in;        /* (N, 4, S) [alpha, padded rgb] */
    float *zp, *dzp;     /* (N, 4, h, w) z' and its gradient */
    float *doff;         /* (N, 4, h, w) gradient by the offset */
    float *a, *da;       /* (N, S) predicted alpha, contiguous, and its gradient */
    float *fg, *dfg;     /* (N, 3, S) predicted fg and its gradient */
    float *dy;           /* (N, 4, S) gradient by D_T's output */
    float *dhy;          /* (N, 3, S) gradient by D's output (the backward passes zero their own arenas) */
    float *mask;         /* (N, 3, S) rgb loss scratch */
    float *pad;          /* pad_rgb scratch */
    float keep[ILD_STAGE_MAX_BATCH]; /* 1 where this step uses the offset */
    char config[512];
} s1;

static ildiff_status s1_next_batch(void *user, int64_t step, nn_rng *rng)
{
    s1 *t = user;
    ildiff_status st = ild_stage_data_next(&t->data, step, rng);
    if (st != ILDIFF_OK) return st;
    const ild_batch *b = &t->data.batch;
    for (int64_t k = 0; k < t->N; k++) { /* the offset encoder's input, and whether the offset is used */
        nn_rng r;
        ild_stage_sample_rng(&t->data, k, &r);
        t->keep[k] = nn_rng_uniform(&r) < S1_DROP ? 0.0f : 1.0f;
        float *in = t->ea_in + k * 4 * t->S;
        memcpy(in, b->alpha + k * t->S, (size_t)t->S * sizeof(float));
        ild_pad_rgb(in + t->S, b->fg + k * 3 * t->S, b->alpha + k * t->S, t->H, t->H, t->pad);
    }
    return ILDIFF_OK;
}

/* y = D_T(x, z + keep o) for the batch x; with_offset false: the matting path D_T(x, E(x)). */
static void forward(s1 *t, const float *x, bool with_offset)
{
    vae_encoder_forward(&t->enc, x);
    if (with_offset) offset_encoder_forward(&t->off, t->ea_in);
    const float *o = t->off.c[OFFSET_CONVS - 1];
    int64_t per = t->nz / t->N;
    for (int64_t i = 0; i < t->nz; i++) t->zp[i] = t->enc.z[i] + (with_offset ? t->keep[i / per] * o[i] : 0);
    transparent_decoder_forward(&t->dt, x, t->zp);
}

static ildiff_status s1_forward_backward(void *user, nn_rng *rng, ild_terms *loss)
{
    s1 *t = user;
    const ild_batch *b = &t->data.batch;
    const float *x = b->rgb;
    int64_t N = t->N, S = t->S, per = t->nz / N;
    forward(t, x, true);
    vae_decoder_forward(&t->dec, t->zp);
    for (int64_t k = 0; k < N; k++) {
        memcpy(t->a + k * S, t->dt.y + k * 4 * S, (size_t)S * sizeof(float));
        memcpy(t->fg + k * 3 * S, t->dt.y + (k * 4 + 1) * S, (size_t)(3 * S) * sizeof(float));
    }
    float la = ild_alpha_loss(t->a, b->alpha, N * S);
    float lr = ild_rgb_loss_frames(t->mask, t->fg, b->fg, b->alpha, N, S);
    float lh = ild_mse_loss(t->dec.y, x, N * 3 * S);
    memset(t->da, 0, (size_t)(N * S) * sizeof(float));
    memset(t->dfg, 0, (size_t)(N * 3 * S) * sizeof(float));
    memset(t->dzp, 0, (size_t)t->nz * sizeof(float));
    ild_alpha_loss_backward(t->da, 1, t->a, b->alpha, N * S);
    ild_rgb_loss_frames_backward(t->dfg, 1, t->mask, t->fg, b->fg, N, S);
    for (int64_t k = 0; k < N; k++) {
        memcpy(t->dy + k * 4 * S, t->da + k * S, (size_t)S * sizeof(float));
        memcpy(t->dy + (k * 4 + 1) * S, t->dfg + k * 3 * S, (size_t)(3 * S) * sizeof(float));
    }
    transparent_decoder_backward(&t->dt, NULL, t->dzp, t->dy, x, t->zp, false);
    memset(t->dhy, 0, (size_t)(N * 3 * S) * sizeof(float));
    ild_mse_loss_backward(t->dhy, S1_HARMLESS_WEIGHT, t->dec.y, x, N * 3 * S);
    vae_decoder_backward(&t->dec, t->dzp, t->dhy, true);
    for (int64_t i = 0; i < t->nz; i++) t->doff[i] = t->keep[i / per] * t->dzp[i];
    offset_encoder_backward(&t->off, NULL, t->doff, t->ea_in);
    ild_terms_add(loss, "loss", la + lr + S1_HARMLESS_WEIGHT * lh);
    ild_terms_add(loss, "alpha", la);
    ild_terms_add(loss, "rgb", lr);
    ild_terms_add(loss, "harmless", lh);
    return ILDIFF_OK;
}

static ildiff_status s1_validate(void *user, ild_terms *metrics)
{
    s1 *t = user;
    if (!t->data.val) return ILDIFF_OK;
    double acc[2] = {0, 0};
    int64_t valid = 0;
    for (int64_t b = 0; b < t->data.val_batches; b++) {
        ildiff_status st = ild_stage_data_val(&t->data, b, &valid);
        if (st != ILDIFF_OK) return st;
        forward(t, t->data.vbatch.rgb, false);
        ild_alpha_accumulate(acc, t->dt.y, 4 * t->S, t->data.vbatch.alpha, valid, t->S);
    }
    ild_alpha_terms(metrics, acc, (double)(t->S * t->data.val_count));
    return ILDIFF_OK;
}

static char *s1_save_state(void *user) { return ild_stage_data_save(&((s1 *)user)->data); }
static ildiff_status s1_load_state(void *user, const char *json) { return ild_stage_data_load(&((s1 *)user)->data, json); }

void ild_s1_destroy(ild_task *task)
{
    if (!task) return;
    s1 *t = task->user;
    vae_encoder_free(&t->enc), vae_decoder_free(&t->dec);
    offset_encoder_free(&t->off), transparent_decoder_free(&t->dt);
    ild_stage_data_close(&t->data);
    float *bufs[] = {t->ea_in, t->zp, t->dzp, t->doff, t->a, t->da, t->fg, t->dfg, t->dy, t->dhy, t->mask, t->pad};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) free(bufs[i]);
    nn_params_free(&t->params);
    free(t);
}

static ildiff_status build(s1 *t, const ild_stage_opts *opts)
{
    static const offset_config tiny_off = {.widths = {4, 4, 8, 8}, .latent = 4};
    const ildiff_model_config mc = ild_stage_model_config(opts->tiny); /* S3 builds the same VAE and D_T */
    vae_config vc = mc.vae;
    td_config tc = mc.decoder;
    offset_config oc = opts->tiny ? tiny_off : offset_config_default();
    int64_t H = t->H, align = (int64_t)1 << (tc.levels - 1);
    if (H % align != 0 || H < align || H > 2048)
        return ild_fail(ILDIFF_ERR_ARG, "S1 size %lld: a multiple of %lld up to 2048", (long long)H, (long long)align);
    snprintf(t->config, sizeof t->config,
             "{\"size\":%lld,\"tiny\":%s,\"td_levels\":%lld,\"td_w0\":%lld,\"offset_w0\":%lld,\"harmless\":%g,"
             "\"drop\":%g}",
             (long long)H, opts->tiny ? "true" : "false", (long long)tc.levels, (long long)tc.widths[0],
             (long long)oc.widths[0], S1_HARMLESS_WEIGHT, S1_DROP);
    nn_params *p = &t->params;
    ildiff_status st = vae_encoder_build(&t->enc, &vc, p, "vae_encoder.");
    if (st == ILDIFF_OK) st = vae_decoder_build(&t->dec, &vc, p, "vae_decoder.");
    if (st == ILDIFF_OK) st = offset_encoder_build(&t->off, &oc, p, "offset_encoder.");
    if (st == ILDIFF_OK) st = transparent_decoder_build(&t->dt, &tc, p, "decoder.");
    if (st != ILDIFF_OK) return st;
    ild_params_freeze(p, "vae_encoder.");
    ild_params_freeze(p, "vae_decoder.");
    st = nn_params_alloc(p);
    if (st != ILDIFF_OK) return st;
    offset_encoder_init(&t->off, p, opts->seed ^ 0x5101ULL); /* the whole table, then the zero-init layers */
    mdl_conv_zero(&t->dt.latent_conv_in);
    static const char *const need[] = {"vae_encoder.", "vae_decoder.", NULL};
    st = ild_stage_load_init(p, opts, need);
    int64_t N = t->N, h = H / 8;
    if (st == ILDIFF_OK) st = vae_encoder_plan(&t->enc, N, H, H, false);
    if (st == ILDIFF_OK) st = vae_decoder_plan(&t->dec, N, h, h, true);
    if (st == ILDIFF_OK) st = offset_encoder_plan(&t->off, N, H, H, true);
    if (st == ILDIFF_OK) st = transparent_decoder_plan(&t->dt, N, H, H, true);
    if (st != ILDIFF_OK) return st;
    t->S = H * H, t->nz = N * vc.latent * h * h;
    size_t S = (size_t)t->S, n = (size_t)N;
    struct { float **p; size_t n; } bufs[] = {
        {&t->ea_in, n * 4 * S}, {&t->zp, (size_t)t->nz}, {&t->dzp, (size_t)t->nz}, {&t->doff, (size_t)t->nz},
        {&t->a, n * S}, {&t->da, n * S}, {&t->fg, n * 3 * S}, {&t->dfg, n * 3 * S}, {&t->dy, n * 4 * S}, {&t->dhy, n * 3 * S},
        {&t->mask, n * 3 * S}, {&t->pad, ild_pad_rgb_scratch(H, H)}};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        if (!(*bufs[i].p = calloc(bufs[i].n, sizeof(float)))) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    return ild_stage_data_open(&t->data, opts, 1, H, false);
}

ildiff_status ild_s1_create(const ild_stage_opts *opts, ild_task **out)
{
    *out = NULL;
    int64_t first = 0, N = 0;
    ildiff_status st = ild_stage_share(opts->batch, ILD_STAGE_MAX_BATCH, "S1", &first, &N);
    if (st != ILDIFF_OK) return st;
    s1 *t = calloc(1, sizeof *t);
    if (!t) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    t->N = N, t->H = opts->size > 0 ? opts->size : S1_SIZE;
    nn_params_init(&t->params);
    t->task = (ild_task){.user = t, .params = &t->params, .batch = opts->batch, .config = t->config,
                         .next_batch = s1_next_batch, .forward_backward = s1_forward_backward,
                         .validate = s1_validate, .save_state = s1_save_state, .load_state = s1_load_state};
    st = build(t, opts);
    if (st != ILDIFF_OK) {
        ild_s1_destroy(&t->task);
        return st;
    }
    *out = &t->task;
    return ILDIFF_OK;
}
