/*
 * bench_dist.c: data-parallel training throughput. The toy stage's net (conv1 3x3 1->8, ReLU, conv2 3x3 8->8,
 * ReLU, conv3 1x1 8->1 on 16x16 images, MSE, clipping, AdamW) trains STEPS steps on a global batch split over
 * the job's ranks (run it under mpirun; alone it is one rank). --extra N adds a dummy parameter of N floats
 * whose gradient is exchanged with the rest, to see the all-reduce cost of a model of that size (the toy net
 * itself has ~700 parameters). Rank 0 prints one line:
 *
 *     ranks 2 threads 1 batch 32 steps 40 grad_MB 0.003 samples/s 5123.4 step_ms 6.24 idle_ms 0.3 allreduce_ms
 *     0.05 share 0.8%
 *
 * per timed step (the first step warms up and is not timed): idle_ms waiting in a barrier for the slowest rank
 * before the exchange (load imbalance, e.g. a rank descheduled on a busy machine), allreduce_ms inside
 * ild_allreduce_* (the exchange not hidden behind compute), share = allreduce_ms / step_ms.
 * Usage: bench_dist [--batch GB] [--steps N] [--extra FLOATS] [--bucket BYTES].
 */
#include "dist/allreduce.h"
#include "dist/dist.h"
#include "dist/shard.h"
#include "nn/act.h"
#include "nn/conv.h"
#include "nn/loss.h"
#include "nn/nn.h"
#include "nn/optim.h"
#include "nn/params.h"
#include "nn/rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { HW = 256, F1 = 8 }; /* 16x16 pixels */

static float *zeros(size_t n) { return calloc(n ? n : 1, sizeof(float)); }

/* Parses --NAME VALUE pairs; returns 0, or 2 on a bad argument. */
static int parse(int argc, char **argv, int64_t *gb, int *steps, int64_t *extra, size_t *bucket)
{
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc) return 2;
        long long v = atoll(argv[i + 1]);
        if (strcmp(argv[i], "--batch") == 0) *gb = v;
        else if (strcmp(argv[i], "--steps") == 0) *steps = (int)v;
        else if (strcmp(argv[i], "--extra") == 0) *extra = v;
        else if (strcmp(argv[i], "--bucket") == 0) *bucket = (size_t)v;
        else return 2;
        i++;
    }
    return *gb >= 1 && *steps >= 2 && *extra >= 0 ? 0 : 2;
}

static int run(int64_t gb, int steps, int64_t extra, size_t bucket)
{
    const int rank = ild_dist_rank(), size = ild_dist_size();
    if (gb % size) {
        fprintf(stderr, "bench_dist: batch %lld does not split over %d ranks\n", (long long)gb, size);
        return 2;
    }
    int64_t b, e;
    ild_shard_range(gb, rank, size, &b, &e);
    const int64_t n = e - b;
    nn_params p;
    nn_params_init(&p);
    float *w[3], *bb[3], *gw[3], *gbb[3], *xw = NULL, *xg = NULL;
    const int64_t shapes[3][4] = {{F1, 1, 3, 3}, {F1, F1, 3, 3}, {1, F1, 1, 1}};
    const char *names[3][2] = {{"c1.w", "c1.b"}, {"c2.w", "c2.b"}, {"c3.w", "c3.b"}};
    ildiff_status s = ILDIFF_OK;
    for (int l = 0; l < 3 && s == ILDIFF_OK; l++) {
        s = nn_params_add(&p, names[l][0], 4, shapes[l], NN_PARAM_DECAY, &w[l], &gw[l]);
        if (s == ILDIFF_OK) s = nn_params_add(&p, names[l][1], 1, shapes[l], 0, &bb[l], &gbb[l]);
    }
    if (s == ILDIFF_OK && extra) s = nn_params_add(&p, "extra", 1, (int64_t[]){extra}, 0, &xw, &xg);
    if (s == ILDIFF_OK) s = nn_params_alloc(&p);
    if (s == ILDIFF_OK) s = nn_params_alloc_adam(&p);
    nn_rng r;
    nn_rng_seed(&r, 3);
    for (int l = 0; s == ILDIFF_OK && l < 3; l++) {
        int64_t fan = shapes[l][1] * shapes[l][2] * shapes[l][3];
        nn_init_kaiming_uniform(&r, w[l], (size_t)(shapes[l][0] * fan), fan);
    }
    nn_conv_shape s1 = {.N = n, .C = 1, .OC = F1, .D = 1, .H = 16, .W = 16, .K = 3, .stride = 1, .pad = 1,
                        .bias = true};
    nn_conv_shape s2 = s1, s3 = s1;
    s2.C = F1;
    s3.C = F1, s3.OC = 1, s3.K = 1, s3.pad = 0;
    nn_conv2d_plan *c[3] = {NULL, NULL, NULL};
    for (int l = 0; l < 3 && s == ILDIFF_OK; l++) s = nn_conv2d_plan_new(&c[l], l == 0 ? &s1 : l == 1 ? &s2 : &s3);
    ild_allreduce *ar = NULL;
    if (s == ILDIFF_OK) s = ild_allreduce_new(&ar, &p, bucket);
    const size_t nf = (size_t)n * F1 * HW, no = (size_t)n * HW;
    float *x = zeros(no), *y = zeros(no), *a1 = zeros(nf), *r1 = zeros(nf), *a2 = zeros(nf), *r2 = zeros(nf);
    float *out = zeros(no), *dout = zeros(no), *dr2 = zeros(nf), *da2 = zeros(nf), *dr1 = zeros(nf), *da1 = zeros(nf);
    nn_adamw_cfg cfg = nn_adamw_defaults();
    double t_start = 0, ar_start = 0; /* at the end of the untimed warm-up step */
    double idle = 0;                  /* timed steps' seconds in the barrier before the all-reduce */
    for (int st = 0; s == ILDIFF_OK && st < steps; st++) {
        if (st == 1) { /* step 0 warms up (first touches, oneDNN kernels): not timed */
            ild_allreduce_stats z;
            ild_allreduce_stats_get(ar, &z);
            s = ild_dist_barrier();
            t_start = ild_dist_time(), ar_start = z.seconds;
        }
        nn_rng d;
        nn_rng_seed(&d, (uint64_t)st * 1000003u + (uint64_t)b);
        for (size_t i = 0; i < no; i++) x[i] = nn_rng_uniform(&d), y[i] = x[i] > 0.5f ? 1.0f : 0.0f;
        nn_conv2d_forward(c[0], a1, x, w[0], bb[0]);
        nn_act_forward(r1, a1, nf, NN_ACT_RELU);
        nn_conv2d_forward(c[1], a2, r1, w[1], bb[1]);
        nn_act_forward(r2, a2, nf, NN_ACT_RELU);
        nn_conv2d_forward(c[2], out, r2, w[2], bb[2]);
        (void)nn_l2_forward(out, y, NULL, (int64_t)no);
        nn_params_zero_grad(&p);
        memset(dr2, 0, nf * sizeof(float)), memset(dr1, 0, nf * sizeof(float));
        nn_l2_backward(dout, 1.0f, out, y, NULL, (int64_t)no);
        if (xg)
            for (int64_t i = 0; i < extra; i++) xg[i] = 1e-6f * (float)(i % 7);
        if (xg) s = ild_allreduce_ready(ar, 6);
        nn_conv2d_backward(c[2], dr2, gw[2], gbb[2], dout, r2, w[2]);
        for (int i = 4; s == ILDIFF_OK && i <= 5; i++) s = ild_allreduce_ready(ar, i);
        nn_act_backward(da2, dr2, a2, nf, NN_ACT_RELU);
        nn_conv2d_backward(c[1], dr1, gw[1], gbb[1], da2, r1, w[1]);
        for (int i = 2; s == ILDIFF_OK && i <= 3; i++) s = ild_allreduce_ready(ar, i);
        nn_act_backward(da1, dr1, a1, nf, NN_ACT_RELU);
        nn_conv2d_backward(c[0], NULL, gw[0], gbb[0], da1, x, w[0]);
        const double t_idle = ild_dist_time();
        if (s == ILDIFF_OK && size > 1) s = ild_dist_barrier(); /* waiting for the slowest rank, timed apart */
        if (st >= 1) idle += ild_dist_time() - t_idle;
        if (s == ILDIFF_OK) s = ild_allreduce_wait(ar);
        nn_clip_grad_norm_params(&p, 1.0f);
        cfg.lr = nn_lr_warmup_cosine(st, 5, steps, 1e-2f, 1e-4f);
        nn_adamw_step_params(&p, &cfg, st + 1);
    }
    if (s == ILDIFF_OK) s = ild_dist_barrier();
    if (s == ILDIFF_OK && rank == 0) {
        double secs = ild_dist_time() - t_start;
        ild_allreduce_stats st;
        ild_allreduce_stats_get(ar, &st);
        double step_ms = 1e3 * secs / (steps - 1), ar_ms = 1e3 * (st.seconds - ar_start) / (steps - 1);
        double idle_ms = 1e3 * idle / (steps - 1);
        printf("ranks %d threads %d batch %lld steps %d grad_MB %.3f samples/s %.1f step_ms %.3f idle_ms %.3f "
               "allreduce_ms %.3f share %.1f%%\n",
               size, nn_threads_get(), (long long)gb, steps, (double)st.bytes / 1e6, (double)gb * (steps - 1) / secs,
               step_ms, idle_ms, ar_ms, 100 * ar_ms / step_ms);
    }
    if (s != ILDIFF_OK) fprintf(stderr, "bench_dist: rank %d: %s\n", rank, ildiff_last_error());
    free(x), free(y), free(a1), free(r1), free(a2), free(r2), free(out), free(dout), free(dr2), free(da2);
    free(dr1), free(da1);
    for (int l = 0; l < 3; l++) nn_conv2d_plan_free(c[l]);
    ild_allreduce_free(ar);
    nn_params_free(&p);
    return s == ILDIFF_OK ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (ild_dist_init(&argc, &argv) != ILDIFF_OK) {
        fprintf(stderr, "bench_dist: %s\n", ildiff_last_error());
        return ild_dist_finish(1);
    }
    int64_t gb = 32, extra = 0;
    int steps = 40;
    size_t bucket = 0;
    int rc = parse(argc, argv, &gb, &steps, &extra, &bucket);
    if (rc) fprintf(stderr, "usage: bench_dist [--batch GB] [--steps N >= 2] [--extra FLOATS] [--bucket BYTES]\n");
    else rc = run(gb, steps, extra, bucket);
    return ild_dist_finish(rc);
}
