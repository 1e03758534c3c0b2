/*
 * test_stages.c: the model training stages (src/train/stage_s*.c) and their data source (loader.c) on a tiny
 * corpus built here from tests/data/mini_icons.json (train 5 samples in 2 shards, val 2 samples in the folder
 * beside it), with the tests' tiny model sizes: clips are deterministic and in range, the test split is refused,
 * a truncated shard is a clean error, pad_rgb keeps the colour, S0 runs and writes a model that S1 loads with
 * --init (and S1 refuses to start without it), S0's and S1's losses fall when they overfit one fixed batch, an S1 run
 * stopped and resumed ends bit-identical to an uninterrupted one (weights, moments, EMA, log), and S2a trains a
 * teacher that S2b distils from (refusing to start without it), and S3 starts from S1's and S2b's models (two
 * --init files; refused when the student is missing) at temporal depths 0 and 3.
 */
#include "check.h"

#include "base/base.h"
#include "data/dataset.h"
#include "nn/nn.h"
#include "nn/optim.h"
#include "train/loader.h"
#include "train/stage_util.h"
#include "train/stages.h"
#include "train/trainer.h"

#include <math.h>
#include <unistd.h>

static char root[512], train_dir[600], val_dir[600];

static const char *path_in(const char *name)
{
    static char p[1024];
    snprintf(p, sizeof p, "%s/%s", root, name);
    return p;
}

static bool same_file(const char *a, const char *b)
{
    uint8_t *x = NULL, *y = NULL;
    size_t nx = 0, ny = 0;
    bool same = ildiff_read_file(a, 0, &x, &nx) == ILDIFF_OK && ildiff_read_file(b, 0, &y, &ny) == ILDIFF_OK &&
                nx == ny && memcmp(x, y, nx) == 0;
    free(x), free(y);
    return same;
}

static ildiff_status build_corpora(void)
{
    char icons[600];
    snprintf(icons, sizeof icons, "%s/mini_icons.json", CHECK_DATA());
    const char *paths[] = {icons};
    ild_sources *src = NULL;
    ildiff_status st = ild_sources_load(paths, 1, NULL, &src);
    ild_build_options o = {.out_dir = train_dir, .count = 5, .seed = 3, .split = ILD_SPLIT_TRAIN, .size = 32,
                           .shard_size = 3, .threads = 1, .quiet = true};
    if (st == ILDIFF_OK) st = ild_corpus_build(src, &o, NULL, NULL);
    o.out_dir = val_dir, o.count = 2, o.split = ILD_SPLIT_VAL;
    if (st == ILDIFF_OK) st = ild_corpus_build(src, &o, NULL, NULL);
    ild_sources_free(src);
    return st;
}

static void test_loader(void)
{
    enum { T = 3, SZ = 16, S = SZ * SZ };
    ild_loader_cfg c = {.dir = train_dir, .split = "train", .size = SZ, .frames = T, .seed = 1, .cache = 2};
    ild_loader *l = NULL, *l2 = NULL;
    CHECK_OK(ild_loader_open(&c, &l));
    CHECK_OK(ild_loader_open(&c, &l2));
    if (!l || !l2) return ild_loader_free(l), ild_loader_free(l2);
    CHECK(ild_loader_count(l) == 5);
    static float rgb[2][T * 3 * S], alpha[2][T * S], fg[2][T * 3 * S];
    static int32_t ids[2][T * S];
    ild_clip a = {rgb[0], alpha[0], fg[0], ids[0]}, b = {rgb[1], alpha[1], fg[1], ids[1]};
    for (int64_t pos = 0; pos < 5; pos++) { /* every sample, both shards, the cache evicting */
        CHECK_OK(ild_loader_clip(l, pos, 77 + (uint64_t)pos, &a));
        CHECK_OK(ild_loader_clip(l2, pos, 77 + (uint64_t)pos, &b));
        CHECK_MSG(memcmp(rgb[0], rgb[1], sizeof rgb[0]) == 0 && memcmp(alpha[0], alpha[1], sizeof alpha[0]) == 0 &&
                      memcmp(ids[0], ids[1], sizeof ids[0]) == 0,
                  "clip %lld differs between loaders", (long long)pos);
    }
    CHECK_OK(ild_loader_clip(l, 1, 5, &a));
    CHECK_OK(ild_loader_clip(l, 1, 6, &b));
    CHECK_MSG(memcmp(rgb[0], rgb[1], sizeof rgb[0]) != 0, "another key gave the same clip");
    double cover = 0;
    bool in_range = true;
    for (int i = 0; i < T * S; i++) {
        cover += alpha[0][i];
        in_range &= alpha[0][i] >= 0 && alpha[0][i] <= 1 && ids[0][i] >= 0;
        for (int ch = 0; ch < 3; ch++) {
            int f = i / S, p = i % S;
            float x = rgb[0][(f * 3 + ch) * S + p], y = fg[0][(f * 3 + ch) * S + p];
            in_range &= x >= 0 && x <= 1 && y >= 0 && y <= 1 && (alpha[0][i] > 0 || y == 0);
        }
    }
    CHECK(in_range);
    CHECK_MSG(cover > 1 && cover < T * S - 1, "alpha coverage %g of %d", cover, T * S);
    /* the order: a permutation per epoch, a function of the cursor */
    bool seen[5] = {0};
    for (int64_t k = 0; k < 5; k++) seen[ild_loader_pick(l, 5 + k)] = true;
    CHECK(seen[0] && seen[1] && seen[2] && seen[3] && seen[4]);
    CHECK(ild_loader_pick(l, 3) == ild_loader_pick(l2, 3) && ild_loader_pick(l, 7) == ild_loader_pick(l2, 7));
    ild_loader_free(l), ild_loader_free(l2);

    c.split = "test";
    CHECK(ild_loader_open(&c, &l) == ILDIFF_ERR_ARG && l == NULL);
    c.split = "train", c.dir = path_in("nonexistent");
    CHECK(ild_loader_open(&c, &l) == ILDIFF_ERR_IO && l == NULL);
}

static void test_truncated_shard(void)
{
    char bad[700], cmd[2200];
    snprintf(bad, sizeof bad, "%s/bad", root);
    snprintf(cmd, sizeof cmd, "cp -r '%s' '%s' && truncate -s 3000 '%s/shard-00000.tar'", train_dir, bad, bad);
    CHECK(system(cmd) == 0);
    ild_loader_cfg c = {.dir = bad, .split = "train", .size = 16, .frames = 1, .seed = 1, .cache = 1};
    ild_loader *l = NULL;
    CHECK_OK(ild_loader_open(&c, &l));
    if (!l) return;
    static float rgb[3 * 256], alpha[256], fg[3 * 256];
    ild_clip clip = {rgb, alpha, fg, NULL};
    ildiff_status st = ILDIFF_OK;
    for (int64_t pos = 0; pos < 3 && st == ILDIFF_OK; pos++) st = ild_loader_clip(l, pos, 1, &clip);
    CHECK_MSG(st == ILDIFF_ERR_FORMAT, "truncated shard gave %d (%s)", st, ildiff_last_error());
    CHECK_OK(ild_loader_clip(l, 4, 1, &clip)); /* the other shard is intact */
    ild_loader_free(l);
}

static void test_pad_rgb(void)
{
    enum { H = 20, W = 24, S = H * W };
    static float fg[3 * S], alpha[S], out[3 * S];
    float *scratch = malloc(ild_pad_rgb_scratch(H, W) * sizeof(float));
    if (!scratch) return;
    const float col[3] = {0.2f, 0.5f, 0.8f};
    for (int i = 0; i < S; i++) {
        float y = (float)(i / W) - 10, x = (float)(i % W) - 12;
        alpha[i] = fminf(fmaxf(5 - sqrtf(x * x + y * y), 0), 1);
        for (int c = 0; c < 3; c++) fg[c * S + i] = alpha[i] > 0 ? col[c] : 0;
    }
    ild_pad_rgb(out, fg, alpha, H, W, scratch);
    float worst = 0;
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < S; i++) worst = fmaxf(worst, fabsf(out[c * S + i] - col[c]));
    CHECK_MSG(worst < 1e-4f, "a one-colour sticker pads to that colour (worst %g)", worst);
    for (int i = 0; i < S; i++) fg[i] = (float)(i % W) / W; /* a ramp in red: kept where opaque */
    ild_pad_rgb(out, fg, alpha, H, W, scratch);
    worst = 0;
    for (int i = 0; i < S; i++)
        if (alpha[i] == 1) worst = fmaxf(worst, fabsf(out[i] - fg[i]));
    CHECK(worst < 1e-5f);
    free(scratch);
}

static ild_train_cfg run_cfg(const char *dir, const char *stage, int64_t steps)
{
    ild_train_cfg c = ild_train_defaults();
    c.out_dir = dir, c.stage = stage, c.steps = steps, c.warmup = 1, c.lr = 3e-3f, c.lr_min = 1e-4f;
    c.ema_decay = 0.9f, c.val_every = 2, c.ckpt_every = 0, c.keep = 2, c.seed = 5;
    return c;
}

static bool finite_terms(const ild_terms *t)
{
    bool ok = t->count > 0;
    for (int i = 0; i < t->count; i++) ok &= isfinite(t->value[i]);
    return ok;
}

static char s0_model[1100];

static void test_s0_then_s1_init(void)
{
    ild_stage_opts so = {.corpus = train_dir, .batch = 2, .seed = 3, .size = 16, .depth = -1, .tiny = true};
    ild_task *t = NULL;
    CHECK_OK(ild_s0_create(&so, &t));
    if (!t) return;
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", path_in("s0"));
    ild_train_cfg c = run_cfg(dir, "S0", 4);
    ild_train_result r;
    CHECK_OK(ild_train_run(&c, t, &r));
    CHECK(r.step == 4 && finite_terms(&r.loss) && finite_terms(&r.val));
    CHECK(r.val.count == 2 && strcmp(r.val.name[1], "recon_psnr") == 0);
    ild_s0_destroy(t);
    snprintf(s0_model, sizeof s0_model, "%s/model.safetensors", dir);
    CHECK(access(s0_model, F_OK) == 0);

    so.batch = 2;
    CHECK(ild_s1_create(&so, &t) == ILDIFF_ERR_ARG && t == NULL); /* S1 needs the S0 weights */
    CHECK(strstr(ildiff_last_error(), "--init") != NULL);
    so.init[0] = s0_model, so.init_count = 1;
    CHECK_OK(ild_s1_create(&so, &t));
    if (!t) return;
    snprintf(dir, sizeof dir, "%s", path_in("s1"));
    c = run_cfg(dir, "S1", 3);
    CHECK_OK(ild_train_run(&c, t, &r));
    CHECK(r.step == 3 && finite_terms(&r.loss) && finite_terms(&r.val));
    CHECK(r.loss.count == 4 && r.val.count == 2 && strcmp(r.val.name[0], "alpha_l1") == 0);
    /* the frozen VAE is the S0 one, unchanged by S1's steps */
    const nn_param *e = nn_params_find(t->params, "vae_encoder.conv_out.weight");
    CHECK(e && (e->flags & NN_PARAM_FROZEN));
    ild_s1_destroy(t);
}

/* Runs 30 AdamW steps of a task on its batch of step 0 (made with the RNG seeded batch_seed, which also fixes
 * S1's offset dropping): first and last values of loss terms a and b summed, and of term 3 (harmlessness). */
static void overfit(ild_task *t, uint64_t batch_seed, int a, int b, double *first, double *last, double *first_h,
                    double *last_h)
{
    nn_rng rng;
    nn_rng_seed(&rng, batch_seed);
    CHECK_OK(t->next_batch(t->user, 0, &rng));
    CHECK_OK(nn_params_alloc_adam(t->params));
    nn_adamw_cfg cfg = nn_adamw_defaults();
    cfg.lr = 1e-2f, cfg.weight_decay = 0;
    for (int s = 1; s <= 30; s++) {
        memset(t->params->grad, 0, t->params->total * sizeof(float));
        ild_terms loss = {0};
        CHECK_OK(t->forward_backward(t->user, &rng, &loss));
        CHECK(finite_terms(&loss));
        double fit = loss.value[a] + loss.value[b], h = loss.count > 3 ? loss.value[3] : 0;
        if (s == 1) *first = fit, *first_h = h;
        *last = fit, *last_h = h;
        nn_adamw_step_params(t->params, &cfg, s);
    }
}

static void test_s0_s1_overfit(void)
{
    ild_stage_opts so = {.corpus = train_dir, .batch = 2, .seed = 4, .size = 16, .depth = -1, .tiny = true};
    ild_task *t = NULL;
    double first, last, fh, lh;
    CHECK_OK(ild_s0_create(&so, &t));
    if (!t) return;
    overfit(t, 1, 1, 2, &first, &last, &fh, &lh); /* l1 + mse */
    CHECK_MSG(last < 0.7 * first, "S0 reconstruction on a fixed batch went from %g to %g in 30 steps", first, last);
    ild_s0_destroy(t);

    so.init[0] = s0_model, so.init_count = 1;
    CHECK_OK(ild_s1_create(&so, &t));
    if (!t) return;
    uint64_t seed = 1; /* a batch where S1 keeps the offset of both frames (each frame's draw >= 0.5) */
    for (bool both = false; !both; seed++) {
        nn_rng r, f0, f1;
        nn_rng_seed(&r, seed);
        ild_stage_data d = {.step_key = nn_rng_u64(&r), .first = 0};
        ild_stage_sample_rng(&d, 0, &f0), ild_stage_sample_rng(&d, 1, &f1);
        both = nn_rng_uniform(&f0) >= 0.5f && nn_rng_uniform(&f1) >= 0.5f;
    }
    overfit(t, seed - 1, 1, 2, &first, &last, &fh, &lh); /* alpha + rgb, and harmlessness */
    CHECK_MSG(last < 0.5 * first, "S1 alpha + rgb loss on a fixed batch went from %g to %g in 30 steps", first, last);
    CHECK_MSG(lh < 0.99 * fh, "S1 harmlessness did not move the offset (%g -> %g)", fh, lh);
    ild_s1_destroy(t);
}

static void test_s2_teacher_then_distill(void)
{
    ild_stage_opts so = {.corpus = train_dir, .batch = 2, .seed = 8, .size = 16, .depth = -1, .tiny = true};
    ild_task *t = NULL;
    CHECK_OK(ild_s2a_create(&so, &t));
    if (!t) return;
    char dir[1024], model[1100];
    snprintf(dir, sizeof dir, "%s", path_in("s2a"));
    ild_train_cfg c = run_cfg(dir, "S2a", 3);
    ild_train_result r;
    CHECK_OK(ild_train_run(&c, t, &r));
    CHECK(r.step == 3 && finite_terms(&r.loss) && finite_terms(&r.val) && r.val.count == 2);
    CHECK(r.val.value[1] >= 0 && r.val.value[1] <= 1); /* object_acc */
    ild_s2a_destroy(t);
    snprintf(model, sizeof model, "%s/model.safetensors", dir);

    so.size = 0, so.batch = 10; /* the teacher runs in two passes of 5 frames */
    CHECK(ild_s2b_create(&so, &t) == ILDIFF_ERR_ARG && t == NULL); /* the teacher is required */
    so.init[0] = model, so.init_count = 1;
    CHECK_OK(ild_s2b_create(&so, &t));
    if (!t) return;
    snprintf(dir, sizeof dir, "%s", path_in("s2b"));
    c = run_cfg(dir, "S2b", 3);
    CHECK_OK(ild_train_run(&c, t, &r));
    CHECK(r.step == 3 && finite_terms(&r.loss) && finite_terms(&r.val));
    CHECK(r.val.count == 1 && strcmp(r.val.name[0], "distill_mse") == 0);
    ild_s2b_destroy(t);
}

static void test_s3_chain(void)
{
    char s1_model[1100], s2_model[1100];
    snprintf(s1_model, sizeof s1_model, "%s/model.safetensors", path_in("s1"));
    snprintf(s2_model, sizeof s2_model, "%s/model.safetensors", path_in("s2b"));
    ild_stage_opts so = {.corpus = train_dir, .batch = 2, .seed = 9, .size = 16, .frames = 3, .depth = 3,
                         .tiny = true, .init = {s1_model}, .init_count = 1};
    ild_task *t = NULL;
    CHECK(ild_s3_create(&so, &t) == ILDIFF_ERR_FORMAT && t == NULL); /* the student is missing */
    CHECK(strstr(ildiff_last_error(), "student.") != NULL);
    so.init[1] = s2_model, so.init_count = 2;
    for (int depth = 0; depth <= 3; depth += 3) {
        so.depth = depth;
        CHECK_OK(ild_s3_create(&so, &t));
        if (!t) return;
        char dir[1100];
        snprintf(dir, sizeof dir, "%s-%d", path_in("s3"), depth);
        ild_train_cfg c = run_cfg(dir, "S3", 3);
        ild_train_result r;
        CHECK_OK(ild_train_run(&c, t, &r));
        CHECK(r.step == 3 && finite_terms(&r.loss) && finite_terms(&r.val));
        CHECK(r.loss.count == 5 && r.val.count == 3);
        CHECK((nn_params_find(t->params, "temporal.layers.2.conv.weight") != NULL) == (depth == 3));
        ild_s3_destroy(t);
    }
}

static ild_task *inner;
static int64_t stop_at = -1;
static volatile sig_atomic_t stop_flag;

static ildiff_status stopping_next_batch(void *user, int64_t step, nn_rng *rng)
{
    if (step == stop_at) stop_flag = 1;
    return inner->next_batch(user, step, rng);
}

static void test_s1_resume_exact(void)
{
    nn_threads_set(1);
    ild_stage_opts so = {.corpus = train_dir, .batch = 2, .seed = 6, .size = 16, .depth = -1, .tiny = true,
                         .init = {s0_model}, .init_count = 1};
    char a_dir[1024], b_dir[1024];
    snprintf(a_dir, sizeof a_dir, "%s", path_in("resume_a"));
    snprintf(b_dir, sizeof b_dir, "%s", path_in("resume_b"));
    ild_task *a = NULL, *b = NULL, *c = NULL;
    CHECK_OK(ild_s1_create(&so, &a));
    if (!a) return;
    ild_train_cfg ca = run_cfg(a_dir, "S1", 5);
    ild_train_result ra, rb;
    CHECK_OK(ild_train_run(&ca, a, &ra));
    CHECK_OK(ild_s1_create(&so, &b));
    if (!b) return ild_s1_destroy(a);
    inner = b;
    ild_task bw = *b;
    bw.next_batch = stopping_next_batch;
    stop_at = 2, stop_flag = 0;
    ild_train_cfg cb = run_cfg(b_dir, "S1", 5);
    cb.stop = &stop_flag;
    CHECK_OK(ild_train_run(&cb, &bw, &rb));
    CHECK(rb.step == 3 && rb.interrupted);
    ild_s1_destroy(b);
    CHECK_OK(ild_s1_create(&so, &c)); /* a fresh process */
    if (!c) return ild_s1_destroy(a);
    cb.resume = true, cb.stop = NULL;
    CHECK_OK(ild_train_run(&cb, c, &rb));
    CHECK(rb.step == 5);
    const nn_params *pa = a->params, *pc = c->params;
    size_t bytes = pa->total * sizeof(float);
    CHECK(pa->total == pc->total);
    CHECK_MSG(memcmp(pa->data, pc->data, bytes) == 0, "parameters differ after resume");
    CHECK_MSG(memcmp(pa->m, pc->m, bytes) == 0 && memcmp(pa->ema, pc->ema, bytes) == 0, "moments or EMA differ");
    char x[1200], y[1200];
    snprintf(x, sizeof x, "%s/train.jsonl", a_dir), snprintf(y, sizeof y, "%s/train.jsonl", b_dir);
    CHECK_MSG(same_file(x, y), "the resumed log differs from the uninterrupted one");
    ild_s1_destroy(a), ild_s1_destroy(c);
}

int main(void)
{
    nn_threads_set(1); /* tiny models: threads only add contention on a shared machine */
    snprintf(root, sizeof root, "%s/stages-%d", CHECK_TMPDIR(), (int)getpid());
    snprintf(train_dir, sizeof train_dir, "%s/train", root);
    snprintf(val_dir, sizeof val_dir, "%s/val", root);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", root, root);
    if (system(cmd) != 0 || build_corpora() != ILDIFF_OK) {
        fprintf(stderr, "cannot build the test corpus: %s\n", ildiff_last_error());
        return 1;
    }
    RUN(test_loader);
    RUN(test_truncated_shard);
    RUN(test_pad_rgb);
    RUN(test_s0_then_s1_init);
    RUN(test_s0_s1_overfit);
    RUN(test_s1_resume_exact);
    RUN(test_s2_teacher_then_distill);
    RUN(test_s3_chain);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", root);
    return check_done();
}
