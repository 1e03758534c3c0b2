/*
 * test_train.c: the training machinery (src/train/): exact resume (20 steps straight == 10 steps, stop,
 * checkpoint, a fresh trainer resuming 10 more: parameters, moments, EMA, log and checkpoint bytes identical,
 * single-threaded), checkpoints that refuse another model or other settings, atomic writes (a failed write
 * leaves the previous checkpoint), pruning to the last K, the schedule, clipping and EMA as applied, a loss
 * that is not finite, and the charts.
 */
#include "check.h"

#include "base/base.h"
#include "nn/nn.h"
#include "nn/safetensors.h"
#include "train/checkpoint.h"
#include "train/plot.h"
#include "train/stages.h"
#include "train/trainer.h"

#include <sys/stat.h>
#include <unistd.h>

static char tmp_root[512];

/* A fresh folder under the test scratch space. */
static const char *fresh_dir(const char *name)
{
    static char path[1024];
    snprintf(path, sizeof path, "%s/%s", tmp_root, name);
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0) return NULL;
    return path;
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

static ild_train_cfg toy_cfg(const char *dir)
{
    ild_train_cfg c = ild_train_defaults();
    c.out_dir = dir, c.stage = "toy", c.steps = 20, c.warmup = 3, c.lr = 3e-3f, c.lr_min = 1e-4f, c.ema_decay = 0.9f;
    c.val_every = 5, c.ckpt_every = 0, c.keep = 2, c.seed = 7;
    return c;
}

/* ---- exact resume ---- */

/* Wraps the toy task's next_batch to raise the stop flag during step `stop_at` (0-based). */
static ild_task *inner;
static int64_t stop_at = -1;
static volatile sig_atomic_t stop_flag;

static ildiff_status stopping_next_batch(void *user, int64_t step, nn_rng *rng)
{
    if (step == stop_at) stop_flag = 1;
    return inner->next_batch(user, step, rng);
}

static void test_resume_exact(void)
{
    nn_threads_set(1);
    ild_stage_opts so = {.batch = 4, .seed = 7};
    char a_dir[1024], b_dir[1024];
    snprintf(a_dir, sizeof a_dir, "%s", fresh_dir("resume_a"));
    snprintf(b_dir, sizeof b_dir, "%s", fresh_dir("resume_b"));

    ild_task *a = NULL;
    CHECK_OK(ild_toy_create(&so, &a));
    if (!a) return;
    ild_train_cfg ca = toy_cfg(a_dir);
    ild_train_result ra;
    CHECK_OK(ild_train_run(&ca, a, &ra));
    CHECK(ra.step == 20 && !ra.interrupted && ra.val.count == 2);

    ild_task *b = NULL;
    CHECK_OK(ild_toy_create(&so, &b));
    if (!b) return ild_toy_destroy(a);
    inner = b;
    ild_task bw = *b;
    bw.next_batch = stopping_next_batch;
    stop_at = 9, stop_flag = 0;
    ild_train_cfg cb = toy_cfg(b_dir);
    cb.stop = &stop_flag;
    ild_train_result rb;
    CHECK_OK(ild_train_run(&cb, &bw, &rb));
    CHECK(rb.step == 10 && rb.interrupted);
    ild_toy_destroy(b);

    ild_task *c = NULL;
    CHECK_OK(ild_toy_create(&so, &c)); /* a fresh process would start here */
    if (!c) return ild_toy_destroy(a);
    cb.resume = true, cb.stop = NULL;
    CHECK_OK(ild_train_run(&cb, c, &rb));
    CHECK(rb.step == 20 && !rb.interrupted);
    const nn_params *pa = a->params, *pc = c->params;
    size_t bytes = pa->total * sizeof(float);
    CHECK(pa->total == pc->total);
    CHECK_MSG(memcmp(pa->data, pc->data, bytes) == 0, "parameters differ after resume");
    CHECK_MSG(memcmp(pa->m, pc->m, bytes) == 0 && memcmp(pa->v, pc->v, bytes) == 0, "AdamW moments differ");
    CHECK_MSG(memcmp(pa->ema, pc->ema, bytes) == 0, "EMA differs");
    CHECK(ra.loss.count == 3 && memcmp(ra.loss.value, rb.loss.value, sizeof ra.loss.value) == 0);
    char x[1200], y[1200];
    snprintf(x, sizeof x, "%s/train.jsonl", a_dir), snprintf(y, sizeof y, "%s/train.jsonl", b_dir);
    CHECK_MSG(same_file(x, y), "the resumed log differs from the uninterrupted one");
    snprintf(x, sizeof x, "%s/ckpt-00000020.safetensors", a_dir);
    snprintf(y, sizeof y, "%s/ckpt-00000020.safetensors", b_dir);
    CHECK_MSG(same_file(x, y), "final checkpoints differ");
    snprintf(x, sizeof x, "%s/model.safetensors", a_dir), snprintf(y, sizeof y, "%s/loss.png", a_dir);
    CHECK(access(x, F_OK) == 0 && access(y, F_OK) == 0);

    /* the check can fail: a resume that forgets the RNG (reseeded) ends elsewhere */
    ild_ckpt_meta m = {0};
    nn_params *pc_mut = c->params;
    snprintf(x, sizeof x, "%s/ckpt-00000010.safetensors", b_dir);
    CHECK_OK(ild_ckpt_load(x, pc_mut, &m));
    nn_rng_seed(&m.rng, 12345);
    CHECK_OK(ild_ckpt_save(b_dir, pc_mut, &m, 0, NULL, 0));
    ild_ckpt_meta_clear(&m);
    ild_task *d = NULL;
    CHECK_OK(ild_toy_create(&so, &d));
    if (d) {
        CHECK_OK(ild_train_run(&cb, d, &rb));
        CHECK_MSG(memcmp(pa->data, d->params->data, bytes) != 0, "a different RNG gave the same weights");
        ild_toy_destroy(d);
    }
    ild_toy_destroy(a);
    ild_toy_destroy(c);
}

/* Fails step `crash_at` (0-based) as a crash would end the process there. */
static int64_t crash_at = -1;

static ildiff_status crashing_next_batch(void *user, int64_t step, nn_rng *rng)
{
    if (step == crash_at) return ild_fail(ILDIFF_ERR_IO, "simulated crash");
    return inner->next_batch(user, step, rng);
}

/* A run that dies after step 13 (last checkpoint at 10) resumes from 10 and still ends bit-identical, with the
 * log's steps 11..13 made once. */
static void test_resume_after_crash(void)
{
    nn_threads_set(1);
    ild_stage_opts so = {.batch = 4, .seed = 9};
    char a_dir[1024], b_dir[1024];
    snprintf(a_dir, sizeof a_dir, "%s", fresh_dir("crash_a"));
    snprintf(b_dir, sizeof b_dir, "%s", fresh_dir("crash_b"));
    ild_task *a = NULL, *b = NULL, *c = NULL;
    CHECK_OK(ild_toy_create(&so, &a));
    CHECK_OK(ild_toy_create(&so, &b));
    CHECK_OK(ild_toy_create(&so, &c));
    if (a && b && c) {
        ild_train_cfg ca = toy_cfg(a_dir), cb = toy_cfg(b_dir);
        ca.ckpt_every = cb.ckpt_every = 5;
        ild_train_result r;
        CHECK_OK(ild_train_run(&ca, a, &r));
        inner = b;
        ild_task bw = *b;
        bw.next_batch = crashing_next_batch;
        crash_at = 13;
        CHECK(ild_train_run(&cb, &bw, &r) == ILDIFF_ERR_IO && r.step == 13);
        cb.resume = true;
        CHECK_OK(ild_train_run(&cb, c, &r));
        CHECK(r.step == 20);
        CHECK(memcmp(a->params->data, c->params->data, a->params->total * sizeof(float)) == 0);
        char x[1200], y[1200];
        snprintf(x, sizeof x, "%s/train.jsonl", a_dir), snprintf(y, sizeof y, "%s/train.jsonl", b_dir);
        CHECK_MSG(same_file(x, y), "the log after a crash and resume differs");
    }
    ild_toy_destroy(a), ild_toy_destroy(b), ild_toy_destroy(c);
}

/* ---- checkpoints ---- */

static void test_checkpoint_rejects_other_model(void)
{
    nn_threads_set(1);
    const char *dir = fresh_dir("mismatch");
    CHECK(dir && mkdir(dir, 0777) == 0);
    ild_stage_opts so = {.batch = 2, .seed = 3};
    ild_task *t = NULL;
    CHECK_OK(ild_toy_create(&so, &t));
    if (!t) return;
    CHECK_OK(nn_params_alloc_adam(t->params));
    ild_ckpt_meta m = {.step = 5, .data_cursor = 10, .stage = "toy", .config = "{\"a\":1}"};
    char path[1200];
    CHECK_OK(ild_ckpt_save(dir, t->params, &m, 3, path, sizeof path));

    /* wider conv1: a shape mismatch, named; the table is untouched */
    nn_params p;
    nn_params_init(&p);
    float *w = NULL;
    CHECK_OK(nn_params_add(&p, "conv1.weight", 4, (int64_t[]){16, 1, 3, 3}, 0, &w, NULL));
    CHECK_OK(nn_params_alloc(&p));
    CHECK_OK(nn_params_alloc_adam(&p));
    w[0] = 42;
    CHECK(ild_ckpt_load(path, &p, NULL) == ILDIFF_ERR_FORMAT);
    CHECK_MSG(strstr(ildiff_last_error(), "shape [8, 1, 3, 3], the model has [16, 1, 3, 3]"), "%s",
              ildiff_last_error());
    CHECK(w[0] == 42);
    nn_params_free(&p);

    /* a model with a parameter the file lacks */
    nn_params_init(&p);
    CHECK_OK(nn_params_add(&p, "conv1.weight", 4, (int64_t[]){8, 1, 3, 3}, 0, NULL, NULL));
    CHECK_OK(nn_params_add(&p, "extra.bias", 1, (int64_t[]){8}, 0, NULL, NULL));
    CHECK_OK(nn_params_alloc(&p));
    CHECK(ild_ckpt_load(path, &p, NULL) == ILDIFF_ERR_FORMAT);
    CHECK_MSG(strstr(ildiff_last_error(), "not a parameter of this model") || strstr(ildiff_last_error(), "missing"),
              "%s", ildiff_last_error());
    nn_params_free(&p);

    /* the same model loads; its metadata comes back */
    ild_ckpt_meta got = {0};
    memset(t->params->data, 0, t->params->total * sizeof(float));
    CHECK_OK(ild_ckpt_load(path, t->params, &got));
    CHECK(got.step == 5 && got.data_cursor == 10 && strcmp(got.stage, "toy") == 0 &&
          strcmp(got.config, "{\"a\":1}") == 0);
    ild_ckpt_meta_clear(&got);

    /* a truncated file is refused cleanly */
    uint8_t *bytes = NULL;
    size_t n = 0;
    CHECK_OK(ildiff_read_file(path, 0, &bytes, &n));
    char cut[1300];
    snprintf(cut, sizeof cut, "%s/cut.safetensors", dir);
    CHECK_OK(ildiff_write_file_atomic(cut, bytes, n / 2, true));
    free(bytes);
    CHECK(ild_ckpt_load(cut, t->params, NULL) != ILDIFF_OK);

    /* a resume with another learning rate or stage is refused, naming it */
    ild_train_cfg c = toy_cfg(fresh_dir("mismatch_run"));
    c.steps = 4, c.ckpt_every = 2;
    ild_train_result r;
    CHECK_OK(ild_train_run(&c, t, &r));
    c.resume = true, c.lr = 1e-3f;
    CHECK(ild_train_run(&c, t, &r) == ILDIFF_ERR_ARG);
    CHECK_MSG(strstr(ildiff_last_error(), "lr = "), "%s", ildiff_last_error());
    c.lr = 3e-3f, c.stage = "S1";
    CHECK(ild_train_run(&c, t, &r) == ILDIFF_ERR_ARG);
    c.stage = "toy", c.resume = false;
    CHECK(ild_train_run(&c, t, &r) == ILDIFF_ERR_EXISTS); /* a fresh run over an existing one */
    ild_toy_destroy(t);
}

static void test_checkpoint_atomic_and_pruned(void)
{
    nn_threads_set(1);
    const char *d = fresh_dir("atomic");
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", d);
    CHECK(mkdir(dir, 0777) == 0);
    ild_stage_opts so = {.batch = 2, .seed = 3};
    ild_task *t = NULL;
    CHECK_OK(ild_toy_create(&so, &t));
    if (!t) return;
    ild_ckpt_meta m = {.step = 10, .stage = "toy", .config = "{}"};
    CHECK_OK(ild_ckpt_save(dir, t->params, &m, 3, NULL, 0));
    float keep0 = t->params->data[0];

    /* the write of step 20 fails (its name is taken by a folder): step 10 stays the latest, whole */
    char blocker[1200], path[1200];
    snprintf(blocker, sizeof blocker, "%s/ckpt-00000020.safetensors", dir);
    CHECK(mkdir(blocker, 0777) == 0);
    t->params->data[0] = keep0 + 1;
    m.step = 20;
    CHECK(ild_ckpt_save(dir, t->params, &m, 3, NULL, 0) != ILDIFF_OK);
    CHECK_OK(ild_ckpt_latest(dir, path, sizeof path));
    CHECK(strstr(path, "ckpt-00000010.safetensors") != NULL);
    CHECK_OK(ild_ckpt_load(path, t->params, NULL));
    CHECK(t->params->data[0] == keep0);
    char cmd[1300];
    snprintf(cmd, sizeof cmd, "ls '%s' | grep -q tmp", dir);
    CHECK_MSG(system(cmd) != 0, "a temporary file was left behind");
    rmdir(blocker);

    /* keep 2: only the two newest remain */
    for (int s = 1; s <= 5; s++) {
        m.step = 100 + s;
        CHECK_OK(ild_ckpt_save(dir, t->params, &m, 2, NULL, 0));
    }
    snprintf(cmd, sizeof cmd, "test $(ls '%s' | grep -c '^ckpt-') = 2", dir);
    CHECK(system(cmd) == 0);
    snprintf(path, sizeof path, "%s/ckpt-00000105.safetensors", dir);
    CHECK(access(path, F_OK) == 0);
    snprintf(path, sizeof path, "%s/ckpt-00000103.safetensors", dir);
    CHECK(access(path, F_OK) != 0);
    CHECK(ild_ckpt_latest(tmp_root, path, sizeof path) == ILDIFF_ERR_IO); /* no run there */
    ild_toy_destroy(t);
}

/* ---- schedule, clipping, EMA ---- */

typedef struct probe {
    nn_params p;
    float *w, *gw;
    float seen_in_validate;
} probe;

static ildiff_status probe_batch(void *user, int64_t step, nn_rng *rng) { return ILDIFF_OK; }

static ildiff_status probe_fb(void *user, nn_rng *rng, ild_terms *loss)
{
    probe *q = user;
    q->gw[0] = 3, q->gw[1] = 4; /* norm 5 */
    ild_terms_add(loss, "loss", 1.0);
    return ILDIFF_OK;
}

static ildiff_status probe_val(void *user, ild_terms *metrics)
{
    probe *q = user;
    q->seen_in_validate = q->w[0];
    ild_terms_add(metrics, "w0", q->w[0]);
    return ILDIFF_OK;
}

static ildiff_status probe_nan(void *user, nn_rng *rng, ild_terms *loss)
{
    ild_terms_add(loss, "loss", NAN);
    return ILDIFF_OK;
}

static void test_schedule_clip_ema(void)
{
    probe q = {0};
    nn_params_init(&q.p);
    CHECK_OK(nn_params_add(&q.p, "w", 1, (int64_t[]){2}, 0, &q.w, &q.gw));
    CHECK_OK(nn_params_alloc(&q.p));
    q.w[0] = 1, q.w[1] = -1;
    ild_task t = {.user = &q, .params = &q.p, .batch = 1, .config = "{}", .next_batch = probe_batch,
                  .forward_backward = probe_fb, .validate = probe_val};
    ild_train_cfg c = ild_train_defaults();
    c.out_dir = fresh_dir("schedule"), c.stage = "probe", c.steps = 6, c.warmup = 2, c.lr = 0.1f, c.lr_min = 0.01f;
    c.adamw.eps = 1.0f, c.adamw.weight_decay = 0, c.clip = 1.0f, c.ema_decay = 0.5f, c.val_every = 1;
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", c.out_dir);
    c.out_dir = dir;

    /* the expected trajectory, by hand with the same primitives */
    float w[2] = {1, -1}, m[2] = {0}, v[2] = {0}, ema[2] = {1, -1};
    for (int s = 0; s < 6; s++) {
        float g[2] = {3, 4};
        float norm = nn_clip_grad_norm(g, 2, 1.0f);
        CHECK_NEAR(norm, 5, 1e-6);
        CHECK_NEAR(sqrt(g[0] * g[0] + g[1] * g[1]), 1, 1e-5);
        nn_adamw_cfg a = c.adamw;
        a.lr = nn_lr_warmup_cosine(s, 2, 6, 0.1f, 0.01f);
        nn_adamw_update(w, g, m, v, 2, &a, 0, s + 1);
        nn_ema_update(ema, w, 2, nn_ema_decay_at(0.5f, s + 1));
    }
    ild_train_result r;
    CHECK_OK(ild_train_run(&c, &t, &r));
    CHECK(r.step == 6);
    CHECK(q.w[0] == w[0] && q.w[1] == w[1]);
    CHECK(q.p.ema[0] == ema[0] && q.p.ema[1] == ema[1]);
    CHECK(q.seen_in_validate == ema[0]); /* validation ran on the EMA weights ... */
    CHECK(q.w[0] != ema[0]);             /* ... and the weights came back */
    CHECK(nn_lr_warmup_cosine(0, 2, 6, 0.1f, 0.01f) == 0.05f); /* warmup: lr * (step + 1) / warmup */
    CHECK_NEAR(nn_ema_decay_at(0.999f, 1), 2.0 / 11.0, 1e-7); /* EMA warmup: early steps weigh more ... */
    CHECK(nn_ema_decay_at(0.999f, 100000) == 0.999f);        /* ... until the set decay takes over */
    CHECK(nn_ema_decay_at(0.5f, 1) < 0.5f && nn_ema_decay_at(0.5f, 20) == 0.5f);

    /* the log carries the schedule and the norm before clipping */
    char path[1200];
    snprintf(path, sizeof path, "%s/train.jsonl", dir);
    uint8_t *log = NULL;
    size_t n = 0;
    CHECK_OK(ildiff_read_file(path, 0, &log, &n));
    char *text = log ? realloc(log, n + 1) : NULL;
    if (text) {
        text[n] = 0;
        CHECK(strstr(text, "{\"kind\":\"train\",\"step\":1,\"lr\":0.0500000007,\"grad_norm\":5,") != NULL);
        char want[128];
        snprintf(want, sizeof want, "{\"kind\":\"train\",\"step\":6,\"lr\":%.9g,",
                 nn_lr_warmup_cosine(5, 2, 6, 0.1f, 0.01f));
        CHECK_MSG(strstr(text, want) != NULL, "no line %s", want);
        CHECK(strstr(text, "{\"kind\":\"val\",\"step\":6,\"metrics\":{\"w0\":") != NULL);
    }
    if (!text) free(log);
    free(text);

    /* a loss that is not finite stops the run, naming the step */
    t.forward_backward = probe_nan;
    c.out_dir = fresh_dir("nan");
    CHECK(ild_train_run(&c, &t, &r) == ILDIFF_ERR_INTERNAL);
    CHECK_MSG(strstr(ildiff_last_error(), "at step 1"), "%s", ildiff_last_error());
    nn_params_free(&q.p);
}

/* ---- charts ---- */

static bool has_color(const uint8_t *img, int32_t w, int32_t h, const uint8_t rgb[3])
{
    for (size_t i = 0; i < (size_t)w * h; i++)
        if (memcmp(img + 4 * i, rgb, 3) == 0) return true;
    return false;
}

static void test_plot(void)
{
    double x[50], y1[50], y2[50];
    for (int i = 0; i < 50; i++) x[i] = i, y1[i] = exp(-0.1 * i), y2[i] = i == 20 ? NAN : 0.5 * exp(-0.05 * i);
    ild_plot_series s[2] = {{.name = "loss", .x = x, .y = y1, .n = 50}, {.name = "mse", .x = x, .y = y2, .n = 50}};
    ild_plot pl = ild_plot_defaults();
    pl.title = "Loss", pl.log_y = true, pl.xlabel = "step", pl.ylabel = "loss";
    uint8_t *img = NULL, c0[3], c1[3], c2[3];
    ild_plot_color(0, c0), ild_plot_color(1, c1), ild_plot_color(2, c2);
    CHECK_OK(ild_plot_render(&pl, s, 2, &img));
    CHECK(img && has_color(img, pl.width, pl.height, c0) && has_color(img, pl.width, pl.height, c1));
    CHECK(img && !has_color(img, pl.width, pl.height, c2));
    free(img);

    const char *cats[] = {"semi-open", "white parts", "soft alpha"};
    double a[3] = {0.9, 0.2, 0.5}, b[3] = {0.1, 0.05, NAN};
    ild_plot_series bs[2] = {{.name = "flood fill", .y = a, .n = 3}, {.name = "ILDiff", .y = b, .n = 3}};
    ild_plot bp = ild_plot_defaults();
    bp.kind = ILD_PLOT_BARS, bp.categories = cats, bp.category_count = 3, bp.title = "hole residue";
    img = NULL;
    CHECK_OK(ild_plot_render(&bp, bs, 2, &img));
    if (img) { /* the tallest bar (0.9, series 0) reaches high: its colour appears in the top quarter */
        bool high = false;
        for (int32_t yy = 0; yy < bp.height / 4 + 40 && !high; yy++)
            for (int32_t xx = 0; xx < bp.width / 3 && !high; xx++)
                high = memcmp(img + 4 * ((size_t)yy * bp.width + xx), c0, 3) == 0;
        CHECK(high);
    }
    free(img);
    char path[1200];
    snprintf(path, sizeof path, "%s/bars.png", tmp_root);
    CHECK_OK(ild_plot_write(path, &bp, bs, 2));
    CHECK(access(path, F_OK) == 0);

    bs[1].n = 2; /* wrong length */
    CHECK(ild_plot_render(&bp, bs, 2, &img) == ILDIFF_ERR_ARG && img == NULL);
    pl.width = 10;
    CHECK(ild_plot_render(&pl, s, 2, &img) == ILDIFF_ERR_ARG);
    CHECK(ild_plot_render(&bp, bs, 0, &img) == ILDIFF_ERR_ARG);

    /* a log with no training record */
    snprintf(path, sizeof path, "%s/empty.jsonl", tmp_root);
    CHECK_OK(ildiff_write_file_atomic(path, (const uint8_t *)"{\"kind\":\"val\"}\nnot json\n", 24, true));
    CHECK(ild_plot_train_log(path, tmp_root, false) == ILDIFF_ERR_FORMAT);
}

int main(void)
{
    snprintf(tmp_root, sizeof tmp_root, "%s/test_train.%d", CHECK_TMPDIR(), (int)getpid());
    mkdir(tmp_root, 0777);
    RUN(test_resume_exact);
    RUN(test_resume_after_crash);
    RUN(test_checkpoint_rejects_other_model);
    RUN(test_checkpoint_atomic_and_pruned);
    RUN(test_schedule_clip_ema);
    RUN(test_plot);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_root);
    if (system(cmd) != 0) printf("# could not remove %s\n", tmp_root);
    return check_done();
}
