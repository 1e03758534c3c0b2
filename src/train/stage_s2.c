/*
 * stage_s2.c: stage S2 (stages.h; models/README.md), in two runs:
 *
 * S2a: the layout teacher learns the corpus's part structure. Batch: N frames at size x size (default 256), the
 *   composited input; targets from the part-id maps taken at the logits' resolution (every other pixel) by
 *   ild_part_targets with the offsets (0,1), (1,0), (0,4), (4,0): object, part boundary, affinities. Loss "loss" =
 *   the masked BCE (ild_teacher_loss). Parameters "teacher.*". Validation: "bce" and "object_acc" (the share of
 *   pixels whose object logit has the target's sign).
 *
 * S2b: SAMI distillation. The student ("student.*") sees 25 % of its tokens (random per frame, its own RNG:
 *   stages.h); the SAMI decoder ("sami.*") reconstructs the masked ones; the output, through the student's neck and
 *   proj, matches the frozen teacher's features: "loss" = mean (out - feat)^2. The teacher ("teacher.*", frozen)
 *   comes from --init (S2a's model.safetensors, required). Frames are loaded at the teacher's input side, 16 x
 *   the student's token grid (256 by default), and box-averaged to the student's img_size when that is smaller
 *   (the tiny sizes). Teacher features are computed each step (no cache), 8 frames at a time. Validation: "distill_mse" on the
 *   val clips with the same masking drawn from a fixed seed.
 */
#include "train/stage_util.h"

#include "base/base.h"
#include "models/losses.h"
#include "models/sami.h"
#include "models/teacher.h"
#include "nn/vit_ops.h"

#include <math.h>
#include <string.h>

#define S2_SIZE 256
#define S2_MASK 0.75
#define S2_OFFSETS 4
#define S2_TEACHER_CHUNK 8

static const int32_t s2_offsets[S2_OFFSETS][2] = {{0, 1}, {1, 0}, {0, 4}, {4, 0}};
static const teacher_config tiny_teacher = {.widths = {4, 8, 8, 16}, .res_per_stage = 1, .groups = 2, .heads = 6};

typedef struct s2 {
    ild_task task;
    nn_params params;
    ild_stage_data data;
    bool distill;         /* S2b */
    layout_teacher teacher;
    layout_encoder student;
    sami_decoder sami;
    int64_t N, H, hs;     /* this rank's frames, loaded side, student side (S2b) */
    int64_t n_logits;     /* N * heads * (H/2)^2 */
    float *targets, *weights, *dlogits; /* (N, heads, H/2, H/2) */
    int32_t *ids2;        /* (N, H/2, H/2) */
    float *xs;            /* (N, 3, hs, hs) the student's input */
    int64_t *keep, *mask; /* (N, K), (N, L - K) */
    int64_t K;
    float *dout;          /* (N, teacher_dim, g, g) */
    float *feat;          /* (N, teacher_dim, g, g) the frozen teacher's features (S2b) */
    int64_t chunk;        /* frames per teacher pass (S2b; bounds its memory) */
    char config[512];
} s2;

/* The teacher's targets of a batch: part ids at every other pixel. */
static void make_targets(s2 *t, const ild_batch *b)
{
    int64_t H = t->H, h = H / 2;
    for (int64_t k = 0; k < t->N; k++)
        for (int64_t i = 0; i < h; i++)
            for (int64_t j = 0; j < h; j++) t->ids2[(k * h + i) * h + j] = b->ids[k * H * H + 2 * i * H + 2 * j];
    ild_part_targets(t->targets, t->weights, t->ids2, t->N, h, h, s2_offsets, S2_OFFSETS);
}

/* The student's input: the frames box-averaged from H to hs (H a multiple of hs). */
static void student_input(s2 *t, const float *x)
{
    int64_t H = t->H, hs = t->hs, f = H / hs;
    for (int64_t c = 0; c < t->N * 3; c++)
        for (int64_t i = 0; i < hs; i++)
            for (int64_t j = 0; j < hs; j++) {
                float acc = 0;
                for (int64_t u = 0; u < f; u++)
                    for (int64_t v = 0; v < f; v++) acc += x[(c * H + i * f + u) * H + j * f + v];
                t->xs[(c * hs + i) * hs + j] = acc / (float)(f * f);
            }
}

static ildiff_status s2_next_batch(void *user, int64_t step, nn_rng *rng)
{
    s2 *t = user;
    ildiff_status st = ild_stage_data_next(&t->data, step, rng);
    if (st != ILDIFF_OK) return st;
    if (!t->distill) {
        make_targets(t, &t->data.batch);
        return ILDIFF_OK;
    }
    student_input(t, t->data.batch.rgb);
    int64_t L = t->student.L;
    for (int64_t k = 0; k < t->N; k++) { /* each frame's mask from its own RNG */
        nn_rng r;
        ild_stage_sample_rng(&t->data, k, &r);
        nn_mask_random(t->keep + k * t->K, t->mask + k * (L - t->K), &r, 1, L, t->K);
    }
    return ILDIFF_OK;
}

/* S2b forward with the masks in t->keep, t->mask: teacher features, the masked student and decoder; returns the
 * distillation loss over the first `count` frames. */
static float distill_forward(s2 *t, const float *x, int64_t count)
{
    size_t per = (size_t)(t->sami.cfg.teacher_dim * t->student.L), frame = (size_t)(3 * t->H * t->H);
    for (int64_t c0 = 0; c0 < t->N; c0 += t->chunk) {
        layout_teacher_forward(&t->teacher, x + (size_t)c0 * frame);
        memcpy(t->feat + (size_t)c0 * per, t->teacher.feat, (size_t)t->chunk * per * sizeof(float));
    }
    sami_decoder_forward(&t->sami, &t->student, t->xs, t->keep, t->mask);
    return ild_mse_loss(t->sami.out, t->feat, count * (int64_t)per);
}

static ildiff_status s2_forward_backward(void *user, nn_rng *rng, ild_terms *loss)
{
    s2 *t = user;
    const float *x = t->data.batch.rgb;
    if (t->distill) {
        float l = distill_forward(t, x, t->N);
        int64_t n = t->N * t->sami.cfg.teacher_dim * t->student.L;
        memset(t->dout, 0, (size_t)n * sizeof(float));
        ild_mse_loss_backward(t->dout, 1, t->sami.out, t->feat, n);
        sami_decoder_backward(&t->sami, &t->student, t->dout, t->keep, t->mask);
        ild_terms_add(loss, "loss", l);
        return ILDIFF_OK;
    }
    layout_teacher_forward(&t->teacher, x);
    float l = ild_teacher_loss(t->teacher.logits, t->targets, t->weights, t->n_logits);
    memset(t->dlogits, 0, (size_t)t->n_logits * sizeof(float));
    ild_teacher_loss_backward(t->dlogits, 1, t->teacher.logits, t->targets, t->weights, t->n_logits);
    layout_teacher_backward(&t->teacher, NULL, t->dlogits, x);
    ild_terms_add(loss, "loss", l);
    return ILDIFF_OK;
}

static ildiff_status s2_validate(void *user, ild_terms *metrics)
{
    s2 *t = user;
    if (!t->data.val) return ILDIFF_OK;
    double sum = 0, right = 0, count = 0;
    int64_t h = t->H / 2, plane = h * h, heads = t->teacher.cfg.heads, valid = 0, L = t->student.L;
    for (int64_t b = 0; b < t->data.val_batches; b++) {
        ildiff_status st = ild_stage_data_val(&t->data, b, &valid);
        if (st != ILDIFF_OK) return st;
        const float *x = t->data.vbatch.rgb;
        if (t->distill) {
            student_input(t, x);
            for (int64_t k = 0; k < t->N; k++) { /* the same masks at every validation, for any rank count */
                nn_rng r;
                nn_rng_seed(&r, 0x5a31ULL + (uint64_t)(b * t->N + k));
                nn_mask_random(t->keep + k * t->K, t->mask + k * (L - t->K), &r, 1, L, t->K);
            }
            sum += (double)valid * distill_forward(t, x, valid);
            continue;
        }
        make_targets(t, &t->data.vbatch);
        layout_teacher_forward(&t->teacher, x);
        sum += (double)valid * ild_teacher_loss(t->teacher.logits, t->targets, t->weights, valid * heads * plane);
        for (int64_t k = 0; k < valid; k++)
            for (int64_t i = 0; i < plane; i++) {
                int64_t o = k * heads * plane + i; /* head 0: object */
                right += (t->teacher.logits[o] > 0) == (t->targets[o] > 0.5f);
                count += 1;
            }
    }
    ild_terms_add(metrics, t->distill ? "distill_mse" : "bce", sum / (double)t->data.val_count);
    if (!t->distill) ild_terms_add(metrics, "object_acc", right / count);
    return ILDIFF_OK;
}

static char *s2_save_state(void *user) { return ild_stage_data_save(&((s2 *)user)->data); }
static ildiff_status s2_load_state(void *user, const char *json) { return ild_stage_data_load(&((s2 *)user)->data, json); }

static void s2_destroy(ild_task *task)
{
    if (!task) return;
    s2 *t = task->user;
    layout_teacher_free(&t->teacher), layout_encoder_free(&t->student), sami_decoder_free(&t->sami);
    ild_stage_data_close(&t->data);
    free(t->targets), free(t->weights), free(t->dlogits), free(t->ids2), free(t->xs), free(t->keep), free(t->mask);
    free(t->dout), free(t->feat);
    nn_params_free(&t->params);
    free(t);
}

void ild_s2a_destroy(ild_task *task) { s2_destroy(task); }
void ild_s2b_destroy(ild_task *task) { s2_destroy(task); }

static ildiff_status build(s2 *t, const ild_stage_opts *opts)
{
    teacher_config tc = opts->tiny ? tiny_teacher : teacher_config_default();
    nn_params *p = &t->params;
    ildiff_status st = layout_teacher_build(&t->teacher, &tc, p, "teacher.");
    if (st != ILDIFF_OK) return st;
    int64_t N = t->N;
    if (!t->distill) {
        t->H = opts->size > 0 ? opts->size : S2_SIZE;
        if (t->H % 16 != 0 || t->H > 2048)
            return ild_fail(ILDIFF_ERR_ARG, "S2a size %lld: a multiple of 16 up to 2048", (long long)t->H);
        if (tc.heads != 2 + S2_OFFSETS) return ild_fail(ILDIFF_ERR_ARG, "the teacher needs %d heads", 2 + S2_OFFSETS);
        snprintf(t->config, sizeof t->config, "{\"size\":%lld,\"tiny\":%s,\"widths\":[%lld,%lld,%lld,%lld]}",
                 (long long)t->H, opts->tiny ? "true" : "false", (long long)tc.widths[0], (long long)tc.widths[1],
                 (long long)tc.widths[2], (long long)tc.widths[3]);
        if ((st = nn_params_alloc(p)) != ILDIFF_OK) return st;
        mdl_init_params(p, opts->seed ^ 0x52a1ULL);
        if ((st = ild_stage_load_init(p, opts, NULL)) != ILDIFF_OK) return st;
        if ((st = layout_teacher_plan(&t->teacher, N, t->H, t->H, true)) != ILDIFF_OK) return st;
        int64_t h = t->H / 2;
        t->n_logits = N * tc.heads * h * h;
        t->targets = calloc((size_t)t->n_logits, sizeof(float)), t->weights = calloc((size_t)t->n_logits, sizeof(float));
        t->dlogits = calloc((size_t)t->n_logits, sizeof(float)), t->ids2 = calloc((size_t)(N * h * h), sizeof(int32_t));
        if (!t->targets || !t->weights || !t->dlogits || !t->ids2) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
        return ild_stage_data_open(&t->data, opts, 1, t->H, true);
    }
    student_config sc = ild_stage_model_config(opts->tiny).student; /* S3's student */
    sami_config mc = sami_config_default();
    mc.teacher_dim = tc.widths[TEACHER_STAGES - 1];
    if (opts->tiny) mc.heads = 2, mc.mlp_ratio = 2;
    st = layout_encoder_build(&t->student, &sc, p, "student.");
    if (st == ILDIFF_OK) st = sami_decoder_build(&t->sami, &mc, &sc, p, "sami.");
    if (st != ILDIFF_OK) return st;
    int64_t g = t->student.grid;
    t->H = 16 * g, t->hs = sc.img_size;
    if (t->H % t->hs != 0)
        return ild_fail(ILDIFF_ERR_ARG, "S2b: the teacher's side %lld is not a multiple of the student's %lld",
                        (long long)t->H, (long long)t->hs);
    t->K = ILD_MAX((int64_t)1, (int64_t)llround((double)t->student.L * (1 - S2_MASK)));
    snprintf(t->config, sizeof t->config, "{\"size\":%lld,\"tiny\":%s,\"mask\":%g,\"keep\":%lld,\"dim\":%lld}",
             (long long)t->H, opts->tiny ? "true" : "false", S2_MASK, (long long)t->K, (long long)sc.dim);
    ild_params_freeze(p, "teacher.");
    if ((st = nn_params_alloc(p)) != ILDIFF_OK) return st;
    mdl_init_params(p, opts->seed ^ 0x52b1ULL);
    static const char *const need[] = {"teacher.", NULL};
    if ((st = ild_stage_load_init(p, opts, need)) != ILDIFF_OK) return st;
    for (t->chunk = ILD_MIN(N, S2_TEACHER_CHUNK); N % t->chunk != 0;) t->chunk--;
    st = layout_teacher_plan(&t->teacher, t->chunk, t->H, t->H, false);
    if (st == ILDIFF_OK) st = layout_encoder_plan(&t->student, N, t->K, true);
    if (st == ILDIFF_OK) st = sami_decoder_plan(&t->sami, N, t->K, true);
    if (st != ILDIFF_OK) return st;
    t->xs = calloc((size_t)(N * 3 * t->hs * t->hs), sizeof(float));
    t->keep = calloc((size_t)(N * t->K), sizeof(int64_t));
    t->mask = calloc((size_t)(N * (t->student.L - t->K)), sizeof(int64_t));
    t->dout = calloc((size_t)(N * mc.teacher_dim * t->student.L), sizeof(float));
    t->feat = calloc((size_t)(N * mc.teacher_dim * t->student.L), sizeof(float));
    if (!t->xs || !t->keep || !t->mask || !t->dout || !t->feat) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    return ild_stage_data_open(&t->data, opts, 1, t->H, false);
}

static ildiff_status create(const ild_stage_opts *opts, bool distill, ild_task **out)
{
    *out = NULL;
    int64_t first = 0, N = 0;
    ildiff_status st = ild_stage_share(opts->batch, ILD_STAGE_MAX_BATCH, distill ? "S2b" : "S2a", &first, &N);
    if (st != ILDIFF_OK) return st;
    s2 *t = calloc(1, sizeof *t);
    if (!t) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    t->N = N, t->distill = distill;
    nn_params_init(&t->params);
    t->task = (ild_task){.user = t, .params = &t->params, .batch = opts->batch, .config = t->config,
                         .next_batch = s2_next_batch, .forward_backward = s2_forward_backward,
                         .validate = s2_validate, .save_state = s2_save_state, .load_state = s2_load_state};
    st = build(t, opts);
    if (st != ILDIFF_OK) {
        s2_destroy(&t->task);
        return st;
    }
    *out = &t->task;
    return ILDIFF_OK;
}

ildiff_status ild_s2a_create(const ild_stage_opts *opts, ild_task **out) { return create(opts, false, out); }
ildiff_status ild_s2b_create(const ild_stage_opts *opts, ild_task **out) { return create(opts, true, out); }
