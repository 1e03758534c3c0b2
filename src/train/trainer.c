/*
 * trainer.c: the training loop of trainer.h: batches, forward/backward, clipping, the warmup + cosine
 * schedule, AdamW, EMA, the JSONL log, validation, checkpoints (also on a stop request) and exact resume; under
 * MPI (dist.h) the gradient averaging over ranks and rank 0's start broadcast to every rank.
 */
#include "train/trainer.h"

#include "base/base.h"
#include "dist/allreduce.h"
#include "dist/dist.h"
#include "dist/shard.h"
#include "nn/safetensors.h"
#include "train/checkpoint.h"
#include "train/plot.h"
#include "train/train_log.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>

bool ild_terms_add(ild_terms *t, const char *name, double value)
{
    if (t->count >= ILD_TERMS_MAX) return false;
    snprintf(t->name[t->count], ILD_TERM_NAME_MAX, "%s", name);
    t->value[t->count++] = value;
    return true;
}

ild_train_cfg ild_train_defaults(void)
{
    return (ild_train_cfg){.steps = 1000, .warmup = 50, .lr = 1e-3f, .lr_min = 1e-5f, .adamw = nn_adamw_defaults(),
                           .clip = 1.0f, .ema_decay = 0.999f, .seed = 1, .val_every = 100, .ckpt_every = 500,
                           .keep = 3, .log_every = 50, .val_on_ema = true};
}

char *ild_train_config_json(const ild_train_cfg *cfg, const ild_task *task)
{
    const char *tc = task->config ? task->config : "{}";
    size_t cap = strlen(tc) + strlen(cfg->stage) + 512;
    char *s = malloc(cap);
    if (!s) return NULL;
    snprintf(s, cap,
             "{\"stage\":\"%s\",\"steps\":%lld,\"batch\":%lld,\"lr\":%.9g,\"lr_min\":%.9g,\"warmup\":%lld,"
             "\"beta1\":%.9g,\"beta2\":%.9g,\"eps\":%.9g,\"weight_decay\":%.9g,\"clip\":%.9g,\"ema\":%.9g,"
             "\"seed\":%llu,\"task\":%s}",
             cfg->stage, (long long)cfg->steps, (long long)task->batch, cfg->lr, cfg->lr_min, (long long)cfg->warmup,
             cfg->adamw.beta1, cfg->adamw.beta2, cfg->adamw.eps, cfg->adamw.weight_decay, cfg->clip, cfg->ema_decay,
             (unsigned long long)cfg->seed, tc);
    return s;
}

/* Fails naming the first setting of the checkpoint's config that differs from this run's. */
static ildiff_status same_config(const char *saved, const char *now)
{
    cJSON *a = cJSON_Parse(saved), *b = cJSON_Parse(now);
    ildiff_status st = ILDIFF_OK;
    if (!cJSON_IsObject(a) || !cJSON_IsObject(b)) {
        st = ild_fail(ILDIFF_ERR_FORMAT, "the checkpoint's config is not a JSON object");
    } else {
        const cJSON *x;
        cJSON_ArrayForEach(x, a)
        {
            const cJSON *y = cJSON_GetObjectItemCaseSensitive(b, x->string);
            if (y && cJSON_Compare(x, y, true)) continue;
            char *xs = cJSON_PrintUnformatted(x), *ys = y ? cJSON_PrintUnformatted(y) : NULL;
            st = ild_fail(ILDIFF_ERR_ARG, "the checkpoint was made with %s = %.80s, this run has %.80s", x->string,
                          xs ? xs : "?", ys ? ys : "none");
            free(xs), free(ys);
            break;
        }
        if (st == ILDIFF_OK && cJSON_GetArraySize(a) != cJSON_GetArraySize(b))
            st = ild_fail(ILDIFF_ERR_ARG, "the checkpoint's settings differ from this run's (another version?)");
    }
    cJSON_Delete(a), cJSON_Delete(b);
    return st;
}

static ildiff_status make_dir(const char *dir)
{
    if (mkdir(dir, 0777) == 0 || errno == EEXIST) {
        struct stat sb;
        if (stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode)) return ILDIFF_OK;
    }
    return ild_fail(ILDIFF_ERR_IO, "%s: cannot create the folder", dir);
}

/* Everything one call of ild_train_run holds. */
typedef struct run {
    const ild_train_cfg *cfg;
    const ild_task *task;
    nn_params *p;
    nn_rng rng;
    char *config;
    float *backup;  /* (total) the values while validation runs on the EMA */
    FILE *log;
    ild_progress prog;
    char path[4200];
    char resumed[4200]; /* the checkpoint a resume started from */
    bool root;          /* rank 0: logs, validates, writes checkpoints and the model */
    ild_allreduce *ar;  /* averages the gradients over the ranks (does nothing with one) */
    char *task_state;   /* rank 0, several ranks: the resumed task state, for the other ranks */
} run;

static ildiff_status validate(run *r, int64_t step, ild_train_result *res)
{
    const ild_task *t = r->task;
    nn_params *p = r->p;
    bool swap = r->backup && p->ema;
    if (swap) {
        memcpy(r->backup, p->data, p->total * sizeof(float));
        memcpy(p->data, p->ema, p->total * sizeof(float));
    }
    ild_terms m = {0};
    ildiff_status st = t->validate(t->user, &m);
    if (swap) memcpy(p->data, r->backup, p->total * sizeof(float));
    if (st != ILDIFF_OK) return st;
    res->val = m;
    char line[1024];
    size_t n = (size_t)snprintf(line, sizeof line, "val %lld:", (long long)step);
    for (int i = 0; i < m.count && n < sizeof line; i++)
        n += (size_t)snprintf(line + n, sizeof line - n, "  %s %.5g", m.name[i], m.value[i]);
    ild_progress_note(&r->prog, "%s", line);
    return ild_trainlog_val(r->log, step, &m);
}

static ildiff_status checkpoint(run *r, int64_t step, ild_train_result *res)
{
    const ild_task *t = r->task;
    ild_ckpt_meta m = {.step = step, .data_cursor = step * t->batch, .rng = r->rng, .config = r->config};
    snprintf(m.stage, sizeof m.stage, "%s", r->cfg->stage);
    if (t->save_state && !(m.task_state = t->save_state(t->user)))
        return ild_fail(ILDIFF_ERR_NOMEM, "out of memory saving the task's state");
    ildiff_status st = ild_ckpt_save(r->cfg->out_dir, r->p, &m, r->cfg->keep, res->checkpoint, sizeof res->checkpoint);
    free(m.task_state);
    if (st == ILDIFF_OK && t->on_checkpoint) st = t->on_checkpoint(t->user, res->checkpoint);
    if (st != ILDIFF_OK) return st;
    /* the curves are a convenience: a failure to draw them does not stop the run */
    snprintf(r->path, sizeof r->path, "%s/train.jsonl", r->cfg->out_dir);
    if (ild_plot_train_log(r->path, r->cfg->out_dir, true) != ILDIFF_OK)
        ILD_WARN("loss curves not drawn: %s", ildiff_last_error());
    return ILDIFF_OK;
}

static ildiff_status save_model(run *r, int64_t step)
{
    char stepv[32];
    snprintf(stepv, sizeof stepv, "%lld", (long long)step);
    const char *meta[] = {"stage", r->cfg->stage, "step", stepv, "config", r->config, NULL};
    snprintf(r->path, sizeof r->path, "%s/model.safetensors", r->cfg->out_dir);
    return nn_st_save_params(r->path, r->p, r->p->ema ? r->p->ema : r->p->data, NN_DTYPE_F32, meta, true);
}

/* Loads out_dir/latest into the run; *start gets its step. */
static ildiff_status resume(run *r, int64_t *start)
{
    ild_ckpt_meta m = {0};
    ildiff_status st = ild_ckpt_latest(r->cfg->out_dir, r->path, sizeof r->path);
    if (st == ILDIFF_OK) st = ild_ckpt_read_meta(r->path, &m);
    if (st == ILDIFF_OK && strcmp(m.stage, r->cfg->stage) != 0)
        st = ild_fail(ILDIFF_ERR_ARG, "%s is a checkpoint of stage %s, not %s", r->path, m.stage, r->cfg->stage);
    if (st == ILDIFF_OK) st = same_config(m.config, r->config);
    if (st == ILDIFF_OK && m.step > r->cfg->steps)
        st = ild_fail(ILDIFF_ERR_ARG, "%s is at step %lld, past the run's %lld steps", r->path, (long long)m.step,
                      (long long)r->cfg->steps);
    ild_ckpt_meta_clear(&m);
    if (st == ILDIFF_OK) st = ild_ckpt_load(r->path, r->p, &m); /* validated again, then copied */
    if (st == ILDIFF_OK && r->task->load_state) {
        st = m.task_state ? r->task->load_state(r->task->user, m.task_state)
                          : ild_fail(ILDIFF_ERR_FORMAT, "%s holds no task state", r->path);
        if (st == ILDIFF_OK && ild_dist_size() > 1 && !(r->task_state = strdup(m.task_state)))
            st = ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    }
    if (st == ILDIFF_OK) {
        r->rng = m.rng;
        *start = m.step;
        snprintf(r->resumed, sizeof r->resumed, "%s", r->path);
    }
    ild_ckpt_meta_clear(&m);
    return st;
}

static ildiff_status check_cfg(const ild_train_cfg *c, const ild_task *t)
{
    if (!c->out_dir || !c->stage || !c->stage[0] || strlen(c->stage) >= ILD_CKPT_STAGE_MAX)
        return ild_fail(ILDIFF_ERR_ARG, "training needs an output folder and a stage name");
    if (!t->params || !t->params->data || !t->next_batch || !t->forward_backward || t->batch < 1)
        return ild_fail(ILDIFF_ERR_ARG, "the task lacks its parameters, batch size or callbacks");
    if (c->steps < 1 || c->warmup < 0 || !(c->lr > 0) || !(c->lr_min >= 0) || !(c->clip >= 0) ||
        !(c->ema_decay >= 0 && c->ema_decay < 1) || c->val_every < 0 || c->ckpt_every < 0)
        return ild_fail(ILDIFF_ERR_ARG, "bad training settings (steps, warmup, lr, clip or EMA decay)");
    return ILDIFF_OK;
}

/* Every rank: the optimizer state and the gradient averaging. Rank 0 alone: the output folder, the resume and
 * the log; share_start then gives its start to the other ranks. */
static ildiff_status setup(run *r, int64_t *start)
{
    const ild_train_cfg *c = r->cfg;
    ildiff_status st = r->root ? make_dir(c->out_dir) : ILDIFF_OK;
    if (st == ILDIFF_OK) st = nn_params_alloc_adam(r->p);
    if (st == ILDIFF_OK && c->ema_decay > 0) st = nn_params_alloc_ema(r->p);
    if (st == ILDIFF_OK) st = ild_allreduce_new(&r->ar, r->p, 0);
    if (st == ILDIFF_OK && r->root && c->ema_decay > 0 && c->val_on_ema && r->task->validate) {
        r->backup = malloc(r->p->total * sizeof(float));
        if (!r->backup) st = ild_fail(ILDIFF_ERR_NOMEM, "out of memory for the validation weights");
    }
    if (st == ILDIFF_OK && !(r->config = ild_train_config_json(c, r->task)))
        st = ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    if (st != ILDIFF_OK) return st;
    nn_rng_seed(&r->rng, c->seed);
    *start = 0;
    if (!r->root) return ILDIFF_OK;
    if (c->resume) {
        st = resume(r, start);
    } else {
        snprintf(r->path, sizeof r->path, "%s/latest", c->out_dir);
        struct stat sb;
        if (stat(r->path, &sb) == 0)
            st = ild_fail(ILDIFF_ERR_EXISTS, "%s already holds a training run (resume it, or pick another folder)",
                          c->out_dir);
    }
    snprintf(r->path, sizeof r->path, "%s/train.jsonl", c->out_dir);
    if (st == ILDIFF_OK) st = ild_trainlog_open(r->path, c->resume, *start, &r->log);
    return st;
}

/* Copies rank 0's start (step, values, moments, EMA, the trainer's RNG, the task's state) to every rank, so the
 * replicas begin identical. A collective; nothing with one rank. */
static ildiff_status share_start(run *r, int64_t *start)
{
    if (ild_dist_size() == 1) return ILDIFF_OK;
    int64_t len = r->task_state ? (int64_t)strlen(r->task_state) + 1 : 0;
    ildiff_status st = ild_dist_bcast(start, sizeof *start, 0);
    if (st == ILDIFF_OK) st = ild_dist_bcast_params(r->p, 0);
    if (st == ILDIFF_OK) st = ild_dist_bcast(&r->rng, sizeof r->rng, 0);
    if (st == ILDIFF_OK) st = ild_dist_bcast(&len, sizeof len, 0);
    if (st != ILDIFF_OK || len == 0) return st;
    if (!r->root && !(r->task_state = malloc((size_t)len))) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    st = ild_dist_bcast(r->task_state, (size_t)len, 0);
    if (st == ILDIFF_OK && !r->root) st = r->task->load_state(r->task->user, r->task_state);
    return st;
}

/* Replaces each loss term by its mean over the ranks (for the log; every rank gets the same values). */
static ildiff_status mean_over_ranks(ild_terms *loss)
{
    int n = ild_dist_size();
    if (n == 1 || loss->count == 0) return ILDIFF_OK;
    ildiff_status st = ild_dist_sum_f64(loss->value, loss->count);
    for (int i = 0; i < loss->count; i++) loss->value[i] /= n;
    return st;
}

/* One optimizer step (0-based s); fills the loss terms, *lr and *gn. */
static ildiff_status step_once(run *r, int64_t s, ild_terms *loss, double *lr, double *gn)
{
    const ild_train_cfg *c = r->cfg;
    const ild_task *t = r->task;
    ildiff_status st = t->next_batch(t->user, s, &r->rng);
    if (st != ILDIFF_OK) return st;
    nn_params_zero_grad(r->p);
    memset(loss, 0, sizeof *loss);
    if ((st = t->forward_backward(t->user, &r->rng, loss)) != ILDIFF_OK) return st;
    if ((st = ild_allreduce_wait(r->ar)) != ILDIFF_OK) return st; /* every rank: the global batch's gradients */
    if ((st = mean_over_ranks(loss)) != ILDIFF_OK) return st;
    for (int i = 0; i < loss->count; i++)
        if (!isfinite(loss->value[i]))
            return ild_fail(ILDIFF_ERR_INTERNAL, "loss term %s is %g at step %lld", loss->name[i], loss->value[i],
                            (long long)s + 1);
    *gn = c->clip > 0 ? nn_clip_grad_norm_params(r->p, c->clip) : nn_grad_norm(r->p->grad, r->p->total);
    if (!isfinite(*gn)) return ild_fail(ILDIFF_ERR_INTERNAL, "gradient norm is %g at step %lld", *gn, (long long)s + 1);
    nn_adamw_cfg a = c->adamw;
    a.lr = nn_lr_warmup_cosine(s, c->warmup, c->steps, c->lr, c->lr_min);
    *lr = a.lr;
    nn_adamw_step_params(r->p, &a, s + 1);
    if (r->p->ema) nn_ema_update_params(r->p, nn_ema_decay_at(c->ema_decay, s + 1));
    return ILDIFF_OK;
}

ildiff_status ild_train_run(const ild_train_cfg *cfg, const ild_task *task, ild_train_result *res)
{
    memset(res, 0, sizeof *res);
    ildiff_status st = check_cfg(cfg, task);
    if (st != ILDIFF_OK) return st;
    run r = {.cfg = cfg, .task = task, .p = task->params, .root = ild_dist_is_root()};
    int64_t start = 0;
    st = setup(&r, &start);
    if (st == ILDIFF_OK) st = share_start(&r, &start);
    res->step = start;
    ild_progress_begin(&r.prog, r.root ? cfg->progress : NULL, cfg->log_every, cfg->steps, start);
    if (st == ILDIFF_OK && start > 0) ild_progress_note(&r.prog, "resumed from %s", r.resumed);
    double t0 = ild_now();
    for (int64_t s = start; st == ILDIFF_OK && s < cfg->steps; s++) {
        double lr = 0, gn = 0;
        st = step_once(&r, s, &res->loss, &lr, &gn);
        if (st != ILDIFF_OK) break;
        int64_t done = s + 1;
        res->step = done;
        int64_t stop_votes = cfg->stop && *cfg->stop; /* a stop on any rank stops every rank after this step */
        st = ild_dist_sum_i64(&stop_votes, 1);
        bool last = done == cfg->steps, stop = stop_votes > 0;
        if (st == ILDIFF_OK && r.root) {
            st = ild_trainlog_step(r.log, done, lr, gn, &res->loss);
            ild_progress_step(&r.prog, done, task->batch, lr, &res->loss);
        }
        if (st == ILDIFF_OK && r.root && task->validate && ((cfg->val_every && done % cfg->val_every == 0) || last))
            st = validate(&r, done, res);
        if (st == ILDIFF_OK && r.root && ((cfg->ckpt_every && done % cfg->ckpt_every == 0) || last || stop))
            st = checkpoint(&r, done, res);
        if (st == ILDIFF_OK && r.root && last) st = save_model(&r, done);
        if (stop && !last) {
            res->interrupted = true;
            break;
        }
    }
    /* the other ranks wait for rank 0's last writes: a rank that returns non-zero (a stop) ends the job */
    if (st == ILDIFF_OK) st = ild_dist_barrier();
    res->seconds = ild_now() - t0;
    ild_progress_end(&r.prog);
    if (r.log) fclose(r.log);
    ild_allreduce_free(r.ar);
    free(r.task_state);
    free(r.backup);
    free(r.config);
    return st;
}
