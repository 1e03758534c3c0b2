/*
 * fixture.h: reads the tensor files written by tests/reference/fixture.py (PyTorch reference outputs) and
 * compares C results against them. Header-only, for tests.
 *
 *     fixture *fx = fixture_load("build/fixtures/conv2d.bin");   // NULL (and a message) if missing/corrupt
 *     const fixture_tensor *w = fixture_get(fx, "weight");        // aborts the case if absent
 *     CHECK(fixture_close(out, fixture_get(fx, "out"), 1e-5, "out"));
 *     fixture_free(fx);
 */
#ifndef ILDIFF_FIXTURE_H
#define ILDIFF_FIXTURE_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct fixture_tensor {
    char name[128];
    int ndim;
    int64_t dims[8];
    int64_t numel;
    float *data;
} fixture_tensor;

typedef struct fixture {
    int count;
    fixture_tensor *tensors;
} fixture;

static inline void fixture_free(fixture *fx)
{
    if (!fx) return;
    for (int i = 0; i < fx->count; i++) free(fx->tensors[i].data);
    free(fx->tensors);
    free(fx);
}

static inline fixture *fixture_load(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        printf("  fixture %s: cannot open (run `make fixtures`)\n", path);
        return NULL;
    }
    char magic[8];
    uint32_t count;
    fixture *fx = calloc(1, sizeof *fx);
    if (fread(magic, 1, 8, f) != 8 || memcmp(magic, "ILDFIX01", 8) != 0 || fread(&count, 4, 1, f) != 1 || count > 4096)
        goto bad;
    fx->tensors = calloc(count, sizeof *fx->tensors);
    for (uint32_t i = 0; i < count; i++) {
        fixture_tensor *t = &fx->tensors[i];
        fx->count = (int)i + 1;
        uint32_t len, ndim;
        if (fread(&len, 4, 1, f) != 1 || len >= sizeof t->name || fread(t->name, 1, len, f) != len) goto bad;
        t->name[len] = 0;
        if (fread(&ndim, 4, 1, f) != 1 || ndim > 8) goto bad;
        t->ndim = (int)ndim;
        t->numel = 1;
        for (uint32_t d = 0; d < ndim; d++) {
            if (fread(&t->dims[d], 8, 1, f) != 1 || t->dims[d] < 0) goto bad;
            t->numel *= t->dims[d];
        }
        t->data = malloc(sizeof(float) * (size_t)(t->numel ? t->numel : 1));
        if (fread(t->data, sizeof(float), (size_t)t->numel, f) != (size_t)t->numel) goto bad;
    }
    fclose(f);
    return fx;
bad:
    printf("  fixture %s: corrupt\n", path);
    fclose(f);
    fixture_free(fx);
    return NULL;
}

/* The tensor named `name`, or NULL (with a message). */
static inline const fixture_tensor *fixture_find(const fixture *fx, const char *name)
{
    for (int i = 0; fx && i < fx->count; i++)
        if (strcmp(fx->tensors[i].name, name) == 0) return &fx->tensors[i];
    printf("  fixture has no tensor '%s'\n", name);
    return NULL;
}

/* Compares n values of `got` with the reference: passes when max|got-ref| <= tol * max(1, max|ref|).
 * Prints the max difference and where; returns 1 on pass, 0 on fail. */
static inline int fixture_close(const float *got, const fixture_tensor *ref, double tol, const char *label)
{
    if (!ref) return 0;
    double maxdiff = 0, maxref = 0;
    int64_t at = 0;
    for (int64_t i = 0; i < ref->numel; i++) {
        double d = fabs((double)got[i] - (double)ref->data[i]);
        if (!(d <= maxdiff)) { /* also catches NaN */
            maxdiff = isnan(d) ? INFINITY : d;
            at = i;
        }
        if (fabs(ref->data[i]) > maxref) maxref = fabs(ref->data[i]);
    }
    double scale = maxref > 1 ? maxref : 1;
    int ok = maxdiff <= tol * scale;
    if (!ok)
        printf("  %s: max diff %.3g at %lld (got %.7g, ref %.7g), tolerance %.3g\n", label, maxdiff, (long long)at,
               (double)got[at], (double)ref->data[at], tol * scale);
    return ok;
}

#endif
