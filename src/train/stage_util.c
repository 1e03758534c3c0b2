/*
 * stage_util.c: the shared parts of the model stages (stage_util.h).
 */
#include "train/stage_util.h"

#include "base/base.h"
#include "data/dataset.h"
#include "dist/dist.h"
#include "dist/shard.h"
#include "models/losses.h"
#include "nn/safetensors.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>

#define LOADER_CACHE 16
#define VAL_SAMPLES_MAX 32

ildiff_status ild_batch_alloc(ild_batch *b, int64_t N, int64_t T, int64_t size, bool ids)
{
    *b = (ild_batch){.N = N, .T = T, .size = size};
    size_t F = (size_t)(N * T), S = (size_t)(size * size);
    b->rgb = malloc(F * 3 * S * sizeof(float));
    b->alpha = malloc(F * S * sizeof(float));
    b->fg = malloc(F * 3 * S * sizeof(float));
    if (ids) b->ids = malloc(F * S * sizeof(int32_t));
    if (!b->rgb || !b->alpha || !b->fg || (ids && !b->ids)) {
        ild_batch_free(b);
        return ild_fail(ILDIFF_ERR_NOMEM, "out of memory for a batch of %lld x %lld frames at %lld^2", (long long)N,
                        (long long)T, (long long)size);
    }
    return ILDIFF_OK;
}

void ild_batch_free(ild_batch *b)
{
    free(b->rgb), free(b->alpha), free(b->fg), free(b->ids);
    *b = (ild_batch){0};
}

/* The folder `val` beside dir (dir without trailing slashes, its last component replaced), if it exists. */
static bool sibling_val(const char *dir, char *out, size_t cap)
{
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/') n--;
    size_t cut = n;
    while (cut > 0 && dir[cut - 1] != '/') cut--;
    snprintf(out, cap, "%.*sval", (int)cut, dir);
    struct stat sb;
    bool is_val = n - cut == 3 && strncmp(dir + cut, "val", 3) == 0;
    return !is_val && stat(out, &sb) == 0 && S_ISDIR(sb.st_mode);
}

ildiff_status ild_stage_share(int64_t B, int64_t max, const char *stage, int64_t *first, int64_t *n)
{
    int ranks = ild_dist_size();
    if (B < 1 || B > max) return ild_fail(ILDIFF_ERR_ARG, "%s batch %lld out of 1..%lld", stage, (long long)B, (long long)max);
    if (B % ranks != 0)
        return ild_fail(ILDIFF_ERR_ARG, "%s batch %lld does not divide by the %d ranks", stage, (long long)B, ranks);
    int64_t e;
    ild_shard_range(B, ild_dist_rank(), ranks, first, &e);
    *n = e - *first;
    return ILDIFF_OK;
}

ildiff_status ild_stage_data_open(ild_stage_data *d, const ild_stage_opts *opts, int64_t T, int64_t size, bool ids)
{
    *d = (ild_stage_data){.seed = opts->seed, .B = opts->batch};
    if (!opts->corpus) return ild_fail(ILDIFF_ERR_ARG, "this stage needs a corpus");
    int64_t N = 0;
    ildiff_status st = ild_stage_share(opts->batch, ILD_STAGE_MAX_BATCH, "the", &d->first, &N);
    ild_loader_cfg c = {.dir = opts->corpus, .split = "train", .size = (int32_t)size, .frames = (int32_t)T,
                        .seed = opts->seed, .cache = LOADER_CACHE};
    if (st == ILDIFF_OK) st = ild_loader_open(&c, &d->train);
    if (st == ILDIFF_OK && ild_loader_count(d->train) == 0)
        st = ild_fail(ILDIFF_ERR_ARG, "%s: no sample of the train split", opts->corpus);
    c.split = "val";
    if (st == ILDIFF_OK) st = ild_loader_open(&c, &d->val);
    char beside[4200];
    if (st == ILDIFF_OK && ild_loader_count(d->val) == 0) {
        ild_loader_free(d->val);
        d->val = NULL;
        c.dir = beside;
        if (sibling_val(opts->corpus, beside, sizeof beside)) st = ild_loader_open(&c, &d->val);
        if (st == ILDIFF_OK && d->val && ild_loader_count(d->val) == 0) ild_loader_free(d->val), d->val = NULL;
    }
    if (st == ILDIFF_OK && d->val) {
        d->val_count = ILD_MIN(ild_loader_count(d->val), VAL_SAMPLES_MAX);
        d->val_batches = (d->val_count + N - 1) / N;
    }
    if (st == ILDIFF_OK) st = ild_batch_alloc(&d->batch, N, T, size, ids);
    if (st == ILDIFF_OK && d->val) st = ild_batch_alloc(&d->vbatch, N, T, size, ids);
    if (st != ILDIFF_OK) ild_stage_data_close(d);
    return st;
}

void ild_stage_data_close(ild_stage_data *d)
{
    ild_loader_free(d->train), ild_loader_free(d->val);
    ild_batch_free(&d->batch), ild_batch_free(&d->vbatch);
    *d = (ild_stage_data){0};
}

static ildiff_status fill(ild_loader *l, ild_batch *b, const int64_t *pos, const uint64_t *keys)
{
    size_t F = (size_t)b->T, S = (size_t)(b->size * b->size);
    for (int64_t k = 0; k < b->N; k++) {
        size_t o = (size_t)k * F;
        ild_clip c = {.rgb = b->rgb + o * 3 * S, .alpha = b->alpha + o * S, .fg = b->fg + o * 3 * S,
                      .ids = b->ids ? b->ids + o * S : NULL};
        ildiff_status st = ild_loader_clip(l, pos[k], keys[k], &c);
        if (st != ILDIFF_OK) return st;
    }
    return ILDIFF_OK;
}

ildiff_status ild_stage_data_next(ild_stage_data *d, int64_t step, nn_rng *rng)
{
    int64_t pos[ILD_STAGE_MAX_BATCH];
    uint64_t keys[ILD_STAGE_MAX_BATCH];
    d->step_key = nn_rng_u64(rng); /* one draw per step, the same on every rank */
    for (int64_t k = 0; k < d->batch.N; k++) {
        int64_t g = d->first + k; /* the clip's index in the global batch */
        pos[k] = ild_loader_pick(d->train, d->cursor + g);
        keys[k] = ild_mix64(d->seed ^ ild_mix64((uint64_t)step * 0x10001ULL + (uint64_t)g));
    }
    ildiff_status st = fill(d->train, &d->batch, pos, keys);
    if (st == ILDIFF_OK) d->cursor += d->B;
    return st;
}

void ild_stage_sample_rng(const ild_stage_data *d, int64_t k, nn_rng *r)
{
    nn_rng_seed(r, ild_mix64(d->step_key ^ (uint64_t)(d->first + k)));
}

ildiff_status ild_stage_data_val(ild_stage_data *d, int64_t b, int64_t *valid)
{
    int64_t pos[ILD_STAGE_MAX_BATCH];
    uint64_t keys[ILD_STAGE_MAX_BATCH];
    int64_t N = d->vbatch.N;
    *valid = ILD_MIN(N, d->val_count - b * N);
    for (int64_t k = 0; k < N; k++) {
        int64_t i = ILD_MIN(b * N + k, d->val_count - 1);
        pos[k] = i;
        keys[k] = ild_mix64(0x7a11da7eULL + (uint64_t)i); /* the same clips for every run, seed and rank count */
    }
    return fill(d->val, &d->vbatch, pos, keys);
}

char *ild_stage_data_save(const ild_stage_data *d)
{
    char *s = malloc(48);
    if (s) snprintf(s, 48, "{\"cursor\":%lld}", (long long)d->cursor);
    return s;
}

ildiff_status ild_stage_data_load(ild_stage_data *d, const char *json)
{
    cJSON *j = cJSON_Parse(json);
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "cursor");
    ildiff_status st = cJSON_IsNumber(c) && c->valuedouble >= 0
                           ? ILDIFF_OK
                           : ild_fail(ILDIFF_ERR_FORMAT, "task state has no data cursor");
    if (st == ILDIFF_OK) d->cursor = (int64_t)c->valuedouble;
    cJSON_Delete(j);
    return st;
}

ildiff_model_config ild_stage_model_config(bool tiny)
{
    static const ildiff_model_config tiny_config = {
        .vae = {.enc_widths = {4, 8, 8}, .dec_widths = {8, 8, 4, 4}, .blocks = 1, .latent = 4},
        .student = {.img_size = 16, .patch = 4, .dim = 16, .depth = 2, .heads = 2, .mlp_ratio = 2, .out_dim = 8},
        .temporal = {.channels = 8, .depth = 3, .groups = 2, .latent = 4},
        .decoder = {.levels = 4, .widths = {4, 8, 8, 16}, .layers = 1, .groups = 2, .head_dim = 4, .attn_levels = 1,
                    .latent_level = 3, .latent = 4}};
    return tiny ? tiny_config : ildiff_model_config_default();
}

ildiff_status ild_stage_load_init(nn_params *p, const ild_stage_opts *opts, const char *const *required)
{
    bool *found = calloc((size_t)p->count + 1, 1);
    if (!found) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    ildiff_status st = ILDIFF_OK;
    for (int i = 0; i < opts->init_count && st == ILDIFF_OK; i++) {
        nn_st_file *f = NULL;
        st = nn_st_read(opts->init[i], (int64_t)1 << 34, &f);
        if (st == ILDIFF_OK) st = nn_st_load_params(p, f, NN_ST_ALLOW_MISSING | NN_ST_ALLOW_UNUSED);
        for (int k = 0; st == ILDIFF_OK && k < p->count; k++) found[k] |= nn_st_find(f, p->items[k].name) != NULL;
        nn_st_free(f);
        if (st != ILDIFF_OK) st = ild_fail_in(st, opts->init[i]);
    }
    for (int k = 0; st == ILDIFF_OK && k < p->count; k++) {
        for (int r = 0; required && required[r]; r++) {
            if (found[k] || strncmp(p->items[k].name, required[r], strlen(required[r])) != 0) continue;
            st = opts->init_count == 0
                     ? ild_fail(ILDIFF_ERR_ARG, "this stage needs --init FILE with the %s* weights", required[r])
                     : ild_fail(ILDIFF_ERR_FORMAT, "no --init file has %s", p->items[k].name);
            break;
        }
    }
    free(found);
    return st;
}

void ild_params_freeze(nn_params *p, const char *prefix)
{
    for (int k = 0; k < p->count; k++)
        if (strncmp(p->items[k].name, prefix, strlen(prefix)) == 0) p->items[k].flags |= NN_PARAM_FROZEN;
}

/* ---- pad_rgb ---- */

#define PAD_DK 1.2

/* One pyramid level's size after (h, w). */
static void pad_next(int64_t *h, int64_t *w)
{
    *h = ILD_MAX((int64_t)1, (int64_t)((double)*h / PAD_DK)), *w = ILD_MAX((int64_t)1, (int64_t)((double)*w / PAD_DK));
}

size_t ild_pad_rgb_scratch(int64_t H, int64_t W)
{
    size_t total = 0;
    for (int64_t h = H, w = W;; pad_next(&h, &w)) {
        total += (size_t)(4 * h * w);
        if (h == 1 || w == 1) break;
    }
    return total + (size_t)(4 * H * W) + (size_t)(3 * H * W);
}

/* Area resize of one (ih, iw) plane to (oh, ow) (shrinking), separable with fractional overlaps; tmp (ih, ow). */
static void area_resize(float *out, const float *in, int64_t ih, int64_t iw, int64_t oh, int64_t ow, float *tmp)
{
    double sx = (double)iw / ow, sy = (double)ih / oh;
    for (int64_t y = 0; y < ih; y++) {
        for (int64_t x = 0; x < ow; x++) {
            double a = x * sx, b = a + sx, acc = 0;
            for (int64_t i = (int64_t)a; i < iw && (double)i < b; i++)
                acc += in[y * iw + i] * (fmin(b, (double)i + 1) - fmax(a, (double)i));
            tmp[y * ow + x] = (float)(acc / sx);
        }
    }
    for (int64_t x = 0; x < ow; x++) {
        for (int64_t y = 0; y < oh; y++) {
            double a = y * sy, b = a + sy, acc = 0;
            for (int64_t i = (int64_t)a; i < ih && (double)i < b; i++)
                acc += tmp[i * ow + x] * (fmin(b, (double)i + 1) - fmax(a, (double)i));
            out[y * ow + x] = (float)(acc / sy);
        }
    }
}

/* Bilinear resize (half-pixel centres, edge clamped) of one plane. */
static void linear_resize(float *out, const float *in, int64_t ih, int64_t iw, int64_t oh, int64_t ow)
{
    for (int64_t y = 0; y < oh; y++) {
        double fy = fmin(fmax(((double)y + 0.5) * ih / oh - 0.5, 0), (double)ih - 1);
        int64_t y0 = (int64_t)fy, y1 = ILD_MIN(y0 + 1, ih - 1);
        double wy = fy - (double)y0;
        for (int64_t x = 0; x < ow; x++) {
            double fx = fmin(fmax(((double)x + 0.5) * iw / ow - 0.5, 0), (double)iw - 1);
            int64_t x0 = (int64_t)fx, x1 = ILD_MIN(x0 + 1, iw - 1);
            double wx = fx - (double)x0;
            out[y * ow + x] = (float)((1 - wy) * ((1 - wx) * in[y0 * iw + x0] + wx * in[y0 * iw + x1]) +
                                      wy * ((1 - wx) * in[y1 * iw + x0] + wx * in[y1 * iw + x1]));
        }
    }
}

void ild_pad_rgb(float *out, const float *fg, const float *alpha, int64_t H, int64_t W, float *scratch)
{
    enum { MAX_LEVELS = 128 };
    float *lv[MAX_LEVELS];
    int64_t hs[MAX_LEVELS], ws[MAX_LEVELS];
    int L = 0;
    float *p = scratch;
    size_t S = (size_t)(H * W);
    lv[0] = p, hs[0] = H, ws[0] = W; /* level: (4, h, w) premultiplied colour, then alpha */
    for (size_t i = 0; i < S; i++) {
        for (int c = 0; c < 3; c++) p[c * S + i] = fg[c * S + i] * alpha[i];
        p[3 * S + i] = alpha[i];
    }
    p += 4 * S;
    float *tmp = scratch + ild_pad_rgb_scratch(H, W) - 4 * S - 3 * S, *cur = tmp + 4 * S;
    for (L = 1; L < MAX_LEVELS && hs[L - 1] > 1 && ws[L - 1] > 1; L++) {
        hs[L] = hs[L - 1], ws[L] = ws[L - 1];
        pad_next(&hs[L], &ws[L]);
        size_t n0 = (size_t)(hs[L - 1] * ws[L - 1]), n1 = (size_t)(hs[L] * ws[L]);
        lv[L] = p;
        for (int c = 0; c < 4; c++)
            area_resize(lv[L] + c * n1, lv[L - 1] + c * n0, hs[L - 1], ws[L - 1], hs[L], ws[L], tmp);
        p += 4 * n1;
    }
    /* start: the mean colour of the coarsest level */
    size_t nc = (size_t)(hs[L - 1] * ws[L - 1]);
    double sum[4] = {0};
    for (int c = 0; c < 4; c++)
        for (size_t i = 0; i < nc; i++) sum[c] += lv[L - 1][c * nc + i];
    for (int c = 0; c < 3; c++) cur[c] = (float)(sum[c] / fmax(sum[3], 1e-8));
    int64_t ch = 1, cw = 1;
    for (int k = L - 1; k >= 0; k--) {
        size_t n = (size_t)(hs[k] * ws[k]);
        for (int c = 0; c < 3; c++) linear_resize(tmp + c * n, cur + c * (size_t)(ch * cw), ch, cw, hs[k], ws[k]);
        for (int c = 0; c < 3; c++)
            for (size_t i = 0; i < n; i++)
                cur[c * n + i] = lv[k][c * n + i] + tmp[c * n + i] * (1 - lv[k][3 * n + i]);
        ch = hs[k], cw = ws[k];
    }
    memcpy(out, cur, 3 * S * sizeof(float));
}

float ild_rgb_loss_frames(float *mask, const float *fg, const float *fg_gt, const float *alpha_gt, int64_t F, int64_t S)
{
    double sum = 0;
    for (int64_t f = 0; f < F; f++)
        sum += ild_rgb_loss(mask + f * 3 * S, fg + f * 3 * S, fg_gt + f * 3 * S, alpha_gt + f * S, 1, S);
    return (float)(sum / (double)F);
}

void ild_rgb_loss_frames_backward(float *dfg, float dloss, const float *mask, const float *fg, const float *fg_gt,
                                  int64_t F, int64_t S)
{
    for (int64_t f = 0; f < F; f++)
        ild_rgb_loss_backward(dfg + f * 3 * S, dloss / (float)F, mask + f * 3 * S, fg + f * 3 * S, fg_gt + f * 3 * S,
                              1, S);
}

void ild_alpha_accumulate(double acc[2], const float *alpha, int64_t stride, const float *gt, int64_t F, int64_t S)
{
    for (int64_t f = 0; f < F; f++) {
        const float *a = alpha + f * stride, *g = gt + f * S;
        for (int64_t i = 0; i < S; i++) {
            double d = (double)a[i] - g[i], c = (double)fminf(fmaxf(a[i], 0), 1) - g[i];
            acc[0] += fabs(d), acc[1] += c * c;
        }
    }
}

void ild_alpha_terms(ild_terms *m, const double acc[2], double count)
{
    double mse = acc[1] / count;
    ild_terms_add(m, "alpha_l1", acc[0] / count);
    ild_terms_add(m, "alpha_psnr", mse > 0 ? 10 * log10(1 / mse) : 99);
}
