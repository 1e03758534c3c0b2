/*
 * test_nn_conv.c: conv2d and conv3d (src/nn/conv.h) against PyTorch fixtures (tests/reference/ref_conv.py), for
 * both the direct-loop reference and the oneDNN plan (float32, and bfloat16 within a looser tolerance): forward
 * output and every gradient, gradients accumulated on top of existing values; finite-difference checks of the reference backward; bad shapes rejected; the plan
 * gives bit-identical results run after run; forward-only (inference) plans match PyTorch with less scratch.
 */
#include "check.h"
#include "fixture.h"
#include "nn_testkit.h"

#include "nn/conv.h"
#include "nn/nn.h"

#define TOL 2e-5
#define BF16_TOL 1e-2 /* relative to max|ref|: inputs rounded to 8 significant bits */
#define GRAD_BASE 0.25f

static nn_conv_shape shape_of(const fixture_tensor *t)
{
    const float *v = t->data;
    return (nn_conv_shape){.N = (int64_t)v[0], .C = (int64_t)v[1], .OC = (int64_t)v[2], .D = (int64_t)v[3],
                           .H = (int64_t)v[4], .W = (int64_t)v[5], .K = (int64_t)v[6], .stride = (int64_t)v[7],
                           .pad = (int64_t)v[8], .bias = v[9] != 0};
}

/* Runs case i of the fixture through the reference (plan == false) or a oneDNN plan and compares everything.
 * With `given`, that plan (made for this case) runs instead of a new one. With bf16 the plan computes in
 * bfloat16 and is held to BF16_TOL; *bf16_diff (if given) gets the largest difference from the float32 plan. */
static void check_case_prec(const fixture *fx, int i, bool is3d, bool plan, nn_conv2d_plan *given, bool bf16,
                            double *bf16_diff)
{
    const fixture_tensor *ts = nnt_get(fx, i, "shape"), *x = nnt_get(fx, i, "x"), *w = nnt_get(fx, i, "w");
    const fixture_tensor *dout = nnt_get(fx, i, "dout"), *out = nnt_get(fx, i, "out");
    const fixture_tensor *dx = nnt_get(fx, i, "dx"), *dw = nnt_get(fx, i, "dw");
    CHECK(ts && x && w && dout && out && dx && dw);
    if (!ts || !x || !w || !dout || !out || !dx || !dw) return;
    nn_conv_shape s = shape_of(ts);
    s.bf16 = bf16;
    const double tol = bf16 ? BF16_TOL : TOL;
    const fixture_tensor *b = s.bias ? nnt_get(fx, i, "b") : NULL, *db = s.bias ? nnt_get(fx, i, "db") : NULL;
    CHECK(!s.bias || (b && db));
    if (s.bias && (!b || !db)) return;
    float *y = nnt_full((size_t)out->numel, NAN), *gx = nnt_full((size_t)x->numel, GRAD_BASE);
    float *gw = nnt_full((size_t)w->numel, GRAD_BASE), *gb = nnt_full((size_t)s.OC, GRAD_BASE);
    char label[64];
    snprintf(label, sizeof label, "%s case %d %s", is3d ? "conv3d" : "conv2d", i, plan ? "plan" : "ref");
    if (plan) {
        nn_conv2d_plan *p = given;
        if (!given) CHECK_OK(is3d ? nn_conv3d_plan_new(&p, &s) : nn_conv2d_plan_new(&p, &s));
        if (!p) goto done;
        CHECK(nn_conv2d_plan_bytes(p) > 0);
        if (is3d) {
            nn_conv3d_forward(p, y, x->data, w->data, s.bias ? b->data : NULL);
            nn_conv3d_backward(p, gx, gw, s.bias ? gb : NULL, dout->data, x->data, w->data);
        } else {
            nn_conv2d_forward(p, y, x->data, w->data, s.bias ? b->data : NULL);
            nn_conv2d_backward(p, gx, gw, s.bias ? gb : NULL, dout->data, x->data, w->data);
        }
        if (!given) nn_conv2d_plan_free(p);
    } else if (is3d) {
        nn_conv3d_forward_ref(y, x->data, w->data, s.bias ? b->data : NULL, &s);
        nn_conv3d_backward_ref(gx, gw, s.bias ? gb : NULL, dout->data, x->data, w->data, &s);
    } else {
        nn_conv2d_forward_ref(y, x->data, w->data, s.bias ? b->data : NULL, &s);
        nn_conv2d_backward_ref(gx, gw, s.bias ? gb : NULL, dout->data, x->data, w->data, &s);
    }
    CHECK_MSG(fixture_close(y, out, tol, "out"), "%s: out", label);
    CHECK_MSG(nnt_close_acc(gx, GRAD_BASE, dx, tol, "dx"), "%s: dx", label);
    CHECK_MSG(nnt_close_acc(gw, GRAD_BASE, dw, tol, "dw"), "%s: dw", label);
    if (s.bias) CHECK_MSG(nnt_close_acc(gb, GRAD_BASE, db, tol, "db"), "%s: db", label);
    for (int64_t k = 0; bf16_diff && k < out->numel; k++)
        if (fabs(y[k] - out->data[k]) > *bf16_diff) *bf16_diff = fabs(y[k] - out->data[k]);
done:
    free(y), free(gx), free(gw), free(gb);
}

static void check_case(const fixture *fx, int i, bool is3d, bool plan, nn_conv2d_plan *given)
{
    check_case_prec(fx, i, is3d, plan, given, false, NULL);
}

static void check_fixture(const char *name, bool is3d, bool plan)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.bin", CHECK_FIXTURES(), name);
    fixture *fx = fixture_load(path);
    CHECK(fx != NULL);
    int n = nnt_cases(fx);
    CHECK(n > 0);
    for (int i = 0; i < n; i++) check_case(fx, i, is3d, plan, NULL);
    fixture_free(fx);
}

/* The bfloat16 plans: within BF16_TOL of PyTorch's float32 results, and visibly rounded (not float32). */
static void test_conv_bf16_vs_torch(void)
{
    double diff = 0;
    for (int f = 0; f < 2; f++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s.bin", CHECK_FIXTURES(), f ? "conv3d" : "conv2d");
        fixture *fx = fixture_load(path);
        CHECK(fx != NULL);
        for (int i = 0; i < nnt_cases(fx); i++) check_case_prec(fx, i, f == 1, true, NULL, true, &diff);
        fixture_free(fx);
    }
    CHECK_MSG(diff > 1e-4, "bf16 plans match float32 to %g: not computing in bf16?", diff);
}

/* Every case of both fixtures with its plan made up front, all sharing one workspace, run interleaved. */
static void test_conv_shared_workspace(void)
{
    char path[2][512];
    snprintf(path[0], sizeof path[0], "%s/conv2d.bin", CHECK_FIXTURES());
    snprintf(path[1], sizeof path[1], "%s/conv3d.bin", CHECK_FIXTURES());
    fixture *fx[2] = {fixture_load(path[0]), fixture_load(path[1])};
    CHECK(fx[0] && fx[1]);
    nn_workspace ws = {0};
    nn_conv2d_plan *plans[2][16] = {{0}};
    size_t most = 0;
    for (int f = 0; f < 2 && fx[0] && fx[1]; f++)
        for (int i = 0; i < nnt_cases(fx[f]) && i < 16; i++) {
            const fixture_tensor *ts = nnt_get(fx[f], i, "shape");
            if (!ts) continue;
            nn_conv_shape s = shape_of(ts);
            nn_conv2d_plan **pp = &plans[f][i];
            CHECK_OK(f ? nn_conv3d_plan_new_shared(pp, &s, &ws) : nn_conv2d_plan_new_shared(pp, &s, &ws));
            if (plans[f][i] && nn_conv2d_plan_bytes(plans[f][i]) > most) most = nn_conv2d_plan_bytes(plans[f][i]);
        }
    CHECK(ws.need == most && ws.data == NULL);
    CHECK_OK(nn_workspace_alloc(&ws));
    CHECK(ws.data != NULL && ws.size >= ws.need);
    for (int i = 0; i < 16; i++)
        for (int f = 0; f < 2; f++)
            if (plans[f][i]) check_case(fx[f], i, f == 1, true, plans[f][i]);
    for (int f = 0; f < 2; f++)
        for (int i = 0; i < 16; i++) nn_conv2d_plan_free(plans[f][i]);
    nn_workspace_free(&ws);
    CHECK(ws.data == NULL && ws.need == 0);
    fixture_free(fx[0]), fixture_free(fx[1]);
}

/* Forward-only plans (shape.inference) of every case, sharing one workspace: PyTorch's output, and no more scratch
 * than the training plan of the same shape. */
static void test_conv_inference_plan(void)
{
    for (int f = 0; f < 2; f++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s.bin", CHECK_FIXTURES(), f ? "conv3d" : "conv2d");
        fixture *fx = fixture_load(path);
        CHECK(fx != NULL);
        nn_workspace ws = {0};
        for (int i = 0; fx && i < nnt_cases(fx); i++) {
            const fixture_tensor *ts = nnt_get(fx, i, "shape"), *x = nnt_get(fx, i, "x"), *w = nnt_get(fx, i, "w");
            const fixture_tensor *out = nnt_get(fx, i, "out"), *b = nnt_get(fx, i, "b");
            CHECK(ts && x && w && out);
            if (!ts || !x || !w || !out) continue;
            nn_conv_shape s = shape_of(ts);
            nn_conv2d_plan *train = NULL, *inf = NULL;
            CHECK_OK(f ? nn_conv3d_plan_new(&train, &s) : nn_conv2d_plan_new(&train, &s));
            s.inference = true;
            CHECK_OK(f ? nn_conv3d_plan_new_shared(&inf, &s, &ws) : nn_conv2d_plan_new_shared(&inf, &s, &ws));
            if (train && inf) {
                CHECK_MSG(nn_conv2d_plan_bytes(inf) <= nn_conv2d_plan_bytes(train), "case %d: %zu > %zu bytes", i,
                          nn_conv2d_plan_bytes(inf), nn_conv2d_plan_bytes(train));
                CHECK_OK(nn_workspace_alloc(&ws));
                float *y = nnt_full((size_t)out->numel, NAN);
                const float *bias = s.bias && b ? b->data : NULL;
                if (f)
                    nn_conv3d_forward(inf, y, x->data, w->data, bias);
                else
                    nn_conv2d_forward(inf, y, x->data, w->data, bias);
                CHECK_MSG(fixture_close(y, out, TOL, "out"), "%s case %d: inference plan", f ? "conv3d" : "conv2d", i);
                free(y);
            }
            nn_conv2d_plan_free(train);
            nn_conv2d_plan_free(inf);
        }
        nn_workspace_free(&ws);
        fixture_free(fx);
    }
}

static void test_conv2d_ref_vs_torch(void) { check_fixture("conv2d", false, false); }
static void test_conv2d_plan_vs_torch(void) { check_fixture("conv2d", false, true); }
static void test_conv3d_ref_vs_torch(void) { check_fixture("conv3d", true, false); }
static void test_conv3d_plan_vs_torch(void) { check_fixture("conv3d", true, true); }

/* ---- finite differences on the reference ---- */

typedef struct fd_ctx {
    nn_conv_shape s;
    bool is3d;
    float *x, *w, *b;
} fd_ctx;

static void fd_forward(void *vctx, float *out)
{
    fd_ctx *c = vctx;
    if (c->is3d)
        nn_conv3d_forward_ref(out, c->x, c->w, c->b, &c->s);
    else
        nn_conv2d_forward_ref(out, c->x, c->w, c->b, &c->s);
}

static void gradcheck(nn_conv_shape s, bool is3d)
{
    int64_t kd = is3d ? s.K : 1;
    int64_t od = is3d ? nn_conv_out_size(s.D, s.K, s.stride, s.pad) : 1;
    size_t nx = (size_t)(s.N * s.C * s.D * s.H * s.W), nw = (size_t)(s.OC * s.C * kd * s.K * s.K);
    size_t ny = (size_t)(s.N * s.OC * od * nn_conv_out_size(s.H, s.K, s.stride, s.pad) *
                         nn_conv_out_size(s.W, s.K, s.stride, s.pad));
    fd_ctx c = {.s = s, .is3d = is3d, .x = malloc(nx * 4), .w = malloc(nw * 4), .b = malloc((size_t)s.OC * 4)};
    float *dy = malloc(ny * 4), *gx = nnt_full(nx, 0), *gw = nnt_full(nw, 0), *gb = nnt_full((size_t)s.OC, 0);
    nnt_fill(c.x, nx, 1), nnt_fill(c.w, nw, 2), nnt_fill(c.b, (size_t)s.OC, 3), nnt_fill(dy, ny, 4);
    if (is3d)
        nn_conv3d_backward_ref(gx, gw, gb, dy, c.x, c.w, &s);
    else
        nn_conv2d_backward_ref(gx, gw, gb, dy, c.x, c.w, &s);
    /* conv is linear in each argument, so a large step is exact up to rounding */
    CHECK(nnt_gradcheck("dx", c.x, gx, nx, fd_forward, &c, dy, ny, 0.5, 1e-4));
    CHECK(nnt_gradcheck("dw", c.w, gw, nw, fd_forward, &c, dy, ny, 0.5, 1e-4));
    CHECK(nnt_gradcheck("db", c.b, gb, (size_t)s.OC, fd_forward, &c, dy, ny, 0.5, 1e-4));
    free(c.x), free(c.w), free(c.b), free(dy), free(gx), free(gw), free(gb);
}

static void test_conv2d_gradcheck(void)
{
    gradcheck((nn_conv_shape){.N = 2, .C = 2, .OC = 3, .D = 1, .H = 5, .W = 4, .K = 3, .stride = 2, .pad = 1,
                              .bias = true}, false);
    gradcheck((nn_conv_shape){.N = 1, .C = 3, .OC = 2, .D = 1, .H = 4, .W = 6, .K = 3, .stride = 1, .pad = 0,
                              .bias = true}, false);
}

static void test_conv3d_gradcheck(void)
{
    gradcheck((nn_conv_shape){.N = 1, .C = 2, .OC = 2, .D = 4, .H = 3, .W = 4, .K = 3, .stride = 1, .pad = 1,
                              .bias = true}, true);
}

/* ---- errors and determinism ---- */

static void test_conv_bad_shapes(void)
{
    nn_conv_shape ok = {.N = 1, .C = 4, .OC = 4, .D = 1, .H = 8, .W = 8, .K = 3, .stride = 1, .pad = 1, .bias = 1};
    CHECK(nn_conv_shape_check(&ok, false) == ILDIFF_OK);
    nn_conv_shape bad[5] = {ok, ok, ok, ok, ok};
    bad[0].C = 0;
    bad[1].K = 11;       /* larger than the padded input */
    bad[2].D = 3;        /* conv2d needs D == 1 */
    bad[3].stride = 0;
    bad[4].H = (int64_t)1 << 40, bad[4].W = (int64_t)1 << 40;
    for (int i = 0; i < 5; i++) {
        nn_conv2d_plan *p = (nn_conv2d_plan *)&ok; /* must be reset to NULL */
        CHECK_MSG(nn_conv2d_plan_new(&p, &bad[i]) == ILDIFF_ERR_ARG, "bad shape %d accepted", i);
        CHECK(p == NULL);
    }
    CHECK(nn_conv_out_size(7, 3, 2, 1) == 4 && nn_conv_out_size(8, 3, 2, 0) == 3 && nn_conv_out_size(2, 5, 1, 1) == 0);
}

static void test_conv_plan_deterministic(void)
{
    nn_conv_shape s = {.N = 2, .C = 16, .OC = 16, .D = 6, .H = 7, .W = 9, .K = 3, .stride = 1, .pad = 1, .bias = 1};
    size_t nx = 2 * 16 * 6 * 7 * 9, nw = 16 * 16 * 27;
    float *x = malloc(nx * 4), *w = malloc(nw * 4), *b = malloc(16 * 4), *dy = malloc(nx * 4), *y = malloc(nx * 4);
    nnt_fill(x, nx, 5), nnt_fill(w, nw, 6), nnt_fill(b, 16, 7), nnt_fill(dy, nx, 8);
    float *g[2][3];
    nn_conv3d_plan *p = NULL;
    CHECK_OK(nn_conv3d_plan_new(&p, &s));
    for (int r = 0; r < 2 && p; r++) {
        g[r][0] = nnt_full(nx, 0), g[r][1] = nnt_full(nw, 0), g[r][2] = nnt_full(16, 0);
        nn_conv3d_forward(p, y, x, w, b);
        nn_conv3d_backward(p, g[r][0], g[r][1], g[r][2], dy, x, w);
    }
    if (p) {
        CHECK(memcmp(g[0][0], g[1][0], nx * 4) == 0);
        CHECK(memcmp(g[0][1], g[1][1], nw * 4) == 0);
        CHECK(memcmp(g[0][2], g[1][2], 16 * 4) == 0);
        for (int r = 0; r < 2; r++) free(g[r][0]), free(g[r][1]), free(g[r][2]);
    }
    nn_conv3d_plan_free(p);
    free(x), free(w), free(b), free(dy), free(y);
}

/* A plan runs with the thread count it was made with, leaves the caller's setting alone, and 1 and 2 threads
 * agree. */
static void test_conv_plan_threads(void)
{
    int saved = nn_threads_get();
    nn_conv_shape s = {.N = 1, .C = 32, .OC = 32, .D = 1, .H = 12, .W = 13, .K = 3, .stride = 1, .pad = 1, .bias = 1};
    size_t nx = 32 * 12 * 13, nw = 32 * 32 * 9;
    float *x = malloc(nx * 4), *w = malloc(nw * 4), *b = malloc(32 * 4), *y[2], *gx[2], *gw[2];
    nnt_fill(x, nx, 9), nnt_fill(w, nw, 10), nnt_fill(b, 32, 11);
    nn_conv2d_plan *p[2] = {NULL, NULL};
    for (int t = 0; t < 2; t++) {
        nn_threads_set(t + 1);
        CHECK_OK(nn_conv2d_plan_new(&p[t], &s));
        y[t] = nnt_full(nx, 0), gx[t] = nnt_full(nx, 0), gw[t] = nnt_full(nw, 0);
    }
    nn_threads_set(1);
    for (int t = 0; t < 2 && p[0] && p[1]; t++) {
        nn_conv2d_forward(p[t], y[t], x, w, b);
        nn_conv2d_backward(p[t], gx[t], gw[t], NULL, y[t], x, w);
        CHECK(nn_threads_get() == 1);
    }
    fixture_tensor ref = {.ndim = 1, .numel = (int64_t)nx, .data = y[0]};
    CHECK(fixture_close(y[1], &ref, 1e-5, "y"));
    ref.data = gx[0];
    CHECK(fixture_close(gx[1], &ref, 1e-5, "gx"));
    ref.data = gw[0], ref.numel = (int64_t)nw;
    CHECK(fixture_close(gw[1], &ref, 1e-5, "gw"));
    for (int t = 0; t < 2; t++) nn_conv2d_plan_free(p[t]), free(y[t]), free(gx[t]), free(gw[t]);
    free(x), free(w), free(b);
    nn_threads_set(saved);
}

int main(void)
{
    RUN(test_conv2d_ref_vs_torch);
    RUN(test_conv2d_plan_vs_torch);
    RUN(test_conv3d_ref_vs_torch);
    RUN(test_conv3d_plan_vs_torch);
    RUN(test_conv_bf16_vs_torch);
    RUN(test_conv_shared_workspace);
    RUN(test_conv_inference_plan);
    RUN(test_conv2d_gradcheck);
    RUN(test_conv3d_gradcheck);
    RUN(test_conv_bad_shapes);
    RUN(test_conv_plan_deterministic);
    RUN(test_conv_plan_threads);
    return check_done();
}
