/*
 * bench_models.c: speed of the shipped-size models (src/models/, default configurations, random weights) on the
 * CPU: the forward time of each part of the matting path per 512x512 frame, the resulting estimate for a
 * 16-frame 512x512 sticker (the <= 4 s bar: DESIGN.md section 8, models/README.md), and one stage-S3 training step
 * (2 clips x 8 frames of 256x256, forward + backward of the temporal adapter and D_T). A benchmark, not a test.
 *
 *     bench_models [--threads N] [--runs R] [--size 512] [--frames 16] [--bf16] [--no-train]
 *     bench_models --parity [--size 512] [--frames 2]
 *
 *
 * Times are medians over R runs after one warm-up, in milliseconds (CLOCK_MONOTONIC); "cpu" is the process CPU
 * time of the same run (the honest number on a loaded machine with 1 thread). Peak memory is getrusage's
 * ru_maxrss after the inference runs (before the training step), i.e. the whole inference plan of --frames
 * frames. --bf16 plans D_T's convolutions in bf16 (ildiff_model_set_bf16). --parity measures instead how far the
 * bf16 option moves the outputs: max and mean |bf16 - fp32| of alpha and foreground over a sticker-like clip
 * (a moving shaded disc with an outline on white, mild noise), for two sets of random weights: PyTorch's default
 * initialisation (ildiff_model_init) and uniform +-0.05 (the speed runs' weights).
 */
#include "models/ildiff_model.h"
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

typedef void (*run_fn)(ildiff_model *m, const float *x);


static double cpu_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* Median wall time of `runs` runs after a warm-up; *cpu (if given) gets the median process CPU time. */
static double median_ms(run_fn fn, ildiff_model *m, const float *x, int runs, double *cpu)
{
    double t[64], c[64];
    fn(m, x);
    for (int r = 0; r < runs; r++) {
        double t0 = now_ms(), c0 = cpu_ms();
        fn(m, x);
        t[r] = now_ms() - t0;
        c[r] = cpu_ms() - c0;
    }
    qsort(t, (size_t)runs, sizeof *t, cmp_double);
    qsort(c, (size_t)runs, sizeof *c, cmp_double);
    if (cpu) *cpu = c[runs / 2];
    return t[runs / 2];
}

static void run_encoder(ildiff_model *m, const float *x) { vae_encoder_forward(&m->vae_encoder, x); }
static void run_student(ildiff_model *m, const float *x) { layout_encoder_forward(&m->student, m->xs); }
static void run_temporal(ildiff_model *m, const float *x) { temporal_adapter_forward(&m->temporal, m->f); }
static void run_decoder(ildiff_model *m, const float *x) { transparent_decoder_forward(&m->decoder, x, m->zl); }
static void run_path(ildiff_model *m, const float *x) { ildiff_model_forward(m, x); }

/* Peak resident memory of this process in MiB (getrusage ru_maxrss), or -1. */
static double peak_rss_mib(void)
{
    struct rusage u;
    return getrusage(RUSAGE_SELF, &u) ? -1 : (double)u.ru_maxrss / 1024;
}

static float *random_floats(size_t n, float scale, uint64_t seed)
{
    float *p = malloc(n * sizeof(float));
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

int main(int argc, char **argv)
{
    int threads = 2, runs = 3, train = 1, bf16 = 0, parity = 0;
    int64_t size = 512, T = 16;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--runs") && i + 1 < argc) runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--size") && i + 1 < argc) size = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--frames") && i + 1 < argc) T = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--bf16")) bf16 = 1;
        else if (!strcmp(argv[i], "--parity")) parity = 1;
        else if (!strcmp(argv[i], "--no-train")) train = 0;
        else {
            fprintf(stderr, "usage: bench_models [--threads N] [--runs R] [--size 512] [--frames 16] [--bf16] "
                            "[--no-train] | --parity [--size S] [--frames F]\n");
            return 2;
        }
    }
    if (runs < 1 || runs > 64 || size < 64 || size % 32 || T < 1 || T > 1024) {
        fprintf(stderr, "bench_models: runs 1..64, size a multiple of 32, frames 1..1024\n");
        return 2;
    }
    nn_threads_set(threads);
    nn_params p;
    nn_params_init(&p);
    ildiff_model m;
    ildiff_model_config cfg = ildiff_model_config_default();
    if (ildiff_model_build(&m, &cfg, &p) != ILDIFF_OK || nn_params_alloc(&p) != ILDIFF_OK) {
        fprintf(stderr, "bench_models: %s\n", ildiff_last_error());
        return 1;
    }
    if (parity) {
        int rc = bf16_parity(&m, &p, size, T);
        ildiff_model_free(&m);
        nn_params_free(&p);
        return rc;
    }
    float *w = random_floats(p.total, 0.1f, 1);
    memcpy(p.data, w, p.total * sizeof(float));
    free(w);
    printf("bench_models: default configuration%s, %zu parameters, %d threads, median of %d\n",
           bf16 ? " (D_T convs in bf16)" : "", nn_params_numel(&p), threads, runs);
    ildiff_model_set_bf16(&m, bf16);
    float *clip = random_floats((size_t)(T * 3 * size * size), 1.0f, 2);
    for (size_t i = 0; i < (size_t)(T * 3 * size * size); i++) clip[i] += 0.5f;
    if (ildiff_model_plan(&m, 1, T, size, size, 1, false) != ILDIFF_OK) {
        fprintf(stderr, "bench_models: %s\n", ildiff_last_error());
        return 1;
    }
    ildiff_model_forward(&m, clip); /* fills xs, f, zl for the per-part runs */
    size_t acts = m.arena.floats + m.vae_encoder.arena.floats + m.vae_encoder.arena.temp_floats +
                  m.student.arena.floats + m.temporal.arena.floats + m.decoder.arena.floats + m.decoder.arena.temp_floats;
    printf("inference plan, %lld frames one at a time: %.0f MiB of activations (D_T %.0f MiB)\n", (long long)T,
           (double)acts * sizeof(float) / 1048576.0, (double)(m.decoder.arena.floats + m.decoder.arena.temp_floats) * sizeof(float) / 1048576.0);
    double ce, cs, ct, cd;
    double te = median_ms(run_encoder, &m, clip, runs, &ce), ts = median_ms(run_student, &m, clip, runs, &cs);
    double tt = median_ms(run_temporal, &m, clip, runs, &ct), td = median_ms(run_decoder, &m, clip, runs, &cd);
    printf("per %lldx%lld frame, wall (cpu) ms: VAE encoder %.1f (%.1f), student %.1f (%.1f), D_T %.1f (%.1f); "
           "temporal adapter %.1f (%.1f) per %lld-frame clip\n", (long long)size, (long long)size, te, ce, ts, cs, td,
           cd, tt, ct, (long long)T);
    printf("estimate for %lld frames: %.2f s of model time (cpu %.2f s)\n", (long long)T,
           (T * (te + ts + td) + tt) / 1e3, (T * (ce + cs + cd) + ct) / 1e3);
    double cp, tp = median_ms(run_path, &m, clip, runs < 2 ? runs : 2, &cp);
    printf("measured matting path, %lld frames one at a time: %.2f s wall, %.2f s cpu per run; peak resident "
           "memory (ru_maxrss) %.0f MiB\n", (long long)T, tp / 1e3, cp / 1e3, peak_rss_mib());
    free(clip);

    if (train) {
        const int64_t N = 2, TT = 8, S = 256;
        float *x = random_floats((size_t)(N * TT * 3 * S * S), 1.0f, 3), *dy = random_floats((size_t)(N * TT * 4 * S * S), 1e-3f, 4);
        if (ildiff_model_plan(&m, N, TT, S, S, N * TT, true) != ILDIFF_OK) {
            fprintf(stderr, "bench_models: %s\n", ildiff_last_error());
            return 1;
        }
        double best = 0;
        for (int r = 0; r < 2; r++) {
            double t0 = now_ms();
            ildiff_model_forward(&m, x);
            nn_params_zero_grad(&p);
            ildiff_model_backward(&m, dy, x, false);
            double t1 = now_ms() - t0;
            if (r == 1 || t1 < best) best = t1;
        }
        printf("S3 training step (2 clips x 8 frames, 256x256, forward + backward of temporal + D_T): %.2f s\n",
               best / 1e3);
        free(x);
        free(dy);
    }
    ildiff_model_free(&m);
    nn_params_free(&p);
    return 0;
}
