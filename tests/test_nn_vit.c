/*
 * test_nn_vit.c: the ViT ops (src/nn/vit_ops.h) and two whole blocks against PyTorch fixtures
 * (tests/reference/ref_vit.py): patch embedding, bicubic position-embedding resize, token gather, forward and
 * gradients, fast path and reference; MAE masking properties; the scatter/gather round trip; finite differences
 * for patch embedding and the resize. The whole blocks of ref_vit.py are tested in test_nn_attnblocks.c.
 */
#include "check.h"
#include "fixture.h"
#include "nn_testkit.h"

#include "nn/vit_ops.h"

#define TOL 3e-5
#define GRAD_BASE 0.25f

static fixture *load(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/vit.bin", CHECK_FIXTURES());
    return fixture_load(path);
}

static const fixture_tensor *get(const fixture *fx, const char *prefix, int i, const char *name)
{
    char key[128];
    if (i >= 0) snprintf(key, sizeof key, "%s.%d.%s", prefix, i, name);
    else snprintf(key, sizeof key, "%s.%s", prefix, name);
    return fixture_find(fx, key);
}

static int cases(const fixture *fx, const char *prefix)
{
    const fixture_tensor *t = get(fx, prefix, -1, "cases");
    return t ? (int)t->data[0] : 0;
}

/* ---- patch embedding ---- */

static void patch_fixture(bool fast)
{
    fixture *fx = load();
    int n = cases(fx, "patch");
    CHECK(n > 0);
    for (int i = 0; i < n; i++) {
        const float *s = get(fx, "patch", i, "shape")->data;
        int64_t B = (int64_t)s[0], CI = (int64_t)s[1], H = (int64_t)s[2], W = (int64_t)s[3], P = (int64_t)s[4],
                D = (int64_t)s[5];
        int64_t N = B * (H / P) * (W / P), K = CI * P * P;
        const float *img = get(fx, "patch", i, "img")->data, *w = get(fx, "patch", i, "w")->data;
        const float *b = get(fx, "patch", i, "b")->data, *dout = get(fx, "patch", i, "dout")->data;
        float *out = nnt_full((size_t)(N * D), NAN), *cols = nnt_full((size_t)(N * K), NAN);
        float *dcols = nnt_full((size_t)(N * K), NAN), *dimg = nnt_full((size_t)(B * CI * H * W), GRAD_BASE);
        float *dw = nnt_full((size_t)(D * K), GRAD_BASE), *db = nnt_full((size_t)D, GRAD_BASE);
        if (fast) {
            nn_patch_embed_forward(out, cols, img, w, b, B, CI, H, W, P, D);
            nn_patch_embed_backward(dimg, dw, db, dcols, dout, cols, w, B, CI, H, W, P, D);
        } else {
            nn_patch_embed_forward_ref(out, img, w, b, B, CI, H, W, P, D);
            nn_patch_embed_backward_ref(dimg, dw, db, dout, img, w, B, CI, H, W, P, D);
        }
        CHECK(fixture_close(out, get(fx, "patch", i, "out"), TOL, "out"));
        CHECK(nnt_close_acc(dimg, GRAD_BASE, get(fx, "patch", i, "dimg"), TOL, "dimg"));
        CHECK(nnt_close_acc(dw, GRAD_BASE, get(fx, "patch", i, "dw"), TOL, "dw"));
        CHECK(nnt_close_acc(db, GRAD_BASE, get(fx, "patch", i, "db"), TOL, "db"));
        free(out), free(cols), free(dcols), free(dimg), free(dw), free(db);
    }
    fixture_free(fx);
}

static void test_patch_fast(void) { patch_fixture(true); }
static void test_patch_ref(void) { patch_fixture(false); }

/* ---- bicubic resize ---- */

static void bicubic_fixture(bool fast)
{
    fixture *fx = load();
    int n = cases(fx, "bicubic");
    CHECK(n > 0);
    for (int i = 0; i < n; i++) {
        const float *s = get(fx, "bicubic", i, "shape")->data;
        int64_t HI = (int64_t)s[0], WI = (int64_t)s[1], C = (int64_t)s[2], HO = (int64_t)s[3], WO = (int64_t)s[4];
        float *out = nnt_full((size_t)(HO * WO * C), NAN), *dx = nnt_full((size_t)(HI * WI * C), GRAD_BASE);
        (fast ? nn_bicubic_resize_forward : nn_bicubic_resize_forward_ref)(out, get(fx, "bicubic", i, "x")->data, HI,
                                                                           WI, HO, WO, C);
        CHECK(fixture_close(out, get(fx, "bicubic", i, "out"), TOL, "out"));
        (fast ? nn_bicubic_resize_backward : nn_bicubic_resize_backward_ref)(dx, get(fx, "bicubic", i, "dout")->data,
                                                                             HI, WI, HO, WO, C);
        CHECK(nnt_close_acc(dx, GRAD_BASE, get(fx, "bicubic", i, "dx"), TOL, "dx"));
        free(out), free(dx);
    }
    fixture_free(fx);
}

static void test_bicubic_fast(void) { bicubic_fixture(true); }
static void test_bicubic_ref(void) { bicubic_fixture(false); }

/* ---- gather / scatter / masking ---- */

static void test_gather_fixture(void)
{
    fixture *fx = load();
    const fixture_tensor *x = get(fx, "gather", -1, "x"), *fidx = get(fx, "gather", -1, "idx");
    CHECK(x && fidx);
    if (!x || !fidx) return fixture_free(fx);
    int64_t B = x->dims[0], T = x->dims[1], C = x->dims[2], K = fidx->dims[1];
    int64_t idx[64];
    for (int64_t i = 0; i < B * K; i++) idx[i] = (int64_t)fidx->data[i];
    float *out = nnt_full((size_t)(B * K * C), NAN), *dx = nnt_full((size_t)(B * T * C), GRAD_BASE);
    nn_gather_tokens_forward(out, x->data, idx, B, T, K, C);
    CHECK(fixture_close(out, get(fx, "gather", -1, "out"), 0, "out"));
    nn_gather_tokens_backward(dx, get(fx, "gather", -1, "dout")->data, idx, B, T, K, C);
    CHECK(nnt_close_acc(dx, GRAD_BASE, get(fx, "gather", -1, "dx"), 1e-6, "dx"));
    free(out), free(dx);
    fixture_free(fx);
}

static void test_masking(void)
{
    enum { B = 3, T = 50 };
    int64_t K = nn_mask_keep_count(T, 0.75f);
    CHECK(K == 12);
    CHECK(nn_mask_keep_count(T, 1.0f) == 1 && nn_mask_keep_count(T, 0.0f) == T);
    int64_t keep[B * T], mask[B * T], keep2[B * T];
    nn_rng r;
    nn_rng_seed(&r, 5);
    nn_mask_random(keep, mask, &r, B, T, K);
    for (int b = 0; b < B; b++) { /* kept and masked partition 0..T-1, each ascending */
        int seen[T] = {0};
        const int64_t *kb = keep + b * K, *mb = mask + b * (T - K);
        for (int64_t i = 0; i < K; i++) {
            seen[kb[i]]++;
            CHECK(i == 0 || kb[i] > kb[i - 1]);
        }
        for (int64_t i = 0; i < T - K; i++) {
            seen[mb[i]]++;
            CHECK(i == 0 || mb[i] > mb[i - 1]);
        }
        for (int t = 0; t < T; t++) CHECK(seen[t] == 1);
    }
    CHECK(memcmp(keep, keep + K, sizeof(int64_t) * K) != 0); /* sequences get different masks */
    nn_rng_seed(&r, 5);
    nn_mask_random(keep2, NULL, &r, B, T, K);
    CHECK(memcmp(keep, keep2, sizeof(int64_t) * B * K) == 0); /* same seed, same masks */
    nn_rng_seed(&r, 6);
    nn_mask_random(keep2, NULL, &r, B, T, K);
    CHECK(memcmp(keep, keep2, sizeof(int64_t) * B * K) != 0);
    /* uniformity: over many draws each token is kept about K/T of the time */
    int count[T] = {0};
    int64_t one[T];
    for (int d = 0; d < 4000; d++) {
        nn_mask_random(one, NULL, &r, 1, T, K);
        for (int64_t i = 0; i < K; i++) count[one[i]]++;
    }
    for (int t = 0; t < T; t++) CHECK(count[t] > 4000 * K / T * 0.8 && count[t] < 4000 * K / T * 1.2);
}

static void test_scatter_gather_roundtrip(void)
{
    enum { B = 2, T = 9, C = 3 };
    int64_t K = 4, keep[B * 4], mask[B * 5];
    nn_rng r;
    nn_rng_seed(&r, 9);
    nn_mask_random(keep, mask, &r, B, T, K);
    float x[B * T * C], kept[B * 4 * C], masked[B * 5 * C], back[B * T * C];
    nnt_fill(x, B * T * C, 3);
    nn_gather_tokens_forward(kept, x, keep, B, T, K, C);
    nn_gather_tokens_forward(masked, x, mask, B, T, T - K, C);
    memset(back, 0, sizeof back);
    nn_scatter_tokens_forward(back, kept, keep, B, T, K, C);
    nn_scatter_tokens_forward(back, masked, mask, B, T, T - K, C);
    CHECK(memcmp(back, x, sizeof x) == 0);
    float dk[B * 4 * C] = {0};
    nn_scatter_tokens_backward(dk, x, keep, B, T, K, C); /* the adjoint of scatter is gather */
    CHECK(memcmp(dk, kept, sizeof dk) == 0);
}

/* ---- finite differences ---- */

typedef struct small_ctx {
    bool fast;
    float img[2 * 2 * 6 * 5], w[3 * 2 * 2 * 2], b[3], cols[2 * 3 * 2 * 8];
    float grid[3 * 4 * 2];
} small_ctx;

static void patch_fwd(void *p, float *out)
{
    small_ctx *c = p;
    if (c->fast) nn_patch_embed_forward(out, c->cols, c->img, c->w, c->b, 2, 2, 6, 5, 2, 3);
    else nn_patch_embed_forward_ref(out, c->img, c->w, c->b, 2, 2, 6, 5, 2, 3);
}

static void resize_fwd(void *p, float *out)
{
    small_ctx *c = p;
    (c->fast ? nn_bicubic_resize_forward : nn_bicubic_resize_forward_ref)(out, c->grid, 3, 4, 5, 3, 2);
}

static void gradcheck(bool fast)
{
    static small_ctx c;
    c.fast = fast;
    nnt_fill(c.img, sizeof c.img / 4, 1), nnt_fill(c.w, sizeof c.w / 4, 2), nnt_fill(c.b, 3, 3);
    nnt_fill(c.grid, sizeof c.grid / 4, 4);
    enum { NO = 2 * 3 * 2 * 3 };
    float dout[NO], out[NO], dimg[sizeof c.img / 4] = {0}, dw[sizeof c.w / 4] = {0}, db[3] = {0};
    float dcols[sizeof c.cols / 4];
    nnt_fill(dout, NO, 5);
    patch_fwd(&c, out);
    if (fast) nn_patch_embed_backward(dimg, dw, db, dcols, dout, c.cols, c.w, 2, 2, 6, 5, 2, 3);
    else nn_patch_embed_backward_ref(dimg, dw, db, dout, c.img, c.w, 2, 2, 6, 5, 2, 3);
    CHECK(nnt_gradcheck("dimg", c.img, dimg, sizeof c.img / 4, patch_fwd, &c, dout, NO, 1e-2, 1e-3));
    CHECK(nnt_gradcheck("dw", c.w, dw, sizeof c.w / 4, patch_fwd, &c, dout, NO, 1e-2, 1e-3));
    CHECK(nnt_gradcheck("db", c.b, db, 3, patch_fwd, &c, dout, NO, 1e-2, 1e-3));
    enum { NR = 5 * 3 * 2 };
    float rout[NR], rdout[NR], dgrid[sizeof c.grid / 4] = {0};
    nnt_fill(rdout, NR, 6);
    (fast ? nn_bicubic_resize_backward : nn_bicubic_resize_backward_ref)(dgrid, rdout, 3, 4, 5, 3, 2);
    (void)rout;
    CHECK(nnt_gradcheck("dgrid", c.grid, dgrid, sizeof c.grid / 4, resize_fwd, &c, rdout, NR, 1e-2, 1e-3));
}

static void test_gradcheck_fast(void) { gradcheck(true); }
static void test_gradcheck_ref(void) { gradcheck(false); }

int main(void)
{
    RUN(test_patch_fast);
    RUN(test_patch_ref);
    RUN(test_bicubic_fast);
    RUN(test_bicubic_ref);
    RUN(test_gather_fixture);
    RUN(test_masking);
    RUN(test_scatter_gather_roundtrip);
    RUN(test_gradcheck_fast);
    RUN(test_gradcheck_ref);
    return check_done();
}
