/*
 * test_nn_optim.c: AdamW, gradient clipping, the warmup + cosine schedule and the EMA (src/nn/optim.h) replaying
 * 10 PyTorch steps (tests/reference/ref_optim.py) on an nn_params table (one tensor with weight decay, one
 * without); the schedule against its Python definition; frozen parameters; the parameter table itself (names,
 * alignment, duplicate and bad shapes, bound pointers, one-memset zero_grad).
 */
#include "check.h"
#include "fixture.h"
#include "nn_testkit.h"

#include "nn/optim.h"
#include "nn/params.h"

#include <stdint.h>

static void test_adamw_replay(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/optim.bin", CHECK_FIXTURES());
    fixture *fx = fixture_load(path);
    CHECK(fx != NULL);
    const fixture_tensor *cfgt = fixture_find(fx, "cfg");
    CHECK(cfgt != NULL);
    if (!cfgt) return fixture_free(fx);
    const float *c = cfgt->data;
    const float lr_max = c[0], lr_min = c[1], max_norm = c[8], ema_decay = c[9];
    const int64_t warmup = (int64_t)c[2], total = (int64_t)c[3];
    nn_adamw_cfg cfg = {.lr = lr_max, .beta1 = c[4], .beta2 = c[5], .eps = c[6], .weight_decay = c[7]};

    nn_params p;
    nn_params_init(&p);
    float *w, *b, *gw, *gb;
    CHECK_OK(nn_params_add(&p, "w", 2, (int64_t[]){4, 5}, NN_PARAM_DECAY, &w, &gw));
    CHECK_OK(nn_params_add(&p, "b", 1, (int64_t[]){5}, 0, &b, &gb));
    CHECK_OK(nn_params_alloc(&p));
    memcpy(w, fixture_find(fx, "w0")->data, sizeof(float) * 20);
    memcpy(b, fixture_find(fx, "b0")->data, sizeof(float) * 5);
    CHECK_OK(nn_params_alloc_adam(&p));
    CHECK_OK(nn_params_alloc_ema(&p));
    const float *rgw = fixture_find(fx, "gw")->data, *rgb = fixture_find(fx, "gb")->data;
    const fixture_tensor *rw = fixture_find(fx, "w"), *rb = fixture_find(fx, "b"), *rew = fixture_find(fx, "ema_w"),
                         *reb = fixture_find(fx, "ema_b");
    const float *rlr = fixture_find(fx, "lr")->data, *rnorm = fixture_find(fx, "norm")->data;
    for (int s = 0; s < 10; s++) {
        nn_params_zero_grad(&p);
        memcpy(gw, rgw + s * 20, sizeof(float) * 20);
        memcpy(gb, rgb + s * 5, sizeof(float) * 5);
        float norm = nn_clip_grad_norm_params(&p, max_norm);
        CHECK_NEAR(norm, rnorm[s], 1e-5 * rnorm[s]);
        cfg.lr = nn_lr_warmup_cosine(s, warmup, total, lr_max, lr_min);
        CHECK_NEAR(cfg.lr, rlr[s], 1e-6 * rlr[s]);
        nn_adamw_step_params(&p, &cfg, s + 1);
        nn_ema_update_params(&p, ema_decay);
        fixture_tensor ref = {.numel = 20, .data = rw->data + s * 20};
        CHECK_MSG(fixture_close(w, &ref, 1e-6, "w"), "step %d", s);
        ref = (fixture_tensor){.numel = 5, .data = rb->data + s * 5};
        CHECK_MSG(fixture_close(b, &ref, 1e-6, "b"), "step %d", s);
        ref = (fixture_tensor){.numel = 20, .data = rew->data + s * 20};
        CHECK_MSG(fixture_close(p.ema + p.items[0].offset, &ref, 1e-6, "ema w"), "step %d", s);
        ref = (fixture_tensor){.numel = 5, .data = reb->data + s * 5};
        CHECK_MSG(fixture_close(p.ema + p.items[1].offset, &ref, 1e-6, "ema b"), "step %d", s);
    }
    const fixture_tensor *sched = fixture_find(fx, "sched");
    CHECK(sched != NULL);
    for (int s = 0; sched && s < sched->numel; s++)
        CHECK_NEAR(nn_lr_warmup_cosine(s, 5, 30, 1e-3f, 1e-5f), sched->data[s], 1e-9);
    nn_params_free(&p);
    fixture_free(fx);
}

static void test_frozen_and_clip(void)
{
    nn_params p;
    nn_params_init(&p);
    float *a, *ga, *f, *gf;
    CHECK_OK(nn_params_add(&p, "a", 1, (int64_t[]){3}, NN_PARAM_DECAY, &a, &ga));
    CHECK_OK(nn_params_add(&p, "frozen", 1, (int64_t[]){2}, NN_PARAM_FROZEN | NN_PARAM_DECAY, &f, &gf));
    CHECK_OK(nn_params_alloc(&p));
    CHECK_OK(nn_params_alloc_adam(&p));
    a[0] = a[1] = a[2] = 1, f[0] = f[1] = 2;
    ga[0] = 3, ga[1] = 4, ga[2] = 0, gf[0] = gf[1] = 0;
    CHECK_NEAR(nn_clip_grad_norm_params(&p, 1.0f), 5.0, 1e-6); /* scaled to norm ~1 */
    CHECK_NEAR(nn_grad_norm(p.grad, p.total), 1.0, 1e-5);
    CHECK_NEAR(nn_clip_grad_norm(ga, 3, 10.0f), 1.0, 1e-5); /* under the limit: unchanged */
    CHECK_NEAR(ga[0], 0.6, 1e-5);
    nn_adamw_cfg cfg = nn_adamw_defaults();
    nn_adamw_step_params(&p, &cfg, 1);
    CHECK(f[0] == 2 && f[1] == 2);
    CHECK(a[0] < 1 && a[1] < 1);
    CHECK_NEAR(a[2], 1 - 1e-3 * 0.01, 1e-7); /* zero gradient: only the decoupled decay moves it */
    CHECK(nn_lr_warmup_cosine(0, 0, 10, 1, 0.1f) == 1.0f);
    CHECK_NEAR(nn_lr_warmup_cosine(5, 0, 10, 1, 0.1f), 0.55, 1e-6);
    CHECK(nn_lr_warmup_cosine(99, 0, 10, 1, 0.1f) == 0.1f);
    nn_params_free(&p);
}

static void test_params_table(void)
{
    nn_params p;
    nn_params_init(&p);
    float *x = NULL, *gx = NULL, *y = NULL;
    CHECK_OK(nn_params_add(&p, "x.weight", 2, (int64_t[]){3, 7}, NN_PARAM_DECAY, &x, &gx));
    CHECK(nn_params_add(&p, "x.weight", 1, (int64_t[]){2}, 0, NULL, NULL) == ILDIFF_ERR_ARG);
    CHECK(nn_params_add(&p, "", 1, (int64_t[]){2}, 0, NULL, NULL) == ILDIFF_ERR_ARG);
    CHECK(nn_params_add(&p, "bad", 2, (int64_t[]){2, 0}, 0, NULL, NULL) == ILDIFF_ERR_ARG);
    CHECK(nn_params_add(&p, "bad", 2, (int64_t[]){2, -3}, 0, NULL, NULL) == ILDIFF_ERR_ARG);
    CHECK(nn_params_add(&p, "huge", 3, (int64_t[]){INT64_MAX / 2, INT64_MAX / 2, 4}, 0, NULL, NULL) ==
          ILDIFF_ERR_LIMIT);
    char longname[200];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    CHECK(nn_params_add(&p, longname, 1, (int64_t[]){2}, 0, NULL, NULL) == ILDIFF_ERR_ARG);
    CHECK_OK(nn_params_add(&p, "scalar", 0, NULL, 0, &y, NULL));
    CHECK(x == NULL);
    CHECK_OK(nn_params_alloc(&p));
    CHECK(nn_params_add(&p, "late", 1, (int64_t[]){2}, 0, NULL, NULL) == ILDIFF_ERR_ARG);
    CHECK(nn_params_alloc(&p) == ILDIFF_ERR_ARG);
    CHECK(x == p.data && gx == p.grad && y == p.data + 32); /* 21 floats padded to 32 */
    CHECK(((uintptr_t)y & 63) == 0);
    CHECK(nn_params_numel(&p) == 22);
    CHECK(nn_params_find(&p, "scalar") == &p.items[1] && nn_params_find(&p, "nope") == NULL);
    CHECK(nn_params_data(&p, 1) == y && nn_params_grad(&p, 0) == gx);
    for (int i = 0; i < 21; i++) gx[i] = 1;
    nn_params_zero_grad(&p);
    CHECK(gx[0] == 0 && gx[20] == 0);
    nn_params_free(&p);
    nn_params_free(NULL);
    nn_params q;
    nn_params_init(&q);
    CHECK(nn_params_alloc_adam(&q) == ILDIFF_ERR_ARG);
    CHECK_OK(nn_params_alloc(&q)); /* an empty table is allowed */
    nn_params_free(&q);
}

int main(void)
{
    RUN(test_adamw_replay);
    RUN(test_frozen_and_clip);
    RUN(test_params_table);
    return check_done();
}
