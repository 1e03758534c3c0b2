/*
 * test_nn_attnblocks.c: whole blocks composed from the engine's ops against PyTorch (tests/reference/ref_vit.py):
 *   - a pre-norm ViT block as EfficientSAM's: x + attn(norm1(x)), then + mlp(norm2(.)), MLP fc1 -> GELU -> fc2;
 *   - a spatial attention block as diffusers': x + to_out(attention(group_norm(x) as H*W tokens)).
 * Forward output and every gradient (input and all parameters), once with the fast ops and once with the
 * reference ops. The parameters live in an nn_params table and are filled from the fixture by state-dict name.
 */
#include "check.h"
#include "fixture.h"
#include "nn_testkit.h"

#include "nn/act.h"
#include "nn/attention.h"
#include "nn/linear.h"
#include "nn/norm.h"
#include "nn/params.h"
#include "nn/vit_ops.h"

#define TOL 5e-5

static fixture *load(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/vit.bin", CHECK_FIXTURES());
    return fixture_load(path);
}

/* A bump list of buffers freed together. */
typedef struct bufs {
    float *p[48];
    int n;
} bufs;

static float *buf(bufs *b, int64_t n)
{
    if (b->n >= 48) abort();
    return b->p[b->n++] = nnt_full((size_t)n, NAN);
}

static void bufs_free(bufs *b)
{
    for (int i = 0; i < b->n; i++) free(b->p[i]);
}

/* Registers `count` parameters, allocates, and fills them with fixture tensors "<prefix>p.<name>". */
static bool params_from_fixture(nn_params *p, const fixture *fx, const char *prefix, const char *const *names,
                                const int64_t (*shapes)[2], int count, float **w, float **g)
{
    nn_params_init(p);
    for (int i = 0; i < count; i++)
        CHECK_OK(nn_params_add(p, names[i], shapes[i][1] ? 2 : 1, shapes[i], shapes[i][1] ? NN_PARAM_DECAY : 0, &w[i],
                               &g[i]));
    CHECK_OK(nn_params_alloc(p));
    for (int i = 0; i < count; i++) {
        char key[256];
        snprintf(key, sizeof key, "%sp.%s", prefix, names[i]);
        const fixture_tensor *t = fixture_find(fx, key);
        if (!t || (size_t)t->numel != p->items[i].numel) return false;
        memcpy(w[i], t->data, sizeof(float) * (size_t)t->numel);
    }
    return true;
}

static void check_grads(const nn_params *p, const fixture *fx, const char *prefix)
{
    for (int i = 0; i < p->count; i++) {
        char key[256];
        snprintf(key, sizeof key, "%sg.%s", prefix, p->items[i].name);
        CHECK(fixture_close(nn_params_grad(p, i), fixture_find(fx, key), TOL, key));
    }
}

/* ---- ViT block ---- */

enum { N1W, N1B, QKVW, QKVB, PROJW, PROJB, N2W, N2B, FC1W, FC1B, FC2W, FC2B, VIT_NP };
static const char *const VIT_NAMES[VIT_NP] = {
    "norm1.weight", "norm1.bias", "attn.qkv.weight", "attn.qkv.bias", "attn.proj.weight", "attn.proj.bias",
    "norm2.weight", "norm2.bias", "mlp.fc1.weight", "mlp.fc1.bias", "mlp.fc2.weight", "mlp.fc2.bias"};

static void vit_block_case(const fixture *fx, int i, bool fast)
{
    char prefix[32];
    snprintf(prefix, sizeof prefix, "block.%d.", i);
    char key[64];
    snprintf(key, sizeof key, "%sshape", prefix);
    const float *s = fixture_find(fx, key)->data;
    const int64_t B = (int64_t)s[0], T = (int64_t)s[1], C = (int64_t)s[2], NH = (int64_t)s[3], M = B * T;
    const int64_t shapes[VIT_NP][2] = {{C, 0}, {C, 0}, {3 * C, C}, {3 * C, 0}, {C, C},     {C, 0},
                                       {C, 0}, {C, 0}, {4 * C, C}, {4 * C, 0}, {C, 4 * C}, {C, 0}};
    nn_params p;
    float *w[VIT_NP], *g[VIT_NP];
    CHECK(params_from_fixture(&p, fx, prefix, VIT_NAMES, shapes, VIT_NP, w, g));
    snprintf(key, sizeof key, "%sx", prefix);
    const float *x = fixture_find(fx, key)->data;
    snprintf(key, sizeof key, "%sdout", prefix);
    const float *dy = fixture_find(fx, key)->data;

    bufs bb = {0};
    float *h1 = buf(&bb, M * C), *mean1 = buf(&bb, M), *rstd1 = buf(&bb, M), *ao = buf(&bb, M * C);
    float *x1 = buf(&bb, M * C), *h2 = buf(&bb, M * C), *mean2 = buf(&bb, M), *rstd2 = buf(&bb, M);
    float *m1 = buf(&bb, M * 4 * C), *gl = buf(&bb, M * 4 * C), *m2 = buf(&bb, M * C), *y = buf(&bb, M * C);
    nn_mhsa_cache cache = {buf(&bb, M * 3 * C), buf(&bb, B * NH * T * T), buf(&bb, M * C)};
    nn_mhsa_weights aw = {w[QKVW], w[QKVB], w[PROJW], w[PROJB]};
    nn_mhsa_grads ag = {g[QKVW], g[QKVB], g[PROJW], g[PROJB]};

    /* forward */
    (fast ? nn_layernorm_forward : nn_layernorm_forward_ref)(h1, mean1, rstd1, x, w[N1W], w[N1B], M, C, 1e-6f);
    (fast ? nn_mhsa_forward : nn_mhsa_forward_ref)(ao, &cache, h1, &aw, B, T, C, NH);
    for (int64_t k = 0; k < M * C; k++) x1[k] = x[k] + ao[k];
    (fast ? nn_layernorm_forward : nn_layernorm_forward_ref)(h2, mean2, rstd2, x1, w[N2W], w[N2B], M, C, 1e-6f);
    (fast ? nn_linear_forward : nn_linear_forward_ref)(m1, h2, w[FC1W], w[FC1B], M, C, 4 * C);
    (fast ? nn_act_forward : nn_act_forward_ref)(gl, m1, (size_t)(M * 4 * C), NN_ACT_GELU);
    (fast ? nn_linear_forward : nn_linear_forward_ref)(m2, gl, w[FC2W], w[FC2B], M, 4 * C, C);
    for (int64_t k = 0; k < M * C; k++) y[k] = x1[k] + m2[k];
    snprintf(key, sizeof key, "%sout", prefix);
    CHECK(fixture_close(y, fixture_find(fx, key), TOL, key));

    /* backward */
    float *dx1 = buf(&bb, M * C), *dgl = buf(&bb, M * 4 * C), *dm1 = buf(&bb, M * 4 * C), *dh = buf(&bb, M * C);
    float *dx = buf(&bb, M * C), *scratch = buf(&bb, (int64_t)nn_mhsa_scratch_floats(B, T, C, NH));
    nn_params_zero_grad(&p);
    memcpy(dx1, dy, sizeof(float) * (size_t)(M * C));
    memset(dgl, 0, sizeof(float) * (size_t)(M * 4 * C));
    memset(dm1, 0, sizeof(float) * (size_t)(M * 4 * C));
    memset(dh, 0, sizeof(float) * (size_t)(M * C));
    (fast ? nn_linear_backward : nn_linear_backward_ref)(dgl, g[FC2W], g[FC2B], dy, gl, w[FC2W], M, 4 * C, C);
    (fast ? nn_act_backward : nn_act_backward_ref)(dm1, dgl, m1, (size_t)(M * 4 * C), NN_ACT_GELU);
    (fast ? nn_linear_backward : nn_linear_backward_ref)(dh, g[FC1W], g[FC1B], dm1, h2, w[FC1W], M, C, 4 * C);
    (fast ? nn_layernorm_backward : nn_layernorm_backward_ref)(dx1, g[N2W], g[N2B], dh, x1, w[N2W], mean2, rstd2, M,
                                                               C);
    memcpy(dx, dx1, sizeof(float) * (size_t)(M * C));
    memset(dh, 0, sizeof(float) * (size_t)(M * C));
    (fast ? nn_mhsa_backward : nn_mhsa_backward_ref)(dh, &ag, scratch, dx1, &cache, h1, &aw, B, T, C, NH);
    (fast ? nn_layernorm_backward : nn_layernorm_backward_ref)(dx, g[N1W], g[N1B], dh, x, w[N1W], mean1, rstd1, M, C);
    snprintf(key, sizeof key, "%sdx", prefix);
    CHECK(fixture_close(dx, fixture_find(fx, key), TOL, key));
    check_grads(&p, fx, prefix);
    bufs_free(&bb);
    nn_params_free(&p);
}

static void vit_block(bool fast)
{
    fixture *fx = load();
    const fixture_tensor *n = fixture_find(fx, "block.cases");
    CHECK(n && n->data[0] > 0);
    for (int i = 0; n && i < (int)n->data[0]; i++) vit_block_case(fx, i, fast);
    fixture_free(fx);
}

static void test_vit_block_fast(void) { vit_block(true); }
static void test_vit_block_ref(void) { vit_block(false); }

/* ---- spatial attention block ---- */

enum { GNW, GNB, QW, QB, KW, KB, VW, VB, OW, OB, ATT_NP };
static const char *const ATT_NAMES[ATT_NP] = {"group_norm.weight", "group_norm.bias", "to_q.weight", "to_q.bias",
                                              "to_k.weight",       "to_k.bias",       "to_v.weight", "to_v.bias",
                                              "to_out.0.weight",   "to_out.0.bias"};

static void attn_block(bool fast)
{
    fixture *fx = load();
    const fixture_tensor *sh = fixture_find(fx, "attnblock.shape");
    CHECK(sh != NULL);
    if (!sh) return fixture_free(fx);
    const float *s = sh->data;
    const int64_t N = (int64_t)s[0], C = (int64_t)s[1], S = (int64_t)s[2] * (int64_t)s[3], G = (int64_t)s[4],
                  NH = (int64_t)s[5];
    const int64_t shapes[ATT_NP][2] = {{C, 0}, {C, 0}, {C, C}, {C, 0}, {C, C}, {C, 0}, {C, C}, {C, 0}, {C, C}, {C, 0}};
    nn_params p;
    float *w[ATT_NP], *g[ATT_NP];
    CHECK(params_from_fixture(&p, fx, "attnblock.", ATT_NAMES, shapes, ATT_NP, w, g));
    const float *x = fixture_find(fx, "attnblock.x")->data, *dy = fixture_find(fx, "attnblock.dout")->data;
    const int64_t n = N * C * S;
    bufs bb = {0};
    float *h = buf(&bb, n), *mean = buf(&bb, N * G), *rstd = buf(&bb, N * G), *t = buf(&bb, n), *a = buf(&bb, n);
    float *y = buf(&bb, n);
    nn_xattn_cache cache = {buf(&bb, n), buf(&bb, n), buf(&bb, n), buf(&bb, N * NH * S * S), buf(&bb, n)};
    nn_xattn_weights aw = {w[QW], w[QB], w[KW], w[KB], w[VW], w[VB], w[OW], w[OB]};
    nn_xattn_grads ag = {g[QW], g[QB], g[KW], g[KB], g[VW], g[VB], g[OW], g[OB]};

    (fast ? nn_groupnorm_forward : nn_groupnorm_forward_ref)(h, mean, rstd, x, w[GNW], w[GNB], N, C, S, G, 1e-6f);
    nn_map_to_tokens_forward(t, h, N, C, S);
    (fast ? nn_xattn_forward : nn_xattn_forward_ref)(a, &cache, t, t, t, &aw, N, S, S, C, NH);
    nn_tokens_to_map_forward(y, a, N, C, S);
    for (int64_t k = 0; k < n; k++) y[k] += x[k];
    CHECK(fixture_close(y, fixture_find(fx, "attnblock.out"), TOL, "attnblock.out"));

    float *dx = buf(&bb, n), *da = buf(&bb, n), *dt = buf(&bb, n), *dh = buf(&bb, n);
    float *scratch = buf(&bb, (int64_t)nn_xattn_scratch_floats(N, S, S, C, NH));
    nn_params_zero_grad(&p);
    memcpy(dx, dy, sizeof(float) * (size_t)n);
    memset(da, 0, sizeof(float) * (size_t)n);
    memset(dt, 0, sizeof(float) * (size_t)n);
    memset(dh, 0, sizeof(float) * (size_t)n);
    nn_tokens_to_map_backward(da, dy, N, C, S);
    (fast ? nn_xattn_backward : nn_xattn_backward_ref)(dt, dt, dt, &ag, scratch, da, &cache, t, t, t, &aw, N, S, S, C,
                                                       NH);
    nn_map_to_tokens_backward(dh, dt, N, C, S);
    (fast ? nn_groupnorm_backward : nn_groupnorm_backward_ref)(dx, g[GNW], g[GNB], dh, x, w[GNW], mean, rstd, N, C,
                                                               S, G);
    CHECK(fixture_close(dx, fixture_find(fx, "attnblock.dx"), TOL, "attnblock.dx"));
    check_grads(&p, fx, "attnblock.");
    bufs_free(&bb);
    nn_params_free(&p);
    fixture_free(fx);
}

static void test_attn_block_fast(void) { attn_block(true); }
static void test_attn_block_ref(void) { attn_block(false); }

int main(void)
{
    RUN(test_vit_block_fast);
    RUN(test_vit_block_ref);
    RUN(test_attn_block_fast);
    RUN(test_attn_block_ref);
    return check_done();
}
