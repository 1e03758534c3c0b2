/*
 * test_nn_convblocks.c: whole convolutional blocks assembled from the engine's ops, forward and backward,
 * against PyTorch (tests/reference/ref_blocks.py), once with the reference ops and once with the fast ops (oneDNN
 * conv plans, fast norms and activations):
 *   - the ResNet block GroupNorm-SiLU-Conv3x3-GroupNorm-SiLU-Conv3x3 + skip (1x1 conv when channels change);
 *   - the temporal stack, depth 3 x [Conv3d 3x3x3 - GroupNorm - ReLU].
 * Checks the output, the input gradient and every parameter gradient (named as the PyTorch state dict).
 * (The attention and ViT blocks are in test_nn_blocks.c.)
 */
#include "check.h"
#include "fixture.h"
#include "nn_testkit.h"

#include "nn/act.h"
#include "nn/conv.h"
#include "nn/norm.h"
#include "nn/tensor_ops.h"

#define TOL 2e-5

/* A conv layer that runs through the reference or a oneDNN plan. */
typedef struct conv_layer {
    nn_conv_shape s;
    bool is3d;
    nn_conv2d_plan *plan; /* NULL: reference */
    const float *w, *b;
    float *dw, *db;
} conv_layer;

static void conv_init(conv_layer *l, nn_conv_shape s, bool is3d, bool fast)
{
    l->s = s, l->is3d = is3d, l->plan = NULL;
    if (fast) CHECK_OK(is3d ? nn_conv3d_plan_new(&l->plan, &s) : nn_conv2d_plan_new(&l->plan, &s));
}

static void conv_fwd(conv_layer *l, float *out, const float *x)
{
    if (l->plan) (l->is3d ? nn_conv3d_forward : nn_conv2d_forward)(l->plan, out, x, l->w, l->b);
    else (l->is3d ? nn_conv3d_forward_ref : nn_conv2d_forward_ref)(out, x, l->w, l->b, &l->s);
}

static void conv_bwd(conv_layer *l, float *dx, const float *dout, const float *x)
{
    if (l->plan) (l->is3d ? nn_conv3d_backward : nn_conv2d_backward)(l->plan, dx, l->dw, l->db, dout, x, l->w);
    else (l->is3d ? nn_conv3d_backward_ref : nn_conv2d_backward_ref)(dx, l->dw, l->db, dout, x, l->w, &l->s);
}

#define GN_FWD(fast) ((fast) ? nn_groupnorm_forward : nn_groupnorm_forward_ref)
#define GN_BWD(fast) ((fast) ? nn_groupnorm_backward : nn_groupnorm_backward_ref)
#define ACT_FWD(fast) ((fast) ? nn_act_forward : nn_act_forward_ref)
#define ACT_BWD(fast) ((fast) ? nn_act_backward : nn_act_backward_ref)

/* A parameter (and its gradient, zeroed) named as in the state dict. */
typedef struct param {
    const fixture_tensor *value, *grad_ref;
    float *grad;
} param;

static int param_get(param *p, const fixture *fx, const char *prefix, const char *name)
{
    char key[128];
    snprintf(key, sizeof key, "%s%s", prefix, name);
    p->value = fixture_find(fx, key);
    snprintf(key, sizeof key, "%sgrad.%s", prefix, name);
    p->grad_ref = fixture_find(fx, key);
    p->grad = p->value ? nnt_full((size_t)p->value->numel, 0) : NULL;
    CHECK_MSG(p->value && p->grad_ref, "missing %s%s", prefix, name);
    return p->value && p->grad_ref;
}

static void param_check(param *p, const char *name, bool fast)
{
    if (p->grad && p->grad_ref)
        CHECK_MSG(fixture_close(p->grad, p->grad_ref, TOL, name), "%s %s", name, fast ? "fast" : "ref");
    free(p->grad);
}

/* ---- ResNet block ---- */

enum { N1W, N1B, C1W, C1B, N2W, N2B, C2W, C2B, SKW, SKB, NPARAM };
static const char *const res_names[NPARAM] = {"norm1.weight", "norm1.bias", "conv1.weight", "conv1.bias",
                                              "norm2.weight", "norm2.bias", "conv2.weight", "conv2.bias",
                                              "skip.weight",  "skip.bias"};

static void resblock_case(const fixture *fx, int i, bool fast)
{
    char pre[16];
    snprintf(pre, sizeof pre, "%d.", i);
    const fixture_tensor *ts = nnt_get(fx, i, "shape"), *x = nnt_get(fx, i, "x"), *dout = nnt_get(fx, i, "dout");
    const fixture_tensor *out = nnt_get(fx, i, "out"), *dx_ref = nnt_get(fx, i, "dx");
    if (!ts || !x || !dout || !out || !dx_ref) {
        CHECK(0);
        return;
    }
    const int64_t N = (int64_t)ts->data[0], Ci = (int64_t)ts->data[1], Co = (int64_t)ts->data[2];
    const int64_t H = (int64_t)ts->data[3], W = (int64_t)ts->data[4], G = (int64_t)ts->data[5], S = H * W;
    const bool skip = Ci != Co;
    param p[NPARAM] = {0};
    int ok = 1;
    for (int k = 0; k < (skip ? NPARAM : SKW); k++) ok &= param_get(&p[k], fx, pre, res_names[k]);
    conv_layer c1 = {0}, c2 = {0}, cs = {0};
    nn_conv_shape s1 = {.N = N, .C = Ci, .OC = Co, .D = 1, .H = H, .W = W, .K = 3, .stride = 1, .pad = 1, .bias = 1};
    nn_conv_shape s2 = s1, ss = s1;
    s2.C = Co, ss.K = 1, ss.pad = 0;
    conv_init(&c1, s1, false, fast), conv_init(&c2, s2, false, fast);
    if (skip) conv_init(&cs, ss, false, fast);
    const size_t ni = (size_t)(N * Ci * S), no = (size_t)(N * Co * S);
    float *gn1 = nnt_full(ni, 0), *a1 = nnt_full(ni, 0), *h1 = nnt_full(no, 0), *gn2 = nnt_full(no, 0);
    float *a2 = nnt_full(no, 0), *h2 = nnt_full(no, 0), *sk = nnt_full(no, 0), *y = nnt_full(no, 0);
    float *m1 = nnt_full((size_t)(N * G), 0), *r1 = nnt_full((size_t)(N * G), 0);
    float *m2 = nnt_full((size_t)(N * G), 0), *r2 = nnt_full((size_t)(N * G), 0);
    float *d_a2 = nnt_full(no, 0), *d_gn2 = nnt_full(no, 0), *d_h1 = nnt_full(no, 0), *d_a1 = nnt_full(ni, 0);
    float *d_gn1 = nnt_full(ni, 0), *dx = nnt_full(ni, 0);
    if (ok && (!fast || (c1.plan && c2.plan && (!skip || cs.plan)))) {
        const float *xv = x->data;
#define PV(k) (p[k].value->data)
        c1.w = PV(C1W), c1.b = PV(C1B), c1.dw = p[C1W].grad, c1.db = p[C1B].grad;
        c2.w = PV(C2W), c2.b = PV(C2B), c2.dw = p[C2W].grad, c2.db = p[C2B].grad;
        if (skip) cs.w = PV(SKW), cs.b = PV(SKB), cs.dw = p[SKW].grad, cs.db = p[SKB].grad;
        /* forward */
        GN_FWD(fast)(gn1, m1, r1, xv, PV(N1W), PV(N1B), N, Ci, S, G, 1e-5f);
        ACT_FWD(fast)(a1, gn1, ni, NN_ACT_SILU);
        conv_fwd(&c1, h1, a1);
        GN_FWD(fast)(gn2, m2, r2, h1, PV(N2W), PV(N2B), N, Co, S, G, 1e-5f);
        ACT_FWD(fast)(a2, gn2, no, NN_ACT_SILU);
        conv_fwd(&c2, h2, a2);
        if (skip) conv_fwd(&cs, sk, xv);
        (fast ? nn_add_forward : nn_add_forward_ref)(y, skip ? sk : xv, h2, no);
        CHECK_MSG(fixture_close(y, out, TOL, "out"), "resblock %d %s: out", i, fast ? "fast" : "ref");
        /* backward */
        conv_bwd(&c2, d_a2, dout->data, a2);
        ACT_BWD(fast)(d_gn2, d_a2, gn2, no, NN_ACT_SILU);
        GN_BWD(fast)(d_h1, p[N2W].grad, p[N2B].grad, d_gn2, h1, PV(N2W), m2, r2, N, Co, S, G);
        conv_bwd(&c1, d_a1, d_h1, a1);
        ACT_BWD(fast)(d_gn1, d_a1, gn1, ni, NN_ACT_SILU);
        GN_BWD(fast)(dx, p[N1W].grad, p[N1B].grad, d_gn1, xv, PV(N1W), m1, r1, N, Ci, S, G);
        if (skip) conv_bwd(&cs, dx, dout->data, xv);
        else (fast ? nn_add_backward : nn_add_backward_ref)(dx, NULL, dout->data, no);
#undef PV
        CHECK_MSG(fixture_close(dx, dx_ref, TOL, "dx"), "resblock %d %s: dx", i, fast ? "fast" : "ref");
    }
    for (int k = 0; k < NPARAM; k++) param_check(&p[k], res_names[k], fast);
    nn_conv2d_plan_free(c1.plan), nn_conv2d_plan_free(c2.plan), nn_conv2d_plan_free(cs.plan);
    float *bufs[] = {gn1, a1, h1, gn2, a2, h2, sk, y, m1, r1, m2, r2, d_a2, d_gn2, d_h1, d_a1, d_gn1, dx};
    for (size_t k = 0; k < sizeof bufs / sizeof *bufs; k++) free(bufs[k]);
}

static void resblock(bool fast)
{
    char path[512];
    snprintf(path, sizeof path, "%s/resblock.bin", CHECK_FIXTURES());
    fixture *fx = fixture_load(path);
    int n = nnt_cases(fx);
    CHECK(fx && n > 0);
    for (int i = 0; i < n; i++) resblock_case(fx, i, fast);
    fixture_free(fx);
}

static void test_resblock_ref_vs_torch(void) { resblock(false); }
static void test_resblock_fast_vs_torch(void) { resblock(true); }

/* ---- Conv3d-GroupNorm-ReLU stack ---- */

#define MAX_DEPTH 8

static void conv3d_stack(bool fast)
{
    char path[512];
    snprintf(path, sizeof path, "%s/conv3d_stack.bin", CHECK_FIXTURES());
    fixture *fx = fixture_load(path);
    const fixture_tensor *ts = fx ? fixture_find(fx, "shape") : NULL, *x = fx ? fixture_find(fx, "x") : NULL;
    const fixture_tensor *dout = fx ? fixture_find(fx, "dout") : NULL, *out = fx ? fixture_find(fx, "out") : NULL;
    const fixture_tensor *dx_ref = fx ? fixture_find(fx, "dx") : NULL;
    CHECK(ts && x && dout && out && dx_ref);
    if (!ts || !x || !dout || !out || !dx_ref) {
        fixture_free(fx);
        return;
    }
    const float *v = ts->data;
    const int64_t N = (int64_t)v[0], C = (int64_t)v[1], T = (int64_t)v[2], H = (int64_t)v[3], W = (int64_t)v[4];
    const int64_t G = (int64_t)v[5], S = T * H * W;
    const int depth = (int)v[6];
    CHECK(depth >= 1 && depth <= MAX_DEPTH);
    const size_t n = (size_t)(N * C * S), ns = (size_t)(N * G);
    nn_conv_shape s = {.N = N, .C = C, .OC = C, .D = T, .H = H, .W = W, .K = 3, .stride = 1, .pad = 1, .bias = 1};
    conv_layer conv[MAX_DEPTH] = {0};
    param cw[MAX_DEPTH] = {0}, cb[MAX_DEPTH] = {0}, nw[MAX_DEPTH] = {0}, nb[MAX_DEPTH] = {0};
    /* per layer: its input act[j], conv output h[j], norm output z[j] (ReLU input); act[depth] is the output */
    float *act[MAX_DEPTH + 1] = {0}, *h[MAX_DEPTH] = {0}, *z[MAX_DEPTH] = {0}, *mean[MAX_DEPTH] = {0},
          *rstd[MAX_DEPTH] = {0};
    int ok = depth >= 1 && depth <= MAX_DEPTH;
    for (int j = 0; ok && j < depth; j++) {
        char name[96];
        snprintf(name, sizeof name, "layers.%d.conv.weight", j), ok &= param_get(&cw[j], fx, "", name);
        snprintf(name, sizeof name, "layers.%d.conv.bias", j), ok &= param_get(&cb[j], fx, "", name);
        snprintf(name, sizeof name, "layers.%d.norm.weight", j), ok &= param_get(&nw[j], fx, "", name);
        snprintf(name, sizeof name, "layers.%d.norm.bias", j), ok &= param_get(&nb[j], fx, "", name);
        conv_init(&conv[j], s, true, fast);
        ok &= !fast || conv[j].plan != NULL;
        act[j + 1] = nnt_full(n, 0), h[j] = nnt_full(n, 0), z[j] = nnt_full(n, 0);
        mean[j] = nnt_full(ns, 0), rstd[j] = nnt_full(ns, 0);
    }
    float *dcur = nnt_full(n, 0), *dtmp = nnt_full(n, 0);
    if (ok) {
        act[0] = x->data;
        for (int j = 0; j < depth; j++) {
            conv[j].w = cw[j].value->data, conv[j].b = cb[j].value->data;
            conv[j].dw = cw[j].grad, conv[j].db = cb[j].grad;
            conv_fwd(&conv[j], h[j], act[j]);
            GN_FWD(fast)(z[j], mean[j], rstd[j], h[j], nw[j].value->data, nb[j].value->data, N, C, S, G, 1e-5f);
            ACT_FWD(fast)(act[j + 1], z[j], n, NN_ACT_RELU);
        }
        CHECK_MSG(fixture_close(act[depth], out, TOL, "out"), "conv3d stack %s: out", fast ? "fast" : "ref");
        memcpy(dcur, dout->data, n * 4); /* dcur: gradient of act[j + 1] */
        for (int j = depth - 1; j >= 0; j--) {
            memset(dtmp, 0, n * 4);
            ACT_BWD(fast)(dtmp, dcur, z[j], n, NN_ACT_RELU); /* dtmp: d z[j] */
            memset(dcur, 0, n * 4);
            GN_BWD(fast)(dcur, nw[j].grad, nb[j].grad, dtmp, h[j], nw[j].value->data, mean[j], rstd[j], N, C, S, G);
            memset(dtmp, 0, n * 4);
            conv_bwd(&conv[j], dtmp, dcur, act[j]); /* dtmp: d act[j] */
            memcpy(dcur, dtmp, n * 4);
        }
        CHECK_MSG(fixture_close(dcur, dx_ref, TOL, "dx"), "conv3d stack %s: dx", fast ? "fast" : "ref");
    }
    for (int j = 0; j < MAX_DEPTH; j++) {
        param_check(&cw[j], "conv.weight", fast), param_check(&cb[j], "conv.bias", fast);
        param_check(&nw[j], "norm.weight", fast), param_check(&nb[j], "norm.bias", fast);
        nn_conv3d_plan_free(conv[j].plan);
        free(act[j + 1]), free(h[j]), free(z[j]), free(mean[j]), free(rstd[j]);
    }
    free(dcur), free(dtmp);
    fixture_free(fx);
}

static void test_conv3d_stack_ref_vs_torch(void) { conv3d_stack(false); }
static void test_conv3d_stack_fast_vs_torch(void) { conv3d_stack(true); }

int main(void)
{
    RUN(test_resblock_ref_vs_torch);
    RUN(test_resblock_fast_vs_torch);
    RUN(test_conv3d_stack_ref_vs_torch);
    RUN(test_conv3d_stack_fast_vs_torch);
    return check_done();
}
