/*
 * bench_models.c: speed of the shipped-size models (src/models/, default configurations, random weights, or a
 * model file's) on the CPU: the forward time of each part of the matting path per 512x512 frame, the resulting
 * estimate for a 16-frame 512x512 sticker (the <= 4 s bar: DESIGN.md section 8, models/README.md), and one
 * stage-S3 training step (2 clips x 8 frames of 256x256: forward, L1 loss on alpha against a fixed target,
 * backward of the temporal adapter and D_T; the VAE encoder and the student frozen). A benchmark, not a test.
 *
 *     bench_models [--threads N] [--runs R] [--size 512] [--frames 16] [--bf16] [--no-train] [--train-size 256]
 *                  [--model FILE] [--tsv OUT]
 *     bench_models --parity [--size 512] [--frames 2]
 *     bench_models --model FILE --dump-alpha OUT [--size 512] [--frames 16] [--threads N]
 *     bench_models --save-random FILE
 *
 * Times are medians over R runs after one warm-up, in milliseconds (CLOCK_MONOTONIC; the whole path at most 2
 * runs unless --tsv); "cpu" is the process CPU time of the same run (the honest number on a loaded machine with 1
 * thread). Peak memory is getrusage's ru_maxrss after the inference runs (before the training step), i.e. the
 * whole inference plan of --frames frames. --bf16 plans D_T's convolutions in bf16 (ildiff_model_set_bf16).
 * --parity measures instead how far the bf16 option moves the outputs: max and mean |bf16 - fp32| of alpha and
 * foreground over a sticker-like clip (a moving shaded disc with an outline on white, mild noise), for two sets of
 * random weights: PyTorch's default initialisation (ildiff_model_init) and uniform +-0.05 (the speed runs' weights).
 *
 * The comparison with PyTorch (bench/models_vs_torch.sh, bench/ref_models_torch.py) uses the rest:
 *   --model FILE       weights and configuration from an ildiff model file (matte/model_file.h) instead of the
 *                      default configuration with uniform +-0.05 weights;
 *   --tsv OUT          also writes one line per timing to OUT: "part<TAB>c<TAB>wall_ms<TAB>cpu_ms", parts
 *                      vae_encoder, student, decoder (per frame), temporal (per clip), path (the whole matting
 *                      path on --frames frames, one at a time), train_step (skipped with --no-train);
 *   --dump-alpha OUT   runs the inference plan once on the sticker-like clip of --frames frames of --size and
 *                      writes OUT, raw little-endian float32: the clip (T, 3, S, S), then the output (T, 4, S, S)
 *                      (channel 0 alpha, 1..3 straight fg); then exits;
 *   --save-random FILE writes a model file (F16, the default configuration) with PyTorch-default-init weights
 *                      whose zero-initialised layers (decoder.latent_conv_in, temporal.out) get uniform +-0.05
 *                      values, so that every part reaches the output; then exits. For tests, not for use.
 *   --train-size S     the training step's frame size (default 256; smaller for quick checks).
 */
#include "matte/model_file.h"
#include "models/ildiff_model.h"
#include "models/losses.h"
#include "nn/nn.h"
#include "nn/params.h"

#include <math.h>
#include <stdio.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* What a timed run needs: the model, its parameter table, the input and (training step only) the loss buffers. */
typedef struct bench_ctx {
    ildiff_model *m;
    nn_params *p;
    const float *x;             /* the clip */
    const float *target;        /* training: (F, S) alpha target */
    float *alpha, *dalpha, *dy; /* training: (F, S), (F, S), (F, 4, S) */
} bench_ctx;

typedef void (*run_fn)(bench_ctx *c);

static double cpu_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* Median wall time of `runs` runs after a warm-up; *cpu (if given) gets the median process CPU time. */
static double median_ms(run_fn fn, bench_ctx *ctx, int runs, double *cpu)
{
    double t[64], c[64];
    fn(ctx);
    for (int r = 0; r < runs; r++) {
        double t0 = now_ms(), c0 = cpu_ms();
        fn(ctx);
        t[r] = now_ms() - t0;
        c[r] = cpu_ms() - c0;
    }
    qsort(t, (size_t)runs, sizeof *t, cmp_double);
    qsort(c, (size_t)runs, sizeof *c, cmp_double);
    if (cpu) *cpu = c[runs / 2];
    return t[runs / 2];
}

static void run_encoder(bench_ctx *c) { vae_encoder_forward(&c->m->vae_encoder, c->x); }
static void run_student(bench_ctx *c) { layout_encoder_forward(&c->m->student, c->m->xs); }
static void run_temporal(bench_ctx *c) { temporal_adapter_forward(&c->m->temporal, c->m->f); }
static void run_decoder(bench_ctx *c) { transparent_decoder_forward(&c->m->decoder, c->x, c->m->zl); }
static void run_path(bench_ctx *c) { ildiff_model_forward(c->m, c->x); }

/* One S3 step: forward, L_alpha = mean |alpha - target| (alpha = channel 0 of y), zero the gradients, backward
 * through D_T and the temporal adapter (encoders frozen). As ref_models_torch.py's train_step. */
static void run_train_step(bench_ctx *c)
{
    ildiff_model *m = c->m;
    int64_t F = m->N * m->T, S = m->H * m->W;
    ildiff_model_forward(m, c->x);
    for (int64_t f = 0; f < F; f++) memcpy(c->alpha + f * S, m->y + f * 4 * S, (size_t)S * sizeof(float));
    ild_alpha_loss(c->alpha, c->target, F * S);
    memset(c->dalpha, 0, (size_t)(F * S) * sizeof(float));
    ild_alpha_loss_backward(c->dalpha, 1.0f, c->alpha, c->target, F * S);
    memset(c->dy, 0, (size_t)(F * 4 * S) * sizeof(float));
    for (int64_t f = 0; f < F; f++) memcpy(c->dy + f * 4 * S, c->dalpha + f * S, (size_t)S * sizeof(float));
    nn_params_zero_grad(c->p);
    ildiff_model_backward(m, c->dy, c->x, false);
}

/* Peak resident memory of this process in MiB (getrusage ru_maxrss), or -1. */
static double peak_rss_mib(void)
{
    struct rusage u;
    return getrusage(RUSAGE_SELF, &u) ? -1 : (double)u.ru_maxrss / 1024;
}

static float *random_floats(size_t n, float scale, uint64_t seed)
{
    float *p = malloc(n * sizeof(float));
    if (!p) {
        fprintf(stderr, "bench_models: out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < n; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        p[i] = scale * ((float)(seed >> 40) / (float)(1 << 24) - 0.5f);
    }
    return p;
}

/* A sticker-like clip (T, 3, S, S): white, a disc whose centre moves with t, shaded by position, a dark outline,
 * +-0.02 noise, clamped to [0, 1]. */
static float *sticker_clip(int64_t T, int64_t S)
{
    float *x = random_floats((size_t)(T * 3 * S * S), 0.04f, 5);
    for (int64_t t = 0; t < T; t++)
        for (int64_t i = 0; i < S; i++)
            for (int64_t j = 0; j < S; j++) {
                float cy = 0.5f * (float)S, cx = (0.4f + 0.02f * (float)t) * (float)S, r = 0.3f * (float)S;
                float d = sqrtf((i - cy) * (i - cy) + (j - cx) * (j - cx));
                float rgb[3] = {1, 1, 1};
                if (d < r - 3) {
                    rgb[0] = 0.9f * (float)i / (float)S, rgb[1] = 0.3f + 0.5f * (float)j / (float)S, rgb[2] = 0.6f;
                } else if (d < r) {
                    rgb[0] = rgb[1] = rgb[2] = 0.1f;
                }
                for (int c = 0; c < 3; c++) {
                    float *v = &x[((t * 3 + c) * S + i) * S + j];
                    *v = fminf(1, fmaxf(0, *v + rgb[c]));
                }
            }
    return x;
}

/* max and mean |a - b| over channel c0..c0+nc-1 of (F, 4, S) maps. */
static void diff_stats(const float *a, const float *b, int64_t F, int64_t S, int c0, int nc, double *mx, double *mean)
{
    double sum = 0;
    *mx = 0;
    for (int64_t f = 0; f < F; f++)
        for (int c = c0; c < c0 + nc; c++)
            for (int64_t k = 0; k < S; k++) {
                double d = fabs((double)a[(f * 4 + c) * S + k] - (double)b[(f * 4 + c) * S + k]);
                sum += d;
                if (d > *mx) *mx = d;
            }
    *mean = sum / (double)(F * nc * S);
}

/* The bf16 option against float32 on the sticker-like clip; returns 0, or 1 when a plan fails. */
static int bf16_parity(ildiff_model *m, nn_params *p, int64_t size, int64_t T)
{
    float *clip = sticker_clip(T, size), *y32 = malloc(sizeof(float) * (size_t)(T * 4 * size * size));
    for (int w = 0; w < 2; w++) {
        if (w == 0) {
            ildiff_model_init(m, p, 7);
        } else {
            float *r = random_floats(p->total, 0.1f, 1);
            memcpy(p->data, r, p->total * sizeof(float));
            free(r);
        }
        for (int bf = 0; bf < 2; bf++) {
            ildiff_model_set_bf16(m, bf);
            if (ildiff_model_plan(m, 1, T, size, size, 1, false) != ILDIFF_OK) {
                fprintf(stderr, "bench_models: %s\n", ildiff_last_error());
                free(clip), free(y32);
                return 1;
            }
            ildiff_model_forward(m, clip);
            if (!bf) memcpy(y32, m->y, sizeof(float) * (size_t)(T * 4 * size * size));
        }
        double am, aa, fm, fa, lo = 1, hi = 0;
        for (int64_t k = 0; k < T * size * size; k++) {
            float v = y32[(k / (size * size)) * 4 * size * size + k % (size * size)];
            lo = fmin(lo, v), hi = fmax(hi, v);
        }
        diff_stats(m->y, y32, T, size * size, 0, 1, &am, &aa);
        diff_stats(m->y, y32, T, size * size, 1, 3, &fm, &fa);
        printf("bf16 vs fp32, %s weights, %lld frames %lldx%lld (fp32 alpha in [%.3f, %.3f]): alpha max %.2e mean "
               "%.2e; fg max %.2e mean %.2e\n", w ? "uniform +-0.05" : "default-init", (long long)T, (long long)size,
               (long long)size, lo, hi, am, aa, fm, fa);
    }
    ildiff_model_set_bf16(m, false);
    free(clip), free(y32);
    return 0;
}

/* Overwrites n floats at dst with uniform +-scale/2 values. */
static void fill_random(float *dst, size_t n, float scale, uint64_t seed)
{
    float *r = random_floats(n, scale, seed);
    memcpy(dst, r, n * sizeof(float));
    free(r);
}

/* --save-random: the default configuration, default-init weights, the zero-initialised layers made non-zero. */
static int save_random(const char *path)
{
    nn_params p;
    nn_params_init(&p);
    ildiff_model m;
    ildiff_model_config cfg = ildiff_model_config_default();
    ildiff_status st = ildiff_model_build(&m, &cfg, &p);
    if (st == ILDIFF_OK) st = nn_params_alloc(&p);
    if (st == ILDIFF_OK) {
        ildiff_model_init(&m, &p, 7);
        mdl_conv *zeroed[2] = {&m.decoder.latent_conv_in, &m.temporal.out};
        for (int i = 0; i < 2; i++) {
            mdl_conv *c = zeroed[i];
            fill_random(c->w, (size_t)(c->OC * c->C * c->K * c->K * (c->is3d ? c->K : 1)), 0.1f, 11 + (uint64_t)i);
            if (c->b) fill_random(c->b, (size_t)c->OC, 0.1f, 13 + (uint64_t)i);
        }
        st = ild_model_file_save(path, &cfg, &p, NN_DTYPE_F16, true);
    }
    if (st != ILDIFF_OK) fprintf(stderr, "bench_models: %s: %s\n", path, ildiff_last_error());
    else printf("bench_models: wrote %s (default configuration, %zu parameters, F16, random weights)\n", path,
                nn_params_numel(&p));
    ildiff_model_free(&m);
    nn_params_free(&p);
    return st != ILDIFF_OK;
}

/* --dump-alpha: the inference plan on the sticker-like clip; writes the clip and the output (layout above). */
static int dump_alpha(ildiff_model *m, const char *path, int64_t size, int64_t T)
{
    if (ildiff_model_plan(m, 1, T, size, size, 1, false) != ILDIFF_OK) {
        fprintf(stderr, "bench_models: %s\n", ildiff_last_error());
        return 1;
    }
    float *clip = sticker_clip(T, size);
    ildiff_model_forward(m, clip);
    size_t nx = (size_t)(T * 3 * size * size), ny = (size_t)(T * 4 * size * size);
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(clip, sizeof(float), nx, f) == nx && fwrite(m->y, sizeof(float), ny, f) == ny;
    if (f && fclose(f)) ok = 0;
    free(clip);
    if (!ok) {
        fprintf(stderr, "bench_models: %s: cannot write\n", path);
        remove(path);
        return 1;
    }
    return 0;
}

static void tsv_row(FILE *tsv, const char *part, double wall, double cpu)
{
    if (tsv) fprintf(tsv, "%s\tc\t%.3f\t%.3f\n", part, wall, cpu);
}

int main(int argc, char **argv)
{
    int threads = 2, runs = 3, train = 1, bf16 = 0, parity = 0;
    int64_t size = 512, T = 16, train_size = 256;
    const char *model_path = NULL, *tsv_path = NULL, *dump_path = NULL, *save_path = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--runs") && i + 1 < argc) runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--size") && i + 1 < argc) size = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--frames") && i + 1 < argc) T = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--train-size") && i + 1 < argc) train_size = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--model") && i + 1 < argc) model_path = argv[++i];
        else if (!strcmp(argv[i], "--tsv") && i + 1 < argc) tsv_path = argv[++i];
        else if (!strcmp(argv[i], "--dump-alpha") && i + 1 < argc) dump_path = argv[++i];
        else if (!strcmp(argv[i], "--save-random") && i + 1 < argc) save_path = argv[++i];
        else if (!strcmp(argv[i], "--bf16")) bf16 = 1;
        else if (!strcmp(argv[i], "--parity")) parity = 1;
        else if (!strcmp(argv[i], "--no-train")) train = 0;
        else {
            fprintf(stderr, "usage: bench_models [--threads N] [--runs R] [--size 512] [--frames 16] [--bf16] "
                            "[--no-train] [--train-size 256] [--model FILE] [--tsv OUT]\n"
                            "       bench_models --parity [--size S] [--frames F]\n"
                            "       bench_models --model FILE --dump-alpha OUT [--size S] [--frames F]\n"
                            "       bench_models --save-random FILE\n");
            return 2;
        }
    }
    if (save_path) return save_random(save_path);
    if (runs < 1 || runs > 64 || size < 64 || size % 32 || T < 1 || T > 1024 || train_size < 64 || train_size % 32 ||
        threads < 1) {
        fprintf(stderr, "bench_models: runs 1..64, size and train size multiples of 32 from 64, frames 1..1024, "
                        "threads >= 1\n");
        return 2;
    }
    if ((dump_path && !model_path) || (parity && model_path)) {
        fprintf(stderr, "bench_models: --dump-alpha needs --model; --parity uses random weights, not --model\n");
        return 2;
    }
    nn_threads_set(threads);
    nn_params p;
    nn_params_init(&p);
    ildiff_model m;
    if (model_path) {
        if (ild_model_file_load(model_path, (int64_t)1 << 34, &m, &p) != ILDIFF_OK) {
            fprintf(stderr, "bench_models: %s: %s\n", model_path, ildiff_last_error());
            return 1;
        }
        int64_t mult = (int64_t)1 << (m.cfg.decoder.levels - 1);
        if (size % mult || train_size % mult) {
            fprintf(stderr, "bench_models: %s: sizes must be multiples of %lld for this model\n", model_path,
                    (long long)mult);
            ildiff_model_free(&m);
            nn_params_free(&p);
            return 2;
        }
    } else {
        ildiff_model_config cfg = ildiff_model_config_default();
        if (ildiff_model_build(&m, &cfg, &p) != ILDIFF_OK || nn_params_alloc(&p) != ILDIFF_OK) {
            fprintf(stderr, "bench_models: %s\n", ildiff_last_error());
            return 1;
        }
    }
    if (parity || dump_path) {
        int rc = parity ? bf16_parity(&m, &p, size, T) : dump_alpha(&m, dump_path, size, T);
        ildiff_model_free(&m);
        nn_params_free(&p);
        return rc;
    }
    FILE *tsv = NULL;
    if (tsv_path && !(tsv = fopen(tsv_path, "w"))) {
        fprintf(stderr, "bench_models: %s: cannot write\n", tsv_path);
        ildiff_model_free(&m);
        nn_params_free(&p);
        return 1;
    }
    if (!model_path) fill_random(p.data, p.total, 0.1f, 1);
    printf("bench_models: %s%s, %zu parameters, %d threads, median of %d\n",
           model_path ? model_path : "default configuration", bf16 ? " (D_T convs in bf16)" : "",
           nn_params_numel(&p), threads, runs);
    ildiff_model_set_bf16(&m, bf16);
    float *clip = random_floats((size_t)(T * 3 * size * size), 1.0f, 2);
    for (size_t i = 0; i < (size_t)(T * 3 * size * size); i++) clip[i] += 0.5f;
    if (ildiff_model_plan(&m, 1, T, size, size, 1, false) != ILDIFF_OK) {
        fprintf(stderr, "bench_models: %s\n", ildiff_last_error());
        return 1;
    }
    bench_ctx ctx = {.m = &m, .p = &p, .x = clip};
    ildiff_model_forward(&m, clip); /* fills xs, f, zl for the per-part runs */
    size_t acts = m.arena.floats + m.vae_encoder.arena.floats + m.vae_encoder.arena.temp_floats +
                  m.student.arena.floats + m.temporal.arena.floats + m.decoder.arena.floats + m.decoder.arena.temp_floats;
    printf("inference plan, %lld frames one at a time: %.0f MiB of activations (D_T %.0f MiB)\n", (long long)T,
           (double)acts * sizeof(float) / 1048576.0, (double)(m.decoder.arena.floats + m.decoder.arena.temp_floats) * sizeof(float) / 1048576.0);
    double ce, cs, ct, cd;
    double te = median_ms(run_encoder, &ctx, runs, &ce), ts = median_ms(run_student, &ctx, runs, &cs);
    double tt = median_ms(run_temporal, &ctx, runs, &ct), td = median_ms(run_decoder, &ctx, runs, &cd);
    printf("per %lldx%lld frame, wall (cpu) ms: VAE encoder %.1f (%.1f), student %.1f (%.1f), D_T %.1f (%.1f); "
           "temporal adapter %.1f (%.1f) per %lld-frame clip\n", (long long)size, (long long)size, te, ce, ts, cs, td,
           cd, tt, ct, (long long)T);
    printf("estimate for %lld frames: %.2f s of model time (cpu %.2f s)\n", (long long)T,
           (T * (te + ts + td) + tt) / 1e3, (T * (ce + cs + cd) + ct) / 1e3);
    /* the whole path: 2 runs at most in the plain report (it is the slow one); every run for the comparison */
    double cp, tp = median_ms(run_path, &ctx, tsv || runs < 2 ? runs : 2, &cp);
    printf("measured matting path, %lld frames one at a time: %.2f s wall, %.2f s cpu per run; peak resident "
           "memory (ru_maxrss) %.0f MiB\n", (long long)T, tp / 1e3, cp / 1e3, peak_rss_mib());
    tsv_row(tsv, "vae_encoder", te, ce), tsv_row(tsv, "student", ts, cs), tsv_row(tsv, "decoder", td, cd);
    tsv_row(tsv, "temporal", tt, ct), tsv_row(tsv, "path", tp, cp);
    free(clip);

    int rc = 0;
    if (train) {
        const int64_t N = 2, TT = 8, S = train_size, F = N * TT;
        size_t nx = (size_t)(F * 3 * S * S), na = (size_t)(F * S * S);
        float *x = random_floats(nx, 1.0f, 3), *target = random_floats(na, 1.0f, 4);
        for (size_t i = 0; i < nx; i++) x[i] += 0.5f;                 /* rgb in [0, 1] */
        for (size_t i = 0; i < na; i++) target[i] = target[i] > 0;    /* a 0/1 matte */
        ctx = (bench_ctx){.m = &m, .p = &p, .x = x, .target = target, .alpha = malloc(na * sizeof(float)),
                          .dalpha = malloc(na * sizeof(float)), .dy = malloc(4 * na * sizeof(float))};
        if (!ctx.alpha || !ctx.dalpha || !ctx.dy) {
            fprintf(stderr, "bench_models: out of memory\n");
            rc = 1;
        } else if (ildiff_model_plan(&m, N, TT, S, S, F, true) != ILDIFF_OK) {
            fprintf(stderr, "bench_models: %s\n", ildiff_last_error());
            rc = 1;
        } else {
            double cst, tst = median_ms(run_train_step, &ctx, runs, &cst);
            printf("S3 training step (2 clips x 8 frames, %lldx%lld, L1 on alpha, forward + backward of temporal + "
                   "D_T): %.2f s (cpu %.2f s)\n", (long long)S, (long long)S, tst / 1e3, cst / 1e3);
            tsv_row(tsv, "train_step", tst, cst);
        }
        free(x), free(target), free(ctx.alpha), free(ctx.dalpha), free(ctx.dy);
    }
    if (tsv && fclose(tsv)) {
        fprintf(stderr, "bench_models: %s: cannot write\n", tsv_path);
        rc = 1;
    }
    ildiff_model_free(&m);
    nn_params_free(&p);
    return rc;
}
