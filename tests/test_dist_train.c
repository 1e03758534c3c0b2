/*
 * test_dist_train.c: data-parallel training equals one process. A tiny conv net (conv1 3x3 1->8, ReLU, conv2 3x3
 * 8->8, ReLU, conv3 1x1 8->1 on 8x8 images; oneDNN plans; MSE; global-norm clipping; AdamW with warmup + cosine)
 * trains STEPS steps on a global batch of GB = 4 samples per step:
 *   - the reference: one process, the whole batch (every rank computes it alone, no communication);
 *   - data-parallel: the ranks of the job split each batch (shard.h's contiguous split, 2 + 2 under
 *     `mpirun -np 2`), mark each layer's gradients ready as backward produces them, average them
 *     (allreduce.h), and take the same optimizer step.
 * Alone (one rank) the two runs must be bit-identical; with N ranks the final parameters must agree within
 * 1e-6 of the largest parameter, be bit-identical on every rank, and not depend on the bucket size.
 *
 * Options, for tests/cli/test_mpi.sh: --out PATH (rank 0 alone writes the data-parallel parameters there as
 * safetensors), --die RANK:STEP (that rank calls exit(3) at that step, as a crashed process would), --fail
 * RANK:STEP (that rank reports an error and ends with ild_dist_finish(1), as the CLI does). Only rank 0 prints.
 */
#include "check.h"
#include "fixture.h"
#include "nn_testkit.h"
#include "dist_testkit.h"

#include "dist/allreduce.h"
#include "dist/dist.h"
#include "dist/shard.h"
#include "nn/act.h"
#include "nn/conv.h"
#include "nn/loss.h"
#include "nn/optim.h"
#include "nn/params.h"
#include "nn/rng.h"
#include "nn/safetensors.h"

#include "base/base.h"

enum { GB = 4, STEPS = 8, HW = 64, F1 = 8 };

static struct {
    const char *out;
    int die_rank, die_step, fail_rank, fail_step;
} opt = {NULL, -1, -1, -1, -1};

typedef struct net {
    nn_params p;
    float *w[3], *b[3], *gw[3], *gb[3];
} net;

/* The net with the same initial weights on every rank (seeded kaiming init, torch's defaults). */
static void net_init(net *n)
{
    nn_params_init(&n->p);
    const int64_t shapes[3][4] = {{F1, 1, 3, 3}, {F1, F1, 3, 3}, {1, F1, 1, 1}};
    for (int l = 0; l < 3; l++) {
        char wn[32], bn[32];
        snprintf(wn, sizeof wn, "conv%d.weight", l + 1), snprintf(bn, sizeof bn, "conv%d.bias", l + 1);
        CHECK_OK(nn_params_add(&n->p, wn, 4, shapes[l], NN_PARAM_DECAY, &n->w[l], &n->gw[l]));
        CHECK_OK(nn_params_add(&n->p, bn, 1, shapes[l], 0, &n->b[l], &n->gb[l]));
    }
    CHECK_OK(nn_params_alloc(&n->p));
    CHECK_OK(nn_params_alloc_adam(&n->p));
    nn_rng r;
    nn_rng_seed(&r, 7);
    for (int l = 0; l < 3; l++) {
        const int64_t fan_in = shapes[l][1] * shapes[l][2] * shapes[l][3];
        nn_init_kaiming_uniform(&r, n->w[l], (size_t)(shapes[l][0] * fan_in), fan_in);
        nn_init_uniform(&r, n->b[l], (size_t)shapes[l][0], 1.0f / sqrtf((float)fan_in));
    }
}

/* Sample k of the endless training stream: x in [-1, 1), y = a smooth function of x. */
static void sample(int64_t k, float *x, float *y)
{
    nnt_fill(x, HW, 1000 + (uint64_t)k);
    for (int i = 0; i < HW; i++) y[i] = 0.5f * x[i] + 0.25f * x[(i + 1) % HW] - 0.1f;
}

/* Trains `steps` steps; each step this process takes samples [b, e) of the step's global batch. With `ar` the
 * gradients are averaged over the job's ranks. Returns 0, or 1 after a --fail injection (error recorded). */
static int train(net *n, int64_t b, int64_t e, ild_allreduce *ar)
{
    const int64_t nb = e - b;
    nn_conv_shape s1 = {.N = nb, .C = 1, .OC = F1, .D = 1, .H = 8, .W = 8, .K = 3, .stride = 1, .pad = 1, .bias = true};
    nn_conv_shape s2 = s1, s3 = s1;
    s2.C = F1;
    s3.C = F1, s3.OC = 1, s3.K = 1, s3.pad = 0;
    nn_conv2d_plan *c[3] = {NULL, NULL, NULL};
    CHECK_OK(nn_conv2d_plan_new(&c[0], &s1));
    CHECK_OK(nn_conv2d_plan_new(&c[1], &s2));
    CHECK_OK(nn_conv2d_plan_new(&c[2], &s3));
    const size_t nf = (size_t)nb * F1 * HW, no = (size_t)nb * HW;
    float *x = nnt_full(no, 0), *y = nnt_full(no, 0); /* (nb, 1, 8, 8) */
    float *a1 = nnt_full(nf, 0), *r1 = nnt_full(nf, 0), *a2 = nnt_full(nf, 0), *r2 = nnt_full(nf, 0);
    float *out = nnt_full(no, 0), *dout = nnt_full(no, 0), *dr2 = nnt_full(nf, 0), *da2 = nnt_full(nf, 0);
    float *dr1 = nnt_full(nf, 0), *da1 = nnt_full(nf, 0);
    const nn_adamw_cfg base = nn_adamw_defaults();
    int rc = 0;
    for (int s = 0; c[0] && c[1] && c[2] && s < STEPS && rc == 0; s++) {
        if (ild_dist_rank() == opt.die_rank && s == opt.die_step) exit(3);
        if (ild_dist_rank() == opt.fail_rank && s == opt.fail_step) {
            rc = ild_fail(ILDIFF_ERR_IO, "injected failure at step %d", s);
            break;
        }
        for (int64_t i = 0; i < nb; i++) sample((int64_t)s * GB + b + i, x + i * HW, y + i * HW);
        nn_conv2d_forward(c[0], a1, x, n->w[0], n->b[0]);
        nn_act_forward(r1, a1, nf, NN_ACT_RELU);
        nn_conv2d_forward(c[1], a2, r1, n->w[1], n->b[1]);
        nn_act_forward(r2, a2, nf, NN_ACT_RELU);
        nn_conv2d_forward(c[2], out, r2, n->w[2], n->b[2]);
        (void)nn_l2_forward(out, y, NULL, (int64_t)no);

        nn_params_zero_grad(&n->p);
        memset(dr2, 0, nf * sizeof(float)), memset(dr1, 0, nf * sizeof(float));
        nn_l2_backward(dout, 1.0f, out, y, NULL, (int64_t)no); /* mean over this process's samples */
        nn_conv2d_backward(c[2], dr2, n->gw[2], n->gb[2], dout, r2, n->w[2]);
        for (int i = 4; ar && i <= 5; i++) CHECK_OK(ild_allreduce_ready(ar, i)); /* conv3's gradients are final */
        nn_act_backward(da2, dr2, a2, nf, NN_ACT_RELU);
        nn_conv2d_backward(c[1], dr1, n->gw[1], n->gb[1], da2, r1, n->w[1]);
        for (int i = 2; ar && i <= 3; i++) CHECK_OK(ild_allreduce_ready(ar, i));
        nn_act_backward(da1, dr1, a1, nf, NN_ACT_RELU);
        nn_conv2d_backward(c[0], NULL, n->gw[0], n->gb[0], da1, x, n->w[0]);
        if (ar) CHECK_OK(ild_allreduce_wait(ar)); /* conv1 was never marked: wait starts it */

        nn_clip_grad_norm_params(&n->p, 1.0f);
        nn_adamw_cfg cfg = base;
        cfg.lr = nn_lr_warmup_cosine(s, 2, STEPS, 1e-2f, 1e-3f);
        nn_adamw_step_params(&n->p, &cfg, s + 1);
    }
    free(x), free(y), free(a1), free(r1), free(a2), free(r2), free(out), free(dout), free(dr2), free(da2);
    free(dr1), free(da1);
    for (int l = 0; l < 3; l++) nn_conv2d_plan_free(c[l]);
    return rc;
}

static net ref, dp;

/* The data-parallel run of this rank with gradient buckets of `bucket_bytes`; 0 or 1 as train(). */
static int train_dp(net *n, size_t bucket_bytes)
{
    net_init(n);
    int64_t b, e;
    ild_shard_range(GB, ild_dist_rank(), ild_dist_size(), &b, &e);
    ild_allreduce *ar = NULL;
    CHECK_OK(ild_allreduce_new(&ar, &n->p, bucket_bytes));
    int rc = ar ? train(n, b, e, ar) : 1;
    ild_allreduce_free(ar);
    return rc;
}

static int fail_rc;

static void test_dp_equals_one_process(void)
{
    net_init(&ref);
    CHECK(train(&ref, 0, GB, NULL) == 0);
    if ((fail_rc = train_dp(&dp, 0)) != 0) return;
    double maxp = 0, maxd = 0;
    for (size_t i = 0; i < ref.p.total; i++) {
        maxp = fmax(maxp, fabs(ref.p.data[i]));
        maxd = fmax(maxd, fabs((double)ref.p.data[i] - dp.p.data[i]));
    }
    net init;
    net_init(&init);
    double moved = 0;
    for (size_t i = 0; i < ref.p.total; i++) moved = fmax(moved, fabs((double)ref.p.data[i] - init.p.data[i]));
    nn_params_free(&init.p);
    CHECK(moved > 1e-3); /* it trained */
    if (ild_dist_size() == 1) CHECK(memcmp(ref.p.data, dp.p.data, sizeof(float) * ref.p.total) == 0);
    CHECK_MSG(maxd <= 1e-6 * maxp, "%d ranks vs one process: max difference %.3g, max |param| %.3g", ild_dist_size(),
              maxd, maxp);
    printf("  %d rank(s): max |difference| %.3g (max |param| %.3g, moved %.3g)\n", ild_dist_size(), maxd, maxp, moved);
}

static void test_ranks_identical(void)
{
    if (fail_rc) return;
    float *root = malloc(sizeof(float) * dp.p.total);
    memcpy(root, dp.p.data, sizeof(float) * dp.p.total);
    CHECK_OK(ild_dist_bcast(root, sizeof(float) * dp.p.total, 0));
    CHECK(memcmp(root, dp.p.data, sizeof(float) * dp.p.total) == 0);
    free(root);
}

static void test_bucket_size_irrelevant(void)
{
    if (fail_rc) return;
    net small;
    CHECK(train_dp(&small, 64) == 0); /* conv2.weight (576 floats) spans 36 buckets */
    CHECK(memcmp(small.p.data, dp.p.data, sizeof(float) * dp.p.total) == 0);
    nn_params_free(&small.p);
}

static void test_root_writes(void)
{
    if (fail_rc || !opt.out) return;
    if (ild_dist_is_root()) CHECK_OK(nn_st_save_params(opt.out, &dp.p, dp.p.data, NN_DTYPE_F32, NULL, true));
    CHECK_OK(ild_dist_barrier());
}

static bool parse_pair(const char *s, int *a, int *b) { return sscanf(s, "%d:%d", a, b) == 2; }

int main(int argc, char **argv)
{
    int rc = dist_test_init("test_dist_train", &argc, &argv);
    if (rc) return ild_dist_finish(rc);
    for (int i = 1; i < argc; i++) {
        bool ok = i + 1 < argc;
        if (ok && strcmp(argv[i], "--out") == 0) opt.out = argv[++i];
        else if (ok && strcmp(argv[i], "--die") == 0) ok = parse_pair(argv[++i], &opt.die_rank, &opt.die_step);
        else if (ok && strcmp(argv[i], "--fail") == 0) ok = parse_pair(argv[++i], &opt.fail_rank, &opt.fail_step);
        else ok = false;
        if (!ok) {
            fprintf(stderr, "usage: test_dist_train [--out PATH] [--die RANK:STEP] [--fail RANK:STEP]\n");
            return dist_test_finish(2);
        }
    }
    if (GB % ild_dist_size() != 0) { /* equal local batches are the rule (allreduce.h) */
        if (ild_dist_is_root()) check_skip("test_dist_train", "the global batch of 4 does not split evenly");
        return dist_test_finish(0);
    }
    RUN(test_dp_equals_one_process);
    if (fail_rc) {
        fprintf(stderr, "test_dist_train: rank %d: %s\n", ild_dist_rank(), ildiff_last_error());
        return ild_dist_finish(1);
    }
    RUN(test_ranks_identical);
    RUN(test_bucket_size_irrelevant);
    RUN(test_root_writes);
    RUN(test_all_ranks_passed);
    nn_params_free(&ref.p), nn_params_free(&dp.p);
    return dist_test_finish(check_done());
}
