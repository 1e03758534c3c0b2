/*
 * bench_ops.c: speed of the engine's ops (src/nn/) on the model's shapes: for each case and thread count, the
 * median time of forward and of forward+backward over --runs runs (after one warm-up), the rate (GFLOP/s for
 * convolutions, counting 2*N*OC*C*K^d*out per pass and three passes for forward+backward; GB/s of nominal
 * traffic for memory-bound ops) and the fraction of the measured FMA peak (peak.c). A benchmark, not a test.
 *
 *     bench_ops [--threads 1,2] [--runs 5] [--filter conv2d] [--clock wall|cpu] [--torch torch.tsv] [--list]
 *
 * --clock cpu times 1-thread runs by the process CPU time instead of wall time (for a shared, busy machine).
 *
 * --list prints the cases as TSV (name kind N C OC D H W K stride pad G) for bench/ref_ops_torch.py, which times
 * PyTorch on the same shapes and writes lines "name<TAB>threads<TAB>setting<TAB>fwd_ms<TAB>fwdbwd_ms" (setting
 * "default" or "best"). Given that file with --torch, each row also shows our speedups (PyTorch time / ours,
 * forward / forward+backward) over PyTorch as people run it and over its best setting (the faster of the two
 * settings, per pass), and the run ends with one line:
 *     ops: min speedup vs pytorch-best X.XX, vs pytorch-default Y.YY, min conv fraction of peak Z.ZZ
 *
 * The table of cases is `cases[]`; a new op family adds its kind to `kinds[]` (setup, forward, forward+backward,
 * work counts, teardown) and its shapes to `cases[]` (the linear/attention/ViT families do so from ops_attn.c).
 */
#include "peak.c"

#include "nn/conv.h"
#include "nn/nn.h"
#include "nn/norm.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct bench_case {
    const char *name, *kind;
    int64_t N, C, OC, D, H, W, K, stride, pad, G;
} bench_case;

#include "ops_attn.c" /* linear, attention and ViT-block cases: OPS_ATTN_CASES, OPS_ATTN_KINDS */

static const bench_case cases[] = {
    {"conv2d_3x3_c32_256", "conv2d", 1, 32, 32, 1, 256, 256, 3, 1, 1, 0},
    {"conv2d_3x3_c64_256", "conv2d", 1, 64, 64, 1, 256, 256, 3, 1, 1, 0},
    {"conv2d_3x3_c128_128", "conv2d", 1, 128, 128, 1, 128, 128, 3, 1, 1, 0},
    {"conv2d_3x3_c32_512", "conv2d", 1, 32, 32, 1, 512, 512, 3, 1, 1, 0},
    {"conv3d_3x3x3_c64_t8_32", "conv3d", 1, 64, 64, 8, 32, 32, 3, 1, 1, 0},
    {"conv3d_3x3x3_c64_t16_32", "conv3d", 1, 64, 64, 16, 32, 32, 3, 1, 1, 0},
    {"conv2d_3x3_c64_256_bf16", "conv2d_bf16", 1, 64, 64, 1, 256, 256, 3, 1, 1, 0},
    {"conv2d_3x3_c128_128_bf16", "conv2d_bf16", 1, 128, 128, 1, 128, 128, 3, 1, 1, 0},
    {"conv3d_3x3x3_c64_t16_32_bf16", "conv3d_bf16", 1, 64, 64, 16, 32, 32, 3, 1, 1, 0},
    {"groupnorm_g32_c128_128", "groupnorm", 1, 128, 128, 1, 128, 128, 0, 0, 0, 32},
    {"groupnorm_g32_c64_t16_32", "groupnorm", 1, 64, 64, 16, 32, 32, 0, 0, 0, 32},
    OPS_ATTN_CASES,
};
#define NCASES (sizeof cases / sizeof *cases)

/* ---- conv2d / conv3d ---- */

typedef struct conv_state {
    nn_conv_shape s;
    bool is3d;
    nn_conv2d_plan *plan;
    float *x, *w, *b, *y, *dy, *dx, *dw, *db;
} conv_state;

static float *bench_buf(size_t n, float v)
{
    float *p = aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64);
    if (!p) return NULL;
    for (size_t i = 0; i < n; i++) p[i] = v * (float)((i * 2654435761u) % 1000) / 1000.0f;
    return p;
}

static nn_conv_shape conv_shape(const bench_case *c)
{
    return (nn_conv_shape){.N = c->N, .C = c->C, .OC = c->OC, .D = c->D, .H = c->H, .W = c->W, .K = c->K,
                           .stride = c->stride, .pad = c->pad, .bias = true, .bf16 = strstr(c->kind, "bf16") != NULL};
}

static void conv_teardown(void *vs)
{
    conv_state *st = vs;
    if (!st) return;
    nn_conv2d_plan_free(st->plan);
    float *bufs[8] = {st->x, st->w, st->b, st->y, st->dy, st->dx, st->dw, st->db};
    for (int i = 0; i < 8; i++) free(bufs[i]);
    free(st);
}

static void *conv_setup(const bench_case *c)
{
    conv_state *st = calloc(1, sizeof *st);
    st->s = conv_shape(c);
    st->is3d = strncmp(c->kind, "conv3d", 6) == 0;
    int64_t od = st->is3d ? nn_conv_out_size(c->D, c->K, c->stride, c->pad) : 1;
    size_t nx = (size_t)(c->N * c->C * c->D * c->H * c->W);
    size_t ny = (size_t)(c->N * c->OC * od * nn_conv_out_size(c->H, c->K, c->stride, c->pad) *
                         nn_conv_out_size(c->W, c->K, c->stride, c->pad));
    size_t nw = (size_t)(c->OC * c->C * c->K * c->K * (st->is3d ? c->K : 1));
    st->x = bench_buf(nx, 1), st->w = bench_buf(nw, 0.01f), st->b = bench_buf((size_t)c->OC, 0.1f);
    st->y = bench_buf(ny, 0), st->dy = bench_buf(ny, 1), st->dx = bench_buf(nx, 0);
    st->dw = bench_buf(nw, 0), st->db = bench_buf((size_t)c->OC, 0);
    ildiff_status rc = st->is3d ? nn_conv3d_plan_new(&st->plan, &st->s) : nn_conv2d_plan_new(&st->plan, &st->s);
    if (rc != ILDIFF_OK || !st->x || !st->w || !st->b || !st->y || !st->dy || !st->dx || !st->dw || !st->db) {
        fprintf(stderr, "%s: setup failed: %s\n", c->name, ildiff_last_error());
        conv_teardown(st);
        return NULL;
    }
    return st;
}

static void conv_fwd(void *vs)
{
    conv_state *st = vs;
    (st->is3d ? nn_conv3d_forward : nn_conv2d_forward)(st->plan, st->y, st->x, st->w, st->b);
}

static void conv_fwdbwd(void *vs)
{
    conv_state *st = vs;
    conv_fwd(vs);
    (st->is3d ? nn_conv3d_backward : nn_conv2d_backward)(st->plan, st->dx, st->dw, st->db, st->dy, st->x, st->w);
}

static double conv_work(const bench_case *c, bool fwdbwd)
{
    nn_conv_shape s = conv_shape(c);
    return nn_conv_flops(&s, strncmp(c->kind, "conv3d", 6) == 0) * (fwdbwd ? 3 : 1);
}

/* ---- groupnorm ---- */

typedef struct gn_state {
    const bench_case *c;
    float *x, *w, *b, *y, *mean, *rstd, *dy, *dx, *dw, *db;
} gn_state;

static void gn_teardown(void *vs)
{
    gn_state *st = vs;
    if (!st) return;
    float *bufs[10] = {st->x, st->w, st->b, st->y, st->mean, st->rstd, st->dy, st->dx, st->dw, st->db};
    for (int i = 0; i < 10; i++) free(bufs[i]);
    free(st);
}

static void *gn_setup(const bench_case *c)
{
    gn_state *st = calloc(1, sizeof *st);
    size_t n = (size_t)(c->N * c->C * c->D * c->H * c->W), nc = (size_t)c->C, ns = (size_t)(c->N * c->G);
    st->c = c;
    st->x = bench_buf(n, 1), st->w = bench_buf(nc, 1), st->b = bench_buf(nc, 1), st->y = bench_buf(n, 0);
    st->mean = bench_buf(ns, 0), st->rstd = bench_buf(ns, 0), st->dy = bench_buf(n, 1), st->dx = bench_buf(n, 0);
    st->dw = bench_buf(nc, 0), st->db = bench_buf(nc, 0);
    if (!st->x || !st->w || !st->b || !st->y || !st->mean || !st->rstd || !st->dy || !st->dx || !st->dw || !st->db) {
        gn_teardown(st);
        return NULL;
    }
    return st;
}

static void gn_fwd(void *vs)
{
    gn_state *st = vs;
    const bench_case *c = st->c;
    nn_groupnorm_forward(st->y, st->mean, st->rstd, st->x, st->w, st->b, c->N, c->C, c->D * c->H * c->W, c->G,
                         1e-5f);
}

static void gn_fwdbwd(void *vs)
{
    gn_state *st = vs;
    const bench_case *c = st->c;
    gn_fwd(vs);
    nn_groupnorm_backward(st->dx, st->dw, st->db, st->dy, st->x, st->w, st->mean, st->rstd, c->N, c->C,
                          c->D * c->H * c->W, c->G);
}

/* nominal traffic: forward reads x, writes y; backward reads x, dout, dinp and writes dinp */
static double gn_work(const bench_case *c, bool fwdbwd)
{
    return (double)(c->N * c->C * c->D * c->H * c->W) * sizeof(float) * (fwdbwd ? 6 : 2);
}

/* ---- the table of kinds ---- */

typedef struct bench_kind {
    const char *kind, *unit;
    bool compute_bound; /* reported against the FMA peak */
    void *(*setup)(const bench_case *c);
    void (*fwd)(void *st);
    void (*fwdbwd)(void *st);
    double (*work)(const bench_case *c, bool fwdbwd);
    void (*teardown)(void *st);
} bench_kind;

static const bench_kind kinds[] = {
    {"conv2d", "GFLOP/s", true, conv_setup, conv_fwd, conv_fwdbwd, conv_work, conv_teardown},
    {"conv3d", "GFLOP/s", true, conv_setup, conv_fwd, conv_fwdbwd, conv_work, conv_teardown},
    {"conv2d_bf16", "GFLOP/s", true, conv_setup, conv_fwd, conv_fwdbwd, conv_work, conv_teardown},
    {"conv3d_bf16", "GFLOP/s", true, conv_setup, conv_fwd, conv_fwdbwd, conv_work, conv_teardown},
    {"groupnorm", "GB/s", false, gn_setup, gn_fwd, gn_fwdbwd, gn_work, gn_teardown},
    OPS_ATTN_KINDS,
};

static const bench_kind *kind_of(const bench_case *c)
{
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
        if (strcmp(kinds[i].kind, c->kind) == 0) return &kinds[i];
    return NULL;
}

/* ---- timing and report ---- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The clock runs are timed with: wall (CLOCK_MONOTONIC), or with --clock cpu the process's CPU time
 * (CLOCK_PROCESS_CPUTIME_ID), which leaves out the time other processes take from a 1-thread run on a shared
 * machine (only meaningful with 1 thread: with more, waiting OpenMP workers spin and count). */
static bool use_cpu_clock;

static double bench_clock(void)
{
    if (!use_cpu_clock) return peak_now();
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Median seconds of `runs` calls of fn after one warm-up. */
static double median_time(void (*fn)(void *), void *st, int runs)
{
    double t[64];
    if (runs > 64) runs = 64;
    fn(st);
    for (int r = 0; r < runs; r++) {
        double t0 = bench_clock();
        fn(st);
        t[r] = bench_clock() - t0;
    }
    qsort(t, (size_t)runs, sizeof *t, cmp_double);
    return runs % 2 ? t[runs / 2] : 0.5 * (t[runs / 2 - 1] + t[runs / 2]);
}

typedef struct torch_row {
    char name[64], setting[16];
    int threads;
    double fwd_ms, fwdbwd_ms;
} torch_row;

static int load_torch(const char *path, torch_row *rows, int max)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        return -1;
    }
    int n = 0;
    char line[256];
    while (n < max && fgets(line, sizeof line, f))
        if (sscanf(line, "%63s %d %15s %lf %lf", rows[n].name, &rows[n].threads, rows[n].setting, &rows[n].fwd_ms,
                   &rows[n].fwdbwd_ms) == 5)
            n++;
    fclose(f);
    return n;
}

static const torch_row *find_torch(const torch_row *rows, int n, const char *name, int threads, const char *setting)
{
    for (int i = 0; i < n; i++)
        if (strcmp(rows[i].name, name) == 0 && rows[i].threads == threads && strcmp(rows[i].setting, setting) == 0)
            return &rows[i];
    return NULL;
}

int main(int argc, char **argv)
{
    int threads[8] = {1, 2}, nthreads = 2, runs = 5;
    const char *filter = NULL, *torch_path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--list") == 0) {
            for (size_t k = 0; k < NCASES; k++) {
                const bench_case *c = &cases[k];
                printf("%s\t%s\t%lld\t%lld\t%lld\t%lld\t%lld\t%lld\t%lld\t%lld\t%lld\t%lld\n", c->name, c->kind,
                       (long long)c->N, (long long)c->C, (long long)c->OC, (long long)c->D, (long long)c->H,
                       (long long)c->W, (long long)c->K, (long long)c->stride, (long long)c->pad, (long long)c->G);
            }
            return 0;
        } else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            nthreads = 0;
            for (char *tok = strtok(argv[++i], ","); tok && nthreads < 8; tok = strtok(NULL, ","))
                threads[nthreads++] = atoi(tok) > 0 ? atoi(tok) : 1;
        } else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
            runs = atoi(argv[++i]);
            if (runs < 1) runs = 1;
        } else if (strcmp(argv[i], "--filter") == 0 && i + 1 < argc) {
            filter = argv[++i];
        } else if (strcmp(argv[i], "--torch") == 0 && i + 1 < argc) {
            torch_path = argv[++i];
        } else if (strcmp(argv[i], "--clock") == 0 && i + 1 < argc) {
            use_cpu_clock = strcmp(argv[++i], "cpu") == 0;
        } else {
            fprintf(stderr, "usage: %s [--threads 1,2] [--runs N] [--filter S] [--clock wall|cpu] [--torch FILE] "
                            "[--list]\n", argv[0]);
            return 2;
        }
    }
    for (int ti = 0; ti < nthreads && use_cpu_clock; ti++)
        if (threads[ti] != 1) {
            fprintf(stderr, "--clock cpu needs --threads 1\n");
            return 2;
        }
    static torch_row trows[512];
    int ntorch = torch_path ? load_torch(torch_path, trows, 512) : 0;
    if (ntorch < 0) return 1;

    /* summary minima: float32 cases (the targets), and the bf16 cases against our float32 and PyTorch's bf16 */
    double min_best = 1e9, min_default = 1e9, min_frac = 1e9, min_bf16_fp32 = 1e9, min_bf16_best = 1e9;
    double fp32_fb[NCASES] = {0}; /* forward+backward seconds of each float32 case, this thread count */
    for (int ti = 0; ti < nthreads; ti++) {
        int nt = threads[ti];
        double peak = peak_gflops(nt, 3, bench_clock), peak_bf16 = peak_bf16_gflops(nt, 3, bench_clock);
        printf("threads %d: measured peak fp32 FMA %.1f GFLOP/s, bf16 dot product %.1f GFLOP/s; timed by %s\n", nt,
               peak, peak_bf16, use_cpu_clock ? "process CPU time" : "wall clock");
        printf("%-28s %3s %9s %9s %6s %9s %9s %6s %7s %16s %16s\n", "case", "thr", "fwd ms", "fwd rate", "peak",
               "f+b ms", "f+b rate", "peak", "unit", "torch def f/f+b", "torch best f/f+b");
        nn_threads_set(nt);
        for (size_t k = 0; k < NCASES; k++) {
            const bench_case *c = &cases[k];
            const bench_kind *kd = kind_of(c);
            if (!kd || (filter && !strstr(c->name, filter))) continue;
            void *st = kd->setup(c);
            if (!st) continue;
            double tf = median_time(kd->fwd, st, runs), tb = median_time(kd->fwdbwd, st, runs);
            kd->teardown(st);
            double rf = kd->work(c, false) / tf / 1e9, rb = kd->work(c, true) / tb / 1e9;
            char pf[16] = "-", pb[16] = "-", sd[32] = "-", sbest[32] = "-";
            const bool bf16 = strstr(c->kind, "bf16") != NULL;
            fp32_fb[k] = bf16 ? 0 : tb;
            for (size_t j = 0; bf16 && j < k; j++) /* its float32 twin: the same name without "_bf16" */
                if (fp32_fb[j] > 0 && strncmp(cases[j].name, c->name, strlen(cases[j].name)) == 0 &&
                    strcmp(c->name + strlen(cases[j].name), "_bf16") == 0)
                    min_bf16_fp32 = fmin(min_bf16_fp32, fp32_fb[j] / tb);
            if (kd->compute_bound) { /* bf16 cases against the bf16 peak; the summary counts float32 convs */
                const double pk = bf16 && peak_bf16 > 0 ? peak_bf16 : peak;
                snprintf(pf, sizeof pf, "%.2f", rf / pk);
                snprintf(pb, sizeof pb, "%.2f", rb / pk);
                if (strncmp(c->kind, "conv", 4) == 0 && !bf16 && rb / pk < min_frac) min_frac = rb / pk;
            }
            /* pytorch-best: the faster of its two settings, per pass (channels_last slows some ops down) */
            const torch_row *td = find_torch(trows, ntorch, c->name, nt, "default");
            const torch_row *tbst = find_torch(trows, ntorch, c->name, nt, "best");
            if (td) {
                double s1 = td->fwd_ms / (tf * 1e3), s2 = td->fwdbwd_ms / (tb * 1e3);
                snprintf(sd, sizeof sd, "%.2fx/%.2fx", s1, s2);
                if (!bf16) min_default = fmin(min_default, fmin(s1, s2));
            }
            if (tbst) {
                double f = td ? fmin(td->fwd_ms, tbst->fwd_ms) : tbst->fwd_ms;
                double fb = td ? fmin(td->fwdbwd_ms, tbst->fwdbwd_ms) : tbst->fwdbwd_ms;
                double s1 = f / (tf * 1e3), s2 = fb / (tb * 1e3);
                snprintf(sbest, sizeof sbest, "%.2fx/%.2fx", s1, s2);
                if (bf16) min_bf16_best = fmin(min_bf16_best, fmin(s1, s2));
                else min_best = fmin(min_best, fmin(s1, s2));
            }
            printf("%-28s %3d %9.2f %9.1f %6s %9.2f %9.1f %6s %7s %16s %16s\n", c->name, nt, tf * 1e3, rf, pf,
                   tb * 1e3, rb, pb, kd->unit, sd, sbest);
            fflush(stdout);
        }
    }
    char frac[16] = "-";
    if (min_frac < 1e9) snprintf(frac, sizeof frac, "%.2f", min_frac);
    if (ntorch > 0 && min_best < 1e9 && min_default < 1e9)
        printf("ops: min speedup vs pytorch-best %.2f, vs pytorch-default %.2f, min conv fraction of peak %s\n",
               min_best, min_default, frac);
    else
        printf("ops: min conv fraction of peak %s (no PyTorch timings for these cases: --torch FILE)\n", frac);
    if (min_bf16_fp32 < 1e9)
        printf("bf16: min forward+backward speedup vs our float32 %.2f, min speedup vs pytorch-best bf16 %s\n",
               min_bf16_fp32, min_bf16_best < 1e9 ? (snprintf(frac, sizeof frac, "%.2f", min_bf16_best), frac) : "-");
    return 0;
}
