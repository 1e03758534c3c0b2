/*
 * test_nn_train.c: a tiny end-to-end training run against PyTorch (tests/reference/ref_train.py). A conv net
 * (conv1 3x3 1->8, ReLU, conv2 3x3 8->8, ReLU, conv3 1x1 8->1; oneDNN conv plans) starts from the initial
 * weights PyTorch exported as safetensors (loaded by state-dict name), trains 100 steps of AdamW with gradient
 * clipping and warmup + cosine on the same 4 batches with an MSE loss, and must follow PyTorch's loss curve for
 * the first 20 steps (relative 1e-4) and end below half of its first loss. Every buffer is allocated before the
 * loop: the step itself allocates nothing.
 */
#include "check.h"
#include "fixture.h"
#include "nn_testkit.h"

#include "nn/act.h"
#include "nn/conv.h"
#include "nn/loss.h"
#include "nn/optim.h"
#include "nn/params.h"
#include "nn/safetensors.h"

enum { NB = 8, HW = 64, F1 = 8 };

static void test_train_matches_pytorch(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/train.bin", CHECK_FIXTURES());
    fixture *fx = fixture_load(path);
    CHECK(fx != NULL);
    const fixture_tensor *xt = fixture_find(fx, "x"), *yt = fixture_find(fx, "y"), *lt = fixture_find(fx, "loss"),
                         *ct = fixture_find(fx, "cfg");
    CHECK(xt && yt && lt && ct);
    if (!xt || !yt || !lt || !ct) return fixture_free(fx);
    const float *cfgv = ct->data;
    const int steps = (int)cfgv[0];
    nn_adamw_cfg cfg = {.lr = cfgv[1], .beta1 = cfgv[4], .beta2 = cfgv[5], .eps = cfgv[6], .weight_decay = cfgv[7]};

    nn_params p;
    nn_params_init(&p);
    float *w1, *b1, *w2, *b2, *w3, *b3, *gw1, *gb1, *gw2, *gb2, *gw3, *gb3;
    CHECK_OK(nn_params_add(&p, "conv1.weight", 4, (int64_t[]){F1, 1, 3, 3}, NN_PARAM_DECAY, &w1, &gw1));
    CHECK_OK(nn_params_add(&p, "conv1.bias", 1, (int64_t[]){F1}, 0, &b1, &gb1));
    CHECK_OK(nn_params_add(&p, "conv2.weight", 4, (int64_t[]){F1, F1, 3, 3}, NN_PARAM_DECAY, &w2, &gw2));
    CHECK_OK(nn_params_add(&p, "conv2.bias", 1, (int64_t[]){F1}, 0, &b2, &gb2));
    CHECK_OK(nn_params_add(&p, "conv3.weight", 4, (int64_t[]){1, F1, 1, 1}, NN_PARAM_DECAY, &w3, &gw3));
    CHECK_OK(nn_params_add(&p, "conv3.bias", 1, (int64_t[]){1}, 0, &b3, &gb3));
    CHECK_OK(nn_params_alloc(&p));
    CHECK_OK(nn_params_alloc_adam(&p));
    snprintf(path, sizeof path, "%s/train_init.safetensors", CHECK_FIXTURES());
    nn_st_file *f = NULL;
    CHECK_OK(nn_st_read(path, 1 << 20, &f));
    if (f) CHECK_OK(nn_st_load_params(&p, f, 0));
    nn_st_free(f);

    nn_conv_shape s1 = {.N = NB, .C = 1, .OC = F1, .D = 1, .H = 8, .W = 8, .K = 3, .stride = 1, .pad = 1, .bias = true};
    nn_conv_shape s2 = s1, s3 = s1;
    s2.C = F1;
    s3.C = F1, s3.OC = 1, s3.K = 1, s3.pad = 0;
    nn_conv2d_plan *c1 = NULL, *c2 = NULL, *c3 = NULL;
    CHECK_OK(nn_conv2d_plan_new(&c1, &s1));
    CHECK_OK(nn_conv2d_plan_new(&c2, &s2));
    CHECK_OK(nn_conv2d_plan_new(&c3, &s3));
    const size_t nf = (size_t)NB * F1 * HW, no = (size_t)NB * HW;
    float *a1 = nnt_full(nf, 0), *r1 = nnt_full(nf, 0), *a2 = nnt_full(nf, 0), *r2 = nnt_full(nf, 0);
    float *out = nnt_full(no, 0), *dout = nnt_full(no, 0), *dr2 = nnt_full(nf, 0), *da2 = nnt_full(nf, 0);
    float *dr1 = nnt_full(nf, 0), *da1 = nnt_full(nf, 0);
    double first = 0, last = 0;
    for (int s = 0; c1 && c2 && c3 && s < steps; s++) {
        const float *x = xt->data + (size_t)(s % 4) * no, *y = yt->data + (size_t)(s % 4) * no;
        nn_conv2d_forward(c1, a1, x, w1, b1);
        nn_act_forward(r1, a1, nf, NN_ACT_RELU);
        nn_conv2d_forward(c2, a2, r1, w2, b2);
        nn_act_forward(r2, a2, nf, NN_ACT_RELU);
        nn_conv2d_forward(c3, out, r2, w3, b3);
        float loss = nn_l2_forward(out, y, NULL, (int64_t)no);
        if (s < 20) CHECK_MSG(fabs(loss - lt->data[s]) <= 1e-4 * lt->data[s], "step %d: loss %.7g, pytorch %.7g", s,
                              loss, lt->data[s]);
        if (s == 0) first = loss;
        if (s >= steps - 4) last += loss / 4; /* one pass over the 4 batches */

        nn_params_zero_grad(&p);
        memset(dout, 0, no * sizeof(float));
        memset(dr2, 0, nf * sizeof(float)), memset(da2, 0, nf * sizeof(float));
        memset(dr1, 0, nf * sizeof(float)), memset(da1, 0, nf * sizeof(float));
        nn_l2_backward(dout, 1.0f, out, y, NULL, (int64_t)no);
        nn_conv2d_backward(c3, dr2, gw3, gb3, dout, r2, w3);
        nn_act_backward(da2, dr2, a2, nf, NN_ACT_RELU);
        nn_conv2d_backward(c2, dr1, gw2, gb2, da2, r1, w2);
        nn_act_backward(da1, dr1, a1, nf, NN_ACT_RELU);
        nn_conv2d_backward(c1, NULL, gw1, gb1, da1, x, w1);
        nn_clip_grad_norm_params(&p, cfgv[8]);
        cfg.lr = nn_lr_warmup_cosine(s, (int64_t)cfgv[3], steps, cfgv[1], cfgv[2]);
        nn_adamw_step_params(&p, &cfg, s + 1);
    }
    double ref_last = (lt->data[steps - 1] + lt->data[steps - 2] + lt->data[steps - 3] + lt->data[steps - 4]) / 4;
    CHECK(last < 0.5 * first);
    CHECK(fabs(last - ref_last) <= 1e-2 * ref_last); /* still on PyTorch's curve after 100 steps */
    printf("  loss %.5f -> %.5f (pytorch %.5f -> %.5f)\n", first, last, lt->data[0], ref_last);
    free(a1), free(r1), free(a2), free(r2), free(out), free(dout), free(dr2), free(da2), free(dr1), free(da1);
    nn_conv2d_plan_free(c1), nn_conv2d_plan_free(c2), nn_conv2d_plan_free(c3);
    nn_params_free(&p);
    fixture_free(fx);
}

int main(void)
{
    RUN(test_train_matches_pytorch);
    return check_done();
}
