/*
 * test_eval_metrics.c: the evaluation yardstick and the classical baselines.
 *   - every metric against tests/reference/ref_metrics.py (scikit-image for PSNR/SSIM, transcriptions of RVM's
 *     definitions and of DESIGN.md section 4 for the rest), on random clips of several sizes, odd ones included;
 *   - hand-made stand-in cases: a ring's hole filled by a flood-fill-like prediction gives residue 1, a perfect
 *     one 0; a white-eyed face on white keyed away gives collapse near 1;
 *   - the baselines on synthetic frames, their parameters, and the method table.
 */
#include "check.h"
#include "eval/eval.h"
#include "fixture.h"

#include <math.h>

/* |got - ref| <= rel * max(|ref|, floor): relative for large values, absolute `rel * floor` near zero. */
static int near_rel(double got, double ref, double rel, double floor_, const char *what, int k, int f)
{
    double tol = rel * fmax(fabs(ref), floor_);
    if (fabs(got - ref) <= tol) return 1;
    printf("  case %d frame %d %s: got %.9g, reference %.9g (tolerance %.3g)\n", k, f, what, got, ref, tol);
    return 0;
}

static const fixture_tensor *get(const fixture *fx, int k, const char *name)
{
    char key[64];
    snprintf(key, sizeof key, "%d/%s", k, name);
    return fixture_find(fx, key);
}

static void test_metrics_match_reference(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/metrics.bin", CHECK_FIXTURES());
    fixture *fx = fixture_load(path);
    CHECK_MSG(fx, "run: /usr/bin/python3 tests/reference/make_fixtures.py --out DIR --only metrics");
    if (!fx) return;
    const fixture_tensor *cases = fixture_find(fx, "cases");
    CHECK(cases && cases->data[0] >= 5);
    for (int k = 0; cases && k < (int)cases->data[0]; k++) {
        const fixture_tensor *p = get(fx, k, "p"), *t = get(fx, k, "t"), *prgb = get(fx, k, "p_rgb");
        const fixture_tensor *trgba = get(fx, k, "t_rgba"), *bg = get(fx, k, "bg");
        if (!p || !t || !prgb || !trgba || !bg) {
            CHECK(0);
            break;
        }
        int32_t frames = (int32_t)t->dims[0], h = (int32_t)t->dims[1], w = (int32_t)t->dims[2];
        size_t n = (size_t)w * h;
        uint8_t *p8 = malloc(prgb->numel), *t8 = malloc(trgba->numel), *bg8 = malloc(bg->numel);
        for (int64_t i = 0; i < prgb->numel; i++) p8[i] = (uint8_t)prgb->data[i];
        for (int64_t i = 0; i < trgba->numel; i++) t8[i] = (uint8_t)trgba->data[i];
        for (int64_t i = 0; i < bg->numel; i++) bg8[i] = (uint8_t)bg->data[i];
        ild_pool hole = {0}, collapse = {0};
        for (int32_t f = 0; f < frames; f++) {
            const float *pf = p->data + f * n, *tf = t->data + f * n;
            double ssim = NAN, grad = NAN, conn = NAN, fmad = NAN, fmse = NAN;
            CHECK_OK(ild_metric_ssim(pf, tf, w, h, &ssim));
            CHECK_OK(ild_metric_grad(pf, tf, w, h, &grad));
            CHECK_OK(ild_metric_conn(pf, tf, w, h, &conn));
            CHECK_OK(ild_hole_add(pf, tf, w, h, &hole));
            ild_collapse_add(pf, tf, t8 + f * n * 4, bg8, n, &collapse);
            CHECK(ild_metric_fgr(p8 + f * n * 3, 3, t8 + f * n * 4, 4, tf, n, &fmad, &fmse));
            double dt = f ? ild_metric_dtssd(pf, pf - n, tf, tf - n, n) : 0;
            /* the bar is 1e-4 against scikit-image; both compute in double, so hold them to the float32
             * precision the fixture stores (a population instead of a sample covariance moves SSIM by ~1e-5) */
            CHECK(near_rel(ild_metric_psnr(pf, tf, n), get(fx, k, "psnr")->data[f], 1e-6, 1, "PSNR", k, f));
            CHECK(near_rel(ssim, get(fx, k, "ssim")->data[f], 1e-6, 1, "SSIM", k, f));
            CHECK(near_rel(ild_metric_mad(pf, tf, n), get(fx, k, "mad")->data[f], 1e-5, 1e-3, "MAD", k, f));
            CHECK(near_rel(ild_metric_mse(pf, tf, n), get(fx, k, "mse")->data[f], 1e-5, 1e-3, "MSE", k, f));
            CHECK(near_rel(grad, get(fx, k, "grad")->data[f], 1e-5, 1e-4, "Grad", k, f));
            CHECK(near_rel(conn, get(fx, k, "conn")->data[f], 1e-5, 1e-4, "Conn", k, f));
            CHECK(near_rel(dt, get(fx, k, "dtssd")->data[f], 1e-5, 1e-3, "dtSSD", k, f));
            CHECK(near_rel(fmad, get(fx, k, "fgr_mad")->data[f], 1e-5, 1e-3, "fgrMAD", k, f));
            CHECK(near_rel(fmse, get(fx, k, "fgr_mse")->data[f], 1e-5, 1e-3, "fgrMSE", k, f));
        }
        const fixture_tensor *hr = get(fx, k, "hole"), *cr = get(fx, k, "collapse");
        CHECK(hr && (double)hole.count == hr->data[1]);
        CHECK(cr && (double)collapse.count == cr->data[1]);
        if (hr) CHECK(near_rel(hole.sum, hr->data[0], 1e-5, 1e-3, "hole sum", k, -1));
        if (cr) CHECK(near_rel(collapse.sum, cr->data[0], 1e-5, 1e-3, "collapse sum", k, -1));

        /* the clip scorer averages the same per-frame values */
        ild_clip_view v = {.width = w, .height = h, .frames = frames, .pred = p->data, .gt = t->data, .pred_rgb = p8,
                           .gt_rgba = t8, .bg_rgb = bg8};
        ild_clip_scores s;
        CHECK_OK(ild_score_clip(&v, &s));
        double psnr_mean = 0, dt_mean = 0;
        for (int32_t f = 0; f < frames; f++) {
            psnr_mean += get(fx, k, "psnr")->data[f] / frames;
            dt_mean += get(fx, k, "dtssd")->data[f] / frames;
        }
        CHECK(near_rel(s.value[ILD_METRIC_PSNR], psnr_mean, 1e-4, 1, "clip PSNR", k, -1));
        CHECK(near_rel(s.value[ILD_METRIC_DTSSD], dt_mean, 1e-5, 1e-3, "clip dtSSD", k, -1));
        CHECK(s.has[ILD_METRIC_HOLE] == (hr && hr->data[1] >= ILD_POOL_MIN_PIXELS));
        if (s.has[ILD_METRIC_HOLE]) CHECK_NEAR(s.value[ILD_METRIC_HOLE], hr->data[0] / hr->data[1], 1e-5);
        CHECK(s.has[ILD_METRIC_FGR_MAD] && s.has[ILD_METRIC_COLLAPSE] == (cr && cr->data[1] >= ILD_POOL_MIN_PIXELS));
        free(p8);
        free(t8);
        free(bg8);
    }
    fixture_free(fx);
}

static void test_perfect_prediction(void)
{
    enum { W = 20, H = 11 };
    float a[W * H];
    for (int i = 0; i < W * H; i++) a[i] = (float)((i * 37) % 256) / 255.0f;
    double ssim, grad, conn;
    CHECK_NEAR(ild_metric_psnr(a, a, W * H), 60.0, 1e-12);
    CHECK_OK(ild_metric_ssim(a, a, W, H, &ssim));
    CHECK_NEAR(ssim, 1.0, 1e-12);
    CHECK_OK(ild_metric_grad(a, a, W, H, &grad));
    CHECK_OK(ild_metric_conn(a, a, W, H, &conn));
    CHECK(grad == 0 && conn == 0 && ild_metric_mad(a, a, W * H) == 0);
    CHECK(ild_metric_ssim(a, a, 6, 30, &ssim) == ILDIFF_ERR_ARG);
}

/* A ring of radius 4..9 (alpha 1) centred in a 24x24 frame: its centre is an enclosed hole. */
static void ring(float *a, int w, int h)
{
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            double d = hypot(x - w / 2.0 + 0.5, y - h / 2.0 + 0.5);
            a[y * w + x] = d >= 4 && d <= 9 ? 1.0f : 0.0f;
        }
}

static void test_hole_residue(void)
{
    enum { W = 24, H = 24, N = W * H, T = 2 };
    float gt[T * N], filled[T * N];
    for (int f = 0; f < T; f++) ring(gt + f * N, W, H);
    uint8_t mask[N];
    int32_t stack[N];
    int64_t holes = ild_hole_mask(gt, W, H, mask, stack);
    CHECK(holes >= 40 && holes <= 60); /* about pi 4^2 */
    CHECK(mask[12 * W + 12] == 1 && mask[0] == 0 && mask[12 * W + 3] == 0);
    for (int i = 0; i < T * N; i++) filled[i] = gt[i];
    for (int f = 0; f < T; f++)
        for (int i = 0; i < N; i++)
            if (mask[i]) filled[f * N + i] = 1.0f; /* what a flood fill from the border does */
    ild_clip_view v = {.width = W, .height = H, .frames = T, .pred = filled, .gt = gt};
    ild_clip_scores s;
    CHECK_OK(ild_score_clip(&v, &s));
    CHECK(s.has[ILD_METRIC_HOLE]);
    CHECK_NEAR(s.value[ILD_METRIC_HOLE], 1.0, 1e-12);
    CHECK(!s.has[ILD_METRIC_COLLAPSE] && !s.has[ILD_METRIC_FGR_MAD]);
    v.pred = gt;
    CHECK_OK(ild_score_clip(&v, &s));
    CHECK(s.has[ILD_METRIC_HOLE]);
    CHECK_NEAR(s.value[ILD_METRIC_HOLE], 0.0, 1e-12);

    /* an open ring (cut to the border) has no enclosed hole */
    float open[N];
    ring(open, W, H);
    for (int y = 0; y < H / 2; y++) open[y * W + 12] = open[y * W + 11] = 0.0f;
    CHECK(ild_hole_mask(open, W, H, mask, stack) == 0);
    v.frames = 1;
    v.gt = v.pred = open;
    CHECK_OK(ild_score_clip(&v, &s));
    CHECK(!s.has[ILD_METRIC_HOLE]);
}

/* A yellow face with two white eyes (and a white border plate) on a white background: (H, W, 3) composite,
 * (H, W) alpha, (H, W, 4) clean RGBA, (H, W, 3) background. */
static void white_eyed_face(int w, int h, uint8_t *rgb, float *alpha, uint8_t *rgba, uint8_t *bg)
{
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int i = y * w + x;
            double d = hypot(x - w / 2.0, y - h / 2.0);
            double e1 = hypot(x - w * 0.38, y - h * 0.4), e2 = hypot(x - w * 0.62, y - h * 0.4);
            bool face = d < w * 0.4, eye = face && (e1 < w * 0.08 || e2 < w * 0.08);
            uint8_t c[3] = {255, 255, 255};
            if (face && !eye) c[0] = 250, c[1] = 200, c[2] = 40;
            alpha[i] = face ? 1.0f : 0.0f;
            for (int k = 0; k < 3; k++) {
                rgb[i * 3 + k] = c[k];
                rgba[i * 4 + k] = c[k];
                bg[i * 3 + k] = 255;
            }
            rgba[i * 4 + 3] = face ? 255 : 0;
        }
}

static void test_collapse_on_white_eyes(void)
{
    enum { W = 48, H = 48, N = W * H };
    uint8_t rgb[N * 3], rgba[N * 4], bg[N * 3], colour[N * 3];
    float gt[N], key[N], flood[N];
    white_eyed_face(W, H, rgb, gt, rgba, bg);
    ild_baseline_params prm = ild_baseline_params_default();
    CHECK_OK(ild_baseline_run(ILD_BASELINE_KEY, &prm, rgb, W, H, 1, key, colour));
    CHECK_OK(ild_baseline_run(ILD_BASELINE_FLOOD, &prm, rgb, W, H, 1, flood, NULL));
    ild_clip_view v = {.width = W, .height = H, .frames = 1, .pred = key, .gt = gt, .pred_rgb = colour,
                       .gt_rgba = rgba, .bg_rgb = bg};
    ild_clip_scores s;
    CHECK_OK(ild_score_clip(&v, &s));
    CHECK(s.has[ILD_METRIC_COLLAPSE]);
    CHECK_MSG(s.value[ILD_METRIC_COLLAPSE] > 0.95, "keying collapse %g", s.value[ILD_METRIC_COLLAPSE]);
    v.pred = flood; /* the fill stops at the yellow outline: the eyes stay */
    CHECK_OK(ild_score_clip(&v, &s));
    CHECK_MSG(s.value[ILD_METRIC_COLLAPSE] < 0.2, "flood collapse %g", s.value[ILD_METRIC_COLLAPSE]);
    v.pred = gt;
    CHECK_OK(ild_score_clip(&v, &s));
    CHECK_NEAR(s.value[ILD_METRIC_COLLAPSE], 0.0, 1e-12);
}

static void test_baselines_on_synthetic_frames(void)
{
    enum { W = 32, H = 32, N = W * H };
    /* a red ring on light grey: keying clears the hole, flood fill fills it */
    uint8_t rgb[N * 3];
    float gt[N], key[N], flood[N];
    ring(gt, W, H);
    for (int i = 0; i < N; i++) {
        rgb[i * 3] = gt[i] > 0 ? 220 : 230;
        rgb[i * 3 + 1] = gt[i] > 0 ? 20 : 230;
        rgb[i * 3 + 2] = gt[i] > 0 ? 30 : 230;
    }
    uint8_t bgc[3];
    ild_border_colour(rgb, W, H, bgc);
    CHECK(bgc[0] == 230 && bgc[1] == 230 && bgc[2] == 230);
    ild_baseline_params prm = ild_baseline_params_default();
    prm.flood_feather = 0;
    CHECK_OK(ild_baseline_run(ILD_BASELINE_KEY, &prm, rgb, W, H, 1, key, NULL));
    CHECK_OK(ild_baseline_run(ILD_BASELINE_FLOOD, &prm, rgb, W, H, 1, flood, NULL));
    CHECK(ild_metric_mad(key, gt, N) == 0);
    int c = (H / 2) * W + W / 2;
    CHECK(flood[c] == 1.0f && key[c] == 0.0f && flood[0] == 0.0f);
    /* the ramp: a pixel halfway between key_lo and key_hi gets alpha 0.5 */
    float dist[2] = {(float)((prm.key_lo + prm.key_hi) / 2), (float)prm.key_hi + 1}, a[2];
    ild_key_alpha(dist, 2, &prm, a);
    CHECK_NEAR(a[0], 0.5, 1e-6);
    CHECK(a[1] == 1.0f);
    /* feathering softens the cut: values strictly between 0 and 1 appear at the edge */
    prm.flood_feather = 1;
    CHECK_OK(ild_baseline_run(ILD_BASELINE_FLOOD, &prm, rgb, W, H, 1, flood, NULL));
    int soft = 0;
    for (int i = 0; i < N; i++) soft += flood[i] > 0 && flood[i] < 1;
    CHECK(soft > 20);
    /* a soft edge over the background un-composites to the clean colour */
    uint8_t px[9 * 9 * 3], out[9 * 9 * 3];
    float al[9 * 9];
    for (int i = 0; i < 81; i++) px[i * 3] = px[i * 3 + 1] = px[i * 3 + 2] = 255;
    px[40 * 3] = 255, px[40 * 3 + 1] = 155, px[40 * 3 + 2] = 155; /* 50% of (255, 55, 55) over white */
    prm.key_lo = 0, prm.key_hi = 2 * sqrt(100 * 100 * 2); /* the pixel's distance is half of key_hi */
    CHECK_OK(ild_baseline_run(ILD_BASELINE_KEY, &prm, px, 9, 9, 1, al, out));
    CHECK_NEAR(al[40], 0.5, 1e-5);
    CHECK(out[40 * 3] == 255 && abs(out[40 * 3 + 1] - 55) <= 1 && abs(out[40 * 3 + 2] - 55) <= 1);
}

static void test_baseline_params(void)
{
    ild_baseline_params p = ild_baseline_params_default();
    CHECK_OK(ild_baseline_params_check(&p));
    CHECK_OK(ild_baseline_param_set(&p, "key_lo=5"));
    CHECK(p.key_lo == 5);
    CHECK(ild_baseline_param_set(&p, "key_lo=abc") == ILDIFF_ERR_ARG);
    CHECK(ild_baseline_param_set(&p, "flood_feather=1.5") == ILDIFF_ERR_ARG);
    CHECK(ild_baseline_param_set(&p, "nope=1") == ILDIFF_ERR_ARG);
    CHECK(ild_baseline_param_set(&p, "key_hi") == ILDIFF_ERR_ARG);
    CHECK_OK(ild_baseline_param_set(&p, "key_hi=4"));
    CHECK(ild_baseline_params_check(&p) == ILDIFF_ERR_ARG); /* lo >= hi */
    uint8_t rgb[8 * 8 * 3] = {0};
    float a[64];
    CHECK(ild_baseline_run(ILD_BASELINE_KEY, &p, rgb, 8, 8, 1, a, NULL) == ILDIFF_ERR_ARG);
}

static void test_method_table(void)
{
    const ild_method *m;
    const char *arg;
    CHECK_OK(ild_method_find("key", &m, &arg));
    CHECK(m && strcmp(m->name, "key") == 0 && arg == NULL && m->timed);
    CHECK_OK(ild_method_find("dir:/tmp/x:y", &m, &arg));
    CHECK(m && strcmp(m->name, "dir") == 0 && strcmp(arg, "/tmp/x:y") == 0 && !m->timed);
    CHECK(ild_method_find("dir", &m, &arg) == ILDIFF_ERR_ARG);
    CHECK(ild_method_find("dir:", &m, &arg) == ILDIFF_ERR_ARG);
    CHECK(ild_method_find("key:3", &m, &arg) == ILDIFF_ERR_ARG);
    CHECK(ild_method_find("keyx", &m, &arg) == ILDIFF_ERR_ARG && m == NULL);
}

int main(void)
{
    RUN(test_metrics_match_reference);
    RUN(test_perfect_prediction);
    RUN(test_hole_residue);
    RUN(test_collapse_on_white_eyes);
    RUN(test_baselines_on_synthetic_frames);
    RUN(test_baseline_params);
    RUN(test_method_table);
    return check_done();
}
