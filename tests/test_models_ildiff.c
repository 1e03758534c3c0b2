/*
 * test_models_ildiff.c: the whole ILDiff matting path (src/models/ildiff_model.c) against PyTorch on a tiny
 * configuration (models_tiny.h; fixture models_ildiff.bin): forward, every gradient with and without the frozen
 * encoders, one-frame-at-a-time inference (float32, and with D_T's convs in bf16 within BF16_TOL); the model file (safetensors by state-dict name); fresh initialisation;
 * and the losses and part targets (models_losses.bin).
 */
#include "check.h"
#include "fixture.h"
#include "model_testkit.h"
#include "models_tiny.h"

#include "models/losses.h"
#include "nn/safetensors.h"
#include "nn/tensor_ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BF16_TOL 1e-2 /* |alpha, fg - PyTorch fp32| with D_T's convs in bf16 (bench/NOTES.md) */

/* ---- the whole matting path: rgb (1, 3, 3, 32, 48) -> alpha (1, 3, 1, 32, 48), fg (1, 3, 3, 32, 48) ---- */

/* Checks y (3, 4, 32, 48) against the fixture's alpha and fg. */
static int ildiff_outputs_match(const float *y, const fixture *fx)
{
    const int64_t F = 3, S = 32 * 48;
    float *alpha = malloc(sizeof(float) * (size_t)(F * S)), *fg = malloc(sizeof(float) * (size_t)(F * 3 * S));
    nn_slice_forward(alpha, y, F, 4, S, 0, 1);
    nn_slice_forward(fg, y, F, 4, S, 1, 3);
    int ok = mt_close(alpha, (size_t)(F * S), fx, "out", "alpha", MT_TOL) &&
             mt_close(fg, (size_t)(F * 3 * S), fx, "out", "fg", MT_TOL);
    free(alpha);
    free(fg);
    return ok;
}

static void test_ildiff_parity(void)
{
    fixture *fx = mt_load("ildiff");
    CHECK(fx != NULL);
    if (!fx) return;
    nn_params p;
    nn_params_init(&p);
    ildiff_model m;
    ildiff_model_config cfg = tiny_ildiff();
    CHECK_OK(ildiff_model_build(&m, &cfg, &p));
    CHECK_OK(nn_params_alloc(&p));
    CHECK(mt_load_params(&p, fx));
    const int64_t F = 3, S = 32 * 48;
    const float *rgb = mt_data(fx, "in", "rgb", (size_t)(F * 3 * S));
    const float *da = mt_data(fx, "dout", "alpha", (size_t)(F * S)), *dfg = mt_data(fx, "dout", "fg", (size_t)(F * 3 * S));
    if (rgb && da && dfg && ildiff_model_plan(&m, 1, 3, 32, 48, 3, true) == ILDIFF_OK) {
        ildiff_model_forward(&m, rgb);
        CHECK(ildiff_outputs_match(m.y, fx));
        float *dy = malloc(sizeof(float) * (size_t)(F * 4 * S));
        const float *parts[2] = {da, dfg};
        nn_concat_forward(dy, parts, (int64_t[]){1, 3}, 2, F, S);
        nn_params_zero_grad(&p);
        ildiff_model_backward(&m, dy, rgb, true);
        CHECK(mt_check_grads(&p, fx, MT_TOL) == 0);
        /* stage S3: E and the student frozen, the other gradients unchanged */
        nn_params_zero_grad(&p);
        ildiff_model_backward(&m, dy, rgb, false);
        for (int i = 0; i < p.count; i++) {
            const char *name = p.items[i].name;
            float *g = nn_params_grad(&p, i);
            if (strncmp(name, "temporal.", 9) == 0 || strncmp(name, "decoder.", 8) == 0) {
                CHECK(fixture_close(g, mt_get(fx, "grad", name), MT_TOL, name));
            } else {
                double sum = 0;
                for (size_t j = 0; j < p.items[i].numel; j++) sum += fabs(g[j]);
                CHECK_MSG(sum == 0, "%s has a gradient while frozen", name);
            }
        }
        free(dy);
    } else {
        CHECK(!"ildiff fixture or plan");
    }
    /* inference one frame at a time gives the same result */
    if (rgb && ildiff_model_plan(&m, 1, 3, 32, 48, 1, false) == ILDIFF_OK) {
        ildiff_model_forward(&m, rgb);
        CHECK(ildiff_outputs_match(m.y, fx));
    } else {
        CHECK(!"ildiff chunked plan");
    }
    /* the bf16 option: close to fp32, and not fp32 itself */
    const fixture_tensor *ref = mt_get(fx, "out", "alpha");
    ildiff_model_set_bf16(&m, true);
    if (rgb && ref && ildiff_model_plan(&m, 1, 3, 32, 48, 1, false) == ILDIFF_OK) {
        ildiff_model_forward(&m, rgb);
        double most = 0;
        for (int64_t f = 0; f < F; f++)
            for (int64_t k = 0; k < S; k++) most = fmax(most, fabs(m.y[f * 4 * S + k] - ref->data[f * S + k]));
        CHECK_MSG(most > 0 && most < BF16_TOL, "bf16 alpha differs from fp32 by %g", most);
    } else {
        CHECK(!"ildiff bf16 plan");
    }
    ildiff_model_set_bf16(&m, false);
    CHECK(ildiff_model_plan(&m, 1, 3, 32, 48, 1, true) == ILDIFF_ERR_ARG);
    ildiff_model_free(&m);
    nn_params_free(&p);
    fixture_free(fx);
}

/* The model file: saved as safetensors under the state-dict names, loaded by name into a fresh model (strictly:
 * a file missing one tensor is refused), the loaded model computes the same. */
static void test_ildiff_safetensors_roundtrip(void)
{
    fixture *fx = mt_load("ildiff");
    CHECK(fx != NULL);
    if (!fx) return;
    ildiff_model_config cfg = tiny_ildiff();
    nn_params a, b, c;
    nn_params_init(&a);
    nn_params_init(&b);
    nn_params_init(&c);
    ildiff_model ma, mb;
    CHECK_OK(ildiff_model_build(&ma, &cfg, &a));
    CHECK_OK(nn_params_alloc(&a));
    CHECK(mt_load_params(&a, fx));
    char path[1024];
    snprintf(path, sizeof path, "%s/tiny_ildiff.safetensors", CHECK_TMPDIR());
    CHECK_OK(nn_st_save_params(path, &a, a.data, NN_DTYPE_F32, NULL, true));
    CHECK_OK(ildiff_model_build(&mb, &cfg, &b));
    CHECK_OK(nn_params_alloc(&b));
    nn_st_file *f = NULL;
    CHECK_OK(nn_st_read(path, 1 << 26, &f));
    if (f) {
        CHECK_OK(nn_st_load_params(&b, f, 0));
        /* a model with one more tensor than the file (a deeper temporal adapter) is refused by name */
        ildiff_model mc;
        ildiff_model_config deeper = cfg;
        deeper.temporal.depth = 4;
        CHECK_OK(ildiff_model_build(&mc, &deeper, &c));
        CHECK_OK(nn_params_alloc(&c));
        CHECK(nn_st_load_params(&c, f, 0) != ILDIFF_OK);
        CHECK(strstr(ildiff_last_error(), "temporal.layers.3") != NULL);
        nn_st_free(f);
    }
    const float *rgb = mt_data(fx, "in", "rgb", 3 * 3 * 32 * 48);
    if (rgb && ildiff_model_plan(&mb, 1, 3, 32, 48, 3, false) == ILDIFF_OK) {
        ildiff_model_forward(&mb, rgb);
        CHECK(ildiff_outputs_match(mb.y, fx));
    } else {
        CHECK(!"ildiff fixture or plan");
    }
    ildiff_model_free(&mb);
    nn_params_free(&a);
    nn_params_free(&b);
    nn_params_free(&c);
    remove(path);
    fixture_free(fx);
}

/* Fresh weights: PyTorch's default bounds, norms at 1, the zero-initialised layers at 0, deterministic by seed. */
static void test_ildiff_init(void)
{
    ildiff_model_config cfg = tiny_ildiff();
    nn_params a, b;
    nn_params_init(&a);
    nn_params_init(&b);
    ildiff_model ma, mb;
    CHECK_OK(ildiff_model_build(&ma, &cfg, &a));
    CHECK_OK(ildiff_model_build(&mb, &cfg, &b));
    CHECK_OK(nn_params_alloc(&a));
    CHECK_OK(nn_params_alloc(&b));
    ildiff_model_init(&ma, &a, 7);
    ildiff_model_init(&mb, &b, 7);
    CHECK(memcmp(a.data, b.data, a.total * sizeof(float)) == 0);
    const nn_param *w = nn_params_find(&a, "decoder.down_blocks.1.resnets.0.conv1.weight"); /* fan_in 4 * 9 */
    const nn_param *n = nn_params_find(&a, "decoder.down_blocks.1.resnets.0.norm1.weight");
    const nn_param *z = nn_params_find(&a, "decoder.latent_conv_in.weight");
    const nn_param *t = nn_params_find(&a, "temporal.out.bias");
    CHECK(w && n && z && t);
    if (w && n && z && t) {
        float bound = 1.0f / sqrtf(36.0f), maxw = 0;
        for (size_t i = 0; i < w->numel; i++) maxw = fmaxf(maxw, fabsf(a.data[w->offset + i]));
        CHECK(maxw > 0.5f * bound && maxw <= bound);
        CHECK(a.data[n->offset] == 1 && a.data[n->offset + n->numel - 1] == 1);
        CHECK(mt_grad_sum_abs(&a) == 0);
        double zs = 0;
        for (size_t i = 0; i < z->numel; i++) zs += fabs(a.data[z->offset + i]);
        for (size_t i = 0; i < t->numel; i++) zs += fabs(a.data[t->offset + i]);
        CHECK(zs == 0);
    }
    ildiff_model_init(&mb, &b, 8);
    CHECK(memcmp(a.data, b.data, a.total * sizeof(float)) != 0);
    nn_params_free(&a);
    nn_params_free(&b);
}

static void test_ildiff_bad_config(void)
{
    nn_params p;
    nn_params_init(&p);
    ildiff_model m;
    ildiff_model_config cfg = tiny_ildiff();
    cfg.temporal.channels = 16; /* != the student's out_dim */
    CHECK(ildiff_model_build(&m, &cfg, &p) == ILDIFF_ERR_ARG);
    nn_params_free(&p);
}

/* ---- losses and part targets (models_losses.bin): values and gradients ---- */

/* Compares a loss value and the gradient it accumulated (from zero) with the fixture. */
static void check_loss(const fixture *fx, const char *name, float value, const float *grad, size_t n)
{
    const float *ref = mt_data(fx, "loss", name, 1);
    CHECK_MSG(ref && fabs(value - ref[0]) <= MT_TOL * fmax(1, fabs(ref[0])), "loss %s: %.7g, reference %.7g", name,
              value, ref ? ref[0] : NAN);
    CHECK(mt_close(grad, n, fx, "grad", name, MT_TOL));
}

static void test_losses_parity(void)
{
    fixture *fx = mt_load("losses");
    CHECK(fx != NULL);
    if (!fx) return;
    const int64_t N = 2, T = 3, S = 6 * 7, F = N * T, np = 2 * 12 * 3 * 4, nl = 2 * 6 * 10 * 12;
    const float *a = mt_data(fx, "in", "alpha", (size_t)(F * S)), *ag = mt_data(fx, "in", "alpha_gt", (size_t)(F * S));
    const float *fg = mt_data(fx, "in", "fg", (size_t)(F * 3 * S)), *fgg = mt_data(fx, "in", "fg_gt", (size_t)(F * 3 * S));
    const float *p = mt_data(fx, "in", "pred", np), *pt = mt_data(fx, "in", "target", np);
    const float *ids_f = mt_data(fx, "in", "part_ids", 2 * 10 * 12), *lg = mt_data(fx, "in", "logits", nl);
    if (!a || !ag || !fg || !fgg || !p || !pt || !ids_f || !lg) {
        fixture_free(fx);
        CHECK(!"losses fixture");
        return;
    }
    float *g = calloc((size_t)(F * 3 * S + nl), sizeof(float)), *mask = calloc((size_t)(F * 3 * S), sizeof(float));
    float v = ild_alpha_loss(a, ag, F * S);
    ild_alpha_loss_backward(g, 1, a, ag, F * S);
    check_loss(fx, "alpha", v, g, (size_t)(F * S));
    memset(g, 0, sizeof(float) * (size_t)(F * 3 * S));
    v = ild_rgb_loss(mask, fg, fgg, ag, F, S);
    ild_rgb_loss_backward(g, 1, mask, fg, fgg, F, S);
    check_loss(fx, "rgb", v, g, (size_t)(F * 3 * S));
    memset(g, 0, sizeof(float) * (size_t)np);
    v = ild_mse_loss(p, pt, np);
    ild_mse_loss_backward(g, 1, p, pt, np);
    check_loss(fx, "harmless", v, g, (size_t)np);
    check_loss(fx, "distill", v, g, (size_t)np);
    memset(g, 0, sizeof(float) * (size_t)(F * S));
    v = ild_coherence_loss(a, ag, N, T, S);
    ild_coherence_loss_backward(g, 1, a, ag, N, T, S);
    check_loss(fx, "coherence", v, g, (size_t)(F * S));
    /* part targets, then the teacher loss on the fixture's logits */
    int32_t ids[2 * 10 * 12];
    for (int i = 0; i < 2 * 10 * 12; i++) ids[i] = (int32_t)ids_f[i];
    static const int32_t offsets[4][2] = {{0, 1}, {1, 0}, {0, 4}, {4, 0}};
    float *tg = calloc((size_t)nl, sizeof(float)), *wt = calloc((size_t)nl, sizeof(float));
    ild_part_targets(tg, wt, ids, 2, 10, 12, offsets, 4);
    CHECK(mt_close(tg, (size_t)nl, fx, "out", "part_targets", 0));
    CHECK(mt_close(wt, (size_t)nl, fx, "out", "part_weights", 0));
    memset(g, 0, sizeof(float) * (size_t)nl);
    v = ild_teacher_loss(lg, tg, wt, nl);
    ild_teacher_loss_backward(g, 1, lg, tg, wt, nl);
    check_loss(fx, "teacher", v, g, (size_t)nl);
    free(tg);
    free(wt);
    free(g);
    free(mask);
    fixture_free(fx);
}

int main(void)
{
    RUN(test_ildiff_parity);
    RUN(test_ildiff_safetensors_roundtrip);
    RUN(test_ildiff_init);
    RUN(test_ildiff_bad_config);
    RUN(test_losses_parity);
    return check_done();
}
