/*
 * bench_models.c: speed of the shipped-size models (src/models/, default configurations, random weights) on the
 * CPU: the forward time of each part of the matting path per 512x512 frame, the resulting estimate for a
 * 16-frame 512x512 sticker (the <= 4 s bar: DESIGN.md section 8, models/README.md), and one stage-S3 training step
 * (2 clips x 8 frames of 256x256, forward + backward of the temporal adapter and D_T). A benchmark, not a test.
 *
 *     bench_models [--threads N] [--runs R] [--size 512] [--no-train]
 *
 * Times are medians over R runs after one warm-up, in milliseconds (CLOCK_MONOTONIC).
 */
#include "models/ildiff_model.h"
#include "nn/nn.h"
#include "nn/params.h"

#include <stdio.h>
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

static double median_ms(run_fn fn, ildiff_model *m, const float *x, int runs)
{
    double t[64];
    fn(m, x);
    for (int r = 0; r < runs; r++) {
        double t0 = now_ms();
        fn(m, x);
        t[r] = now_ms() - t0;
    }
    qsort(t, (size_t)runs, sizeof *t, cmp_double);
    return t[runs / 2];
}

static void run_encoder(ildiff_model *m, const float *x) { vae_encoder_forward(&m->vae_encoder, x); }
static void run_student(ildiff_model *m, const float *x) { layout_encoder_forward(&m->student, m->xs); }
static void run_temporal(ildiff_model *m, const float *x) { temporal_adapter_forward(&m->temporal, m->f); }
static void run_decoder(ildiff_model *m, const float *x) { transparent_decoder_forward(&m->decoder, x, m->zl); }
static void run_path(ildiff_model *m, const float *x) { ildiff_model_forward(m, x); }

/* Peak resident memory of this process in MiB (VmHWM), or -1. */
static double peak_rss_mib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    double kb = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %lf kB", &kb) == 1) break;
    fclose(f);
    return kb < 0 ? -1 : kb / 1024;
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

int main(int argc, char **argv)
{
    int threads = 2, runs = 3, train = 1;
    int64_t size = 512;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--runs") && i + 1 < argc) runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--size") && i + 1 < argc) size = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--no-train")) train = 0;
        else {
            fprintf(stderr, "usage: bench_models [--threads N] [--runs R] [--size 512] [--no-train]\n");
            return 2;
        }
    }
    if (runs < 1 || runs > 64 || size < 64 || size % 32) {
        fprintf(stderr, "bench_models: runs 1..64, size a multiple of 32\n");
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
    float *w = random_floats(p.total, 0.1f, 1);
    memcpy(p.data, w, p.total * sizeof(float));
    free(w);
    printf("bench_models: default configuration, %zu parameters, %d threads, median of %d\n", nn_params_numel(&p),
           threads, runs);

    const int64_t T = 16;
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
    double te = median_ms(run_encoder, &m, clip, runs), ts = median_ms(run_student, &m, clip, runs);
    double tt = median_ms(run_temporal, &m, clip, runs), td = median_ms(run_decoder, &m, clip, runs);
    printf("per %lldx%lld frame: VAE encoder %.1f ms, student %.1f ms, D_T %.1f ms; temporal adapter %.1f ms per "
           "%lld-frame clip\n", (long long)size, (long long)size, te, ts, td, tt, (long long)T);
    printf("estimate for %lld frames: %.2f s of model time\n", (long long)T, (T * (te + ts + td) + tt) / 1e3);
    double tp = median_ms(run_path, &m, clip, runs < 2 ? runs : 2);
    printf("measured matting path, %lld frames one at a time: %.2f s; peak resident memory so far %.0f MiB\n",
           (long long)T, tp / 1e3, peak_rss_mib());
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
