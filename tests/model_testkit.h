/*
 * model_testkit.h: helpers for the model parity tests (test_models*.c): load a models_<name>.bin fixture written by
 * tests/reference/ref_models.py, copy its "param.<key>" tensors into a model's parameter table by name, and compare
 * outputs and every parameter gradient with PyTorch's. Header-only; include after check.h and fixture.h.
 */
#ifndef ILDIFF_MODEL_TESTKIT_H
#define ILDIFF_MODEL_TESTKIT_H

#include "nn/params.h"

#include <stdio.h>
#include <string.h>

#define MT_TOL 1e-4 /* relative to max(1, max|ref|), fixture_close's rule */

/* The fixture models_<name>.bin, or NULL (with a message). */
static inline fixture *mt_load(const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/models_%s.bin", CHECK_FIXTURES(), name);
    return fixture_load(path);
}

/* The fixture tensor "<kind>.<name>", or NULL (with a message). */
static inline const fixture_tensor *mt_get(const fixture *fx, const char *kind, const char *name)
{
    char key[256];
    snprintf(key, sizeof key, "%s.%s", kind, name);
    return fixture_find(fx, key);
}

/* Copies each "param.<key>" into the table entry <prefix><key>... by name: every entry must have a tensor of its
 * size and every "param." tensor an entry. Returns 1 on success, 0 with a message. */
static inline int mt_load_params(nn_params *p, const fixture *fx)
{
    int used = 0, params = 0;
    for (int i = 0; i < fx->count; i++)
        if (strncmp(fx->tensors[i].name, "param.", 6) == 0) params++;
    for (int i = 0; i < p->count; i++) {
        const fixture_tensor *t = mt_get(fx, "param", p->items[i].name);
        if (!t) return 0;
        if ((size_t)t->numel != p->items[i].numel) {
            printf("  %s: %zu values in the model, %lld in the fixture\n", p->items[i].name, p->items[i].numel,
                   (long long)t->numel);
            return 0;
        }
        memcpy(nn_params_data(p, i), t->data, p->items[i].numel * sizeof(float));
        used++;
    }
    if (used != params) printf("  the fixture has %d parameters, the model %d\n", params, used);
    return used == params;
}

/* Compares every gradient of the table with "grad.<key>"; returns the number of mismatches. */
static inline int mt_check_grads(const nn_params *p, const fixture *fx, double tol)
{
    int bad = 0;
    for (int i = 0; i < p->count; i++) {
        char label[200];
        snprintf(label, sizeof label, "grad %s", p->items[i].name);
        if (!fixture_close(nn_params_grad(p, i), mt_get(fx, "grad", p->items[i].name), tol, label)) bad++;
    }
    return bad;
}

/* Sum of |gradient| over the table (0 when nothing was accumulated). */
static inline double mt_grad_sum_abs(const nn_params *p)
{
    double s = 0;
    for (size_t i = 0; i < p->total; i++) s += fabs(p->grad[i]);
    return s;
}

/* fixture_close against "<kind>.<name>" with a check on the element count. */
static inline int mt_close(const float *got, size_t n, const fixture *fx, const char *kind, const char *name,
                           double tol)
{
    const fixture_tensor *t = mt_get(fx, kind, name);
    if (!t) return 0;
    if ((size_t)t->numel != n) {
        printf("  %s.%s: %zu values computed, %lld in the fixture\n", kind, name, n, (long long)t->numel);
        return 0;
    }
    char label[200];
    snprintf(label, sizeof label, "%s.%s", kind, name);
    return fixture_close(got, t, tol, label);
}

/* The float data of "<kind>.<name>" if it has n values, else NULL (with a message). */
static inline const float *mt_data(const fixture *fx, const char *kind, const char *name, size_t n)
{
    const fixture_tensor *t = mt_get(fx, kind, name);
    if (!t) return NULL;
    if ((size_t)t->numel != n) {
        printf("  %s.%s: expected %zu values, the fixture has %lld\n", kind, name, n, (long long)t->numel);
        return NULL;
    }
    return t->data;
}

#endif
