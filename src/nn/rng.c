/* rng.c: xoshiro256** seeded by splitmix64, uniform/normal draws, and the weight initialisers (rng.h). */
#include "nn/rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void nn_rng_seed(nn_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&seed);
}

uint64_t nn_rng_u64(nn_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t nn_rng_below(nn_rng *r, uint64_t n)
{
    uint64_t limit = UINT64_MAX - UINT64_MAX % n; /* reject the incomplete last block */
    uint64_t x;
    do x = nn_rng_u64(r);
    while (x >= limit);
    return x % n;
}

float nn_rng_uniform(nn_rng *r) { return (float)(nn_rng_u64(r) >> 40) * 0x1.0p-24f; }

float nn_rng_normal(nn_rng *r)
{
    double u1 = ((double)(nn_rng_u64(r) >> 11) + 1.0) * 0x1.0p-53; /* (0, 1]: log is finite */
    double u2 = (double)(nn_rng_u64(r) >> 11) * 0x1.0p-53;
    return (float)(sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2));
}

void nn_init_zeros(float *w, size_t n)
{
    for (size_t i = 0; i < n; i++) w[i] = 0.0f;
}

void nn_init_uniform(nn_rng *r, float *w, size_t n, float bound)
{
    for (size_t i = 0; i < n; i++) w[i] = (2.0f * nn_rng_uniform(r) - 1.0f) * bound;
}

void nn_init_normal(nn_rng *r, float *w, size_t n, float mean, float std)
{
    for (size_t i = 0; i < n; i++) w[i] = mean + std * nn_rng_normal(r);
}

void nn_init_trunc_normal(nn_rng *r, float *w, size_t n, float std)
{
    for (size_t i = 0; i < n; i++) {
        float z;
        do z = nn_rng_normal(r);
        while (z < -2.0f || z > 2.0f);
        w[i] = std * z;
    }
}

void nn_init_kaiming_uniform(nn_rng *r, float *w, size_t n, int64_t fan_in)
{
    nn_init_uniform(r, w, n, fan_in > 0 ? 1.0f / sqrtf((float)fan_in) : 0.0f);
}

void nn_rng_shuffle(nn_rng *r, int64_t *idx, int64_t n)
{
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)nn_rng_below(r, (uint64_t)i + 1);
        int64_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
}
