/*
 * peak.c: the machine's measured fp32 FMA peak, for the benchmarks' "fraction of peak" columns. Included by
 * bench_ops.c (`#include "peak.c"`), not built on its own.
 *
 * Each thread runs PEAK_ACC independent FMA chains on vector registers (AVX-512 zmm when the build has it,
 * else AVX2 ymm), long enough to hide the FMA latency; GFLOP/s = 2 * lanes * PEAK_ACC * iterations * threads /
 * time, best of a few tries. peak_bf16_gflops does the same with the AVX512-BF16 dot product vdpbf16ps (4 flops
 * per float lane: two products and two adds), or returns 0 where the build lacks it.
 */
#include <immintrin.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define PEAK_ACC 12
#define PEAK_ITERS 20000000L

static double peak_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Runs the FMA loop on one thread; returns a value derived from the accumulators so it is not optimised away.
 * The PEAK_ACC = 12 chains are spelled out so they stay in registers at -O2. */
#if defined(__AVX512F__)
typedef __m512 peak_vec;
#define PEAK_SET1 _mm512_set1_ps
#define PEAK_FMA _mm512_fmadd_ps
#define PEAK_ADD _mm512_add_ps
static float peak_sum(peak_vec v) { return _mm512_reduce_add_ps(v); }
#else
typedef __m256 peak_vec;
#define PEAK_SET1 _mm256_set1_ps
#define PEAK_FMA _mm256_fmadd_ps
#define PEAK_ADD _mm256_add_ps
static float peak_sum(peak_vec v)
{
    float l[8], s = 0;
    _mm256_storeu_ps(l, v);
    for (int j = 0; j < 8; j++) s += l[j];
    return s;
}
#endif

static float peak_loop(long iters)
{
    peak_vec a = PEAK_SET1(0.999999f), b = PEAK_SET1(1e-7f);
    peak_vec c0 = PEAK_SET1(0), c1 = PEAK_SET1(1), c2 = PEAK_SET1(2), c3 = PEAK_SET1(3), c4 = PEAK_SET1(4);
    peak_vec c5 = PEAK_SET1(5), c6 = PEAK_SET1(6), c7 = PEAK_SET1(7), c8 = PEAK_SET1(8), c9 = PEAK_SET1(9);
    peak_vec c10 = PEAK_SET1(10), c11 = PEAK_SET1(11);
    for (long it = 0; it < iters; it++) {
        c0 = PEAK_FMA(c0, a, b), c1 = PEAK_FMA(c1, a, b), c2 = PEAK_FMA(c2, a, b), c3 = PEAK_FMA(c3, a, b);
        c4 = PEAK_FMA(c4, a, b), c5 = PEAK_FMA(c5, a, b), c6 = PEAK_FMA(c6, a, b), c7 = PEAK_FMA(c7, a, b);
        c8 = PEAK_FMA(c8, a, b), c9 = PEAK_FMA(c9, a, b), c10 = PEAK_FMA(c10, a, b), c11 = PEAK_FMA(c11, a, b);
    }
    peak_vec s = PEAK_ADD(PEAK_ADD(PEAK_ADD(c0, c1), PEAK_ADD(c2, c3)), PEAK_ADD(PEAK_ADD(c4, c5), PEAK_ADD(c6, c7)));
    return peak_sum(PEAK_ADD(s, PEAK_ADD(PEAK_ADD(c8, c9), PEAK_ADD(c10, c11))));
}

static int peak_lanes(void)
{
#if defined(__AVX512F__)
    return 16;
#else
    return 8;
#endif
}

/* Measured fp32 FMA GFLOP/s with `threads` threads (best of `tries`), timed by `clock` (seconds). */
static double peak_gflops(int threads, int tries, double (*clock)(void))
{
    double best = 0;
    volatile float sink = 0;
    for (int t = 0; t < tries; t++) {
        double t0 = clock();
#pragma omp parallel num_threads(threads)
        {
            float s = peak_loop(PEAK_ITERS / 4);
#pragma omp atomic
            sink += s;
        }
        double dt = clock() - t0;
        double flops = 2.0 * peak_lanes() * PEAK_ACC * (double)(PEAK_ITERS / 4) * threads;
        if (flops / dt / 1e9 > best) best = flops / dt / 1e9;
    }
    (void)sink;
    return best;
}

#if defined(__AVX512BF16__)
/* The bf16 loop: PEAK_ACC chains of vdpbf16ps. */
static float peak_bf16_loop(long iters)
{
    __m512bh a = (__m512bh)_mm512_set1_epi16(0x3f80), b = (__m512bh)_mm512_set1_epi16(0x3380); /* 1.0, ~6e-8 */
    __m512 c0 = _mm512_set1_ps(0), c1 = _mm512_set1_ps(1), c2 = _mm512_set1_ps(2), c3 = _mm512_set1_ps(3);
    __m512 c4 = _mm512_set1_ps(4), c5 = _mm512_set1_ps(5), c6 = _mm512_set1_ps(6), c7 = _mm512_set1_ps(7);
    __m512 c8 = _mm512_set1_ps(8), c9 = _mm512_set1_ps(9), c10 = _mm512_set1_ps(10), c11 = _mm512_set1_ps(11);
    for (long it = 0; it < iters; it++) {
        c0 = _mm512_dpbf16_ps(c0, a, b), c1 = _mm512_dpbf16_ps(c1, a, b), c2 = _mm512_dpbf16_ps(c2, a, b);
        c3 = _mm512_dpbf16_ps(c3, a, b), c4 = _mm512_dpbf16_ps(c4, a, b), c5 = _mm512_dpbf16_ps(c5, a, b);
        c6 = _mm512_dpbf16_ps(c6, a, b), c7 = _mm512_dpbf16_ps(c7, a, b), c8 = _mm512_dpbf16_ps(c8, a, b);
        c9 = _mm512_dpbf16_ps(c9, a, b), c10 = _mm512_dpbf16_ps(c10, a, b), c11 = _mm512_dpbf16_ps(c11, a, b);
    }
    __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(c0, c1), _mm512_add_ps(c2, c3)),
                             _mm512_add_ps(_mm512_add_ps(c4, c5), _mm512_add_ps(c6, c7)));
    return _mm512_reduce_add_ps(_mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(c8, c9), _mm512_add_ps(c10, c11))));
}
#endif

/* Measured bf16 dot-product GFLOP/s with `threads` threads (best of `tries`), 0 without AVX512-BF16. */
static double peak_bf16_gflops(int threads, int tries, double (*clock)(void))
{
#if defined(__AVX512BF16__)
    double best = 0;
    volatile float sink = 0;
    for (int t = 0; t < tries; t++) {
        double t0 = clock();
#pragma omp parallel num_threads(threads)
        {
            float s = peak_bf16_loop(PEAK_ITERS / 4);
#pragma omp atomic
            sink += s;
        }
        double dt = clock() - t0;
        double flops = 4.0 * 16 * PEAK_ACC * (double)(PEAK_ITERS / 4) * threads;
        if (flops / dt / 1e9 > best) best = flops / dt / 1e9;
    }
    (void)sink;
    return best;
#else
    (void)threads, (void)tries, (void)clock;
    return 0;
#endif
}
