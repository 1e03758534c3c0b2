/*
 * test_nn_loss.c: L1, L2 and BCE-with-logits losses (src/nn/loss.h), unmasked, 0/1-masked and soft-masked, value
 * and gradient against PyTorch (tests/reference/ref_loss.py); gradients accumulate and scale with dloss; an
 * all-zero mask gives 0; BCE stays finite for huge logits; finite differences of every gradient.
 */
#include "check.h"
#include "fixture.h"
#include "nn_testkit.h"

#include "nn/loss.h"

typedef float (*loss_fwd)(const float *, const float *, const float *, int64_t);
typedef void (*loss_bwd)(float *, float, const float *, const float *, const float *, int64_t);

static const struct {
    const char *name;
    loss_fwd fwd;
    loss_bwd bwd;
} LOSSES[3] = {{"l1", nn_l1_forward, nn_l1_backward},
               {"l2", nn_l2_forward, nn_l2_backward},
               {"bce", nn_bce_logits_forward, nn_bce_logits_backward}};

static void test_fixture(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/loss.bin", CHECK_FIXTURES());
    fixture *fx = fixture_load(path);
    CHECK(fx != NULL);
    const fixture_tensor *pred = fixture_find(fx, "pred"), *target = fixture_find(fx, "target");
    CHECK(pred && target);
    if (!pred || !target) return fixture_free(fx);
    int64_t n = pred->numel;
    const char *masks[3] = {"none", "mask", "soft"};
    for (int k = 0; k < 3; k++)
        for (int m = 0; m < 3; m++) {
            const float *mask = m ? fixture_find(fx, masks[m])->data : NULL;
            char key[64];
            snprintf(key, sizeof key, "%s.%s.value", LOSSES[k].name, masks[m]);
            float v = LOSSES[k].fwd(pred->data, target->data, mask, n);
            CHECK(fixture_close(&v, fixture_find(fx, key), 1e-6, key));
            float *grad = nnt_full((size_t)n, 0.5f);
            LOSSES[k].bwd(grad, 1.0f, pred->data, target->data, mask, n);
            snprintf(key, sizeof key, "%s.%s.grad", LOSSES[k].name, masks[m]);
            CHECK(nnt_close_acc(grad, 0.5f, fixture_find(fx, key), 1e-6, key));
            free(grad);
        }
    fixture_free(fx);
}

static void test_dloss_scales_and_accumulates(void)
{
    float p[5] = {0.1f, -2, 3, 0.5f, 1}, t[5] = {0, 1, 1, 0.5f, 0}, g1[5] = {0}, g2[5] = {1, 1, 1, 1, 1};
    for (int k = 0; k < 3; k++) {
        memset(g1, 0, sizeof g1);
        for (int i = 0; i < 5; i++) g2[i] = 1;
        LOSSES[k].bwd(g1, 1.0f, p, t, NULL, 5);
        LOSSES[k].bwd(g2, 3.0f, p, t, NULL, 5);
        for (int i = 0; i < 5; i++) CHECK_NEAR(g2[i], 1 + 3 * g1[i], 1e-6);
    }
    float l1g[5] = {0};
    nn_l1_backward(l1g, 1.0f, p, t, NULL, 5);
    CHECK(l1g[3] == 0.0f); /* |x| has gradient 0 at 0, as torch's sign */
}

static void test_empty_mask(void)
{
    float p[3] = {1, 2, 3}, t[3] = {0, 0, 0}, m[3] = {0, 0, 0}, g[3] = {0};
    for (int k = 0; k < 3; k++) {
        CHECK(LOSSES[k].fwd(p, t, m, 3) == 0.0f);
        LOSSES[k].bwd(g, 1.0f, p, t, m, 3);
    }
    CHECK(g[0] == 0 && g[1] == 0 && g[2] == 0);
}

static void test_bce_extreme_logits(void)
{
    float p[4] = {1e4f, -1e4f, 90, -90}, t[4] = {0, 1, 1, 0}, g[4] = {0};
    float v = nn_bce_logits_forward(p, t, NULL, 4);
    CHECK(isfinite(v));
    CHECK_NEAR(v, (1e4 + 1e4 + 0 + 0) / 4, 1e-2);
    nn_bce_logits_backward(g, 1.0f, p, t, NULL, 4);
    CHECK_NEAR(g[0], 0.25, 1e-6);
    CHECK_NEAR(g[1], -0.25, 1e-6);
    for (int i = 0; i < 4; i++) CHECK(isfinite(g[i]));
}

/* central differences of the loss value (summed in double) against the analytic gradient */
static void test_gradcheck(void)
{
    float p[9], t[9], m[9];
    nnt_fill(p, 9, 1), nnt_fill(t, 9, 2), nnt_fill(m, 9, 3);
    for (int i = 0; i < 9; i++) {
        t[i] = t[i] * 0.5f + 0.5f;
        m[i] = m[i] > 0 ? m[i] : 0;
        if (fabsf(p[i] - t[i]) < 0.05f) p[i] += 0.2f; /* keep L1 away from its kink */
    }
    for (int k = 0; k < 3; k++)
        for (int masked = 0; masked < 2; masked++) {
            float g[9] = {0};
            const float *mk = masked ? m : NULL;
            LOSSES[k].bwd(g, 1.0f, p, t, mk, 9);
            for (int i = 0; i < 9; i++) {
                const double eps = 1e-3;
                float keep = p[i];
                p[i] = keep + (float)eps;
                double lp = LOSSES[k].fwd(p, t, mk, 9);
                p[i] = keep - (float)eps;
                double lm = LOSSES[k].fwd(p, t, mk, 9);
                p[i] = keep;
                CHECK_MSG(fabs((lp - lm) / (2 * eps) - g[i]) < 2e-3, "%s masked %d: element %d: fd %g, analytic %g",
                          LOSSES[k].name, masked, i, (lp - lm) / (2 * eps), g[i]);
            }
        }
}

int main(void)
{
    RUN(test_fixture);
    RUN(test_dloss_scales_and_accumulates);
    RUN(test_empty_mask);
    RUN(test_bce_extreme_logits);
    RUN(test_gradcheck);
    return check_done();
}
