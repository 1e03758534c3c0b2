/*
 * rng.h: the corpus's deterministic random numbers (splitmix64): the same seed gives the same stream on every
 * machine and thread count. Internal, header-only.
 */
#ifndef ILDIFF_DATA_RNG_H
#define ILDIFF_DATA_RNG_H

#include <stdint.h>

typedef struct ild_rng {
    uint64_t state;
} ild_rng;

static inline uint64_t ild_mix64(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline ild_rng ild_rng_new(uint64_t seed) { return (ild_rng){ild_mix64(seed ^ 0x5deece66dULL)}; }

static inline uint64_t ild_rng_u64(ild_rng *r)
{
    r->state += 0x9e3779b97f4a7c15ULL;
    uint64_t z = r->state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1) with 53 bits. */
static inline double ild_rng_unit(ild_rng *r) { return (double)(ild_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0); }
/* Uniform in [lo, hi). */
static inline double ild_rng_range(ild_rng *r, double lo, double hi) { return lo + (hi - lo) * ild_rng_unit(r); }
/* Uniform integer in [0, n), n >= 1. */
static inline int64_t ild_rng_int(ild_rng *r, int64_t n) { return (int64_t)(ild_rng_unit(r) * (double)n); }
/* Index picked with the given weights (count >= 1, sum > 0). */
static inline int ild_rng_pick(ild_rng *r, const double *weights, int count)
{
    double sum = 0;
    for (int i = 0; i < count; i++) sum += weights[i];
    double u = ild_rng_unit(r) * sum;
    for (int i = 0; i < count; i++) {
        if (u < weights[i]) return i;
        u -= weights[i];
    }
    return count - 1;
}

#endif
