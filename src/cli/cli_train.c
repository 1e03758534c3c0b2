/*
 * cli_train.c: `ildiff train --stage NAME --out DIR [options]`: runs one training stage (src/train/stages.c)
 * with the shared trainer: progress on stderr, train.jsonl, checkpoints, loss curves, and a summary line on
 * stdout at the end. SIGINT/SIGTERM finish the current step, write a checkpoint and exit with 128 + signal;
 * `--resume` continues from DIR/latest exactly where the run stopped, taking the run's settings from the
 * checkpoint (options given again must agree with them). Under mpirun the ranks split each step's batch
 * (trainer.h; docs/mpi.md): --batch is the global batch and must divide by the rank count; rank 0 prints.
 */
#include "cli.h"

#include "dist/dist.h"
#include "nn/nn.h"
#include "train/checkpoint.h"
#include "train/stages.h"
#include "train/trainer.h"

#include <cJSON.h>
#include <signal.h>
#include <string.h>

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
    stop_signal = sig;
    signal(sig, SIG_DFL); /* a second signal ends the process at once */
}

static void usage(FILE *f)
{
    fprintf(f, "Usage: ildiff train --stage NAME --out DIR [options]\n\n"
               "Trains one stage of the model. DIR receives checkpoints (ckpt-*.safetensors, 'latest'),\n"
               "train.jsonl (every step's losses and every validation), loss.png and val.png, and at the end\n"
               "model.safetensors. Ctrl-C or SIGTERM finishes the step, saves a checkpoint and exits with\n"
               "status 128+signal; --resume then continues exactly as if the run had not stopped (with the\n"
               "same --threads the result is bit-identical).\n\nStages:\n");
    for (int i = 0; i < ild_stage_count; i++)
        if (ild_stages[i].create) fprintf(f, "  %-6s %s\n", ild_stages[i].name, ild_stages[i].summary);
    int planned = 0;
    for (int i = 0; i < ild_stage_count; i++)
        if (!ild_stages[i].create) fprintf(f, "%s %s", planned++ ? "" : "Planned, not available yet:", ild_stages[i].name);
    fprintf(f, "%s\n", planned ? "\n" : "");
    fprintf(f, "Options:\n"
               "  --stage NAME        the stage (above)\n"
               "  --out DIR           the run folder (created if missing)\n"
               "  --corpus DIR        the training corpus (ildiff dataset build), for the model stages; val\n"
               "                      samples come from its val split, or else from the folder 'val' beside it\n"
               "  --init FILE         weights of an earlier stage (its model.safetensors); may be repeated\n"
               "  --size N            crop side in pixels (stage default: S0 128, the others 256)\n"
               "  --frames N          frames per clip (S3)\n"
               "  --depth N           temporal adapter depth 0, 3, 5 or 8 (S3)\n"
               "  --tiny              the tests' tiny model sizes (smoke runs)\n"
               "  --steps N           total optimizer steps (stage default)\n"
               "  --batch N           samples per step, over all MPI ranks (stage default)\n"
               "  --lr X              peak learning rate (warmup, then cosine to the stage's floor)\n"
               "  --warmup N          warmup steps (stage default)\n"
               "  --seed S            initial weights, data order and noise (default 1)\n"
               "  --threads N         engine threads (default: all cores)\n"
               "  --val-every N       validate every N steps on held-out data (default 100; 0: at the end)\n"
               "  --ckpt-every N      checkpoint every N steps (default 500; 0: at the end)\n"
               "  --keep K            checkpoints kept (default 3)\n"
               "  --resume            continue the run in DIR from its latest checkpoint\n"
               "  -q, --quiet         no progress on stderr\n");
}

typedef struct opts {
    const char *stage, *out, *corpus;
    const char *init[ILD_STAGE_INITS];
    int init_count;
    long long size, frames, depth;
    bool tiny;
    long long steps, batch, warmup, seed, threads, val_every, ckpt_every, keep;
    double lr;
    bool resume, quiet;
} opts;

/* Fills the settings not given on the command line from the checkpoint's config (resume). */
static int fill_from_checkpoint(opts *o)
{
    char path[4200];
    ild_ckpt_meta m = {0};
    ildiff_status st = ild_ckpt_latest(o->out, path, sizeof path);
    if (st == ILDIFF_OK) st = ild_ckpt_read_meta(path, &m);
    if (st != ILDIFF_OK) return cli_status_error(NULL, st);
    cJSON *c = cJSON_Parse(m.config);
    ild_ckpt_meta_clear(&m);
    if (!cJSON_IsObject(c)) {
        cJSON_Delete(c);
        return cli_error(path, "the checkpoint's config is not a JSON object");
    }
    struct { const char *key; long long *v; } ints[] = {{"steps", &o->steps}, {"batch", &o->batch},
                                                        {"warmup", &o->warmup}, {"seed", &o->seed}};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        const cJSON *j = cJSON_GetObjectItemCaseSensitive(c, ints[i].key);
        if (*ints[i].v < 0 && cJSON_IsNumber(j)) *ints[i].v = (long long)j->valuedouble;
    }
    const cJSON *lr = cJSON_GetObjectItemCaseSensitive(c, "lr");
    if (o->lr < 0 && cJSON_IsNumber(lr)) o->lr = lr->valuedouble;
    cJSON_Delete(c);
    return CLI_OK;
}

static int parse(int argc, char **argv, opts *o)
{
    *o = (opts){.steps = -1, .batch = -1, .warmup = -1, .seed = -1, .threads = 0, .val_every = 100,
                .ckpt_every = 500, .keep = 3, .lr = -1, .depth = -1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        struct { const char *name; long long lo, hi, *dst; } ints[] = {
            {"--steps", 1, 1LL << 40, &o->steps},        {"--batch", 1, 1 << 20, &o->batch},
            {"--warmup", 0, 1LL << 40, &o->warmup},      {"--seed", 0, 1LL << 53, &o->seed},
            {"--threads", 1, 256, &o->threads},          {"--val-every", 0, 1LL << 40, &o->val_every},
            {"--ckpt-every", 0, 1LL << 40, &o->ckpt_every}, {"--keep", 1, 1 << 20, &o->keep},
            {"--size", 8, 4096, &o->size}, {"--frames", 1, 256, &o->frames}, {"--depth", 0, 8, &o->depth}};
        int k = -1;
        for (int j = 0; j < (int)(sizeof ints / sizeof ints[0]); j++)
            if (strcmp(a, ints[j].name) == 0) k = j;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return -1;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            o->quiet = true;
        } else if (strcmp(a, "--resume") == 0) {
            o->resume = true;
        } else if (strcmp(a, "--tiny") == 0) {
            o->tiny = true;
        } else if (!v) {
            return cli_usage_error("train", "'%s' is not an option, or needs a value", a);
        } else if (k >= 0) {
            if (!cli_parse_int(v, ints[k].lo, ints[k].hi, ints[k].dst))
                return cli_usage_error("train", "%s: '%s' is not a whole number in %lld..%lld", a, v, ints[k].lo,
                                       ints[k].hi);
            i++;
        } else if (strcmp(a, "--lr") == 0) {
            if (!cli_parse_double(v, 1e-12, 10, &o->lr))
                return cli_usage_error("train", "--lr: '%s' is not in (0, 10]", v);
            i++;
        } else if (strcmp(a, "--stage") == 0) {
            o->stage = argv[++i];
        } else if (strcmp(a, "--out") == 0) {
            o->out = argv[++i];
        } else if (strcmp(a, "--corpus") == 0) {
            o->corpus = argv[++i];
        } else if (strcmp(a, "--init") == 0) {
            if (o->init_count == ILD_STAGE_INITS) return cli_usage_error("train", "at most %d --init files", ILD_STAGE_INITS);
            o->init[o->init_count++] = argv[++i];
        } else {
            return cli_usage_error("train", "unknown option '%s'", a);
        }
    }
    if (!o->stage) return cli_usage_error("train", "--stage NAME is required");
    if (!o->out) return cli_usage_error("train", "--out DIR is required");
    return CLI_OK;
}

static void print_summary(const opts *o, const ild_train_result *r)
{
    printf("train %s: step %lld", o->stage, (long long)r->step);
    for (int i = 0; i < r->loss.count; i++) printf(" %s %.6g", r->loss.name[i], r->loss.value[i]);
    for (int i = 0; i < r->val.count; i++) printf(" val_%s %.6g", r->val.name[i], r->val.value[i]);
    printf(" seconds %.2f\n", r->seconds);
}

int cli_train(int argc, char **argv)
{
    opts o;
    int rc = parse(argc, argv, &o);
    if (rc != CLI_OK) return rc < 0 ? CLI_OK : rc;
    const ild_stage *stage = ild_stage_find(o.stage);
    if (!stage) return cli_usage_error("train", "unknown stage '%s'", o.stage);
    if (!stage->create) return cli_error(NULL, "stage %s is not available yet", stage->name);
    if (stage->needs_corpus && !o.corpus) return cli_usage_error("train", "stage %s needs --corpus DIR", stage->name);
    if (o.resume && (rc = fill_from_checkpoint(&o)) != CLI_OK) return rc;
    if (o.threads > 0) nn_threads_set((int)o.threads);

    ild_stage_opts so = {.corpus = o.corpus, .batch = o.batch > 0 ? o.batch : stage->batch,
                         .seed = o.seed >= 0 ? (uint64_t)o.seed : 1,
                         .size = (int32_t)o.size, .frames = (int32_t)o.frames, .depth = (int32_t)o.depth,
                         .tiny = o.tiny, .init_count = o.init_count};
    memcpy(so.init, o.init, sizeof so.init);
    if (so.batch % ild_dist_size() != 0)
        return cli_usage_error("train", "--batch %lld does not divide by the %d MPI ranks", (long long)so.batch,
                               ild_dist_size());
    ild_task *task = NULL;
    ildiff_status st = stage->create(&so, &task);
    if (st != ILDIFF_OK) return cli_status_error(NULL, st); /* the stages name the file or folder */

    ild_train_cfg cfg = ild_train_defaults();
    cfg.out_dir = o.out, cfg.stage = stage->name;
    cfg.steps = o.steps > 0 ? o.steps : stage->steps;
    cfg.warmup = o.warmup >= 0 ? o.warmup : stage->warmup;
    cfg.lr = o.lr > 0 ? (float)o.lr : stage->lr;
    cfg.lr_min = stage->lr_min, cfg.clip = stage->clip, cfg.ema_decay = stage->ema;
    cfg.seed = so.seed;
    cfg.val_every = o.val_every, cfg.ckpt_every = o.ckpt_every, cfg.keep = (int)o.keep;
    cfg.log_every = cfg.steps >= 200 ? cfg.steps / 20 : 10;
    cfg.resume = o.resume;
    cfg.progress = o.quiet ? NULL : stderr;
    cfg.stop = &stop_signal;
    stop_signal = 0;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    ild_train_result r;
    st = ild_train_run(&cfg, task, &r);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    if (stage->destroy) stage->destroy(task);
    if (st != ILDIFF_OK) return cli_status_error(o.out, st);
    if (r.interrupted) {
        if (ild_dist_is_root())
            fprintf(stderr, "ildiff train: stopped at step %lld of %lld; checkpoint %s\n"
                            "continue with: ildiff train --stage %s --out %s --resume\n",
                    (long long)r.step, (long long)cfg.steps, r.checkpoint, stage->name, o.out);
        return 128 + (int)stop_signal;
    }
    if (ild_dist_is_root()) print_summary(&o, &r);
    return CLI_OK;
}
