/*
 * matter.c: ildiff_matter (ildiff.h, "Matting"): a loaded model (model_file.h) run over an animation in temporal
 * windows, with edge-replicated padding to the model's multiple, optional 8-way test-time augmentation (median),
 * linear blending across window overlaps, and decontaminated straight colour.
 *
 * Windows: starts 0, s, 2s, ... (s = window - overlap), the last one aligned to the clip's end; a clip of at most
 * `window` frames is one window. Frame t of window [b, e) has weight 1, ramping to (t - b + 1) / (overlap + 1)
 * over the first `overlap` frames of every window but the first and to (e - t) / (overlap + 1) over the last
 * `overlap` frames of every window but the last; the result is the weighted mean. Frames before the next
 * window's start are final once a window is done, so only one window of results is held.
 *
 * Memory: the model planned for one window (chunk 1: one frame's activations), the window's input (T, 3, H, W),
 * the TTA results (tta, T, 4, H, W) and the blend accumulator (T, 4, H, W), all float.
 */
#include "ildiff.h"

#include "base/base.h"
#include "matte/model_file.h"
#include "nn/nn.h"

#include <stdlib.h>
#include <string.h>

#define MAX_WINDOW 4096 /* frames */

struct ildiff_matter {
    ildiff_matte_params prm;
    nn_params p;
    ildiff_model m;
    int64_t mult;               /* padded sides are multiples of this */
    int64_t pT, pH, pW;         /* the model's plan (0: none) */
};

ildiff_matte_params ildiff_matte_params_default(void)
{
    return (ildiff_matte_params){.threads = 0, .tta = 1, .bg_auto = true, .window = 16, .overlap = 4,
                                 .max_model_bytes = (int64_t)2 << 30};
}

ildiff_status ildiff_matter_new(const char *model_path, const ildiff_matte_params *params, ildiff_matter **out)
{
    *out = NULL;
    ildiff_matte_params prm = params ? *params : ildiff_matte_params_default();
    if (prm.tta != 1 && prm.tta != 8) return ild_fail(ILDIFF_ERR_ARG, "tta must be 1 or 8, not %d", prm.tta);
    if (prm.window < 1 || prm.window > MAX_WINDOW || prm.overlap < 0 || prm.overlap >= prm.window)
        return ild_fail(ILDIFF_ERR_ARG, "window %d with overlap %d: need 1 <= window <= 4096 and 0 <= overlap < window",
                        (int)prm.window, (int)prm.overlap);
    if (prm.threads < 0) return ild_fail(ILDIFF_ERR_ARG, "threads must be >= 0");
    ildiff_matter *mt = calloc(1, sizeof *mt);
    if (!mt) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    mt->prm = prm;
    nn_params_init(&mt->p);
    ildiff_status st = ild_model_file_load(model_path, prm.max_model_bytes, &mt->m, &mt->p);
    if (st != ILDIFF_OK) {
        char why[400];
        snprintf(why, sizeof why, "%s", ildiff_last_error());
        free(mt);
        return ild_fail(st, "model %s: %s", model_path, why);
    }
    mt->mult = (int64_t)1 << (mt->m.cfg.decoder.levels - 1);
    if (mt->mult < 8) mt->mult = 8; /* the latent grid is 1/8 */
    *out = mt;
    return ILDIFF_OK;
}

void ildiff_matter_free(ildiff_matter *mt)
{
    if (!mt) return;
    ildiff_model_free(&mt->m);
    nn_params_free(&mt->p);
    free(mt);
}

/* ---- the 8 transforms: flip (k & 4) then k & 3 quarter turns counter-clockwise ---- */

/* Where pixel (y, x) of an h x w frame lands under transform k; *th x *tw is the transformed size. */
static void transform_point(int k, int64_t h, int64_t w, int64_t y, int64_t x, int64_t *i, int64_t *j, int64_t *th,
                            int64_t *tw)
{
    if (k & 4) x = w - 1 - x;
    for (int r = 0; r < (k & 3); r++) { /* new[i][j] = old[j][w - 1 - i]: old (y, x) -> (w - 1 - x, y) */
        int64_t ny = w - 1 - x, nx = y, t = h;
        y = ny, x = nx, h = w, w = t;
    }
    *i = y, *j = x, *th = h, *tw = w;
}

static int64_t round_up(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

/* Plans the model for T frames of H x W (kept when unchanged). */
static ildiff_status plan(ildiff_matter *mt, int64_t T, int64_t H, int64_t W)
{
    if (mt->pT == T && mt->pH == H && mt->pW == W) return ILDIFF_OK;
    mt->pT = mt->pH = mt->pW = 0;
    ildiff_status st = ildiff_model_plan(&mt->m, 1, T, H, W, 1, false);
    if (st != ILDIFF_OK) return st;
    mt->pT = T, mt->pH = H, mt->pW = W;
    return ILDIFF_OK;
}

typedef struct run_ctx {
    ildiff_matter *mt;
    const ildiff_anim *in;
    float *x;                   /* (T, 3, Hp, Wp) the transformed, padded window */
    float *res;                 /* (tta, T, 4, H, W) each transform's result in the input's orientation */
    float *win;                 /* (T, 4, H, W) the window's result (the median with TTA) */
    int64_t done, total;
    ildiff_progress_fn progress;
    void *user;
} run_ctx;

/* Runs transform k over frames [b, b + T) into c->res[k]. */
static ildiff_status run_transform(run_ctx *c, int k, int64_t b, int64_t T)
{
    const ildiff_anim *in = c->in;
    int64_t H = in->height, W = in->width, th, tw, i, j;
    transform_point(k, H, W, 0, 0, &i, &j, &th, &tw);
    int64_t Hp = round_up(th, c->mt->mult), Wp = round_up(tw, c->mt->mult);
    ildiff_status st = plan(c->mt, T, Hp, Wp);
    if (st != ILDIFF_OK) return st;
    size_t plane = (size_t)(Hp * Wp), hw = (size_t)(H * W);
    for (int64_t t = 0; t < T; t++) {
        const uint8_t *f = ildiff_anim_frame(in, (int32_t)(b + t));
        float *xt = c->x + (size_t)t * 3 * plane;
        for (int64_t y = 0; y < H; y++)
            for (int64_t x = 0; x < W; x++) {
                transform_point(k, H, W, y, x, &i, &j, &th, &tw);
                const uint8_t *px = f + (size_t)(y * W + x) * 4;
                for (int ch = 0; ch < 3; ch++) xt[(size_t)ch * plane + (size_t)(i * Wp + j)] = px[ch] * (1.0f / 255.0f);
            }
        for (int ch = 0; ch < 3; ch++) { /* edge replication: right columns, then bottom rows */
            float *pl = xt + (size_t)ch * plane;
            for (int64_t y = 0; y < th; y++)
                for (int64_t x = tw; x < Wp; x++) pl[y * Wp + x] = pl[y * Wp + tw - 1];
            for (int64_t y = th; y < Hp; y++) memcpy(pl + y * Wp, pl + (th - 1) * Wp, sizeof(float) * (size_t)Wp);
        }
    }
    ildiff_model_forward(&c->mt->m, c->x);
    const float *yv = c->mt->m.y; /* (T, 4, Hp, Wp) */
    float *r = c->res + (size_t)k * (size_t)T * 4 * hw;
    for (int64_t t = 0; t < T; t++)
        for (int64_t y = 0; y < H; y++)
            for (int64_t x = 0; x < W; x++) {
                transform_point(k, H, W, y, x, &i, &j, &th, &tw);
                for (int ch = 0; ch < 4; ch++)
                    r[((size_t)t * 4 + (size_t)ch) * hw + (size_t)(y * W + x)] =
                        yv[((size_t)t * 4 + (size_t)ch) * plane + (size_t)(i * Wp + j)];
            }
    if (c->progress) c->progress(c->user, ++c->done, c->total);
    return ILDIFF_OK;
}

/* The lower median of n <= 8 values (torch.median's choice). */
static float median8(float *v, int n)
{
    for (int a = 1; a < n; a++)
        for (int b = a; b > 0 && v[b - 1] > v[b]; b--) {
            float t = v[b];
            v[b] = v[b - 1], v[b - 1] = t;
        }
    return v[(n - 1) / 2];
}

/* Frames [b, b + T) through every transform into c->win. */
static ildiff_status run_window(run_ctx *c, int64_t b, int64_t T)
{
    int tta = c->mt->prm.tta;
    static const int order[8] = {0, 2, 4, 6, 1, 3, 5, 7}; /* even quarter turns keep the shape: one plan each */
    for (int q = 0; q < tta; q++) {
        ildiff_status st = run_transform(c, tta == 1 ? 0 : order[q], b, T);
        if (st != ILDIFF_OK) return st;
    }
    size_t n = (size_t)T * 4 * (size_t)c->in->height * (size_t)c->in->width;
    if (tta == 1) {
        memcpy(c->win, c->res, n * sizeof(float));
        return ILDIFF_OK;
    }
    for (size_t e = 0; e < n; e++) {
        float v[8];
        for (int k = 0; k < tta; k++) v[k] = c->res[(size_t)k * n + e];
        c->win[e] = median8(v, tta);
    }
    return ILDIFF_OK;
}

/* ---- background, colour ---- */

/* The per-channel median of the border pixels of every frame. */
static void border_median(const ildiff_anim *a, uint8_t bg[3])
{
    int64_t hist[3][256] = {{0}}, count = 0;
    for (int32_t t = 0; t < a->frame_count; t++) {
        const uint8_t *f = ildiff_anim_frame(a, t);
        for (int32_t y = 0; y < a->height; y++) {
            bool edge_row = y == 0 || y == a->height - 1;
            for (int32_t x = 0; x < a->width; x = edge_row || x == a->width - 1 ? x + 1 : a->width - 1) {
                const uint8_t *px = f + ((size_t)y * (size_t)a->width + (size_t)x) * 4;
                for (int ch = 0; ch < 3; ch++) hist[ch][px[ch]]++;
                count++;
            }
        }
    }
    for (int ch = 0; ch < 3; ch++) {
        int64_t acc = 0;
        int v = 0;
        while (v < 255 && (acc += hist[ch][v]) * 2 < count) v++;
        bg[ch] = (uint8_t)v;
    }
}

static uint8_t to_u8(float v) { return (uint8_t)(v <= 0.0f ? 0 : v >= 1.0f ? 255 : (int)(v * 255.0f + 0.5f)); }

/* Writes frame t of the output from the blended sums acc (4, H, W) / wsum: alpha, and straight colour
 * a * clamp((I - (1 - a) bg) / a) + (1 - a) * fg_model. */
static void finish_frame(const ildiff_anim *in, ildiff_anim *out, int32_t t, const float *acc, float wsum,
                         const float bg[3])
{
    size_t hw = (size_t)in->width * (size_t)in->height;
    const uint8_t *src = ildiff_anim_frame(in, t);
    uint8_t *dst = ildiff_anim_frame(out, t);
    float inv = 1.0f / wsum;
    for (size_t e = 0; e < hw; e++) {
        float a = acc[e] * inv;
        a = a < 0 ? 0 : a > 1 ? 1 : a;
        for (int ch = 0; ch < 3; ch++) {
            float fg = acc[(size_t)(ch + 1) * hw + e] * inv, img = src[e * 4 + (size_t)ch] * (1.0f / 255.0f);
            float un = a > 1e-3f ? (img - (1.0f - a) * bg[ch]) / a : fg;
            un = un < 0 ? 0 : un > 1 ? 1 : un;
            dst[e * 4 + (size_t)ch] = to_u8(a * un + (1.0f - a) * fg);
        }
        dst[e * 4 + 3] = to_u8(a);
    }
}

/* ---- the clip ---- */

static float window_weight(int64_t t, int64_t b, int64_t e, bool first, bool last, int64_t overlap)
{
    float w = 1.0f;
    if (!first && t - b < overlap) w = (float)(t - b + 1) / (float)(overlap + 1);
    if (!last && e - 1 - t < overlap) {
        float v = (float)(e - t) / (float)(overlap + 1);
        if (v < w) w = v;
    }
    return w;
}

ildiff_status ildiff_matte_anim(ildiff_matter *mt, const ildiff_anim *in, ildiff_anim **out,
                                ildiff_progress_fn progress, void *user_data)
{
    *out = NULL;
    if (!in || in->width < 1 || in->height < 1 || in->frame_count < 1)
        return ild_fail(ILDIFF_ERR_ARG, "matte: empty animation");
    int64_t T = in->frame_count, H = in->height, W = in->width, win = mt->prm.window, ov = mt->prm.overlap;
    int64_t wT = T < win ? T : win, stride = win - ov, side = round_up(H > W ? H : W, mt->mult);
    int64_t nwin = T <= win ? 1 : 1 + (T - win + stride - 1) / stride;
    size_t hw = (size_t)(H * W), frame4 = 4 * hw, nx, nres;
    if (!ild_mul_size4(&nx, (size_t)wT, 3, (size_t)side, (size_t)side) ||
        !ild_mul_size4(&nres, (size_t)mt->prm.tta + 2, (size_t)wT, frame4, 1) || nx > ((size_t)1 << 34) / sizeof(float) ||
        nres > ((size_t)1 << 34) / sizeof(float))
        return ild_fail(ILDIFF_ERR_LIMIT, "matte: %lldx%lld frames are too large to process", (long long)W, (long long)H);
    if (mt->prm.threads > 0) nn_threads_set(mt->prm.threads);
    ildiff_anim *o = NULL;
    ildiff_status st = ildiff_anim_new(in->width, in->height, in->frame_count, 1, &o);
    if (st != ILDIFF_OK) return st;
    memcpy(o->durations_ms, in->durations_ms, sizeof(int32_t) * (size_t)T);
    o->loop_count = in->loop_count;
    o->source = in->source;
    o->source_has_alpha = true;
    float *buf = malloc(nx * sizeof(float)), *res = malloc(nres * sizeof(float)), wsum[MAX_WINDOW];
    float *acc = res ? res + (size_t)mt->prm.tta * (size_t)wT * frame4 : NULL, *winr = acc ? acc + (size_t)wT * frame4 : NULL;
    if (!buf || !res) st = ild_fail(ILDIFF_ERR_NOMEM, "out of memory for matting buffers");
    uint8_t bgc[3] = {mt->prm.bg[0], mt->prm.bg[1], mt->prm.bg[2]};
    if (mt->prm.bg_auto) border_median(in, bgc);
    float bg[3] = {bgc[0] / 255.0f, bgc[1] / 255.0f, bgc[2] / 255.0f};
    run_ctx c = {.mt = mt, .in = in, .x = buf, .res = res, .win = winr, .total = nwin * mt->prm.tta,
                 .progress = progress, .user = user_data};
    if (st == ILDIFF_OK) {
        memset(acc, 0, (size_t)wT * frame4 * sizeof(float));
        memset(wsum, 0, sizeof wsum);
    }
    int64_t b = 0; /* the accumulator holds frames [b, b + wT) */
    for (int64_t k = 0; st == ILDIFF_OK && k < nwin; k++) {
        bool last = k == nwin - 1;
        int64_t s = last ? T - wT : k * stride, e = s + wT;
        st = run_window(&c, s, wT);
        if (st != ILDIFF_OK) break;
        for (int64_t t = s; t < e; t++) {
            float w = window_weight(t, s, e, k == 0, last, ov);
            float *a = acc + (size_t)(t - b) * frame4;
            const float *r = winr + (size_t)(t - s) * frame4;
            for (size_t q = 0; q < frame4; q++) a[q] += w * r[q];
            wsum[t - b] += w;
        }
        int64_t next = last ? T : (k + 1 == nwin - 1 ? T - wT : (k + 1) * stride);
        for (int64_t t = b; t < next; t++)
            finish_frame(in, o, (int32_t)t, acc + (size_t)(t - b) * frame4, wsum[t - b], bg);
        int64_t shift = next - b, keep = wT - shift;
        if (keep > 0) {
            memmove(acc, acc + (size_t)shift * frame4, (size_t)keep * frame4 * sizeof(float));
            memmove(wsum, wsum + shift, (size_t)keep * sizeof(float));
        }
        int64_t from = keep > 0 ? keep : 0;
        memset(acc + (size_t)from * frame4, 0, (size_t)(wT - from) * frame4 * sizeof(float));
        memset(wsum + from, 0, (size_t)(wT - from) * sizeof(float));
        b = next;
    }
    free(buf);
    free(res);
    if (st != ILDIFF_OK) {
        ildiff_anim_free(o);
        return st;
    }
    *out = o;
    return ILDIFF_OK;
}
