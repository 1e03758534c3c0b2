/*
 * test_nn_rng.c: the deterministic RNG and initialisers (src/nn/rng.h): same seed same stream, different seeds
 * differ; uniform in [0, 1) with the right mean; normal with mean 0 and std 1; below(n) unbiased and in range;
 * the initialisers' ranges (torch's kaiming bound 1/sqrt(fan_in), trunc normal within 2 std); a shuffle is a
 * permutation.
 */
#include "check.h"

#include "nn/rng.h"

#include <stdint.h>

static void test_streams(void)
{
    nn_rng a, b, c;
    nn_rng_seed(&a, 123), nn_rng_seed(&b, 123), nn_rng_seed(&c, 124);
    int same = 1, differ = 0;
    for (int i = 0; i < 100; i++) {
        uint64_t x = nn_rng_u64(&a), y = nn_rng_u64(&b), z = nn_rng_u64(&c);
        same &= x == y;
        differ += x != z;
    }
    CHECK(same && differ == 100);
    nn_rng_seed(&a, 0);
    CHECK(nn_rng_u64(&a) != 0 || nn_rng_u64(&a) != 0); /* seed 0 is a valid state */
}

static void test_distributions(void)
{
    nn_rng r;
    nn_rng_seed(&r, 7);
    enum { N = 200000 };
    double su = 0, sn = 0, sn2 = 0;
    float lo = 1, hi = 0;
    int counts[7] = {0};
    for (int i = 0; i < N; i++) {
        float u = nn_rng_uniform(&r), z = nn_rng_normal(&r);
        lo = u < lo ? u : lo, hi = u > hi ? u : hi;
        su += u, sn += z, sn2 += (double)z * z;
        uint64_t k = nn_rng_below(&r, 7);
        CHECK(k < 7);
        counts[k < 7 ? k : 0]++;
    }
    CHECK(lo >= 0 && hi < 1);
    CHECK_NEAR(su / N, 0.5, 0.005);
    CHECK_NEAR(sn / N, 0.0, 0.01);
    CHECK_NEAR(sqrt(sn2 / N), 1.0, 0.01);
    for (int k = 0; k < 7; k++) CHECK_NEAR(counts[k], N / 7.0, N / 7.0 * 0.03);
    CHECK(nn_rng_below(&r, 1) == 0);
}

static void test_initialisers(void)
{
    nn_rng r;
    nn_rng_seed(&r, 9);
    enum { N = 20000 };
    static float w[N];
    nn_init_kaiming_uniform(&r, w, N, 64);
    float mx = 0;
    for (int i = 0; i < N; i++) mx = fabsf(w[i]) > mx ? fabsf(w[i]) : mx;
    CHECK(mx <= 0.125f && mx > 0.12f); /* bound 1/sqrt(64) */
    nn_init_trunc_normal(&r, w, N, 0.02f);
    double s2 = 0;
    for (int i = 0; i < N; i++) {
        CHECK(fabsf(w[i]) <= 0.04f);
        s2 += (double)w[i] * w[i];
    }
    CHECK_NEAR(sqrt(s2 / N), 0.02 * 0.88, 0.001); /* a normal cut at 2 std keeps ~0.88 of its std */
    nn_init_normal(&r, w, N, 3.0f, 0.5f);
    double m = 0;
    for (int i = 0; i < N; i++) m += w[i];
    CHECK_NEAR(m / N, 3.0, 0.02);
    nn_init_zeros(w, N);
    CHECK(w[0] == 0 && w[N - 1] == 0);
    int64_t idx[50];
    for (int i = 0; i < 50; i++) idx[i] = i;
    nn_rng_shuffle(&r, idx, 50);
    int seen[50] = {0}, moved = 0;
    for (int i = 0; i < 50; i++) seen[idx[i]]++, moved += idx[i] != i;
    for (int i = 0; i < 50; i++) CHECK(seen[i] == 1);
    CHECK(moved > 30);
}

int main(void)
{
    RUN(test_streams);
    RUN(test_distributions);
    RUN(test_initialisers);
    return check_done();
}
