/*
 * test_nn_ops.c: activations (act.h), pooling/upsampling (pool.h) and tensor ops (tensor_ops.h) against PyTorch
 * fixtures (tests/reference/ref_act.py, ref_pool.py, ref_tensor_ops.py), each for the reference and the fast
 * path, gradients accumulated on top of existing values; finite-difference checks of the reference backward of
 * the activations, pooling, rot90, flip and concat.
 */
#include "check.h"
#include "fixture.h"
#include "nn_testkit.h"

#include "nn/act.h"
#include "nn/pool.h"
#include "nn/tensor_ops.h"

#define TOL 2e-5
#define GRAD_BASE 0.25f

static fixture *load(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.bin", CHECK_FIXTURES(), name);
    fixture *fx = fixture_load(path);
    CHECK(fx != NULL);
    return fx;
}

static const fixture_tensor *get(const fixture *fx, const char *op, const char *what)
{
    char key[96];
    snprintf(key, sizeof key, "%s.%s", op, what);
    const fixture_tensor *t = fixture_find(fx, key);
    CHECK_MSG(t != NULL, "missing %s", key);
    return t;
}

/* ---- activations ---- */

static void test_act_vs_torch(void)
{
    fixture *fx = load("act");
    const fixture_tensor *x = fx ? fixture_find(fx, "x") : NULL, *dout = fx ? fixture_find(fx, "dout") : NULL;
    CHECK(x && dout);
    for (int a = 0; x && dout && a < NN_ACT_COUNT; a++) {
        const fixture_tensor *out = get(fx, nn_act_name(a), "out"), *dx = get(fx, nn_act_name(a), "dx");
        if (!out || !dx) continue;
        CHECK(nn_act_from_name(nn_act_name(a)) == (nn_act)a);
        for (int fast = 0; fast < 2; fast++) {
            size_t n = (size_t)x->numel;
            float *y = nnt_full(n, NAN), *g = nnt_full(n, GRAD_BASE);
            (fast ? nn_act_forward : nn_act_forward_ref)(y, x->data, n, a);
            (fast ? nn_act_backward : nn_act_backward_ref)(g, dout->data, x->data, n, a);
            CHECK_MSG(fixture_close(y, out, TOL, "out"), "%s %s: out", nn_act_name(a), fast ? "fast" : "ref");
            CHECK_MSG(nnt_close_acc(g, GRAD_BASE, dx, TOL, "dx"), "%s %s: dx", nn_act_name(a), fast ? "fast" : "ref");
            memcpy(y, x->data, n * 4); /* in place */
            if (fast) nn_act_forward(y, y, n, a);
            CHECK_MSG(!fast || fixture_close(y, out, TOL, "in place"), "%s in place", nn_act_name(a));
            free(y), free(g);
        }
    }
    CHECK(nn_act_from_name("swish") == NN_ACT_COUNT && strcmp(nn_act_name(NN_ACT_COUNT), "?") == 0);
    fixture_free(fx);
}

/* Far outside the fixture's range the fast path's approximations stay finite and match the reference. */
static void test_act_extremes(void)
{
    float x[10] = {-1000.0f, -200.0f, -88.5f, -30.0f, -1e-30f, 0.0f, 1e-30f, 30.0f, 88.5f, 1000.0f};
    float y[10], r[10], g[10], gr[10], dy[10] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    for (int a = 0; a < NN_ACT_COUNT; a++) {
        memset(g, 0, sizeof g), memset(gr, 0, sizeof gr);
        nn_act_forward(y, x, 10, a), nn_act_forward_ref(r, x, 10, a);
        nn_act_backward(g, dy, x, 10, a), nn_act_backward_ref(gr, dy, x, 10, a);
        for (int i = 0; i < 10; i++) {
            CHECK_MSG(isfinite(y[i]) && fabsf(y[i] - r[i]) <= 1e-6f * fmaxf(1.0f, fabsf(r[i])), "%s(%g) = %g, ref %g",
                      nn_act_name(a), (double)x[i], (double)y[i], (double)r[i]);
            CHECK_MSG(isfinite(g[i]) && fabsf(g[i] - gr[i]) <= 1e-6f, "%s'(%g) = %g, ref %g", nn_act_name(a),
                      (double)x[i], (double)g[i], (double)gr[i]);
        }
    }
}

typedef struct act_ctx {
    float *x;
    size_t n;
    nn_act act;
} act_ctx;

static void act_fd_forward(void *vctx, float *out)
{
    act_ctx *c = vctx;
    nn_act_forward_ref(out, c->x, c->n, c->act);
}

static void test_act_gradcheck(void)
{
    float x[12] = {-3.1f, -1.2f, -0.4f, -0.05f, 0.03f, 0.2f, 0.7f, 1.1f, 1.9f, 2.6f, -2.2f, 0.5f}, dy[12], g[12];
    nnt_fill(dy, 12, 31);
    for (int a = 0; a < NN_ACT_COUNT; a++) {
        act_ctx c = {x, 12, a};
        memset(g, 0, sizeof g);
        nn_act_backward_ref(g, dy, x, 12, a);
        CHECK_MSG(nnt_gradcheck(nn_act_name(a), x, g, 12, act_fd_forward, &c, dy, 12, 1e-3, 1e-3), "%s",
                  nn_act_name(a));
    }
}

/* ---- pooling ---- */

typedef struct pool_case {
    int op;
    int64_t N, C, H, W, a, b;
} pool_case;

static void pool_forward(const pool_case *p, bool fast, float *out, const float *x)
{
    if (p->op == 0) (fast ? nn_upsample2x_forward : nn_upsample2x_forward_ref)(out, x, p->N, p->C, p->H, p->W);
    else if (p->op == 1) (fast ? nn_avgpool_forward : nn_avgpool_forward_ref)(out, x, p->N, p->C, p->H, p->W, p->a);
    else
        (fast ? nn_adaptive_avgpool_forward : nn_adaptive_avgpool_forward_ref)(out, x, p->N, p->C, p->H, p->W, p->a,
                                                                               p->b);
}

static void pool_backward(const pool_case *p, bool fast, float *dx, const float *dout)
{
    if (p->op == 0) (fast ? nn_upsample2x_backward : nn_upsample2x_backward_ref)(dx, dout, p->N, p->C, p->H, p->W);
    else if (p->op == 1)
        (fast ? nn_avgpool_backward : nn_avgpool_backward_ref)(dx, dout, p->N, p->C, p->H, p->W, p->a);
    else
        (fast ? nn_adaptive_avgpool_backward : nn_adaptive_avgpool_backward_ref)(dx, dout, p->N, p->C, p->H, p->W,
                                                                                 p->a, p->b);
}

static void test_pool_vs_torch(void)
{
    fixture *fx = load("pool");
    int cases = nnt_cases(fx);
    CHECK(cases > 0);
    for (int i = 0; i < cases; i++) {
        const fixture_tensor *ts = nnt_get(fx, i, "shape"), *x = nnt_get(fx, i, "x"), *dout = nnt_get(fx, i, "dout");
        const fixture_tensor *out = nnt_get(fx, i, "out"), *dx = nnt_get(fx, i, "dx");
        CHECK(ts && x && dout && out && dx);
        if (!ts || !x || !dout || !out || !dx) break;
        const float *v = ts->data;
        pool_case p = {(int)v[0], (int64_t)v[1], (int64_t)v[2], (int64_t)v[3], (int64_t)v[4], (int64_t)v[5],
                       (int64_t)v[6]};
        for (int fast = 0; fast < 2; fast++) {
            float *y = nnt_full((size_t)out->numel, NAN), *g = nnt_full((size_t)x->numel, GRAD_BASE);
            pool_forward(&p, fast, y, x->data);
            pool_backward(&p, fast, g, dout->data);
            CHECK_MSG(fixture_close(y, out, TOL, "out"), "pool case %d op %d %s: out", i, p.op, fast ? "fast" : "ref");
            CHECK_MSG(nnt_close_acc(g, GRAD_BASE, dx, TOL, "dx"), "pool case %d op %d %s: dx", i, p.op,
                      fast ? "fast" : "ref");
            free(y), free(g);
        }
    }
    fixture_free(fx);
}

typedef struct pool_ctx {
    pool_case p;
    float *x;
} pool_ctx;

static void pool_fd_forward(void *vctx, float *out)
{
    pool_ctx *c = vctx;
    pool_forward(&c->p, false, out, c->x);
}

static void test_pool_gradcheck(void)
{
    pool_case cases[2] = {{.op = 2, .N = 1, .C = 2, .H = 5, .W = 7, .a = 3, .b = 4},
                          {.op = 1, .N = 1, .C = 1, .H = 7, .W = 6, .a = 3}};
    int64_t outs[2] = {2 * 3 * 4, 2 * 2};
    for (int k = 0; k < 2; k++) {
        size_t nx = (size_t)(cases[k].N * cases[k].C * cases[k].H * cases[k].W), ny = (size_t)outs[k];
        pool_ctx c = {cases[k], malloc(nx * 4)};
        float *dy = malloc(ny * 4), *g = nnt_full(nx, 0);
        nnt_fill(c.x, nx, 41), nnt_fill(dy, ny, 42);
        pool_backward(&cases[k], false, g, dy);
        CHECK(nnt_gradcheck("pool dx", c.x, g, nx, pool_fd_forward, &c, dy, ny, 0.5, 1e-4));
        free(c.x), free(dy), free(g);
    }
}

/* ---- tensor ops ---- */

static void test_concat_slice_vs_torch(void)
{
    fixture *fx = load("tensor_ops");
    const fixture_tensor *a = get(fx, "concat", "a"), *b = get(fx, "concat", "b"), *c = get(fx, "concat", "c");
    const fixture_tensor *out = get(fx, "concat", "out"), *dout = get(fx, "concat", "dout");
    const fixture_tensor *ref_d[3] = {get(fx, "concat", "da"), get(fx, "concat", "db"), get(fx, "concat", "dc")};
    const fixture_tensor *sx = get(fx, "slice", "x"), *sout = get(fx, "slice", "out");
    const fixture_tensor *sdout = get(fx, "slice", "dout"), *sdx = get(fx, "slice", "dx");
    if (!a || !b || !c || !out || !dout || !ref_d[0] || !ref_d[1] || !ref_d[2] || !sx || !sout || !sdout || !sdx) {
        fixture_free(fx);
        return;
    }
    const float *ins[3] = {a->data, b->data, c->data};
    const int64_t C[3] = {3, 5, 1};
    for (int fast = 0; fast < 2; fast++) {
        float *y = nnt_full((size_t)out->numel, NAN), *d[3];
        for (int i = 0; i < 3; i++) d[i] = nnt_full((size_t)ref_d[i]->numel, GRAD_BASE);
        (fast ? nn_concat_forward : nn_concat_forward_ref)(y, ins, C, 3, 2, 20);
        (fast ? nn_concat_backward : nn_concat_backward_ref)(d, dout->data, C, 3, 2, 20);
        CHECK_MSG(fixture_close(y, out, TOL, "concat"), "concat %d", fast);
        for (int i = 0; i < 3; i++) CHECK_MSG(nnt_close_acc(d[i], GRAD_BASE, ref_d[i], TOL, "dconcat"), "d%d", i);
        free(y);
        for (int i = 0; i < 3; i++) free(d[i]);
        y = nnt_full((size_t)sout->numel, NAN);
        float *g = nnt_full((size_t)sx->numel, GRAD_BASE);
        (fast ? nn_slice_forward : nn_slice_forward_ref)(y, sx->data, 2, 8, 12, 2, 4);
        (fast ? nn_slice_backward : nn_slice_backward_ref)(g, sdout->data, 2, 8, 12, 2, 4);
        CHECK_MSG(fixture_close(y, sout, TOL, "slice"), "slice %d", fast);
        CHECK_MSG(nnt_close_acc(g, GRAD_BASE, sdx, TOL, "dslice"), "dslice %d", fast);
        free(y), free(g);
    }
    fixture_free(fx);
}

static void test_elementwise_vs_torch(void)
{
    fixture *fx = load("tensor_ops");
    const char *ops[3] = {"add", "mul", "scale"};
    for (int o = 0; fx && o < 3; o++) {
        const fixture_tensor *a = get(fx, ops[o], "a"), *b = o < 2 ? get(fx, ops[o], "b") : NULL;
        const fixture_tensor *out = get(fx, ops[o], "out"), *dout = get(fx, ops[o], "dout");
        const fixture_tensor *da = get(fx, ops[o], "da"), *db = o < 2 ? get(fx, ops[o], "db") : NULL;
        if (!a || !out || !dout || !da || (o < 2 && (!b || !db))) continue;
        size_t n = (size_t)a->numel;
        for (int fast = 0; fast < 2; fast++) {
            float *y = nnt_full(n, NAN), *ga = nnt_full(n, GRAD_BASE), *gb = nnt_full(n, GRAD_BASE);
            if (o == 0) {
                (fast ? nn_add_forward : nn_add_forward_ref)(y, a->data, b->data, n);
                (fast ? nn_add_backward : nn_add_backward_ref)(ga, gb, dout->data, n);
            } else if (o == 1) {
                (fast ? nn_mul_forward : nn_mul_forward_ref)(y, a->data, b->data, n);
                (fast ? nn_mul_backward : nn_mul_backward_ref)(ga, gb, dout->data, a->data, b->data, n);
            } else {
                (fast ? nn_scale_forward : nn_scale_forward_ref)(y, a->data, -1.75f, n);
                (fast ? nn_scale_backward : nn_scale_backward_ref)(ga, dout->data, -1.75f, n);
            }
            CHECK_MSG(fixture_close(y, out, TOL, ops[o]), "%s %d: out", ops[o], fast);
            CHECK_MSG(nnt_close_acc(ga, GRAD_BASE, da, TOL, "da"), "%s %d: da", ops[o], fast);
            if (o < 2) CHECK_MSG(nnt_close_acc(gb, GRAD_BASE, db, TOL, "db"), "%s %d: db", ops[o], fast);
            free(y), free(ga), free(gb);
        }
    }
    fixture_free(fx);
}

static void test_flip_rot90_vs_torch(void)
{
    fixture *fx = load("tensor_ops");
    const char *ops[6] = {"flip_h", "flip_w", "flip_hw", "rot1", "rot2", "rot3"};
    for (int o = 0; fx && o < 6; o++) {
        const fixture_tensor *x = get(fx, ops[o], "x"), *out = get(fx, ops[o], "out");
        const fixture_tensor *dout = get(fx, ops[o], "dout"), *dx = get(fx, ops[o], "dx");
        if (!x || !out || !dout || !dx) continue;
        size_t n = (size_t)x->numel;
        for (int fast = 0; fast < 2; fast++) {
            float *y = nnt_full(n, NAN), *g = nnt_full(n, GRAD_BASE);
            if (o < 3) {
                bool fh = o != 1, fw = o != 0;
                (fast ? nn_flip_forward : nn_flip_forward_ref)(y, x->data, 2, 3, 5, 7, fh, fw);
                (fast ? nn_flip_backward : nn_flip_backward_ref)(g, dout->data, 2, 3, 5, 7, fh, fw);
            } else {
                (fast ? nn_rot90_forward : nn_rot90_forward_ref)(y, x->data, 2, 3, 5, 7, o - 2);
                (fast ? nn_rot90_backward : nn_rot90_backward_ref)(g, dout->data, 2, 3, 5, 7, o - 2);
            }
            CHECK_MSG(fixture_close(y, out, TOL, ops[o]), "%s %s: out", ops[o], fast ? "fast" : "ref");
            CHECK_MSG(nnt_close_acc(g, GRAD_BASE, dx, TOL, "dx"), "%s %s: dx", ops[o], fast ? "fast" : "ref");
            free(y), free(g);
        }
    }
    fixture_free(fx);
}

typedef struct move_ctx {
    int op; /* 0 rot90 k=1, 1 rot90 k=3, 2 flip H and W, 3 concat of x with itself along channels */
    float *x;
} move_ctx;

static void move_fd_forward(void *vctx, float *out)
{
    move_ctx *c = vctx;
    const float *ins[2] = {c->x, c->x};
    const int64_t C[2] = {2, 2};
    if (c->op < 2) nn_rot90_forward_ref(out, c->x, 1, 2, 3, 5, c->op ? 3 : 1);
    else if (c->op == 2) nn_flip_forward_ref(out, c->x, 1, 2, 3, 5, true, true);
    else nn_concat_forward_ref(out, ins, C, 2, 1, 15);
}

/* Finite differences of the data-movement references (linear, so a large step is exact). */
static void test_tensor_ops_gradcheck(void)
{
    const size_t nx = 2 * 3 * 5;
    for (int op = 0; op < 4; op++) {
        move_ctx c = {op, malloc(nx * 4)};
        size_t ny = op == 3 ? 2 * nx : nx;
        float *dy = malloc(ny * 4), *g = nnt_full(nx, 0);
        nnt_fill(c.x, nx, 71), nnt_fill(dy, ny, 72);
        if (op < 2) nn_rot90_backward_ref(g, dy, 1, 2, 3, 5, op ? 3 : 1);
        else if (op == 2) nn_flip_backward_ref(g, dy, 1, 2, 3, 5, true, true);
        else {
            float *d2[2] = {g, g}; /* x feeds both inputs: both gradients land in g */
            const int64_t C[2] = {2, 2};
            nn_concat_backward_ref(d2, dy, C, 2, 1, 15);
        }
        CHECK_MSG(nnt_gradcheck("move dx", c.x, g, nx, move_fd_forward, &c, dy, ny, 0.5, 1e-4), "op %d", op);
        free(c.x), free(dy), free(g);
    }
}

/* rot90 on a plane larger than one tile, fast against reference, and four quarter turns give the identity. */
static void test_rot90_tiles(void)
{
    const int64_t H = 37, W = 70;
    size_t n = (size_t)(2 * H * W);
    float *x = malloc(n * 4), *y = malloc(n * 4), *z = malloc(n * 4), *r = malloc(n * 4);
    nnt_fill(x, n, 51);
    for (int k = 1; k < 4; k++) {
        nn_rot90_forward(y, x, 1, 2, H, W, k);
        nn_rot90_forward_ref(r, x, 1, 2, H, W, k);
        CHECK_MSG(memcmp(y, r, n * 4) == 0, "rot90 k=%d fast != ref", k);
    }
    memcpy(y, x, n * 4);
    for (int t = 0; t < 4; t++) {
        int64_t h = t % 2 ? W : H, w = t % 2 ? H : W;
        nn_rot90_forward(z, y, 1, 2, h, w, 1);
        memcpy(y, z, n * 4);
    }
    CHECK(memcmp(y, x, n * 4) == 0);
    free(x), free(y), free(z), free(r);
}

int main(void)
{
    RUN(test_act_vs_torch);
    RUN(test_act_extremes);
    RUN(test_act_gradcheck);
    RUN(test_pool_vs_torch);
    RUN(test_pool_gradcheck);
    RUN(test_concat_slice_vs_torch);
    RUN(test_elementwise_vs_torch);
    RUN(test_flip_rot90_vs_torch);
    RUN(test_rot90_tiles);
    RUN(test_tensor_ops_gradcheck);
    return check_done();
}
