/*
 * stage_s0.c: stage S0 (stages.h; models/README.md): the VAE encoder E and decoder D learn to reconstruct the
 * composited corpus frames the matting path sees.
 *
 * Batch: N single frames (clips of T = 1) at size x size (default 128), composited and damaged by the loader.
 * Loss "loss" = "l1" + "mse" of D(E(x)) against x, plus "latent" = 1e-4 * mean z^2, a small regulariser that keeps
 * the unscaled latent near the [-3, 3] range D's tanh clamp expects. Parameters: "vae_encoder.*", "vae_decoder.*"
 * (the keys S1 and the shipped model load). --init FILE (optional) starts from earlier VAE weights.
 * Validation: the fixed val clips, metrics "recon_l1" and "recon_psnr".
 */
#include "train/stage_util.h"

#include "base/base.h"
#include "models/losses.h"
#include "models/vae.h"

#include <math.h>
#include <string.h>

#define S0_SIZE 128
#define S0_LATENT_WEIGHT 1e-4f

typedef struct s0 {
    ild_task task;
    nn_params params;
    ild_stage_data data;
    vae_encoder enc;
    vae_decoder dec;
    int64_t N, H;    /* this rank's frames, side */
    float *dy, *dz;  /* (N, 3, H, H), (N, latent, H/8, H/8): the backward passes zero their own arenas */
    char config[256];
} s0;

static ildiff_status s0_next_batch(void *user, int64_t step, nn_rng *rng)
{
    s0 *t = user;
    return ild_stage_data_next(&t->data, step, rng);
}

static void forward(s0 *t, const float *x)
{
    vae_encoder_forward(&t->enc, x);
    vae_decoder_forward(&t->dec, t->enc.z);
}

static ildiff_status s0_forward_backward(void *user, nn_rng *rng, ild_terms *loss)
{
    s0 *t = user;
    const float *x = t->data.batch.rgb;
    int64_t n = t->N * 3 * t->H * t->H, nz = t->N * t->enc.cfg.latent * (t->H / 8) * (t->H / 8);
    forward(t, x);
    float l1 = ild_alpha_loss(t->dec.y, x, n), mse = ild_mse_loss(t->dec.y, x, n);
    float lat = 0;
    for (int64_t i = 0; i < nz; i++) lat += t->enc.z[i] * t->enc.z[i];
    lat = S0_LATENT_WEIGHT * lat / (float)nz;
    memset(t->dy, 0, (size_t)n * sizeof(float));
    ild_alpha_loss_backward(t->dy, 1, t->dec.y, x, n);
    ild_mse_loss_backward(t->dy, 1, t->dec.y, x, n);
    for (int64_t i = 0; i < nz; i++) t->dz[i] = 2 * S0_LATENT_WEIGHT * t->enc.z[i] / (float)nz;
    vae_decoder_backward(&t->dec, t->dz, t->dy, false);
    vae_encoder_backward(&t->enc, NULL, t->dz, x, false);
    ild_terms_add(loss, "loss", l1 + mse + lat);
    ild_terms_add(loss, "l1", l1);
    ild_terms_add(loss, "mse", mse);
    ild_terms_add(loss, "latent", lat);
    return ILDIFF_OK;
}

static ildiff_status s0_validate(void *user, ild_terms *metrics)
{
    s0 *t = user;
    if (!t->data.val) return ILDIFF_OK;
    int64_t n = 3 * t->H * t->H, valid = 0;
    double l1 = 0, se = 0;
    for (int64_t b = 0; b < t->data.val_batches; b++) {
        ildiff_status st = ild_stage_data_val(&t->data, b, &valid);
        if (st != ILDIFF_OK) return st;
        const float *x = t->data.vbatch.rgb;
        forward(t, x);
        for (int64_t i = 0; i < valid * n; i++) {
            double d = (double)t->dec.y[i] - x[i], c = (double)fminf(fmaxf(t->dec.y[i], 0), 1) - x[i];
            l1 += fabs(d), se += c * c;
        }
    }
    double cnt = (double)n * (double)t->data.val_count, mse = se / cnt;
    ild_terms_add(metrics, "recon_l1", l1 / cnt);
    ild_terms_add(metrics, "recon_psnr", mse > 0 ? 10 * log10(1 / mse) : 99);
    return ILDIFF_OK;
}

static char *s0_save_state(void *user) { return ild_stage_data_save(&((s0 *)user)->data); }
static ildiff_status s0_load_state(void *user, const char *json) { return ild_stage_data_load(&((s0 *)user)->data, json); }

void ild_s0_destroy(ild_task *task)
{
    if (!task) return;
    s0 *t = task->user;
    vae_encoder_free(&t->enc), vae_decoder_free(&t->dec);
    ild_stage_data_close(&t->data);
    free(t->dy), free(t->dz);
    nn_params_free(&t->params);
    free(t);
}

ildiff_status ild_s0_create(const ild_stage_opts *opts, ild_task **out)
{
    *out = NULL;
    int64_t H = opts->size > 0 ? opts->size : S0_SIZE, first = 0, N = 0;
    ildiff_status st = ild_stage_share(opts->batch, ILD_STAGE_MAX_BATCH, "S0", &first, &N);
    if (st != ILDIFF_OK) return st;
    if (H % 8 != 0 || H < 8 || H > 2048) return ild_fail(ILDIFF_ERR_ARG, "S0 size %lld: a multiple of 8 in 8..2048", (long long)H);
    s0 *t = calloc(1, sizeof *t);
    if (!t) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    t->N = N, t->H = H;
    nn_params_init(&t->params);
    static const vae_config tiny = {.enc_widths = {4, 8, 8}, .dec_widths = {8, 8, 4, 4}, .blocks = 1, .latent = 4};
    vae_config vc = opts->tiny ? tiny : vae_config_default();
    t->task = (ild_task){.user = t, .params = &t->params, .batch = opts->batch, .config = t->config,
                         .next_batch = s0_next_batch, .forward_backward = s0_forward_backward,
                         .validate = s0_validate, .save_state = s0_save_state, .load_state = s0_load_state};
    snprintf(t->config, sizeof t->config,
             "{\"size\":%lld,\"tiny\":%s,\"enc_widths\":[%lld,%lld,%lld],\"dec_widths\":[%lld,%lld,%lld,%lld],"
             "\"latent_weight\":%g}",
             (long long)H, opts->tiny ? "true" : "false", (long long)vc.enc_widths[0], (long long)vc.enc_widths[1],
             (long long)vc.enc_widths[2], (long long)vc.dec_widths[0], (long long)vc.dec_widths[1],
             (long long)vc.dec_widths[2], (long long)vc.dec_widths[3], S0_LATENT_WEIGHT);
    st = vae_encoder_build(&t->enc, &vc, &t->params, "vae_encoder.");
    if (st == ILDIFF_OK) st = vae_decoder_build(&t->dec, &vc, &t->params, "vae_decoder.");
    if (st == ILDIFF_OK) st = nn_params_alloc(&t->params);
    if (st == ILDIFF_OK) mdl_init_params(&t->params, opts->seed ^ 0x5001ULL);
    if (st == ILDIFF_OK) st = ild_stage_load_init(&t->params, opts, NULL);
    if (st == ILDIFF_OK) st = vae_encoder_plan(&t->enc, t->N, H, H, true);
    if (st == ILDIFF_OK) st = vae_decoder_plan(&t->dec, t->N, H / 8, H / 8, true);
    if (st == ILDIFF_OK && (!(t->dy = calloc((size_t)(t->N * 3 * H * H), sizeof(float))) ||
                            !(t->dz = calloc((size_t)(t->N * vc.latent * (H / 8) * (H / 8)), sizeof(float)))))
        st = ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    if (st == ILDIFF_OK) st = ild_stage_data_open(&t->data, opts, 1, H, false);
    if (st != ILDIFF_OK) {
        ild_s0_destroy(&t->task);
        return st;
    }
    *out = &t->task;
    return ILDIFF_OK;
}
