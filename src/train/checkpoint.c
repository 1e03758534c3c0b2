/*
 * checkpoint.c: writes and reads training checkpoints (checkpoint.h): the parameter table's blocks as prefixed
 * F32 tensors of one safetensors file plus the run's metadata, `latest`, and pruning to the last K.
 */
#include "train/checkpoint.h"

#include "base/base.h"
#include "nn/safetensors.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

enum { BLOCK_DATA, BLOCK_M, BLOCK_V, BLOCK_EMA, BLOCK_COUNT };
static const char *const block_prefix[BLOCK_COUNT] = {"", "optim.m/", "optim.v/", "ema/"};
static const char *const block_what[BLOCK_COUNT] = {"parameter", "AdamW first moment", "AdamW second moment",
                                                    "EMA weight"};
enum { NAME_CAP = NN_PARAM_NAME_MAX + 16 };

/* Returns st with the current reason prefixed by "path: " (copied first: the reason lives in ild_fail's buffer). */
static ildiff_status fail_in(ildiff_status st, const char *path)
{
    char why[512];
    snprintf(why, sizeof why, "%s", ildiff_last_error());
    return ild_fail(st, "%s: %s", path, why);
}

static float *block_of(const nn_params *p, int b)
{
    return b == BLOCK_DATA ? p->data : b == BLOCK_M ? p->m : b == BLOCK_V ? p->v : p->ema;
}

void ild_ckpt_meta_clear(ild_ckpt_meta *m)
{
    free(m->config);
    free(m->task_state);
    memset(m, 0, sizeof *m);
}

void ild_ckpt_name(int64_t step, char *buf, size_t cap) { snprintf(buf, cap, "ckpt-%08" PRId64 ".safetensors", step); }

/* The step of a checkpoint file name, or -1 when `name` is not one. */
static int64_t name_step(const char *name)
{
    if (strncmp(name, "ckpt-", 5) != 0) return -1;
    const char *s = name + 5;
    int64_t step = 0;
    int digits = 0;
    for (; *s >= '0' && *s <= '9' && digits < 18; s++, digits++) step = step * 10 + (*s - '0');
    return digits >= 8 && strcmp(s, ".safetensors") == 0 ? step : -1;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Deletes all checkpoints of dir but the `keep` newest and `current`. Failures to delete are ignored (the next
 * save tries again); only NOMEM is reported. */
static ildiff_status prune(const char *dir, int keep, int64_t current)
{
    DIR *d = opendir(dir);
    if (!d) return ILDIFF_OK;
    int64_t *steps = NULL;
    size_t n = 0, cap = 0;
    ildiff_status st = ILDIFF_OK;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        int64_t s = name_step(e->d_name);
        if (s < 0) continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            int64_t *grown = realloc(steps, ncap * sizeof *steps);
            if (!grown) {
                st = ild_fail(ILDIFF_ERR_NOMEM, "out of memory listing %s", dir);
                break;
            }
            steps = grown, cap = ncap;
        }
        steps[n++] = s;
    }
    closedir(d);
    if (st == ILDIFF_OK && n > (size_t)keep) {
        qsort(steps, n, sizeof *steps, cmp_i64);
        for (size_t i = 0; i + (size_t)keep < n; i++) {
            if (steps[i] == current) continue;
            char name[64], path[4200];
            ild_ckpt_name(steps[i], name, sizeof name);
            snprintf(path, sizeof path, "%s/%s", dir, name);
            unlink(path);
        }
    }
    free(steps);
    return st;
}

ildiff_status ild_ckpt_save(const char *dir, const nn_params *p, const ild_ckpt_meta *meta, int keep, char *path_out,
                            size_t cap)
{
    if (!meta->stage[0] || !meta->config) return ild_fail(ILDIFF_ERR_ARG, "checkpoint without stage or config");
    if (!p->data) return ild_fail(ILDIFF_ERR_ARG, "checkpoint of an unallocated parameter table");
    size_t count = (size_t)p->count * BLOCK_COUNT;
    nn_st_entry *entries = calloc(count ? count : 1, sizeof *entries);
    char *names = calloc(count ? count : 1, NAME_CAP);
    ildiff_status st = ILDIFF_OK;
    if (!entries || !names) st = ild_fail(ILDIFF_ERR_NOMEM, "out of memory for a checkpoint");
    int used = 0;
    for (int b = 0; st == ILDIFF_OK && b < BLOCK_COUNT; b++) {
        const float *block = block_of(p, b);
        if (!block) continue;
        for (int i = 0; i < p->count; i++, used++) {
            const nn_param *q = &p->items[i];
            char *name = names + (size_t)used * NAME_CAP;
            snprintf(name, NAME_CAP, "%s%s", block_prefix[b], q->name);
            entries[used] = (nn_st_entry){.name = name, .ndim = q->ndim, .shape = q->shape, .data = block + q->offset};
        }
    }
    char step[32], cursor[32], rng[80];
    snprintf(step, sizeof step, "%" PRId64, meta->step);
    snprintf(cursor, sizeof cursor, "%" PRId64, meta->data_cursor);
    snprintf(rng, sizeof rng, "%016" PRIx64 ":%016" PRIx64 ":%016" PRIx64 ":%016" PRIx64, meta->rng.s[0],
             meta->rng.s[1], meta->rng.s[2], meta->rng.s[3]);
    const char *kv[] = {"format", ILD_CKPT_FORMAT, "stage", meta->stage, "step", step, "data_cursor", cursor,
                        "rng", rng, "config", meta->config, "task_state", meta->task_state, NULL};
    if (!meta->task_state) kv[12] = NULL;
    uint8_t *bytes = NULL;
    size_t size = 0;
    if (st == ILDIFF_OK) st = nn_st_encode(entries, used, NN_DTYPE_F32, kv, &bytes, &size);
    free(entries);
    free(names);
    char name[64], path[4200];
    ild_ckpt_name(meta->step, name, sizeof name);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (st == ILDIFF_OK) {
        st = ildiff_write_file_atomic(path, bytes, size, true);
        if (st != ILDIFF_OK) st = fail_in(st, path);
    }
    free(bytes);
    if (st == ILDIFF_OK) {
        char latest[4200], line[80];
        snprintf(latest, sizeof latest, "%s/latest", dir);
        snprintf(line, sizeof line, "%s\n", name);
        st = ildiff_write_file_atomic(latest, (const uint8_t *)line, strlen(line), true);
        if (st != ILDIFF_OK) st = fail_in(st, latest);
    }
    if (st == ILDIFF_OK) st = prune(dir, keep < 1 ? INT32_MAX : keep, meta->step);
    if (st == ILDIFF_OK && path_out) snprintf(path_out, cap, "%s", path);
    return st;
}

ildiff_status ild_ckpt_latest(const char *dir, char *path, size_t cap)
{
    char latest[4200];
    snprintf(latest, sizeof latest, "%s/latest", dir);
    if (access(latest, F_OK) != 0) return ild_fail(ILDIFF_ERR_IO, "no checkpoint in %s (no 'latest' file)", dir);
    uint8_t *data = NULL;
    size_t size = 0;
    ildiff_status st = ildiff_read_file(latest, 256, &data, &size);
    if (st != ILDIFF_OK) return fail_in(st, latest);
    char name[257];
    size_t n = 0;
    for (; n < size && data[n] != '\n' && data[n] != '\r'; n++) name[n] = (char)data[n];
    name[n] = 0;
    free(data);
    if (name_step(name) < 0) return ild_fail(ILDIFF_ERR_FORMAT, "%s does not name a checkpoint file", latest);
    snprintf(path, cap, "%s/%s", dir, name);
    return ILDIFF_OK;
}

static ildiff_status parse_i64(const nn_st_file *f, const char *key, int64_t *out)
{
    const char *s = nn_st_metadata(f, key);
    char *end = NULL;
    errno = 0;
    long long v = s ? strtoll(s, &end, 10) : -1;
    if (!s || end == s || *end || errno || v < 0)
        return ild_fail(ILDIFF_ERR_FORMAT, "metadata '%s' missing or bad", key);
    *out = v;
    return ILDIFF_OK;
}

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

static ildiff_status meta_from_file(const nn_st_file *f, ild_ckpt_meta *m)
{
    memset(m, 0, sizeof *m);
    const char *fmt = nn_st_metadata(f, "format");
    if (!fmt || strcmp(fmt, ILD_CKPT_FORMAT) != 0)
        return ild_fail(ILDIFF_ERR_FORMAT, "not an ildiff checkpoint (metadata 'format' is not %s)", ILD_CKPT_FORMAT);
    const char *stage = nn_st_metadata(f, "stage"), *rng = nn_st_metadata(f, "rng"), *cfg = nn_st_metadata(f, "config");
    if (!stage || !stage[0] || strlen(stage) >= ILD_CKPT_STAGE_MAX)
        return ild_fail(ILDIFF_ERR_FORMAT, "metadata 'stage' missing or bad");
    if (!cfg) return ild_fail(ILDIFF_ERR_FORMAT, "metadata 'config' missing");
    ildiff_status st = parse_i64(f, "step", &m->step);
    if (st == ILDIFF_OK) st = parse_i64(f, "data_cursor", &m->data_cursor);
    if (st != ILDIFF_OK) return st;
    int used = 0;
    if (!rng || strlen(rng) != 67 ||
        sscanf(rng, "%16" SCNx64 ":%16" SCNx64 ":%16" SCNx64 ":%16" SCNx64 "%n", &m->rng.s[0], &m->rng.s[1],
               &m->rng.s[2], &m->rng.s[3], &used) != 4 || used != 67)
        return ild_fail(ILDIFF_ERR_FORMAT, "metadata 'rng' missing or bad");
    snprintf(m->stage, sizeof m->stage, "%s", stage);
    m->config = strdup(cfg);
    m->task_state = dup_or_null(nn_st_metadata(f, "task_state"));
    if (!m->config || (nn_st_metadata(f, "task_state") && !m->task_state)) {
        ild_ckpt_meta_clear(m);
        return ild_fail(ILDIFF_ERR_NOMEM, "out of memory reading checkpoint metadata");
    }
    return ILDIFF_OK;
}

ildiff_status ild_ckpt_read_meta(const char *path, ild_ckpt_meta *meta)
{
    nn_st_file *f = NULL;
    ildiff_status st = nn_st_read(path, ILD_CKPT_MAX_BYTES, &f);
    if (st == ILDIFF_OK) st = meta_from_file(f, meta);
    nn_st_free(f);
    if (st != ILDIFF_OK) return fail_in(st, path);
    return ILDIFF_OK;
}

static void shape_text(char *buf, size_t cap, int ndim, const int64_t *shape)
{
    size_t at = (size_t)snprintf(buf, cap, "[");
    for (int d = 0; d < ndim && at < cap; d++)
        at += (size_t)snprintf(buf + at, cap - at, "%s%" PRId64, d ? ", " : "", shape[d]);
    if (at < cap) snprintf(buf + at, cap - at, "]");
}

/* Checks the file's tensors against the table (see ild_ckpt_load) and fills found[b * count + i] with the
 * tensor of block b, parameter i. */
static ildiff_status validate(const nn_st_file *f, const nn_params *p, const nn_st_tensor **found)
{
    for (int k = 0; k < nn_st_count(f); k++) {
        const nn_st_tensor *t = nn_st_get(f, k);
        int b = BLOCK_COUNT - 1;
        while (b > 0 && strncmp(t->name, block_prefix[b], strlen(block_prefix[b])) != 0) b--;
        const char *base = t->name + strlen(block_prefix[b]);
        const nn_param *q = nn_params_find(p, base);
        if (!q) return ild_fail(ILDIFF_ERR_FORMAT, "tensor '%s' is not a parameter of this model", t->name);
        if (!block_of(p, b))
            return ild_fail(ILDIFF_ERR_FORMAT, "it holds %ss ('%s') this run does not keep", block_what[b], t->name);
        if (t->dtype != NN_DTYPE_F32)
            return ild_fail(ILDIFF_ERR_FORMAT, "tensor '%s' is %s, not F32", t->name, nn_dtype_name(t->dtype));
        bool same = t->ndim == q->ndim;
        for (int d = 0; same && d < q->ndim; d++) same = t->shape[d] == q->shape[d];
        if (!same) {
            char a[160], m[160];
            shape_text(a, sizeof a, t->ndim, t->shape);
            shape_text(m, sizeof m, q->ndim, q->shape);
            return ild_fail(ILDIFF_ERR_FORMAT, "tensor '%s' has shape %s, the model has %s", t->name, a, m);
        }
        found[(size_t)b * (size_t)p->count + (size_t)(q - p->items)] = t;
    }
    for (int b = 0; b < BLOCK_COUNT; b++) {
        if (!block_of(p, b)) continue;
        for (int i = 0; i < p->count; i++)
            if (!found[(size_t)b * (size_t)p->count + (size_t)i])
                return ild_fail(ILDIFF_ERR_FORMAT, "the %s of '%s' is missing (a checkpoint of another model?)",
                                block_what[b], p->items[i].name);
    }
    return ILDIFF_OK;
}

ildiff_status ild_ckpt_load(const char *path, nn_params *p, ild_ckpt_meta *meta)
{
    if (!p->data) return ild_fail(ILDIFF_ERR_ARG, "loading a checkpoint into an unallocated table");
    nn_st_file *f = NULL;
    ild_ckpt_meta m = {0};
    const nn_st_tensor **found = NULL;
    ildiff_status st = nn_st_read(path, ILD_CKPT_MAX_BYTES, &f);
    if (st == ILDIFF_OK) st = meta_from_file(f, &m);
    if (st == ILDIFF_OK) {
        found = calloc((size_t)p->count * BLOCK_COUNT + 1, sizeof *found);
        st = found ? validate(f, p, found) : ild_fail(ILDIFF_ERR_NOMEM, "out of memory loading a checkpoint");
    }
    for (int b = 0; st == ILDIFF_OK && b < BLOCK_COUNT; b++) {
        float *block = block_of(p, b);
        for (int i = 0; block && i < p->count; i++) {
            const nn_st_tensor *t = found[(size_t)b * (size_t)p->count + (size_t)i];
            memcpy(block + p->items[i].offset, t->data, t->nbytes); /* F32 little-endian, as validated */
        }
    }
    free(found);
    nn_st_free(f);
    if (st != ILDIFF_OK) {
        ild_ckpt_meta_clear(&m);
        return fail_in(st, path);
    }
    if (meta) *meta = m;
    else ild_ckpt_meta_clear(&m);
    return ILDIFF_OK;
}
