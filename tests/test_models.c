/*
 * test_models.c: parity of the C models (src/models/) with the PyTorch reference (tests/reference/ildiff_models.py)
 * on tiny configurations (models_tiny.h): forward outputs, every parameter gradient and the input gradients of
 * L = sum(out * dout), fp32, relative error under 1e-4. Fixtures: tests/reference/ref_models.py (models_*.bin).
 * This file covers the parts one by one; test_models_ildiff.c the whole matting path, the model file, the
 * initialisation and the losses. Also: bad configurations are refused, and a disturbed weight makes the
 * comparison fail.
 */
#include "check.h"
#include "fixture.h"
#include "model_testkit.h"
#include "models_tiny.h"

#include "models/offset_encoder.h"
#include "models/sami.h"
#include "models/teacher.h"

#include <stdlib.h>
#include <string.h>

/* ---- temporal adapter: f (2, 3, 8, 3, 5) -> l (2, 3, 4, 4, 8), channels 8, depth 3, groups 2 ---- */


/* Runs the adapter on the fixture; with `disturb` one weight is changed first. Returns 1 when all matched. */
static int temporal_run(const fixture *fx, bool disturb)
{
    nn_params p;
    nn_params_init(&p);
    temporal_adapter m;
    int ok = 0;
    CHECK_OK(temporal_adapter_build(&m, &tiny_temporal, &p, ""));
    CHECK_OK(nn_params_alloc(&p));
    if (!mt_load_params(&p, fx)) goto done;
    if (disturb) m.layers[1].conv.w[5] += 0.01f;
    const int64_t N = 2, T = 3, C = 8, h = 3, w = 5, H8 = 4, W8 = 8;
    size_t nf = (size_t)(N * T * C * h * w), nl = (size_t)(N * T * 4 * H8 * W8);
    const float *f = mt_data(fx, "in", "f", nf), *dl = mt_data(fx, "dout", "l", nl);
    if (!f || !dl) goto done;
    CHECK_OK(temporal_adapter_plan(&m, N, T, h, w, H8, W8, true));
    temporal_adapter_forward(&m, f);
    int fwd = mt_close(m.l, nl, fx, "out", "l", MT_TOL);
    float *df = calloc(nf, sizeof(float));
    nn_params_zero_grad(&p);
    temporal_adapter_backward(&m, df, dl);
    int bwd = mt_check_grads(&p, fx, MT_TOL) == 0;
    int din = mt_close(df, nf, fx, "grad_in", "f", MT_TOL);
    free(df);
    ok = fwd && bwd && din;
done:
    temporal_adapter_free(&m);
    nn_params_free(&p);
    return ok;
}

static void test_temporal_parity(void)
{
    fixture *fx = mt_load("temporal");
    CHECK(fx != NULL);
    if (!fx) return;
    CHECK(temporal_run(fx, false));
    fixture_free(fx);
}

static void test_temporal_detects_change(void)
{
    fixture *fx = mt_load("temporal");
    CHECK(fx != NULL);
    if (!fx) return;
    printf("  (a disturbed weight must make the comparison fail:)\n");
    CHECK(!temporal_run(fx, true));
    fixture_free(fx);
}

static void test_temporal_bad_config(void)
{
    nn_params p;
    nn_params_init(&p);
    temporal_adapter m;
    temporal_config c = tiny_temporal;
    c.groups = 3;
    CHECK(temporal_adapter_build(&m, &c, &p, "") == ILDIFF_ERR_ARG);
    c = tiny_temporal;
    c.depth = TEMPORAL_MAX_DEPTH + 1;
    CHECK(temporal_adapter_build(&m, &c, &p, "") == ILDIFF_ERR_ARG);
    nn_params_free(&p);
}

/* Depth 0 is the ablation's "no temporal layers": only the out conv and the pooling. */
static void test_temporal_depth0(void)
{
    nn_params p;
    nn_params_init(&p);
    temporal_adapter m;
    temporal_config c = tiny_temporal;
    c.depth = 0;
    CHECK_OK(temporal_adapter_build(&m, &c, &p, "t."));
    CHECK(p.count == 2 && nn_params_find(&p, "t.out.weight") != NULL);
    CHECK_OK(nn_params_alloc(&p));
    for (size_t i = 0; i < p.total; i++) p.data[i] = 0.01f * (float)(i % 7);
    CHECK_OK(temporal_adapter_plan(&m, 1, 2, 2, 2, 4, 4, true));
    float f[1 * 2 * 8 * 2 * 2], df[sizeof f / sizeof *f] = {0}, dl[1 * 2 * 4 * 4 * 4];
    for (size_t i = 0; i < sizeof f / sizeof *f; i++) f[i] = (float)i / 10;
    for (size_t i = 0; i < sizeof dl / sizeof *dl; i++) dl[i] = 1;
    temporal_adapter_forward(&m, f);
    temporal_adapter_backward(&m, df, dl);
    /* each 2x2 feature cell is replicated onto a 2x2 block of the 4x4 latent grid */
    CHECK(m.l[0] == m.l[1] && m.l[0] == m.l[4] && m.l[0] == m.l[5]);
    double s = 0;
    for (size_t i = 0; i < sizeof df / sizeof *df; i++) s += fabs(df[i]);
    CHECK(s > 0);
    temporal_adapter_free(&m);
    nn_params_free(&p);
}

/* ---- VAE: encoder x (2, 3, 16, 24) -> z (2, 4, 2, 3); decoder z (2, 4, 2, 3) -> y (2, 3, 16, 24) ---- */


static void test_vae_encoder_parity(void)
{
    fixture *fx = mt_load("vae_encoder");
    CHECK(fx != NULL);
    if (!fx) return;
    nn_params p;
    nn_params_init(&p);
    vae_encoder m;
    CHECK_OK(vae_encoder_build(&m, &tiny_vae, &p, ""));
    CHECK_OK(nn_params_alloc(&p));
    CHECK(mt_load_params(&p, fx));
    size_t nx = 2 * 3 * 16 * 24, nz = 2 * 4 * 2 * 3;
    const float *x = mt_data(fx, "in", "x", nx), *dz = mt_data(fx, "dout", "z", nz);
    if (x && dz && vae_encoder_plan(&m, 2, 16, 24, true) == ILDIFF_OK) {
        vae_encoder_forward(&m, x);
        CHECK(mt_close(m.z, nz, fx, "out", "z", MT_TOL));
        float *dx = calloc(nx, sizeof(float));
        nn_params_zero_grad(&p);
        vae_encoder_backward(&m, dx, dz, x, false);
        CHECK(mt_check_grads(&p, fx, MT_TOL) == 0);
        CHECK(mt_close(dx, nx, fx, "grad_in", "x", MT_TOL));
        free(dx);
    } else {
        CHECK(!"vae encoder fixture or plan");
    }
    CHECK(vae_encoder_plan(&m, 1, 12, 20, false) == ILDIFF_ERR_ARG); /* not a multiple of 8 */
    vae_encoder_free(&m);
    nn_params_free(&p);
    fixture_free(fx);
}

static void test_vae_decoder_parity(void)
{
    fixture *fx = mt_load("vae_decoder");
    CHECK(fx != NULL);
    if (!fx) return;
    nn_params p;
    nn_params_init(&p);
    vae_decoder m;
    CHECK_OK(vae_decoder_build(&m, &tiny_vae, &p, ""));
    CHECK_OK(nn_params_alloc(&p));
    CHECK(mt_load_params(&p, fx));
    size_t nz = 2 * 4 * 2 * 3, ny = 2 * 3 * 16 * 24;
    const float *z = mt_data(fx, "in", "z", nz), *dy = mt_data(fx, "dout", "y", ny);
    if (z && dy && vae_decoder_plan(&m, 2, 2, 3, true) == ILDIFF_OK) {
        vae_decoder_forward(&m, z);
        CHECK(mt_close(m.y, ny, fx, "out", "y", MT_TOL));
        float *dz = calloc(nz, sizeof(float));
        nn_params_zero_grad(&p);
        vae_decoder_backward(&m, dz, dy, false);
        CHECK(mt_check_grads(&p, fx, MT_TOL) == 0);
        CHECK(mt_close(dz, nz, fx, "grad_in", "z", MT_TOL));
        /* frozen: the same latent gradient, no parameter gradient */
        memset(dz, 0, nz * sizeof(float));
        nn_params_zero_grad(&p);
        vae_decoder_backward(&m, dz, dy, true);
        CHECK(mt_close(dz, nz, fx, "grad_in", "z", MT_TOL));
        CHECK(mt_grad_sum_abs(&p) == 0);
        free(dz);
    } else {
        CHECK(!"vae decoder fixture or plan");
    }
    vae_decoder_free(&m);
    nn_params_free(&p);
    fixture_free(fx);
}

/* ---- offset encoder: x (2, 4, 16, 24) -> offset (2, 4, 2, 3), widths 4/4/8/8 ---- */

static void test_offset_encoder_parity(void)
{
    fixture *fx = mt_load("offset_encoder");
    CHECK(fx != NULL);
    if (!fx) return;
    nn_params p;
    nn_params_init(&p);
    offset_encoder m;
    offset_config cfg = {.widths = {4, 4, 8, 8}, .latent = 4};
    CHECK_OK(offset_encoder_build(&m, &cfg, &p, ""));
    CHECK(p.count == 18 && nn_params_find(&p, "blocks.16.bias") != NULL);
    CHECK_OK(nn_params_alloc(&p));
    CHECK(mt_load_params(&p, fx));
    size_t nx = 2 * 4 * 16 * 24, no = 2 * 4 * 2 * 3;
    const float *x = mt_data(fx, "in", "x", nx), *dof = mt_data(fx, "dout", "offset", no);
    if (x && dof && offset_encoder_plan(&m, 2, 16, 24, true) == ILDIFF_OK) {
        offset_encoder_forward(&m, x);
        CHECK(mt_close(m.c[OFFSET_CONVS - 1], no, fx, "out", "offset", MT_TOL));
        float *dx = calloc(nx, sizeof(float));
        nn_params_zero_grad(&p);
        offset_encoder_backward(&m, dx, dof, x);
        CHECK(mt_check_grads(&p, fx, MT_TOL) == 0);
        CHECK(mt_close(dx, nx, fx, "grad_in", "x", MT_TOL));
        free(dx);
    } else {
        CHECK(!"offset encoder fixture or plan");
    }
    offset_encoder_free(&m);
    nn_params_free(&p);
    fixture_free(fx);
}

/* ---- transparent decoder: rgb (2, 3, 16, 24), latent (2, 4, 2, 3) -> y (2, 4, 16, 24); widths 4/8/8/16 ---- */


static void test_transparent_decoder_parity(void)
{
    fixture *fx = mt_load("transparent_decoder");
    CHECK(fx != NULL);
    if (!fx) return;
    nn_params p;
    nn_params_init(&p);
    transparent_decoder m;
    CHECK_OK(transparent_decoder_build(&m, &tiny_td, &p, ""));
    CHECK_OK(nn_params_alloc(&p));
    CHECK(mt_load_params(&p, fx));
    size_t nr = 2 * 3 * 16 * 24, nl = 2 * 4 * 2 * 3, ny = 2 * 4 * 16 * 24;
    const float *rgb = mt_data(fx, "in", "rgb", nr), *lat = mt_data(fx, "in", "latent", nl);
    const float *dy = mt_data(fx, "dout", "y", ny);
    if (rgb && lat && dy && transparent_decoder_plan(&m, 2, 16, 24, true) == ILDIFF_OK) {
        transparent_decoder_forward(&m, rgb, lat);
        CHECK(mt_close(m.y, ny, fx, "out", "y", MT_TOL));
        float *drgb = calloc(nr, sizeof(float)), *dlat = calloc(nl, sizeof(float));
        nn_params_zero_grad(&p);
        transparent_decoder_backward(&m, drgb, dlat, dy, rgb, lat, false);
        CHECK(mt_check_grads(&p, fx, MT_TOL) == 0);
        CHECK(mt_close(drgb, nr, fx, "grad_in", "rgb", MT_TOL));
        CHECK(mt_close(dlat, nl, fx, "grad_in", "latent", MT_TOL));
        free(drgb);
        free(dlat);
    } else {
        CHECK(!"transparent decoder fixture or plan");
    }
    CHECK(transparent_decoder_plan(&m, 1, 20, 24, false) == ILDIFF_ERR_ARG); /* not a multiple of 8 */
    transparent_decoder_free(&m);
    nn_params_free(&p);
    fixture_free(fx);
}

/* ---- layout teacher: x (2, 3, 16, 32) -> feat (2, 12, 1, 2), logits (2, 6, 8, 16); widths 4/8/8/12 ---- */

static void test_teacher_parity(void)
{
    fixture *fx = mt_load("teacher");
    CHECK(fx != NULL);
    if (!fx) return;
    nn_params p;
    nn_params_init(&p);
    layout_teacher m;
    teacher_config cfg = {.widths = {4, 8, 8, 12}, .res_per_stage = 1, .groups = 2, .heads = 6};
    CHECK_OK(layout_teacher_build(&m, &cfg, &p, ""));
    CHECK_OK(nn_params_alloc(&p));
    CHECK(mt_load_params(&p, fx));
    size_t nx = 2 * 3 * 16 * 32, nf = 2 * 12 * 1 * 2, nl = 2 * 6 * 8 * 16;
    const float *x = mt_data(fx, "in", "x", nx), *df = mt_data(fx, "dout", "feat", nf);
    const float *dl = mt_data(fx, "dout", "logits", nl);
    if (x && df && dl && layout_teacher_plan(&m, 2, 16, 32, true) == ILDIFF_OK) {
        layout_teacher_forward(&m, x);
        CHECK(mt_close(m.feat, nf, fx, "out", "feat", MT_TOL));
        CHECK(mt_close(m.logits, nl, fx, "out", "logits", MT_TOL));
        nn_params_zero_grad(&p);
        layout_teacher_backward(&m, df, dl, x);
        CHECK(mt_check_grads(&p, fx, MT_TOL) == 0);
    } else {
        CHECK(!"teacher fixture or plan");
    }
    layout_teacher_free(&m);
    nn_params_free(&p);
    fixture_free(fx);
}

/* ---- layout student: x (2, 3, 16, 16) -> f (2, 8, 4, 4); patch 4, dim 16, depth 2, 2 heads, mlp x2 ---- */


static void test_layout_encoder_parity(void)
{
    fixture *fx = mt_load("layout_encoder");
    CHECK(fx != NULL);
    if (!fx) return;
    nn_params p;
    nn_params_init(&p);
    layout_encoder m;
    CHECK_OK(layout_encoder_build(&m, &tiny_student, &p, ""));
    CHECK_OK(nn_params_alloc(&p));
    CHECK(mt_load_params(&p, fx));
    size_t nx = 2 * 3 * 16 * 16, nf = 2 * 8 * 4 * 4;
    const float *x = mt_data(fx, "in", "x", nx), *df = mt_data(fx, "dout", "f", nf);
    if (x && df && layout_encoder_plan(&m, 2, 16, true) == ILDIFF_OK) {
        layout_encoder_forward(&m, x);
        CHECK(mt_close(m.f, nf, fx, "out", "f", MT_TOL));
        nn_params_zero_grad(&p);
        layout_encoder_backward(&m, df);
        CHECK(mt_check_grads(&p, fx, MT_TOL) == 0);
    } else {
        CHECK(!"layout encoder fixture or plan");
    }
    CHECK(layout_encoder_plan(&m, 1, 17, false) == ILDIFF_ERR_ARG); /* more tokens than the grid has */
    layout_encoder_free(&m);
    nn_params_free(&p);
    fixture_free(fx);
}

/* ---- SAMI: student + decoder (depth 1, 2 heads, teacher dim 12), 4 of 16 tokens kept -> proj (2, 12, 4, 4) ---- */

static void test_sami_parity(void)
{
    fixture *fx = mt_load("sami");
    CHECK(fx != NULL);
    if (!fx) return;
    nn_params p;
    nn_params_init(&p);
    layout_encoder st;
    sami_decoder sd;
    sami_config cfg = {.depth = 1, .heads = 2, .mlp_ratio = 2, .teacher_dim = 12};
    CHECK_OK(layout_encoder_build(&st, &tiny_student, &p, "student."));
    CHECK_OK(sami_decoder_build(&sd, &cfg, &tiny_student, &p, "sami."));
    CHECK_OK(nn_params_alloc(&p));
    CHECK(mt_load_params(&p, fx));
    size_t nx = 2 * 3 * 16 * 16, no = 2 * 12 * 4 * 4;
    const float *x = mt_data(fx, "in", "x", nx), *dout = mt_data(fx, "dout", "proj", no);
    const float *fk = mt_data(fx, "in", "ids_keep", 2 * 4), *fm = mt_data(fx, "in", "ids_mask", 2 * 12);
    int64_t keep[2 * 4], mask[2 * 12];
    if (x && dout && fk && fm && layout_encoder_plan(&st, 2, 4, true) == ILDIFF_OK &&
        sami_decoder_plan(&sd, 2, 4, true) == ILDIFF_OK) {
        for (int i = 0; i < 8; i++) keep[i] = (int64_t)fk[i];
        for (int i = 0; i < 24; i++) mask[i] = (int64_t)fm[i];
        sami_decoder_forward(&sd, &st, x, keep, mask);
        CHECK(mt_close(sd.out, no, fx, "out", "proj", MT_TOL));
        nn_params_zero_grad(&p);
        sami_decoder_backward(&sd, &st, dout, keep, mask);
        CHECK(mt_check_grads(&p, fx, MT_TOL) == 0);
    } else {
        CHECK(!"sami fixture or plan");
    }
    sami_decoder_free(&sd);
    layout_encoder_free(&st);
    nn_params_free(&p);
    fixture_free(fx);
}

int main(void)
{
    RUN(test_temporal_parity);
    RUN(test_temporal_detects_change);
    RUN(test_temporal_bad_config);
    RUN(test_temporal_depth0);
    RUN(test_vae_encoder_parity);
    RUN(test_vae_decoder_parity);
    RUN(test_offset_encoder_parity);
    RUN(test_transparent_decoder_parity);
    RUN(test_teacher_parity);
    RUN(test_layout_encoder_parity);
    RUN(test_sami_parity);
    return check_done();
}
