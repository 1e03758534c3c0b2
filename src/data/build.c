/*
 * build.c: builds a corpus: N samples in tar shards of `shard_size` samples plus a JSONL manifest.
 *
 * Layout of DIR: corpus.json (the recipe: seed, count, split, size, sources; written first and checked on
 * resume), shard-00000.tar + shard-00000.jsonl, ..., manifest.jsonl (all shards' lines, written last).
 * Resumable: a shard is written to <name>.tmp and renamed when complete, its .jsonl after it, so a shard whose
 * two files exist is finished and is skipped on restart. Deterministic: sample i's content depends only on
 * (seed, plan index, split, size, sources); samples are rendered in parallel (OpenMP) and written in order.
 * Ranks (machines or MPI processes sharing DIR) split the shards round-robin; corpus.json is the same for all.
 * Under mpirun (dist.h, more than one rank) the job's ranks are the ranks: rank 0 writes corpus.json before the
 * others start, every rank builds its shards, the ranks sum their finished samples and send their failures to
 * rank 0, and rank 0 writes the manifest once all are done: the same bytes as one process with the same seed.
 */
#include "dataset.h"
#include "dist/dist.h"
#include "dist/shard.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

static bool exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* Writes `data` to path via path.tmp + rename. */
static ildiff_status write_replace(const char *path, const void *data, size_t size)
{
    char tmp[4300];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) return ild_fail(ILDIFF_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
    bool ok = fwrite(data, 1, size, f) == size;
    ok = (fflush(f) == 0) && ok;
    ok = (fsync(fileno(f)) == 0) && ok;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return ild_fail(ILDIFF_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    }
    return ILDIFF_OK;
}

static char *recipe_json(const ild_sources *src, const ild_build_options *o)
{
    cJSON *r = cJSON_CreateObject();
    char seed[24];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)o->seed);
    cJSON_AddStringToObject(r, "generator", "ildiff " ILDIFF_VERSION_STRING);
    cJSON_AddStringToObject(r, "seed", seed);
    cJSON_AddNumberToObject(r, "count", (double)o->count);
    cJSON_AddStringToObject(r, "split", ild_split_name(o->split));
    cJSON_AddNumberToObject(r, "size", o->size);
    cJSON_AddNumberToObject(r, "shard_size", o->shard_size);
    cJSON_AddBoolToObject(r, "cover", o->cover);
    int vc;
    ild_vocab(&vc);
    cJSON_AddNumberToObject(r, "vocabulary", vc);
    cJSON *sets = cJSON_AddArrayToObject(r, "sources");
    for (int32_t i = 0; i < src->set_count; i++) {
        const ild_icon_set *s = &src->sets[i];
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "set", s->prefix);
        cJSON_AddStringToObject(j, "title", s->title);
        cJSON_AddStringToObject(j, "source", s->version);
        cJSON_AddStringToObject(j, "license", s->license_spdx[0] ? s->license_spdx : s->license);
        cJSON_AddStringToObject(j, "license_url", s->license_url);
        cJSON_AddStringToObject(j, "author", s->author);
        cJSON_AddStringToObject(j, "author_url", s->author_url);
        cJSON_AddNumberToObject(j, "icons", s->count);
        cJSON_AddItemToArray(sets, j);
    }
    char *text = cJSON_Print(r);
    cJSON_Delete(r);
    return text;
}

/* Checks or writes DIR/corpus.json. A different recipe already there is refused. */
static ildiff_status check_recipe(const ild_sources *src, const ild_build_options *o, const char *path)
{
    char *want = recipe_json(src, o);
    if (!want) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    ildiff_status st = ILDIFF_OK;
    if (exists(path)) {
        uint8_t *have = NULL;
        size_t n = 0;
        st = ildiff_read_file(path, 1 << 20, &have, &n);
        if (st == ILDIFF_OK && (n != strlen(want) || memcmp(have, want, n) != 0))
            st = ild_fail(ILDIFF_ERR_EXISTS, "%s: the folder holds a corpus built with other options or sources; use "
                          "another --out", path);
        free(have);
    } else {
        st = write_replace(path, want, strlen(want));
    }
    free(want);
    return st;
}

typedef struct shard_job {
    const ild_sources *src;
    const ild_build_options *o;
    const int64_t *plan_index;
    ildiff_status status;
    char error[512];
} shard_job;

/* Renders samples [begin, end) and writes them as one shard (tar_path, jsonl_path). */
static ildiff_status build_shard(shard_job *job, int64_t begin, int64_t end, const char *tar_path,
                                 const char *jsonl_path)
{
    char tmp[4300];
    snprintf(tmp, sizeof tmp, "%s.tmp", tar_path);
    FILE *f = fopen(tmp, "wb");
    if (!f) return ild_fail(ILDIFF_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
    ild_buf lines = {0};
    job->status = ILDIFF_OK;
    bool write_ok = true;
    const ild_build_options *o = job->o;
    int threads = o->threads > 0 ? o->threads : 0;
#ifdef _OPENMP
    if (threads == 0) threads = omp_get_max_threads();
#else
    threads = 1;
#endif
#pragma omp parallel for ordered schedule(dynamic, 1) num_threads(threads)
    for (int64_t i = begin; i < end; i++) {
        ild_plan plan;
        ild_buf tar = {0};
        char *line = NULL, id[32];
        snprintf(id, sizeof id, "%08lld", (long long)i);
        ildiff_status st = ILDIFF_OK;
        if (job->status == ILDIFF_OK) {
            st = ild_plan_make(job->src, o->seed, job->plan_index ? job->plan_index[i] : i, o->split, &plan);
            if (st == ILDIFF_OK) {
                st = ild_sample_write(job->src, &plan, o->size, id, &tar, &line);
                ild_plan_clear(&plan);
            }
        }
#pragma omp ordered
        {
            if (st != ILDIFF_OK && job->status == ILDIFF_OK) {
                job->status = st;
                snprintf(job->error, sizeof job->error, "sample %s: %s", id, ildiff_last_error());
            }
            if (job->status == ILDIFF_OK) {
                write_ok = write_ok && fwrite(tar.data, 1, tar.size, f) == tar.size;
                if (ild_buf_append(&lines, line, strlen(line)) != ILDIFF_OK || ild_buf_append(&lines, "\n", 1) != ILDIFF_OK)
                    write_ok = false;
            }
        }
        free(line);
        ild_buf_free(&tar);
    }
    static const uint8_t end_blocks[1024];
    write_ok = write_ok && fwrite(end_blocks, 1, sizeof end_blocks, f) == sizeof end_blocks;
    write_ok = (fflush(f) == 0) && write_ok;
    write_ok = (fsync(fileno(f)) == 0) && write_ok;
    write_ok = (fclose(f) == 0) && write_ok;
    ildiff_status st = ILDIFF_OK;
    if (job->status != ILDIFF_OK) st = ild_fail(job->status, "%s", job->error);
    else if (!write_ok || rename(tmp, tar_path) != 0) st = ild_fail(ILDIFF_ERR_IO, "%s: cannot write: %s", tar_path, strerror(errno));
    if (st != ILDIFF_OK) unlink(tmp);
    if (st == ILDIFF_OK) st = write_replace(jsonl_path, lines.data ? (const char *)lines.data : "", lines.size);
    ild_buf_free(&lines);
    return st;
}

/* Concatenates every shard's lines into DIR/manifest.jsonl. */
static ildiff_status write_manifest(const char *dir, int64_t shards)
{
    ild_buf all = {0};
    ildiff_status st = ILDIFF_OK;
    for (int64_t k = 0; k < shards && st == ILDIFF_OK; k++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/shard-%05lld.jsonl", dir, (long long)k);
        uint8_t *d = NULL;
        size_t n = 0;
        st = ildiff_read_file(path, (int64_t)1 << 32, &d, &n);
        if (st == ILDIFF_OK) st = ild_buf_append(&all, d, n);
        free(d);
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/manifest.jsonl", dir);
    if (st == ILDIFF_OK) st = write_replace(path, all.data ? (const char *)all.data : "", all.size);
    ild_buf_free(&all);
    return st;
}

/* Under mpirun, after every rank built its shards (st: this rank's result, mine: its finished samples): sums the
 * finished samples into *finished and brings every failure to rank 0, which then fails listing them all (a
 * failed rank fails with its own error). A collective. */
static ildiff_status job_results(ildiff_status st, int64_t mine, int64_t *finished)
{
    int64_t counts[2] = {mine, st != ILDIFF_OK};
    char line[600] = "";
    if (st != ILDIFF_OK) snprintf(line, sizeof line, "rank %d: %s; ", ild_dist_rank(), ildiff_last_error());
    char *all = NULL;
    ildiff_status cs = ild_dist_sum_i64(counts, 2);
    if (cs == ILDIFF_OK) cs = ild_dist_gather_text(line, &all);
    if (cs == ILDIFF_OK) cs = ild_dist_barrier();
    *finished = counts[0];
    if (cs != ILDIFF_OK || st != ILDIFF_OK || !ild_dist_is_root() || counts[1] == 0) {
        free(all);
        return cs != ILDIFF_OK ? cs : st;
    }
    size_t n = all ? strlen(all) : 0; /* one line: "rank 1: ...; rank 3: ..." */
    if (n >= 2) all[n - 2] = '\0';
    st = ild_fail(ILDIFF_ERR_IO, "%lld rank(s) failed: %s", (long long)counts[1], all ? all : "");
    free(all);
    return st;
}

ildiff_status ild_corpus_build(const ild_sources *src, const ild_build_options *o,
                               void (*progress)(int64_t done, int64_t total, void *user), void *user)
{
    if (o->count < 1 || o->size < 16 || o->size > 4096 || o->shard_size < 1 || (unsigned)o->split >= ILD_SPLIT_COUNT ||
        o->rank < 0 || (o->ranks > 1 ? o->rank >= o->ranks : o->rank != 0))
        return ild_fail(ILDIFF_ERR_ARG, "bad corpus options (count >= 1, size 16..4096, shard size >= 1, 0 <= rank < ranks)");
    bool job = ild_dist_size() > 1;
    if (job && o->ranks > 1) return ild_fail(ILDIFF_ERR_ARG, "--rank/--ranks and mpirun do not mix: mpirun sets the ranks");
    int32_t rank = job ? ild_dist_rank() : o->rank, ranks = job ? ild_dist_size() : o->ranks > 1 ? o->ranks : 1;
    char path[4200], jpath[4200];
    snprintf(path, sizeof path, "%s/corpus.json", o->out_dir);
    ildiff_status st = ILDIFF_OK;
    if (rank == 0 || !job) {
        if (mkdir(o->out_dir, 0777) != 0 && errno != EEXIST)
            return ild_fail(ILDIFF_ERR_IO, "%s: cannot create: %s", o->out_dir, strerror(errno));
        st = check_recipe(src, o, path);
        if (st != ILDIFF_OK) return st; /* under mpirun the caller's ild_dist_finish ends the waiting ranks */
    }
    if (job && (st = ild_dist_barrier()) != ILDIFF_OK) return st;
    int64_t *plan_index = NULL;
    if (o->cover) {
        if (!(plan_index = malloc((size_t)o->count * sizeof *plan_index))) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
        st = ild_cover_select(src, o->seed, o->split, o->count * 10, o->count, plan_index);
    }
    shard_job sj = {.src = src, .o = o, .plan_index = plan_index};
    int64_t shards = (o->count + o->shard_size - 1) / o->shard_size, done = 0, mine = 0;
    bool complete = true;
    for (int64_t k = 0; k < shards && st == ILDIFF_OK; k++) {
        int64_t begin = k * o->shard_size, end = ILD_MIN(o->count, begin + o->shard_size);
        snprintf(path, sizeof path, "%s/shard-%05lld.tar", o->out_dir, (long long)k);
        snprintf(jpath, sizeof jpath, "%s/shard-%05lld.jsonl", o->out_dir, (long long)k);
        bool finished = exists(path) && exists(jpath);
        bool owns = ild_shard_owns(k, rank, ranks);
        if (!finished && owns) {
            st = build_shard(&sj, begin, end, path, jpath);
            finished = st == ILDIFF_OK;
        }
        complete = complete && finished;
        if (finished) done += end - begin;
        if (finished && owns) mine += end - begin;
        if (st == ILDIFF_OK && progress && finished) progress(done, o->count, user);
    }
    free(plan_index);
    if (job) {
        st = job_results(st, mine, &done);
        complete = done == o->count;
        if (st == ILDIFF_OK && progress && rank == 0) progress(done, o->count, user);
        if (rank != 0) return st;
    }
    if (st == ILDIFF_OK && complete) st = write_manifest(o->out_dir, shards);
    return st;
}

ildiff_status ild_cover_select(const ild_sources *src, uint64_t seed, ild_split split, int64_t pool, int64_t count,
                               int64_t *out)
{
    if (pool < count) pool = count;
    uint64_t (*bits)[2] = calloc((size_t)pool, sizeof *bits);
    bool *taken = calloc((size_t)pool, 1);
    if (!bits || !taken) {
        free(bits);
        free(taken);
        return ild_fail(ILDIFF_ERR_NOMEM, "out of memory choosing %lld samples", (long long)count);
    }
    ildiff_status status = ILDIFF_OK;
    char error[512] = "";
#pragma omp parallel for schedule(dynamic, 4)
    for (int64_t j = 0; j < pool; j++) {
        ild_plan p;
        ildiff_status st = ild_plan_make(src, seed, j, split, &p);
        if (st != ILDIFF_OK) {
#pragma omp critical(cover_error)
            if (status == ILDIFF_OK) {
                status = st;
                snprintf(error, sizeof error, "%s", ildiff_last_error());
            }
            continue;
        }
        for (int32_t i = 0; i < p.word_count; i++) bits[j][p.words[i] >> 6] |= 1ULL << (p.words[i] & 63);
        ild_plan_clear(&p);
    }
    uint64_t covered[2] = {0, 0};
    for (int64_t c = 0; c < count && status == ILDIFF_OK; c++) {
        int64_t best = -1;
        int best_gain = -1;
        for (int64_t j = 0; j < pool; j++) {
            if (taken[j]) continue;
            int gain = __builtin_popcountll(bits[j][0] & ~covered[0]) + __builtin_popcountll(bits[j][1] & ~covered[1]);
            if (gain > best_gain) {
                best_gain = gain;
                best = j;
            }
        }
        taken[best] = true;
        covered[0] |= bits[best][0];
        covered[1] |= bits[best][1];
        out[c] = best;
    }
    free(bits);
    free(taken);
    if (status != ILDIFF_OK) return ild_fail(status, "%s", error);
    return ILDIFF_OK;
}
