/*
 * test_dist.c: the distributed layer (src/dist). Run alone it checks the group of one (no MPI touched), the
 * sharding arithmetic, the bucket plan and that averaging over one rank leaves gradients as they are. Run under
 * `mpirun -np N` (tests/cli/test_mpi.sh does, with 2 and 3 ranks) the same cases check the collectives: the
 * averaged gradients are exactly the rank-order mean in double and identical on every rank, counts are summed,
 * per-rank values and texts arrive at rank 0 in rank order, and a broadcast table equals its root's. Only
 * rank 0 prints (ILDIFF_TEST_ALL_RANKS=1, passed with mpirun -x, lets every rank print); the last case fails when
 * any rank failed a case.
 */
#include "check.h"
#include "fixture.h"
#include "nn_testkit.h"
#include "dist_testkit.h"

#include "dist/allreduce.h"
#include "dist/dist.h"
#include "dist/shard.h"
#include "nn/params.h"


static void test_shard_split(void)
{
    for (int size = 1; size <= 7; size++)
        for (int64_t n = 0; n <= 40; n++) {
            int64_t next = 0, total = 0;
            for (int r = 0; r < size; r++) {
                int64_t b, e;
                ild_shard_range(n, r, size, &b, &e);
                CHECK_MSG(b == next && e >= b && e - b <= n / size + 1 && e - b >= n / size,
                          "n %lld size %d rank %d: [%lld, %lld)", (long long)n, size, r, (long long)b, (long long)e);
                next = e;
                int64_t owned = 0;
                for (int64_t i = 0; i < n; i++) owned += ild_shard_owns(i, r, size);
                CHECK(owned == ild_shard_count(n, r, size));
                total += owned;
            }
            CHECK(next == n && total == n);
        }
    CHECK(!ild_shard_owns(-1, 0, 1));
}

static void test_group(void)
{
    CHECK(ild_dist_size() >= 1 && ild_dist_rank() >= 0 && ild_dist_rank() < ild_dist_size());
    CHECK(ild_dist_is_root() == (ild_dist_rank() == 0));
    CHECK(ild_dist_active() == ild_dist_launched());
    if (!ild_dist_launched()) CHECK(ild_dist_size() == 1 && ild_dist_finish(7) == 7); /* no MPI: rc comes back */
    CHECK_OK(ild_dist_init(NULL, NULL)); /* a second call does nothing */
    CHECK_OK(ild_dist_barrier());
    CHECK(ild_dist_bcast(NULL, 0, ild_dist_size()) == ILDIFF_ERR_ARG);
    char word[8] = "xxxxxxx";
    if (ild_dist_is_root()) memcpy(word, "rank-0", 7);
    CHECK_OK(ild_dist_bcast(word, sizeof word, 0));
    CHECK(strcmp(word, "rank-0") == 0);
    const double t0 = ild_dist_time();
    CHECK(ild_dist_time() >= t0);
}

static void test_counts_and_texts(void)
{
    const int rank = ild_dist_rank(), size = ild_dist_size();
    int64_t c[2] = {rank, 1};
    CHECK_OK(ild_dist_sum_i64(c, 2));
    CHECK(c[0] == (int64_t)size * (size - 1) / 2 && c[1] == size);
    CHECK(ild_dist_sum_i64(c, -1) == ILDIFF_ERR_ARG);
    double v[2] = {0.5 * rank, 0.25};
    CHECK_OK(ild_dist_sum_f64(v, 2));
    CHECK(v[0] == 0.25 * size * (size - 1) && v[1] == 0.25 * size);
    CHECK(ild_dist_sum_f64(v, -1) == ILDIFF_ERR_ARG);
    int64_t mine[2] = {10 * rank, 10 * rank + 1}, *all = calloc((size_t)size * 2, sizeof(int64_t));
    CHECK_OK(ild_dist_gather_i64(mine, 2, ild_dist_is_root() ? all : NULL));
    if (ild_dist_is_root())
        for (int r = 0; r < size; r++) CHECK(all[2 * r] == 10 * r && all[2 * r + 1] == 10 * r + 1);
    free(all);
    char line[32], *text = NULL, want[256] = "";
    snprintf(line, sizeof line, "rank %d failed\n", rank);
    CHECK_OK(ild_dist_gather_text(rank % 2 ? line : NULL, &text)); /* odd ranks report, even ranks have none */
    for (int r = 1; r < size; r += 2) snprintf(want + strlen(want), sizeof want - strlen(want), "rank %d failed\n", r);
    if (ild_dist_is_root()) CHECK(text && strcmp(text, want) == 0);
    else CHECK(text == NULL);
    free(text);
}

/* A table: a (10), b frozen (5), c (100), d (3); the values of the gradient block a rank starts from. */
static void make_table(nn_params *p)
{
    nn_params_init(p);
    CHECK_OK(nn_params_add(p, "a", 1, (int64_t[]){10}, 0, NULL, NULL));
    CHECK_OK(nn_params_add(p, "b", 1, (int64_t[]){5}, NN_PARAM_FROZEN, NULL, NULL));
    CHECK_OK(nn_params_add(p, "c", 2, (int64_t[]){10, 10}, NN_PARAM_DECAY, NULL, NULL));
    CHECK_OK(nn_params_add(p, "d", 1, (int64_t[]){3}, 0, NULL, NULL));
    CHECK_OK(nn_params_alloc(p));
}

/* Rank r's gradient at step s: (r + 1) * f(i) + s, f from a fixed stream. */
static float grad_value(const float *f, size_t i, int r, int s) { return (float)(r + 1) * f[i] + (float)s; }

static void test_allreduce_mean(void)
{
    const int rank = ild_dist_rank(), size = ild_dist_size();
    const size_t buckets[] = {64, 0};
    /* offsets a 0, b 16, c 32, d 144. 64 B (16 floats): a | c in 7 pieces | d; default: a | c..d; b frozen */
    const int want_buckets[] = {9, 2};
    for (int bi = 0; bi < 2; bi++) {
        nn_params p;
        make_table(&p);
        float *f = nnt_full(p.total, 0);
        nnt_fill(f, p.total, 11);
        ild_allreduce *ar = NULL;
        CHECK_OK(ild_allreduce_new(&ar, &p, buckets[bi]));
        if (!ar) return nn_params_free(&p), free(f);
        ild_allreduce_stats st;
        ild_allreduce_stats_get(ar, &st);
        CHECK_MSG(st.buckets == want_buckets[bi], "bucket size %zu: %d buckets", buckets[bi], st.buckets);
        CHECK(st.bytes == (int64_t)(nn_params_numel(&p) - 5) * 4 + (bi ? 12 * 4 : 0)); /* c..d spans 12 pad */
        for (int s = 0; s < 3; s++) {
            nn_params_zero_grad(&p); /* the padding between tensors stays 0, as in training */
            for (int k = 0; k < p.count; k++)
                for (size_t i = p.items[k].offset; i < p.items[k].offset + p.items[k].numel; i++)
                    p.grad[i] = grad_value(f, i, rank, s);
            if (s == 1) /* the trainer's order: last parameter first */
                for (int i = p.count - 1; i >= 0; i--) CHECK_OK(ild_allreduce_ready(ar, i));
            if (s == 2) CHECK_OK(ild_allreduce_ready(ar, 2)); /* some marked, the rest started by wait */
            CHECK_OK(ild_allreduce_wait(ar));
            for (int k = 0; k < p.count; k++)
                for (size_t i = p.items[k].offset; i < p.items[k].offset + p.items[k].numel; i++) {
                    double sum = 0;
                    for (int r = 0; r < size; r++) sum += grad_value(f, i, r, s);
                    bool frozen = p.items[k].flags & NN_PARAM_FROZEN; /* never sent: this rank's own */
                    float want = frozen ? grad_value(f, i, rank, s) : (float)(sum / size);
                    CHECK_MSG(p.grad[i] == want, "bucket %zu step %d grad[%zu] %.9g, want %.9g", buckets[bi], s,
                              i, p.grad[i], want);
                }
            const nn_param *b = nn_params_find(&p, "b");
            memset(p.grad + b->offset, 0, sizeof(float) * b->numel); /* checked above; differs between ranks */
            float *root = malloc(sizeof(float) * p.total);
            memcpy(root, p.grad, sizeof(float) * p.total);
            CHECK_OK(ild_dist_bcast(root, sizeof(float) * p.total, 0));
            CHECK(memcmp(root, p.grad, sizeof(float) * p.total) == 0); /* every rank holds the same bits */
            free(root);
        }
        ild_allreduce_stats_get(ar, &st);
        CHECK(st.steps == 3 && st.seconds >= 0);
        ild_allreduce_free(ar);
        nn_params_free(&p);
        free(f);
    }
}

static void test_allreduce_errors(void)
{
    nn_params p;
    make_table(&p);
    ild_allreduce *ar = NULL;
    CHECK(ild_allreduce_new(&ar, &p, 8) == ILDIFF_ERR_ARG && !ar);
    nn_params empty;
    nn_params_init(&empty);
    CHECK(ild_allreduce_new(&ar, &empty, 0) == ILDIFF_ERR_ARG && !ar);
    CHECK_OK(ild_allreduce_new(&ar, &p, 0));
    if (ar) {
        CHECK(ild_allreduce_ready(ar, -1) == ILDIFF_ERR_ARG && ild_allreduce_ready(ar, 4) == ILDIFF_ERR_ARG);
        CHECK_OK(ild_allreduce_ready(ar, 1)); /* frozen: accepted */
        CHECK_OK(ild_allreduce_ready(ar, 0));
        CHECK(ild_allreduce_ready(ar, 0) == ILDIFF_ERR_ARG);
        CHECK(strstr(ildiff_last_error(), "'a' marked ready twice") != NULL);
        CHECK_OK(ild_allreduce_wait(ar));
        CHECK_OK(ild_allreduce_ready(ar, 0)); /* a new step */
        CHECK_OK(ild_allreduce_wait(ar));
    }
    ild_allreduce_free(ar);
    nn_params_free(&p);
}

static void test_bcast_params(void)
{
    const int size = ild_dist_size(), root = size - 1;
    nn_params p;
    make_table(&p);
    CHECK_OK(nn_params_alloc_adam(&p));
    nnt_fill(p.data, p.total, 100 + (uint64_t)ild_dist_rank());
    nnt_fill(p.v, p.total, 200 + (uint64_t)ild_dist_rank());
    CHECK_OK(ild_dist_bcast_params(&p, root));
    float *want = nnt_full(p.total, 0);
    nnt_fill(want, p.total, 100 + (uint64_t)root);
    CHECK(memcmp(want, p.data, sizeof(float) * p.total) == 0);
    nnt_fill(want, p.total, 200 + (uint64_t)root);
    CHECK(memcmp(want, p.v, sizeof(float) * p.total) == 0);
    CHECK(ild_dist_bcast_params(&p, size) == ILDIFF_ERR_ARG);
    free(want);
    nn_params_free(&p);
}

int main(int argc, char **argv)
{
    int rc = dist_test_init("test_dist", &argc, &argv);
    if (rc) return ild_dist_finish(rc);
    RUN(test_shard_split);
    RUN(test_group);
    RUN(test_counts_and_texts);
    RUN(test_allreduce_mean);
    RUN(test_allreduce_errors);
    RUN(test_bcast_params);
    RUN(test_all_ranks_passed);
    if (ild_dist_is_root()) printf("  %d rank(s)\n", ild_dist_size());
    return dist_test_finish(check_done());
}
