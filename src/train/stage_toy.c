/*
 * stage_toy.c: the `toy` training stage (stages.h): a 3-conv net learns the alpha of synthetic 16x16 stickers.
 *
 * Sample k of step s: a disc (or a ring, 30 %: a semi-open hole) with soft edges, dark grey foreground on a
 * light background; shape, colours and position from a generator seeded with hash(seed, s, k), so the data
 * order is a function of the step; pixel noise (std 0.02) from a generator seeded with hash(key, k), where key
 * is drawn once per step from the trainer's RNG, so the RNG state matters too (what exact resume must restore).
 * Loss: mse + 0.5 * l1 of the predicted alpha (terms "loss", "mse", "l1"). Validation: 4 global batches made
 * from a separate seed, metrics "mse" and "alpha_psnr".
 *
 * Under mpirun each rank makes and runs only its share [b, e) of the global batch (ild_shard_range); sample k
 * is keyed by its global index, so N ranks see exactly the samples one process does (stages.h's pattern).
 */
#include "train/stages.h"

#include "base/base.h"
#include "dist/dist.h"
#include "dist/shard.h"
#include "nn/act.h"
#include "nn/conv.h"
#include "nn/loss.h"

#include <math.h>
#include <string.h>

enum { HW = 16, PIX = HW * HW, F1 = 8, VAL_BATCHES = 4 };
#define TOY_L1_WEIGHT 0.5f
#define TOY_NOISE 0.02f

typedef struct toy {
    ild_task task;
    nn_params params;
    int64_t n;      /* the global batch */
    int64_t b, nb;  /* this rank's samples [b, b + nb) of it; the buffers and plans hold nb */
    uint64_t seed;
    float *w1, *b1, *w2, *b2, *w3, *b3, *gw1, *gb1, *gw2, *gb2, *gw3, *gb3;
    nn_conv2d_plan *c1, *c2, *c3;
    float *x, *y;                  /* (nb, 1, HW, HW) input and target alpha of this rank's samples */
    float *a1, *r1, *a2, *r2, *out; /* activations (nb, F1, HW, HW) and the output (nb, 1, HW, HW) */
    float *dout, *dr2, *da2, *dr1, *da1;
    float *vx, *vy;                /* (VAL_BATCHES * n, 1, HW, HW) the validation set (run in pieces of nb) */
    char config[96];
} toy;

static uint64_t mix(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* One sample: x (HW, HW) composite, y (HW, HW) alpha, from the generator seed `key`; noise from rng. */
static void make_sample(float *x, float *y, uint64_t key, nn_rng *noise)
{
    nn_rng g;
    nn_rng_seed(&g, key);
    float cx = 4 + 8 * nn_rng_uniform(&g), cy = 4 + 8 * nn_rng_uniform(&g), r = 2.5f + 3.5f * nn_rng_uniform(&g);
    float hole = nn_rng_uniform(&g) < 0.3f ? r * 0.45f : 0;
    float fg = 0.55f * nn_rng_uniform(&g), bg = 0.75f + 0.25f * nn_rng_uniform(&g);
    for (int i = 0; i < HW; i++) {
        for (int j = 0; j < HW; j++) {
            float d = hypotf((float)j + 0.5f - cx, (float)i + 0.5f - cy);
            float a = fminf(fmaxf(r - d + 0.5f, 0), 1);
            if (hole > 0) a *= fminf(fmaxf(d - hole + 0.5f, 0), 1);
            y[i * HW + j] = a;
            x[i * HW + j] = a * fg + (1 - a) * bg + (noise ? TOY_NOISE * nn_rng_normal(noise) : 0);
        }
    }
}

static ildiff_status toy_next_batch(void *user, int64_t step, nn_rng *rng)
{
    toy *t = user;
    uint64_t step_key = nn_rng_u64(rng); /* one draw per step, the same on every rank */
    for (int64_t k = 0; k < t->nb; k++) {
        uint64_t g = (uint64_t)(t->b + k); /* the sample's index in the global batch */
        nn_rng noise;
        nn_rng_seed(&noise, mix(step_key ^ g));
        make_sample(t->x + k * PIX, t->y + k * PIX, mix(t->seed ^ mix((uint64_t)step * 0x10001ULL + g)), &noise);
    }
    return ILDIFF_OK;
}

static void forward(toy *t, const float *x)
{
    size_t nf = (size_t)t->nb * F1 * PIX;
    nn_conv2d_forward(t->c1, t->a1, x, t->w1, t->b1);
    nn_act_forward(t->r1, t->a1, nf, NN_ACT_RELU);
    nn_conv2d_forward(t->c2, t->a2, t->r1, t->w2, t->b2);
    nn_act_forward(t->r2, t->a2, nf, NN_ACT_RELU);
    nn_conv2d_forward(t->c3, t->out, t->r2, t->w3, t->b3);
}

static ildiff_status toy_forward_backward(void *user, nn_rng *rng, ild_terms *loss)
{
    toy *t = user;
    size_t nf = (size_t)t->nb * F1 * PIX, no = (size_t)t->nb * PIX;
    forward(t, t->x);
    float mse = nn_l2_forward(t->out, t->y, NULL, (int64_t)no), l1 = nn_l1_forward(t->out, t->y, NULL, (int64_t)no);
    memset(t->dout, 0, no * sizeof(float));
    memset(t->dr2, 0, nf * sizeof(float)), memset(t->da2, 0, nf * sizeof(float));
    memset(t->dr1, 0, nf * sizeof(float)), memset(t->da1, 0, nf * sizeof(float));
    nn_l2_backward(t->dout, 1.0f, t->out, t->y, NULL, (int64_t)no);
    nn_l1_backward(t->dout, TOY_L1_WEIGHT, t->out, t->y, NULL, (int64_t)no);
    nn_conv2d_backward(t->c3, t->dr2, t->gw3, t->gb3, t->dout, t->r2, t->w3);
    nn_act_backward(t->da2, t->dr2, t->a2, nf, NN_ACT_RELU);
    nn_conv2d_backward(t->c2, t->dr1, t->gw2, t->gb2, t->da2, t->r1, t->w2);
    nn_act_backward(t->da1, t->dr1, t->a1, nf, NN_ACT_RELU);
    nn_conv2d_backward(t->c1, NULL, t->gw1, t->gb1, t->da1, t->x, t->w1);
    ild_terms_add(loss, "loss", mse + TOY_L1_WEIGHT * l1);
    ild_terms_add(loss, "mse", mse);
    ild_terms_add(loss, "l1", l1);
    return ILDIFF_OK;
}

static ildiff_status toy_validate(void *user, ild_terms *metrics)
{
    toy *t = user;
    size_t no = (size_t)t->nb * PIX;
    int64_t pieces = VAL_BATCHES * (t->n / t->nb);
    double se = 0, se_clamped = 0;
    for (int64_t b = 0; b < pieces; b++) {
        const float *y = t->vy + b * no;
        forward(t, t->vx + b * no);
        for (size_t i = 0; i < no; i++) {
            double d = (double)t->out[i] - y[i], c = (double)fminf(fmaxf(t->out[i], 0), 1) - y[i];
            se += d * d, se_clamped += c * c;
        }
    }
    double n = (double)no * (double)pieces, mse_c = se_clamped / n;
    ild_terms_add(metrics, "mse", se / n);
    ild_terms_add(metrics, "alpha_psnr", mse_c > 0 ? 10 * log10(1 / mse_c) : 99);
    return ILDIFF_OK;
}

void ild_toy_destroy(ild_task *task)
{
    if (!task) return;
    toy *t = task->user;
    nn_conv2d_plan_free(t->c1), nn_conv2d_plan_free(t->c2), nn_conv2d_plan_free(t->c3);
    float *bufs[] = {t->x,   t->y,   t->a1,  t->r1,  t->a2,  t->r2, t->out,
                     t->dout, t->dr2, t->da2, t->dr1, t->da1, t->vx, t->vy};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) free(bufs[i]);
    nn_params_free(&t->params);
    free(t);
}

static ildiff_status add_params(toy *t)
{
    nn_params *p = &t->params;
    ildiff_status st = nn_params_add(p, "conv1.weight", 4, (int64_t[]){F1, 1, 3, 3}, NN_PARAM_DECAY, &t->w1, &t->gw1);
    if (st == ILDIFF_OK) st = nn_params_add(p, "conv1.bias", 1, (int64_t[]){F1}, 0, &t->b1, &t->gb1);
    if (st == ILDIFF_OK)
        st = nn_params_add(p, "conv2.weight", 4, (int64_t[]){F1, F1, 3, 3}, NN_PARAM_DECAY, &t->w2, &t->gw2);
    if (st == ILDIFF_OK) st = nn_params_add(p, "conv2.bias", 1, (int64_t[]){F1}, 0, &t->b2, &t->gb2);
    if (st == ILDIFF_OK)
        st = nn_params_add(p, "conv3.weight", 4, (int64_t[]){1, F1, 1, 1}, NN_PARAM_DECAY, &t->w3, &t->gw3);
    if (st == ILDIFF_OK) st = nn_params_add(p, "conv3.bias", 1, (int64_t[]){1}, 0, &t->b3, &t->gb3);
    if (st == ILDIFF_OK) st = nn_params_alloc(p);
    return st;
}

/* torch's default conv init for the three layers, from the seed. */
static void init_weights(toy *t, uint64_t seed)
{
    nn_rng r;
    nn_rng_seed(&r, mix(seed ^ 0x1417ULL));
    nn_init_kaiming_uniform(&r, t->w1, F1 * 9, 9);
    nn_init_uniform(&r, t->b1, F1, 1.0f / 3.0f);
    nn_init_kaiming_uniform(&r, t->w2, F1 * F1 * 9, F1 * 9);
    nn_init_uniform(&r, t->b2, F1, 1.0f / sqrtf(F1 * 9));
    nn_init_kaiming_uniform(&r, t->w3, F1, F1);
    nn_init_uniform(&r, t->b3, 1, 1.0f / sqrtf(F1));
}

ildiff_status ild_toy_create(const ild_stage_opts *opts, ild_task **out)
{
    *out = NULL;
    if (opts->batch < 1 || opts->batch > 4096)
        return ild_fail(ILDIFF_ERR_ARG, "toy batch %lld out of 1..4096", (long long)opts->batch);
    int ranks = ild_dist_size();
    if (opts->batch % ranks != 0)
        return ild_fail(ILDIFF_ERR_ARG, "batch %lld does not divide by the %d ranks", (long long)opts->batch, ranks);
    toy *t = calloc(1, sizeof *t);
    if (!t) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    t->n = opts->batch;
    int64_t e;
    ild_shard_range(t->n, ild_dist_rank(), ranks, &t->b, &e);
    t->nb = e - t->b;
    t->seed = opts->seed;
    nn_params_init(&t->params);
    t->task = (ild_task){.user = t, .params = &t->params, .batch = t->n, .config = t->config,
                         .next_batch = toy_next_batch, .forward_backward = toy_forward_backward,
                         .validate = toy_validate};
    snprintf(t->config, sizeof t->config, "{\"size\":%d,\"width\":%d,\"l1_weight\":%g}", HW, F1, TOY_L1_WEIGHT);
    ildiff_status st = add_params(t);
    if (st == ILDIFF_OK) init_weights(t, opts->seed);
    nn_conv_shape s1 = {.N = t->nb, .C = 1, .OC = F1, .D = 1, .H = HW, .W = HW, .K = 3, .stride = 1, .pad = 1,
                        .bias = true};
    nn_conv_shape s2 = s1, s3 = s1;
    s2.C = F1;
    s3.C = F1, s3.OC = 1, s3.K = 1, s3.pad = 0;
    if (st == ILDIFF_OK) st = nn_conv2d_plan_new(&t->c1, &s1);
    if (st == ILDIFF_OK) st = nn_conv2d_plan_new(&t->c2, &s2);
    if (st == ILDIFF_OK) st = nn_conv2d_plan_new(&t->c3, &s3);
    size_t nf = (size_t)t->nb * F1 * PIX, no = (size_t)t->nb * PIX, nv = (size_t)t->n * PIX * VAL_BATCHES;
    float **big[] = {&t->a1, &t->r1, &t->a2, &t->r2, &t->dr2, &t->da2, &t->dr1, &t->da1};
    float **small[] = {&t->x, &t->y, &t->out, &t->dout};
    for (size_t i = 0; st == ILDIFF_OK && i < sizeof big / sizeof big[0]; i++)
        if (!(*big[i] = calloc(nf, sizeof(float)))) st = ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    for (size_t i = 0; st == ILDIFF_OK && i < sizeof small / sizeof small[0]; i++)
        if (!(*small[i] = calloc(no, sizeof(float)))) st = ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    if (st == ILDIFF_OK && (!(t->vx = malloc(nv * sizeof(float))) || !(t->vy = malloc(nv * sizeof(float)))))
        st = ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    for (int64_t k = 0; st == ILDIFF_OK && k < t->n * VAL_BATCHES; k++) /* held out: another key space, no noise */
        make_sample(t->vx + k * PIX, t->vy + k * PIX, mix(~t->seed ^ mix((uint64_t)k + 0x7a1ULL)), NULL);
    if (st != ILDIFF_OK) {
        ild_toy_destroy(&t->task);
        return st;
    }
    *out = &t->task;
    return ILDIFF_OK;
}
