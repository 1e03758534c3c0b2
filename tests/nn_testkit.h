/*
 * nn_testkit.h: helpers shared by the neural-engine tests (test_nn_*.c): fixture cases by index, deterministic
 * random fills, and a finite-difference gradient check. Header-only, for tests; include after check.h and
 * fixture.h.
 *
 * Finite differences: for L = sum(out * dout), the derivative of L by x[i] is estimated with central
 * differences (L(x + eps) - L(x - eps)) / 2 eps, summed in double, and compared with the analytic gradient
 * within tol * max(1, max|grad|).
 */
#ifndef ILDIFF_NN_TESTKIT_H
#define ILDIFF_NN_TESTKIT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The tensor "i.name" of a fixture, or NULL (with a message). */
static inline const fixture_tensor *nnt_get(const fixture *fx, int i, const char *name)
{
    char key[64];
    snprintf(key, sizeof key, "%d.%s", i, name);
    return fixture_find(fx, key);
}

/* The fixture's "cases" count (0 if absent). */
static inline int nnt_cases(const fixture *fx)
{
    const fixture_tensor *t = fixture_find(fx, "cases");
    return t && t->numel == 1 ? (int)t->data[0] : 0;
}

/* A copy of a tensor's data (caller frees), or NULL when the tensor is missing. */
static inline float *nnt_dup(const fixture_tensor *t)
{
    if (!t) return NULL;
    float *p = malloc(sizeof(float) * (size_t)(t->numel ? t->numel : 1));
    memcpy(p, t->data, sizeof(float) * (size_t)t->numel);
    return p;
}

/* n floats set to `v`; caller frees. */
static inline float *nnt_full(size_t n, float v)
{
    float *p = malloc(sizeof(float) * (n ? n : 1));
    for (size_t i = 0; i < n; i++) p[i] = v;
    return p;
}

/* Deterministic values in [-1, 1) from a xorshift stream. */
static inline void nnt_fill(float *p, size_t n, uint64_t seed)
{
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        p[i] = (float)((double)(s >> 11) / 9007199254740992.0 * 2.0 - 1.0);
    }
}

/* Compares got - base with the reference (the gradient was accumulated on top of `base`). */
static inline int nnt_close_acc(const float *got, float base, const fixture_tensor *ref, double tol, const char *label)
{
    if (!ref) return 0;
    float *d = malloc(sizeof(float) * (size_t)(ref->numel ? ref->numel : 1));
    for (int64_t i = 0; i < ref->numel; i++) d[i] = got[i] - base;
    int ok = fixture_close(d, ref, tol, label);
    free(d);
    return ok;
}

/* Runs the forward of the op under test on its current inputs, writing its output. */
typedef void (*nnt_forward_fn)(void *ctx, float *out);

/* Checks grad (n) against central differences of L = sum(out * dout) by x (n), where fwd writes out (nout).
 * Restores x. Returns 1 on pass, 0 (with a message) on fail. */
static inline int nnt_gradcheck(const char *label, float *x, const float *grad, size_t n, nnt_forward_fn fwd,
                                void *ctx, const float *dout, size_t nout, double eps, double tol)
{
    float *out = malloc(sizeof(float) * nout);
    double maxg = 1, maxdiff = 0;
    size_t at = 0;
    double at_fd = 0;
    for (size_t i = 0; i < n; i++)
        if (fabs(grad[i]) > maxg) maxg = fabs(grad[i]);
    for (size_t i = 0; i < n; i++) {
        float keep = x[i];
        double lp = 0, lm = 0;
        x[i] = (float)(keep + eps);
        double up = (double)x[i] - keep;
        fwd(ctx, out);
        for (size_t j = 0; j < nout; j++) lp += (double)out[j] * dout[j];
        x[i] = (float)(keep - eps);
        double dn = keep - (double)x[i];
        fwd(ctx, out);
        for (size_t j = 0; j < nout; j++) lm += (double)out[j] * dout[j];
        x[i] = keep;
        double fd = (lp - lm) / (up + dn);
        double d = fabs(fd - grad[i]);
        if (!(d <= maxdiff)) {
            maxdiff = isnan(d) ? INFINITY : d;
            at = i;
            at_fd = fd;
        }
    }
    free(out);
    int ok = maxdiff <= tol * maxg;
    if (!ok)
        printf("  %s: finite differences differ by %.3g at %zu (analytic %.7g, numeric %.7g), tolerance %.3g\n",
               label, maxdiff, at, (double)grad[at], at_fd, tol * maxg);
    return ok;
}

#endif
