/*
 * rng.h: a small deterministic random number generator (xoshiro256**, seeded through splitmix64) and the weight
 * initialisers built on it. The same seed gives the same stream on every machine and thread count; one nn_rng is
 * not safe to share between threads (give each its own, e.g. seeded with seed + thread index).
 *
 *     nn_rng r;
 *     nn_rng_seed(&r, 42);
 *     nn_init_kaiming_uniform(&r, w, out * in, in);   // torch's default nn.Linear / nn.Conv2d weight init
 *     nn_init_uniform(&r, b, out, 1.0f / sqrtf(in)); // ... and its bias init
 */
#ifndef ILDIFF_NN_RNG_H
#define ILDIFF_NN_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct nn_rng {
    uint64_t s[4];
} nn_rng;

/* Seeds the state from one 64-bit value (any value, 0 included). */
void nn_rng_seed(nn_rng *r, uint64_t seed);
/* Next 64 random bits. */
uint64_t nn_rng_u64(nn_rng *r);
/* Uniform in [0, n) without modulo bias; n >= 1. */
uint64_t nn_rng_below(nn_rng *r, uint64_t n);
/* Uniform float in [0, 1) with 24 random bits. */
float nn_rng_uniform(nn_rng *r);
/* Standard normal (Box-Muller on two 53-bit uniforms). */
float nn_rng_normal(nn_rng *r);

/* Fills n floats with 0. */
void nn_init_zeros(float *w, size_t n);
/* Uniform in [-bound, bound). */
void nn_init_uniform(nn_rng *r, float *w, size_t n, float bound);
/* Normal(mean, std). */
void nn_init_normal(nn_rng *r, float *w, size_t n, float mean, float std);
/* Normal(0, std) redrawn until inside [-2 std, 2 std] (timm's trunc_normal_ with its default cut at 2 std). */
void nn_init_trunc_normal(nn_rng *r, float *w, size_t n, float std);
/* torch's default weight init for nn.Linear and nn.ConvNd: kaiming_uniform_(a=sqrt(5)), which is uniform in
 * [-1/sqrt(fan_in), 1/sqrt(fan_in)). fan_in = in_features, or in_channels * kernel volume. */
void nn_init_kaiming_uniform(nn_rng *r, float *w, size_t n, int64_t fan_in);
/* A seeded Fisher-Yates shuffle of idx[0..n). */
void nn_rng_shuffle(nn_rng *r, int64_t *idx, int64_t n);

#endif
