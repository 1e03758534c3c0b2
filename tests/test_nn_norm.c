/*
 * test_nn_norm.c: GroupNorm, LayerNorm and LayerNorm2d (src/nn/norm.h) against PyTorch fixtures
 * (tests/reference/ref_norm.py) for the reference and the fast path (output, dinp, dweight, dbias, gradients
 * accumulated on top of existing values); the fast path against the reference on larger shapes with ragged
 * tails and on data whose mean dwarfs its spread; finite-difference checks of the reference backward.
 */
#include "check.h"
#include "fixture.h"
#include "nn_testkit.h"

#include "nn/norm.h"

#define TOL 2e-5
#define GRAD_BASE 0.25f

enum kind { GN, LN, LN2D };

/* One normalisation problem: x is (N, C, S) (LN: N rows of C, S = 1). */
typedef struct prob {
    enum kind kind;
    int64_t N, C, S, G;
    float eps;
    const float *x, *w, *b;
} prob;

static void forward(const prob *p, bool fast, float *out, float *mean, float *rstd)
{
    switch (p->kind) {
    case GN:
        (fast ? nn_groupnorm_forward : nn_groupnorm_forward_ref)(out, mean, rstd, p->x, p->w, p->b, p->N, p->C,
                                                                 p->S, p->G, p->eps);
        break;
    case LN:
        (fast ? nn_layernorm_forward : nn_layernorm_forward_ref)(out, mean, rstd, p->x, p->w, p->b, p->N, p->C,
                                                                 p->eps);
        break;
    case LN2D:
        (fast ? nn_layernorm2d_forward : nn_layernorm2d_forward_ref)(out, mean, rstd, p->x, p->w, p->b, p->N,
                                                                     p->C, p->S, p->eps);
        break;
    }
}

static void backward(const prob *p, bool fast, float *dx, float *dw, float *db, const float *dout,
                     const float *mean, const float *rstd)
{
    switch (p->kind) {
    case GN:
        (fast ? nn_groupnorm_backward : nn_groupnorm_backward_ref)(dx, dw, db, dout, p->x, p->w, mean, rstd, p->N,
                                                                   p->C, p->S, p->G);
        break;
    case LN:
        (fast ? nn_layernorm_backward : nn_layernorm_backward_ref)(dx, dw, db, dout, p->x, p->w, mean, rstd, p->N,
                                                                   p->C);
        break;
    case LN2D:
        (fast ? nn_layernorm2d_backward : nn_layernorm2d_backward_ref)(dx, dw, db, dout, p->x, p->w, mean, rstd,
                                                                       p->N, p->C, p->S);
        break;
    }
}

static size_t stats_len(const prob *p) { return (size_t)(p->kind == GN ? p->N * p->G : p->N * p->S); }

static void check_fixture(const char *name, enum kind kind, bool fast)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.bin", CHECK_FIXTURES(), name);
    fixture *fx = fixture_load(path);
    CHECK(fx != NULL);
    int cases = nnt_cases(fx);
    CHECK(cases > 0);
    for (int i = 0; i < cases; i++) {
        const fixture_tensor *ts = nnt_get(fx, i, "shape"), *x = nnt_get(fx, i, "x"), *dout = nnt_get(fx, i, "dout");
        const fixture_tensor *out = nnt_get(fx, i, "out"), *dx = nnt_get(fx, i, "dx");
        CHECK(ts && x && dout && out && dx);
        if (!ts || !x || !dout || !out || !dx) break;
        const float *v = ts->data;
        prob p = {.kind = kind, .N = (int64_t)v[0], .C = (int64_t)v[1], .S = 1, .G = 1};
        bool affine;
        if (kind == GN) p.S = (int64_t)v[2], p.G = (int64_t)v[3], p.eps = v[4], affine = v[5] != 0;
        else if (kind == LN) p.eps = v[2], affine = v[3] != 0;
        else p.S = (int64_t)v[2], p.eps = v[3], affine = v[4] != 0;
        const fixture_tensor *w = affine ? nnt_get(fx, i, "w") : NULL, *b = affine ? nnt_get(fx, i, "b") : NULL;
        const fixture_tensor *dw = affine ? nnt_get(fx, i, "dw") : NULL, *db = affine ? nnt_get(fx, i, "db") : NULL;
        CHECK(!affine || (w && b && dw && db));
        if (affine && !(w && b && dw && db)) break;
        p.x = x->data, p.w = affine ? w->data : NULL, p.b = affine ? b->data : NULL;
        size_t nx = (size_t)x->numel, ns = stats_len(&p);
        float *y = nnt_full(nx, NAN), *mean = nnt_full(ns, NAN), *rstd = nnt_full(ns, NAN);
        float *gx = nnt_full(nx, GRAD_BASE), *gw = nnt_full((size_t)p.C, GRAD_BASE);
        float *gb = nnt_full((size_t)p.C, GRAD_BASE);
        forward(&p, fast, y, mean, rstd);
        backward(&p, fast, gx, affine ? gw : NULL, affine ? gb : NULL, dout->data, mean, rstd);
        CHECK_MSG(fixture_close(y, out, TOL, "out"), "%s case %d %s: out", name, i, fast ? "fast" : "ref");
        CHECK_MSG(nnt_close_acc(gx, GRAD_BASE, dx, TOL, "dx"), "%s case %d %s: dx", name, i, fast ? "fast" : "ref");
        if (affine) {
            CHECK_MSG(nnt_close_acc(gw, GRAD_BASE, dw, TOL, "dw"), "%s case %d: dw", name, i);
            CHECK_MSG(nnt_close_acc(gb, GRAD_BASE, db, TOL, "db"), "%s case %d: db", name, i);
        }
        free(y), free(mean), free(rstd), free(gx), free(gw), free(gb);
    }
    fixture_free(fx);
}

static void test_groupnorm_ref_vs_torch(void) { check_fixture("groupnorm", GN, false); }
static void test_groupnorm_fast_vs_torch(void) { check_fixture("groupnorm", GN, true); }
static void test_layernorm_ref_vs_torch(void) { check_fixture("layernorm", LN, false); }
static void test_layernorm_fast_vs_torch(void) { check_fixture("layernorm", LN, true); }
static void test_layernorm2d_ref_vs_torch(void) { check_fixture("layernorm2d", LN2D, false); }
static void test_layernorm2d_fast_vs_torch(void) { check_fixture("layernorm2d", LN2D, true); }

/* Fast vs reference on shapes with tails (vector lanes, LN column blocks, LN2d tiles). */
static void fast_vs_ref(prob p)
{
    size_t nx = (size_t)(p.N * p.C * p.S), ns = stats_len(&p), nc = (size_t)p.C;
    float *x = malloc(nx * 4), *w = malloc(nc * 4), *b = malloc(nc * 4), *dy = malloc(nx * 4);
    nnt_fill(x, nx, 11), nnt_fill(w, nc, 12), nnt_fill(b, nc, 13), nnt_fill(dy, nx, 14);
    for (size_t i = 0; i < nx; i++) x[i] = x[i] * 3 + 1;
    p.x = x, p.w = w, p.b = b;
    float *y[2], *m[2], *r[2], *gx[2], *gw[2], *gb[2];
    for (int f = 0; f < 2; f++) {
        y[f] = nnt_full(nx, 0), m[f] = nnt_full(ns, 0), r[f] = nnt_full(ns, 0);
        gx[f] = nnt_full(nx, 0), gw[f] = nnt_full(nc, 0), gb[f] = nnt_full(nc, 0);
        forward(&p, f, y[f], m[f], r[f]);
        backward(&p, f, gx[f], gw[f], gb[f], dy, m[f], r[f]);
    }
    fixture_tensor ref = {.ndim = 1};
    float *pairs[6][2] = {{y[0], y[1]}, {m[0], m[1]}, {r[0], r[1]}, {gx[0], gx[1]}, {gw[0], gw[1]}, {gb[0], gb[1]}};
    size_t lens[6] = {nx, ns, ns, nx, nc, nc};
    const char *names[6] = {"out", "mean", "rstd", "dx", "dw", "db"};
    for (int k = 0; k < 6; k++) {
        ref.data = pairs[k][0], ref.numel = (int64_t)lens[k];
        CHECK_MSG(fixture_close(pairs[k][1], &ref, 1e-5, names[k]), "kind %d: %s", (int)p.kind, names[k]);
    }
    for (int f = 0; f < 2; f++) free(y[f]), free(m[f]), free(r[f]), free(gx[f]), free(gw[f]), free(gb[f]);
    free(x), free(w), free(b), free(dy);
}

static void test_norm_fast_vs_ref(void)
{
    fast_vs_ref((prob){.kind = GN, .N = 2, .C = 64, .S = 301, .G = 32, .eps = 1e-5f});
    fast_vs_ref((prob){.kind = GN, .N = 3, .C = 12, .S = 77, .G = 1, .eps = 1e-5f});
    fast_vs_ref((prob){.kind = LN, .N = 37, .C = 150, .S = 1, .G = 1, .eps = 1e-5f});
    fast_vs_ref((prob){.kind = LN2D, .N = 2, .C = 20, .S = 150, .G = 1, .eps = 1e-6f});
}

/* Data with a mean far larger than its spread: the fast statistics must not cancel. */
static void test_groupnorm_large_mean(void)
{
    const int64_t N = 2, C = 8, S = 999, G = 2;
    size_t n = (size_t)(N * C * S);
    float *x = malloc(n * 4), *y[2], *m[2], *r[2];
    nnt_fill(x, n, 61);
    for (size_t i = 0; i < n; i++) x[i] = 1000.0f + 0.01f * x[i];
    float *dy = malloc(n * 4), *dx[2];
    nnt_fill(dy, n, 62);
    for (int f = 0; f < 2; f++) {
        y[f] = nnt_full(n, 0), m[f] = nnt_full((size_t)(N * G), 0), r[f] = nnt_full((size_t)(N * G), 0);
        dx[f] = nnt_full(n, 0);
        (f ? nn_groupnorm_forward : nn_groupnorm_forward_ref)(y[f], m[f], r[f], x, NULL, NULL, N, C, S, G, 1e-5f);
        (f ? nn_groupnorm_backward : nn_groupnorm_backward_ref)(dx[f], NULL, NULL, dy, x, NULL, m[0], r[0], N, C, S,
                                                                 G);
    }
    fixture_tensor ref = {.ndim = 1, .numel = (int64_t)n, .data = y[0]};
    CHECK(fixture_close(y[1], &ref, 1e-4, "out"));
    ref.data = dx[0];
    CHECK(fixture_close(dx[1], &ref, 1e-4, "dx"));
    for (int64_t i = 0; i < N * G; i++) CHECK_NEAR(r[1][i], r[0][i], 1e-4 * r[0][i]);
    for (int f = 0; f < 2; f++) free(y[f]), free(m[f]), free(r[f]), free(dx[f]);
    free(x), free(dy);
}

/* ---- finite differences on the reference ---- */

typedef struct fd_ctx {
    prob p;
    float *x, *w, *b, *mean, *rstd;
} fd_ctx;

static void fd_forward(void *vctx, float *out)
{
    fd_ctx *c = vctx;
    c->p.x = c->x, c->p.w = c->w, c->p.b = c->b;
    forward(&c->p, false, out, c->mean, c->rstd);
}

static void gradcheck(prob p)
{
    size_t nx = (size_t)(p.N * p.C * p.S), nc = (size_t)p.C;
    fd_ctx c = {.p = p, .x = malloc(nx * 4), .w = malloc(nc * 4), .b = malloc(nc * 4),
                .mean = malloc(stats_len(&p) * 4), .rstd = malloc(stats_len(&p) * 4)};
    float *dy = malloc(nx * 4), *out = malloc(nx * 4), *gx = nnt_full(nx, 0), *gw = nnt_full(nc, 0),
          *gb = nnt_full(nc, 0);
    nnt_fill(c.x, nx, 21), nnt_fill(c.w, nc, 22), nnt_fill(c.b, nc, 23), nnt_fill(dy, nx, 24);
    fd_forward(&c, out);
    backward(&c.p, false, gx, gw, gb, dy, c.mean, c.rstd);
    CHECK(nnt_gradcheck("dx", c.x, gx, nx, fd_forward, &c, dy, nx, 1e-3, 2e-3));
    CHECK(nnt_gradcheck("dw", c.w, gw, nc, fd_forward, &c, dy, nx, 1e-3, 2e-3));
    CHECK(nnt_gradcheck("db", c.b, gb, nc, fd_forward, &c, dy, nx, 1e-3, 2e-3));
    free(c.x), free(c.w), free(c.b), free(c.mean), free(c.rstd), free(dy), free(out), free(gx), free(gw), free(gb);
}

static void test_norm_gradcheck(void)
{
    gradcheck((prob){.kind = GN, .N = 2, .C = 4, .S = 3, .G = 2, .eps = 1e-5f});
    gradcheck((prob){.kind = LN, .N = 3, .C = 5, .S = 1, .G = 1, .eps = 1e-5f});
    gradcheck((prob){.kind = LN2D, .N = 2, .C = 4, .S = 3, .G = 1, .eps = 1e-6f});
}

int main(void)
{
    RUN(test_groupnorm_ref_vs_torch);
    RUN(test_groupnorm_fast_vs_torch);
    RUN(test_layernorm_ref_vs_torch);
    RUN(test_layernorm_fast_vs_torch);
    RUN(test_layernorm2d_ref_vs_torch);
    RUN(test_layernorm2d_fast_vs_torch);
    RUN(test_norm_fast_vs_ref);
    RUN(test_groupnorm_large_mean);
    RUN(test_norm_gradcheck);
    return check_done();
}
