/*
 * cli_dataset.c: `ildiff dataset build|stats|export|sheet`: builds a TASD-style corpus from icon sets, prints its
 * Table I and draws its Fig. 3 charts, exports a split in the evaluation exchange form, draws a contact sheet.
 */
#include "cli.h"
#include "data/dataset.h"
#include "dist/dist.h"

#include <string.h>

static const char usage_text[] =
    "Usage: ildiff dataset build --out DIR --count N --seed S [options]\n"
    "       ildiff dataset stats --corpus DIR [--out DIR]\n"
    "       ildiff dataset export --corpus DIR --out DIR [--split test] [-q]\n"
    "       ildiff dataset sheet --corpus DIR --out FILE.png [--count 16]\n\n"
    "build: renders N transparent animated stickers (RGBA frames, part masks, English and Chinese captions,\n"
    "trigger words, keyframe, source and licence) into tar shards plus manifest.jsonl. Resumable: run the same\n"
    "command again after an interruption. The same seed and sources give the same bytes.\n"
    "  --sources PATH   an Iconify JSON file or a folder of <set>/icons.json (default data/sources; repeatable)\n"
    "  --cldr DIR       CLDR 'common' folder for Chinese names (default /usr/share/unicode/cldr/common)\n"
    "  --split NAME     train (default), val or test: samples use only that split's icons\n"
    "  --size N         canvas side in pixels (default 512)\n"
    "  --shard-size N   samples per tar shard (default 256)\n"
    "  --threads N      worker threads (default: all cores)\n"
    "  --cover          choose the samples from a 10x pool to cover the trigger words (TASD-T)\n"
    "  --rank R --ranks N  build only shards k with k % N == R (several machines sharing DIR; under mpirun\n"
    "                   the job's ranks split the shards instead: leave these out)\n"
    "  -q, --quiet      no progress\n"
    "stats: prints Table I (samples, caption lengths, frames, trigger words, languages, keyframes, tag shares)\n"
    "and, with --out, writes stats.md, stats.json, words.png and frames.png there.\n"
    "export: writes one folder per sample of the split: input/ (composited RGB frames), gt_alpha/, gt_rgba/,\n"
    "bg.png and meta.json (tags, background), the form `ildiff eval` reads.\n"
    "  -q, --quiet      print nothing but errors (no count of exported samples)\n"
    "sheet: a contact sheet PNG of the first N samples' keyframes over a checkerboard, with captions.\n";

static void progress(int64_t done, int64_t total, void *user)
{
    cli_progress_update(user, done);
    (void)total;
}

static int build(int argc, char **argv)
{
    ild_build_options o = {.size = 512, .shard_size = 256, .split = ILD_SPLIT_TRAIN, .count = -1};
    const char *sources[16];
    int nsources = 0;
    const char *cldr = "/usr/share/unicode/cldr/common";
    bool have_seed = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        long long n;
        if (strcmp(a, "--cover") == 0) { o.cover = true; continue; }
        if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) { o.quiet = true; continue; }
        if (!v) return cli_usage_error("dataset build", "'%s' is not an option, or needs a value", a);
        i++;
        if (strcmp(a, "--out") == 0) o.out_dir = v;
        else if (strcmp(a, "--sources") == 0) {
            if (nsources == 16) return cli_usage_error("dataset build", "at most 16 --sources");
            sources[nsources++] = v;
        } else if (strcmp(a, "--cldr") == 0) cldr = v;
        else if (strcmp(a, "--count") == 0 && cli_parse_int(v, 1, (long long)1 << 40, &n)) o.count = n;
        else if (strcmp(a, "--seed") == 0 && cli_parse_int(v, 0, (long long)(~0ULL >> 1), &n)) { o.seed = (uint64_t)n; have_seed = true; }
        else if (strcmp(a, "--size") == 0 && cli_parse_int(v, 16, 4096, &n)) o.size = (int32_t)n;
        else if (strcmp(a, "--shard-size") == 0 && cli_parse_int(v, 1, 1 << 20, &n)) o.shard_size = (int32_t)n;
        else if (strcmp(a, "--threads") == 0 && cli_parse_int(v, 1, 1024, &n)) o.threads = (int32_t)n;
        else if (strcmp(a, "--rank") == 0 && cli_parse_int(v, 0, 1 << 20, &n)) o.rank = (int32_t)n;
        else if (strcmp(a, "--ranks") == 0 && cli_parse_int(v, 1, 1 << 20, &n)) o.ranks = (int32_t)n;
        else if (strcmp(a, "--split") == 0 && ild_split_from_name(v) >= 0) o.split = (ild_split)ild_split_from_name(v);
        else return cli_usage_error("dataset build", "bad option or value: %s %s", a, v);
    }
    if (!o.out_dir || o.count < 1 || !have_seed) return cli_usage_error("dataset build", "--out, --count and --seed are required");
    if (o.rank >= (o.ranks > 1 ? o.ranks : 1)) return cli_usage_error("dataset build", "--rank must be below --ranks");
    if (ild_dist_size() > 1 && o.ranks > 1)
        return cli_usage_error("dataset build", "--rank/--ranks and mpirun do not mix: mpirun sets the ranks");
    bool root = ild_dist_is_root();
    if (nsources == 0) sources[nsources++] = "data/sources";
    ild_sources *src = NULL;
    ildiff_status st = ild_sources_load(sources, nsources, cldr, &src);
    if (st != ILDIFF_OK) return cli_status_error(NULL, st);
    cli_progress prog;
    cli_progress_start(&prog, "samples", o.count, o.quiet || !root);
    st = ild_corpus_build(src, &o, progress, &prog);
    cli_progress_end(&prog);
    ild_sources_free(src);
    if (st != ILDIFF_OK) return cli_status_error(o.out_dir, st);
    if (!o.quiet && ild_dist_size() > 1 && root)
        fprintf(stderr, "ildiff: %s: done (%d MPI ranks)\n", o.out_dir, ild_dist_size());
    else if (!o.quiet && ild_dist_size() == 1)
        fprintf(stderr, "ildiff: %s: done (rank %d of %d)\n", o.out_dir, o.rank, o.ranks > 1 ? o.ranks : 1);
    return CLI_OK;
}

static int stats(int argc, char **argv)
{
    const char *corpus = NULL, *out = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) return cli_usage_error("dataset stats", "'%s' is not an option, or needs a value", a);
        i++;
        if (strcmp(a, "--corpus") == 0) corpus = v;
        else if (strcmp(a, "--out") == 0) out = v;
        else return cli_usage_error("dataset stats", "unknown option %s", a);
    }
    if (!corpus) return cli_usage_error("dataset stats", "--corpus is required");
    ild_corpus_stats s;
    ildiff_status st = ild_stats_compute(corpus, &s);
    ild_buf md = {0};
    if (st == ILDIFF_OK) st = ild_stats_markdown(&s, &md);
    if (st == ILDIFF_OK && out) st = ild_stats_write(&s, (const char *)md.data, out);
    if (st == ILDIFF_OK) fputs((const char *)md.data, stdout);
    ild_buf_free(&md);
    return st == ILDIFF_OK ? CLI_OK : cli_status_error(corpus, st);
}

static int export(int argc, char **argv)
{
    const char *corpus = NULL, *out = NULL;
    ild_split split = ILD_SPLIT_TEST;
    bool quiet = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) { quiet = true; continue; }
        if (!v) return cli_usage_error("dataset export", "'%s' is not an option, or needs a value", a);
        i++;
        if (strcmp(a, "--corpus") == 0) corpus = v;
        else if (strcmp(a, "--out") == 0) out = v;
        else if (strcmp(a, "--split") == 0 && ild_split_from_name(v) >= 0) split = (ild_split)ild_split_from_name(v);
        else return cli_usage_error("dataset export", "bad option or value: %s %s", a, v);
    }
    if (!corpus || !out) return cli_usage_error("dataset export", "--corpus and --out are required");
    if (quiet) ildiff_log_set(NULL, NULL, ILDIFF_LOG_ERROR);
    int64_t n = 0;
    ildiff_status st = ild_corpus_export(corpus, split, out, &n);
    if (st != ILDIFF_OK) return cli_status_error(corpus, st);
    if (!quiet) fprintf(stderr, "ildiff: %s: %lld samples exported\n", out, (long long)n);
    return CLI_OK;
}

static int sheet(int argc, char **argv)
{
    const char *corpus = NULL, *out = NULL;
    long long count = 16;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) return cli_usage_error("dataset sheet", "'%s' is not an option, or needs a value", a);
        i++;
        if (strcmp(a, "--corpus") == 0) corpus = v;
        else if (strcmp(a, "--out") == 0) out = v;
        else if (strcmp(a, "--count") == 0 && cli_parse_int(v, 1, 400, &count)) continue;
        else return cli_usage_error("dataset sheet", "bad option or value: %s %s", a, v);
    }
    if (!corpus || !out) return cli_usage_error("dataset sheet", "--corpus and --out are required");
    ildiff_status st = ild_contact_sheet(corpus, (int)count, out);
    return st == ILDIFF_OK ? CLI_OK : cli_status_error(corpus, st);
}

int cli_dataset(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage_text, stdout);
            return CLI_OK;
        }
    if (argc < 2) {
        fputs(usage_text, stderr);
        return CLI_USAGE;
    }
    if (strcmp(argv[1], "build") == 0) return build(argc - 1, argv + 1);
    if (ild_dist_size() > 1) /* only build splits its work over MPI ranks */
        return cli_error(NULL, "'ildiff dataset %s' does not split its work over MPI ranks: run it without mpirun",
                         argv[1]);
    if (strcmp(argv[1], "stats") == 0) return stats(argc - 1, argv + 1);
    if (strcmp(argv[1], "export") == 0) return export(argc - 1, argv + 1);
    if (strcmp(argv[1], "sheet") == 0) return sheet(argc - 1, argv + 1);
    return cli_usage_error("dataset", "unknown action '%s' (build, stats, export or sheet)", argv[1]);
}
