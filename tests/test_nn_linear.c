/*
 * test_nn_linear.c: the linear layer (src/nn/linear.h) against PyTorch fixtures (tests/reference/ref_linear.py),
 * fast path and reference, with gradients accumulated on top of existing values; the fast path against the
 * reference on a larger shape; finite-difference checks of both backward passes.
 */
#include "check.h"
#include "fixture.h"
#include "nn_testkit.h"

#include "nn/linear.h"

#define TOL 2e-5
#define GRAD_BASE 0.25f

static fixture *load(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/linear.bin", CHECK_FIXTURES());
    return fixture_load(path);
}

static void check_fixture(bool fast)
{
    fixture *fx = load();
    CHECK(fx != NULL);
    int cases = nnt_cases(fx);
    CHECK(cases > 0);
    for (int i = 0; i < cases; i++) {
        const float *s = nnt_get(fx, i, "shape")->data;
        int64_t n = (int64_t)s[0], in = (int64_t)s[1], out = (int64_t)s[2];
        bool bias = s[3] != 0;
        const float *x = nnt_get(fx, i, "x")->data, *w = nnt_get(fx, i, "w")->data;
        const float *b = bias ? nnt_get(fx, i, "b")->data : NULL;
        float *y = nnt_full((size_t)(n * out), NAN);
        float *dx = nnt_full((size_t)(n * in), GRAD_BASE), *dw = nnt_full((size_t)(out * in), GRAD_BASE);
        float *db = nnt_full((size_t)out, GRAD_BASE);
        (fast ? nn_linear_forward : nn_linear_forward_ref)(y, x, w, b, n, in, out);
        CHECK(fixture_close(y, nnt_get(fx, i, "out"), TOL, "out"));
        (fast ? nn_linear_backward : nn_linear_backward_ref)(dx, dw, bias ? db : NULL, nnt_get(fx, i, "dout")->data,
                                                             x, w, n, in, out);
        CHECK(nnt_close_acc(dx, GRAD_BASE, nnt_get(fx, i, "dx"), TOL, "dx"));
        CHECK(nnt_close_acc(dw, GRAD_BASE, nnt_get(fx, i, "dw"), TOL, "dw"));
        if (bias) CHECK(nnt_close_acc(db, GRAD_BASE, nnt_get(fx, i, "db"), TOL, "db"));
        free(y), free(dx), free(dw), free(db);
    }
    fixture_free(fx);
}

static void test_fixture_fast(void) { check_fixture(true); }
static void test_fixture_ref(void) { check_fixture(false); }

/* fast vs reference on a shape with ragged sizes, gradients skipped selectively (NULL) */
static void test_fast_matches_ref(void)
{
    const int64_t n = 97, in = 75, out = 131;
    float *x = malloc(sizeof(float) * n * in), *w = malloc(sizeof(float) * out * in), *b = malloc(sizeof(float) * out);
    float *dy = malloc(sizeof(float) * n * out);
    nnt_fill(x, (size_t)(n * in), 1), nnt_fill(w, (size_t)(out * in), 2), nnt_fill(b, (size_t)out, 3);
    nnt_fill(dy, (size_t)(n * out), 4);
    float *y1 = nnt_full((size_t)(n * out), 0), *y2 = nnt_full((size_t)(n * out), 0);
    nn_linear_forward(y1, x, w, b, n, in, out);
    nn_linear_forward_ref(y2, x, w, b, n, in, out);
    fixture_tensor ref = {.numel = n * out, .data = y2};
    CHECK(fixture_close(y1, &ref, 1e-5, "forward"));
    float *dx1 = nnt_full((size_t)(n * in), 1), *dx2 = nnt_full((size_t)(n * in), 1);
    float *dw1 = nnt_full((size_t)(out * in), -1), *dw2 = nnt_full((size_t)(out * in), -1);
    nn_linear_backward(dx1, NULL, NULL, dy, x, w, n, in, out);
    nn_linear_backward_ref(dx2, NULL, NULL, dy, x, w, n, in, out);
    nn_linear_backward(NULL, dw1, NULL, dy, x, w, n, in, out);
    nn_linear_backward_ref(NULL, dw2, NULL, dy, x, w, n, in, out);
    ref = (fixture_tensor){.numel = n * in, .data = dx2};
    CHECK(fixture_close(dx1, &ref, 1e-5, "dx"));
    ref = (fixture_tensor){.numel = out * in, .data = dw2};
    CHECK(fixture_close(dw1, &ref, 1e-5, "dw"));
    free(x), free(w), free(b), free(dy), free(y1), free(y2), free(dx1), free(dx2), free(dw1), free(dw2);
}

typedef struct lin_ctx {
    bool fast;
    float *x, *w, *b;
    int64_t n, in, out;
} lin_ctx;

static void lin_fwd(void *c, float *y)
{
    lin_ctx *l = c;
    (l->fast ? nn_linear_forward : nn_linear_forward_ref)(y, l->x, l->w, l->b, l->n, l->in, l->out);
}

static void gradcheck(bool fast)
{
    lin_ctx l = {.fast = fast, .n = 3, .in = 4, .out = 5};
    float x[12], w[20], b[5], dy[15], dx[12] = {0}, dw[20] = {0}, db[5] = {0};
    l.x = x, l.w = w, l.b = b;
    nnt_fill(x, 12, 7), nnt_fill(w, 20, 8), nnt_fill(b, 5, 9), nnt_fill(dy, 15, 10);
    (fast ? nn_linear_backward : nn_linear_backward_ref)(dx, dw, db, dy, x, w, l.n, l.in, l.out);
    CHECK(nnt_gradcheck("dx", x, dx, 12, lin_fwd, &l, dy, 15, 1e-2, 1e-3));
    CHECK(nnt_gradcheck("dw", w, dw, 20, lin_fwd, &l, dy, 15, 1e-2, 1e-3));
    CHECK(nnt_gradcheck("db", b, db, 5, lin_fwd, &l, dy, 15, 1e-2, 1e-3));
}

static void test_gradcheck_fast(void) { gradcheck(true); }
static void test_gradcheck_ref(void) { gradcheck(false); }

int main(void)
{
    RUN(test_fixture_fast);
    RUN(test_fixture_ref);
    RUN(test_fast_matches_ref);
    RUN(test_gradcheck_fast);
    RUN(test_gradcheck_ref);
    return check_done();
}
