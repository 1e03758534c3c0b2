/*
 * test_nn_attention.c: softmax, multi-head self-attention and cross-attention (src/nn/attention.h) against
 * PyTorch fixtures (tests/reference/ref_attention.py) for the fast path and the reference: outputs, the saved
 * attention probabilities, and every gradient accumulated on top of existing values; finite-difference checks of
 * both backward passes on tiny shapes.
 */
#include "check.h"
#include "fixture.h"
#include "nn_testkit.h"

#include "nn/attention.h"

#define TOL 3e-5
#define GRAD_BASE 0.25f

static fixture *load(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/attention.bin", CHECK_FIXTURES());
    return fixture_load(path);
}

/* data of "prefix.i.name", or NULL */
static const float *get(const fixture *fx, const char *prefix, int i, const char *name)
{
    char key[96];
    snprintf(key, sizeof key, "%s.%d.%s", prefix, i, name);
    const fixture_tensor *t = fixture_find(fx, key);
    return t ? t->data : NULL;
}

static int close_acc(const fixture *fx, const char *prefix, int i, const char *name, const float *got)
{
    char key[96];
    snprintf(key, sizeof key, "%s.%d.%s", prefix, i, name);
    return nnt_close_acc(got, GRAD_BASE, fixture_find(fx, key), TOL, key);
}

static int close_eq(const fixture *fx, const char *prefix, int i, const char *name, const float *got)
{
    char key[96];
    snprintf(key, sizeof key, "%s.%d.%s", prefix, i, name);
    return fixture_close(got, fixture_find(fx, key), TOL, key);
}

static void softmax_case(bool fast)
{
    fixture *fx = load();
    CHECK(fx != NULL);
    const fixture_tensor *x = fixture_find(fx, "softmax.x");
    CHECK(x != NULL);
    if (!x) return fixture_free(fx);
    int64_t rows = x->dims[0], cols = x->dims[1];
    float *out = nnt_full((size_t)(rows * cols), NAN), *dx = nnt_full((size_t)(rows * cols), GRAD_BASE);
    (fast ? nn_softmax_forward : nn_softmax_forward_ref)(out, x->data, rows, cols);
    CHECK(fixture_close(out, fixture_find(fx, "softmax.out"), TOL, "softmax.out"));
    (fast ? nn_softmax_backward : nn_softmax_backward_ref)(dx, fixture_find(fx, "softmax.dout")->data, out, rows, cols);
    CHECK(nnt_close_acc(dx, GRAD_BASE, fixture_find(fx, "softmax.dx"), TOL, "softmax.dx"));
    free(out), free(dx);
    fixture_free(fx);
}

static void test_softmax_fast(void) { softmax_case(true); }
static void test_softmax_ref(void) { softmax_case(false); }

static void mhsa_fixture(bool fast)
{
    fixture *fx = load();
    CHECK(fx != NULL);
    const fixture_tensor *nc = fixture_find(fx, "mhsa.cases");
    int cases = nc ? (int)nc->data[0] : 0;
    CHECK(cases > 0);
    for (int i = 0; i < cases; i++) {
        const float *s = get(fx, "mhsa", i, "shape");
        int64_t B = (int64_t)s[0], T = (int64_t)s[1], C = (int64_t)s[2], NH = (int64_t)s[3];
        bool bias = s[4] != 0;
        nn_mhsa_weights w = {get(fx, "mhsa", i, "qkv_w"), bias ? get(fx, "mhsa", i, "qkv_b") : NULL,
                             get(fx, "mhsa", i, "proj_w"), bias ? get(fx, "mhsa", i, "proj_b") : NULL};
        const float *x = get(fx, "mhsa", i, "x");
        size_t ntc = (size_t)(B * T * C);
        nn_mhsa_cache c = {nnt_full(3 * ntc, NAN), nnt_full((size_t)(B * NH * T * T), NAN), nnt_full(ntc, NAN)};
        float *out = nnt_full(ntc, NAN);
        (fast ? nn_mhsa_forward : nn_mhsa_forward_ref)(out, &c, x, &w, B, T, C, NH);
        CHECK(close_eq(fx, "mhsa", i, "out", out));
        CHECK(close_eq(fx, "mhsa", i, "att", c.att));
        nn_mhsa_grads g = {nnt_full((size_t)(3 * C * C), GRAD_BASE), bias ? nnt_full((size_t)(3 * C), GRAD_BASE) : NULL,
                           nnt_full((size_t)(C * C), GRAD_BASE), bias ? nnt_full((size_t)C, GRAD_BASE) : NULL};
        float *dx = nnt_full(ntc, GRAD_BASE), *scratch = nnt_full(nn_mhsa_scratch_floats(B, T, C, NH), NAN);
        (fast ? nn_mhsa_backward : nn_mhsa_backward_ref)(dx, &g, scratch, get(fx, "mhsa", i, "dout"), &c, x, &w, B, T,
                                                         C, NH);
        CHECK(close_acc(fx, "mhsa", i, "dx", dx));
        CHECK(close_acc(fx, "mhsa", i, "dqkv_w", g.qkv_w));
        CHECK(close_acc(fx, "mhsa", i, "dproj_w", g.proj_w));
        if (bias) {
            CHECK(close_acc(fx, "mhsa", i, "dqkv_b", g.qkv_b));
            CHECK(close_acc(fx, "mhsa", i, "dproj_b", g.proj_b));
        }
        free(c.qkv), free(c.att), free(c.ctx), free(out), free(dx), free(scratch);
        free(g.qkv_w), free(g.qkv_b), free(g.proj_w), free(g.proj_b);
    }
    fixture_free(fx);
}

static void test_mhsa_fixture_fast(void) { mhsa_fixture(true); }
static void test_mhsa_fixture_ref(void) { mhsa_fixture(false); }

static const char *const XW[8] = {"q_w", "q_b", "k_w", "k_b", "v_w", "v_b", "out_w", "out_b"};

static void xattn_fixture(bool fast)
{
    fixture *fx = load();
    CHECK(fx != NULL);
    const fixture_tensor *nc = fixture_find(fx, "xattn.cases");
    int cases = nc ? (int)nc->data[0] : 0;
    CHECK(cases > 0);
    for (int i = 0; i < cases; i++) {
        const float *s = get(fx, "xattn", i, "shape");
        int64_t B = (int64_t)s[0], Tq = (int64_t)s[1], Tk = (int64_t)s[2], C = (int64_t)s[3], NH = (int64_t)s[4];
        bool bias = s[5] != 0;
        const float *wp[8];
        float *gp[8];
        for (int k = 0; k < 8; k++) {
            bool is_bias = k % 2 == 1;
            wp[k] = is_bias && !bias ? NULL : get(fx, "xattn", i, XW[k]);
            gp[k] = is_bias && !bias ? NULL : nnt_full((size_t)(is_bias ? C : C * C), GRAD_BASE);
        }
        nn_xattn_weights w = {wp[0], wp[1], wp[2], wp[3], wp[4], wp[5], wp[6], wp[7]};
        nn_xattn_grads g = {gp[0], gp[1], gp[2], gp[3], gp[4], gp[5], gp[6], gp[7]};
        const float *xq = get(fx, "xattn", i, "xq"), *xk = get(fx, "xattn", i, "xk"), *xv = get(fx, "xattn", i, "xv");
        size_t nq = (size_t)(B * Tq * C), nk = (size_t)(B * Tk * C);
        nn_xattn_cache c = {nnt_full(nq, NAN), nnt_full(nk, NAN), nnt_full(nk, NAN),
                            nnt_full((size_t)(B * NH * Tq * Tk), NAN), nnt_full(nq, NAN)};
        float *out = nnt_full(nq, NAN);
        (fast ? nn_xattn_forward : nn_xattn_forward_ref)(out, &c, xq, xk, xv, &w, B, Tq, Tk, C, NH);
        CHECK(close_eq(fx, "xattn", i, "out", out));
        CHECK(close_eq(fx, "xattn", i, "att", c.att));
        float *dxq = nnt_full(nq, GRAD_BASE), *dxk = nnt_full(nk, GRAD_BASE), *dxv = nnt_full(nk, GRAD_BASE);
        float *scratch = nnt_full(nn_xattn_scratch_floats(B, Tq, Tk, C, NH), NAN);
        (fast ? nn_xattn_backward : nn_xattn_backward_ref)(dxq, dxk, dxv, &g, scratch, get(fx, "xattn", i, "dout"),
                                                           &c, xq, xk, xv, &w, B, Tq, Tk, C, NH);
        CHECK(close_acc(fx, "xattn", i, "dxq", dxq));
        CHECK(close_acc(fx, "xattn", i, "dxk", dxk));
        CHECK(close_acc(fx, "xattn", i, "dxv", dxv));
        for (int k = 0; k < 8; k++)
            if (gp[k]) {
                char name[16];
                snprintf(name, sizeof name, "d%s", XW[k]);
                CHECK(close_acc(fx, "xattn", i, name, gp[k]));
            }
        for (int k = 0; k < 8; k++) free(gp[k]);
        free(c.q), free(c.k), free(c.v), free(c.att), free(c.ctx), free(out), free(dxq), free(dxk), free(dxv);
        free(scratch);
    }
    fixture_free(fx);
}

static void test_xattn_fixture_fast(void) { xattn_fixture(true); }
static void test_xattn_fixture_ref(void) { xattn_fixture(false); }

/* ---- finite differences on tiny shapes ---- */

enum { B_ = 2, TQ = 3, TK = 4, C_ = 4, NH_ = 2 };

typedef struct attn_ctx {
    bool fast;
    float x[B_ * TK * C_], xq[B_ * TQ * C_], xv[B_ * TK * C_];
    float qkv_w[3 * C_ * C_], qkv_b[3 * C_], proj_w[C_ * C_], proj_b[C_];
    float xw[4][C_ * C_], xb[4][C_];
    float qkv[B_ * TK * 3 * C_], att[B_ * NH_ * TQ * TK > B_ * NH_ * TK * TK ? B_ * NH_ * TQ * TK : B_ * NH_ * TK * TK];
    float ctx[B_ * TK * C_], q[B_ * TQ * C_], k[B_ * TK * C_], v[B_ * TK * C_];
} attn_ctx;

static void mhsa_fwd(void *p, float *out)
{
    attn_ctx *a = p;
    nn_mhsa_weights w = {a->qkv_w, a->qkv_b, a->proj_w, a->proj_b};
    nn_mhsa_cache c = {a->qkv, a->att, a->ctx};
    (a->fast ? nn_mhsa_forward : nn_mhsa_forward_ref)(out, &c, a->x, &w, B_, TK, C_, NH_);
}

static nn_xattn_weights xweights(attn_ctx *a)
{
    return (nn_xattn_weights){a->xw[0], a->xb[0], a->xw[1], a->xb[1], a->xw[2], a->xb[2], a->xw[3], a->xb[3]};
}

static void xattn_fwd(void *p, float *out)
{
    attn_ctx *a = p;
    nn_xattn_weights w = xweights(a);
    nn_xattn_cache c = {a->q, a->k, a->v, a->att, a->ctx};
    (a->fast ? nn_xattn_forward : nn_xattn_forward_ref)(out, &c, a->xq, a->x, a->xv, &w, B_, TQ, TK, C_, NH_);
}

#define EPS 3e-3
#define FD_TOL 2e-3

static void mhsa_gradcheck(bool fast)
{
    static attn_ctx a;
    memset(&a, 0, sizeof a);
    a.fast = fast;
    nnt_fill(a.x, sizeof a.x / 4, 1), nnt_fill(a.qkv_w, sizeof a.qkv_w / 4, 2), nnt_fill(a.qkv_b, 3 * C_, 3);
    nnt_fill(a.proj_w, C_ * C_, 4), nnt_fill(a.proj_b, C_, 5);
    for (size_t i = 0; i < sizeof a.qkv_w / 4; i++) a.qkv_w[i] *= 2.0f; /* peaky attention */
    enum { NO = B_ * TK * C_ };
    float dout[NO], out[NO], dx[NO] = {0}, dqw[3 * C_ * C_] = {0}, dqb[3 * C_] = {0}, dpw[C_ * C_] = {0}, dpb[C_] = {0};
    nnt_fill(dout, NO, 6);
    mhsa_fwd(&a, out);
    float scratch[B_ * TK * C_ * 4 + TK * TK];
    nn_mhsa_weights w = {a.qkv_w, a.qkv_b, a.proj_w, a.proj_b};
    nn_mhsa_cache c = {a.qkv, a.att, a.ctx};
    nn_mhsa_grads g = {dqw, dqb, dpw, dpb};
    (fast ? nn_mhsa_backward : nn_mhsa_backward_ref)(dx, &g, scratch, dout, &c, a.x, &w, B_, TK, C_, NH_);
    CHECK(nnt_gradcheck("dx", a.x, dx, NO, mhsa_fwd, &a, dout, NO, EPS, FD_TOL));
    CHECK(nnt_gradcheck("dqkv_w", a.qkv_w, dqw, 3 * C_ * C_, mhsa_fwd, &a, dout, NO, EPS, FD_TOL));
    CHECK(nnt_gradcheck("dqkv_b", a.qkv_b, dqb, 3 * C_, mhsa_fwd, &a, dout, NO, EPS, FD_TOL));
    CHECK(nnt_gradcheck("dproj_w", a.proj_w, dpw, C_ * C_, mhsa_fwd, &a, dout, NO, EPS, FD_TOL));
    CHECK(nnt_gradcheck("dproj_b", a.proj_b, dpb, C_, mhsa_fwd, &a, dout, NO, EPS, FD_TOL));
}

static void test_mhsa_gradcheck_fast(void) { mhsa_gradcheck(true); }
static void test_mhsa_gradcheck_ref(void) { mhsa_gradcheck(false); }

static void xattn_gradcheck(bool fast)
{
    static attn_ctx a;
    memset(&a, 0, sizeof a);
    a.fast = fast;
    nnt_fill(a.x, sizeof a.x / 4, 11), nnt_fill(a.xq, sizeof a.xq / 4, 12), nnt_fill(a.xv, sizeof a.xv / 4, 13);
    for (int k = 0; k < 4; k++) nnt_fill(a.xw[k], C_ * C_, 20 + k), nnt_fill(a.xb[k], C_, 30 + k);
    for (int i = 0; i < C_ * C_; i++) a.xw[0][i] *= 2.0f, a.xw[1][i] *= 2.0f;
    enum { NO = B_ * TQ * C_, NK = B_ * TK * C_ };
    float dout[NO], out[NO], dxq[NO] = {0}, dxk[NK] = {0}, dxv[NK] = {0}, gw[4][C_ * C_] = {{0}}, gb[4][C_] = {{0}};
    nnt_fill(dout, NO, 40);
    xattn_fwd(&a, out);
    float scratch[2 * NO + 2 * NK + TQ * TK];
    nn_xattn_weights w = xweights(&a);
    nn_xattn_cache c = {a.q, a.k, a.v, a.att, a.ctx};
    nn_xattn_grads g = {gw[0], gb[0], gw[1], gb[1], gw[2], gb[2], gw[3], gb[3]};
    (fast ? nn_xattn_backward : nn_xattn_backward_ref)(dxq, dxk, dxv, &g, scratch, dout, &c, a.xq, a.x, a.xv, &w, B_,
                                                       TQ, TK, C_, NH_);
    CHECK(nnt_gradcheck("dxq", a.xq, dxq, NO, xattn_fwd, &a, dout, NO, EPS, FD_TOL));
    CHECK(nnt_gradcheck("dxk", a.x, dxk, NK, xattn_fwd, &a, dout, NO, EPS, FD_TOL));
    CHECK(nnt_gradcheck("dxv", a.xv, dxv, NK, xattn_fwd, &a, dout, NO, EPS, FD_TOL));
    for (int k = 0; k < 4; k++) {
        CHECK(nnt_gradcheck(XW[2 * k], a.xw[k], gw[k], C_ * C_, xattn_fwd, &a, dout, NO, EPS, FD_TOL));
        CHECK(nnt_gradcheck(XW[2 * k + 1], a.xb[k], gb[k], C_, xattn_fwd, &a, dout, NO, EPS, FD_TOL));
    }
}

static void test_xattn_gradcheck_fast(void) { xattn_gradcheck(true); }
static void test_xattn_gradcheck_ref(void) { xattn_gradcheck(false); }

/* the same sequence as keys and values: one gradient pointer receives both contributions */
static void test_xattn_shared_kv(void)
{
    static attn_ctx a;
    memset(&a, 0, sizeof a);
    nnt_fill(a.x, sizeof a.x / 4, 51), nnt_fill(a.xq, sizeof a.xq / 4, 52);
    for (int k = 0; k < 4; k++) nnt_fill(a.xw[k], C_ * C_, 60 + k), nnt_fill(a.xb[k], C_, 70 + k);
    memcpy(a.xv, a.x, sizeof a.x);
    enum { NO = B_ * TQ * C_, NK = B_ * TK * C_ };
    float dout[NO], out[NO], dk[NK] = {0}, dv[NK] = {0}, dkv[NK] = {0};
    float scratch[2 * NO + 2 * NK + TQ * TK];
    nnt_fill(dout, NO, 80);
    nn_xattn_weights w = xweights(&a);
    nn_xattn_cache c = {a.q, a.k, a.v, a.att, a.ctx};
    nn_xattn_grads g = {0};
    nn_xattn_forward(out, &c, a.xq, a.x, a.x, &w, B_, TQ, TK, C_, NH_);
    nn_xattn_backward(NULL, dk, dv, &g, scratch, dout, &c, a.xq, a.x, a.x, &w, B_, TQ, TK, C_, NH_);
    nn_xattn_backward(NULL, dkv, dkv, &g, scratch, dout, &c, a.xq, a.x, a.x, &w, B_, TQ, TK, C_, NH_);
    for (int i = 0; i < NK; i++) CHECK_NEAR(dkv[i], dk[i] + dv[i], 1e-5);
}

/* fast vs reference on a ragged shape, and the fast path is bitwise repeatable */
static void test_mhsa_fast_matches_ref_and_repeats(void)
{
    const int64_t B = 2, T = 70, C = 48, NH = 3, n = B * T * C;
    float *x = nnt_full((size_t)n, 0), *qw = nnt_full((size_t)(3 * C * C), 0), *qb = nnt_full((size_t)(3 * C), 0);
    float *pw = nnt_full((size_t)(C * C), 0), *pb = nnt_full((size_t)C, 0), *dy = nnt_full((size_t)n, 0);
    nnt_fill(x, (size_t)n, 1), nnt_fill(qw, (size_t)(3 * C * C), 2), nnt_fill(qb, (size_t)(3 * C), 3);
    nnt_fill(pw, (size_t)(C * C), 4), nnt_fill(pb, (size_t)C, 5), nnt_fill(dy, (size_t)n, 6);
    nn_mhsa_weights w = {qw, qb, pw, pb};
    float *out[3], *dx[3], *gqw[3];
    for (int r = 0; r < 3; r++) {
        nn_mhsa_cache c = {nnt_full((size_t)(3 * n), 0), nnt_full((size_t)(B * NH * T * T), 0), nnt_full((size_t)n, 0)};
        float *scratch = nnt_full(nn_mhsa_scratch_floats(B, T, C, NH), 0);
        out[r] = nnt_full((size_t)n, 0), dx[r] = nnt_full((size_t)n, 0), gqw[r] = nnt_full((size_t)(3 * C * C), 0);
        nn_mhsa_grads g = {gqw[r], NULL, NULL, NULL};
        bool fast = r < 2;
        (fast ? nn_mhsa_forward : nn_mhsa_forward_ref)(out[r], &c, x, &w, B, T, C, NH);
        (fast ? nn_mhsa_backward : nn_mhsa_backward_ref)(dx[r], &g, scratch, dy, &c, x, &w, B, T, C, NH);
        free(c.qkv), free(c.att), free(c.ctx), free(scratch);
    }
    CHECK(memcmp(out[0], out[1], sizeof(float) * (size_t)n) == 0);
    CHECK(memcmp(dx[0], dx[1], sizeof(float) * (size_t)n) == 0);
    CHECK(memcmp(gqw[0], gqw[1], sizeof(float) * (size_t)(3 * C * C)) == 0);
    fixture_tensor ref = {.numel = n, .data = out[2]};
    CHECK(fixture_close(out[0], &ref, 1e-5, "out"));
    ref.data = dx[2];
    CHECK(fixture_close(dx[0], &ref, 1e-5, "dx"));
    ref = (fixture_tensor){.numel = 3 * C * C, .data = gqw[2]};
    CHECK(fixture_close(gqw[0], &ref, 1e-5, "dqkv_w"));
    for (int r = 0; r < 3; r++) free(out[r]), free(dx[r]), free(gqw[r]);
    free(x), free(qw), free(qb), free(pw), free(pb), free(dy);
}

/* the vectorised exp of the fast softmax over the whole useful range, against the reference softmax */
static void test_softmax_wide_range(void)
{
    enum { COLS = 2001 };
    static float x[COLS], a[COLS], b[COLS];
    for (int j = 0; j < COLS; j++) x[j] = -100.0f + 0.05f * (float)j; /* -100 .. 0 */
    nn_softmax_forward(a, x, 1, COLS);
    nn_softmax_forward_ref(b, x, 1, COLS);
    double maxrel = 0;
    for (int j = 0; j < COLS; j++)
        if (b[j] > 1e-30f) maxrel = fmax(maxrel, fabs((double)a[j] - b[j]) / b[j]);
    CHECK_MSG(maxrel < 2e-6, "max relative error %g", maxrel);
    nn_softmax_forward(a, a, 1, COLS); /* in place */
    CHECK(isfinite(a[0]) && a[0] > 0);
    float m[6] = {1, -INFINITY, 2, 0, NAN, 1}, y[6], yr[6]; /* row 0 has a masked entry, row 1 a NaN */
    nn_softmax_forward(y, m, 2, 3);
    nn_softmax_forward_ref(yr, m, 2, 3);
    CHECK(y[1] == 0.0f && memcmp(y, yr, 3 * sizeof(float)) == 0);
    CHECK(isnan(y[3]) && isnan(y[4]) && isnan(y[5]));
}

int main(void)
{
    RUN(test_softmax_fast);
    RUN(test_softmax_ref);
    RUN(test_mhsa_fixture_fast);
    RUN(test_mhsa_fixture_ref);
    RUN(test_xattn_fixture_fast);
    RUN(test_xattn_fixture_ref);
    RUN(test_mhsa_gradcheck_fast);
    RUN(test_mhsa_gradcheck_ref);
    RUN(test_xattn_gradcheck_fast);
    RUN(test_xattn_gradcheck_ref);
    RUN(test_xattn_shared_kv);
    RUN(test_mhsa_fast_matches_ref_and_repeats);
    RUN(test_softmax_wide_range);
    return check_done();
}
