/*
 * cli_matte.c: `ildiff matte INPUT -o OUTPUT [options]` and `ildiff matte --batch IN_DIR -o OUT_DIR`: transparent
 * stickers from RGB animations with the ILDiff model (ildiff.h, "Matting").
 *
 * One input: OUTPUT's extension picks the format (.webp .png .apng .gif .webm; --preset picks its platform's); a
 * directory OUTPUT (ending in '/' or existing) gets one RGBA PNG per frame, named like the input frames when the
 * input is a directory of frames (a.jpg -> a.png), else 000000.png, 000001.png, ...
 *
 * Batch: every regular, non-hidden file of IN_DIR, in name order, becomes OUT_DIR/<name without extension>.<ext>
 * (-f FORMAT, default webp, or the preset's). --threads N mattes N files at once (one engine thread each); under
 * mpirun each rank takes files i with i % size == rank (dist/shard.h) and rank 0 prints the job's summary. A file
 * that fails is listed in the summary and never stops the batch; an existing output counts as done and is skipped
 * (resume; -y redoes it). Exit 1 when any file failed.
 *
 * --preview FILE.png (one input only) also writes a picture of the result: up to 8 frames chosen evenly over the
 * clip as columns (first and last included), and three rows: the input frame, the matted frame over a
 * checkerboard, the matted frame over black (the grid of eval/strips.h). It shows the matted frames before
 * encoding (no --preset canvas or palette). It is never the input or OUTPUT, and needs -y to replace a file.
 *
 * Outputs appear only when complete (written under a temporary name and renamed), so an interrupted run leaves no
 * half-written output and resuming is safe. Exit status 2 for usage errors (before any file is touched), 1 for
 * processing errors, each one "ildiff: FILE: reason" line. The default model is models/ildiff-default.safetensors.
 */
#include "cli.h"
#include "dist/shard.h"
#include "dist/dist.h"
#include "eval/strips.h"
#include "io/io.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_MODEL "models/ildiff-default.safetensors"

typedef struct matte_args {
    const char *in, *out, *model;
    const char *preview; /* --preview FILE.png, or NULL */
    const ildiff_preset *preset;
    ildiff_format format;
    ildiff_write_options wo;
    ildiff_limits lim;
    ildiff_matte_params mp;
    bool batch, quiet;
} matte_args;

enum {
    OPT_MODEL = 256, OPT_BG, OPT_PRESET, OPT_THREADS, OPT_TTA, OPT_WINDOW, OPT_OVERLAP, OPT_BATCH, OPT_PREVIEW,
    OPT_LIMIT
};

static const struct option long_opts[] = {
    {"output", required_argument, NULL, 'o'},
    {"model", required_argument, NULL, OPT_MODEL},
    {"bg", required_argument, NULL, OPT_BG},
    {"preset", required_argument, NULL, OPT_PRESET},
    {"format", required_argument, NULL, 'f'},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"tta", required_argument, NULL, OPT_TTA},
    {"window", required_argument, NULL, OPT_WINDOW},
    {"overlap", required_argument, NULL, OPT_OVERLAP},
    {"batch", no_argument, NULL, OPT_BATCH},
    {"preview", required_argument, NULL, OPT_PREVIEW},
    {"overwrite", no_argument, NULL, 'y'},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    CLI_LIMIT_LONG_OPTIONS(OPT_LIMIT),
    {NULL, 0, NULL, 0},
};

static void print_help(void)
{
    printf("Usage: ildiff matte INPUT -o OUTPUT [options]\n"
           "       ildiff matte --batch IN_DIR -o OUT_DIR [options]\n\n"
           "Makes a transparent sticker from an RGB animation (GIF, WebP, PNG/APNG, JPEG, MP4/WebM, TGS, a folder of\n"
           "frames) with the ILDiff model. OUTPUT's extension picks the format (.webp .png .apng .gif .webm); an\n"
           "OUTPUT ending in '/' gets one RGBA PNG per frame (named like the input's frames for a frames folder).\n\n"
           "Options:\n"
           "  -o, --output OUT     output file or folder (required)\n"
           "  --model FILE         model file (default " DEFAULT_MODEL ")\n"
           "  --bg auto|#RRGGBB    background hint for colour decontamination (default auto: the border's median)\n"
           "  --preset NAME        write for a platform (format, canvas, timing, byte limit; see 'ildiff convert')\n"
           "  -f, --format FMT     --batch output format: webp gif png apng webm (default webp)\n"
           "  --threads N          compute threads (default: every core); with --batch, files matted at once\n"
           "  --tta 1|8            test-time augmentation: 8 = flips x rotations, median (8x slower; default 1)\n"
           "  --window N           frames per temporal window (default 16)\n"
           "  --overlap N          frames shared by neighbouring windows, blended (default 4)\n"
           "  --batch              matte every file of IN_DIR into OUT_DIR; existing outputs are skipped (resume);\n"
           "                       under mpirun each rank takes its share\n"
           "  --preview FILE.png   also write a picture of the result: up to 8 frames (columns) of the input, the\n"
           "                       result over a checkerboard and the result over black (not with --batch)\n"
           "  -y, --overwrite      replace existing outputs\n"
           "  -q, --quiet          print nothing but errors\n"
           "  -h, --help           show this help\n\n%s\n"
           "Exit status: 0 success, 1 processing error (with --batch: any file failed), 2 usage error.\n",
           cli_limits_help);
}

static bool writable(ildiff_format f)
{
    return f == ILDIFF_FORMAT_GIF || f == ILDIFF_FORMAT_WEBP || f == ILDIFF_FORMAT_PNG || f == ILDIFF_FORMAT_APNG ||
           f == ILDIFF_FORMAT_WEBM || f == ILDIFF_FORMAT_FRAMES;
}

static bool is_png_name(const char *path)
{
    size_t n = strlen(path);
    return n > 4 && path[n - 5] != '/' && strcasecmp(path + n - 4, ".png") == 0;
}

#define BAD_VALUE() return cli_usage_error("matte", "invalid value '%s' for %s", optarg, argv[optind - 1])

/* Fills *a from the command line: CLI_OK, or CLI_USAGE after printing why (CLI_OK with a->in NULL after --help). */
static int parse_args(int argc, char **argv, matte_args *a)
{
    *a = (matte_args){.wo = ildiff_write_options_default(), .lim = ildiff_limits_default(),
                      .mp = ildiff_matte_params_default()};
    const char *format_name = NULL;
    int c, idx;
    long long v;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":o:f:yqh", long_opts, &idx)) != -1) {
        switch (c) {
        case 'o': a->out = optarg; break;
        case 'f': format_name = optarg; break;
        case OPT_MODEL: a->model = optarg; break;
        case OPT_BG:
            if (strcmp(optarg, "auto") == 0) a->mp.bg_auto = true;
            else if (cli_parse_color(optarg, a->mp.bg)) a->mp.bg_auto = false;
            else BAD_VALUE();
            break;
        case OPT_PRESET:
            if (!(a->preset = ildiff_preset_find(optarg)))
                return cli_usage_error("matte", "unknown preset '%s' (see 'ildiff convert --help')", optarg);
            break;
        case OPT_THREADS:
            if (!cli_parse_int(optarg, 1, 1024, &v)) BAD_VALUE();
            a->mp.threads = (int)v;
            break;
        case OPT_TTA:
            if (!cli_parse_int(optarg, 1, 8, &v) || (v != 1 && v != 8)) BAD_VALUE();
            a->mp.tta = (int)v;
            break;
        case OPT_WINDOW:
            if (!cli_parse_int(optarg, 1, 4096, &v)) BAD_VALUE();
            a->mp.window = (int32_t)v;
            break;
        case OPT_OVERLAP:
            if (!cli_parse_int(optarg, 0, 4095, &v)) BAD_VALUE();
            a->mp.overlap = (int32_t)v;
            break;
        case OPT_BATCH: a->batch = true; break;
        case OPT_PREVIEW: a->preview = optarg; break;
        case 'y': a->wo.overwrite = true; break;
        case 'q': a->quiet = true; break;
        case 'h': print_help(); return CLI_OK;
        case OPT_LIMIT:
            if (cli_limits_option(long_opts[idx].name, optarg, &a->lim) != 1) BAD_VALUE();
            break;
        case ':': return cli_usage_error("matte", "option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage_error("matte", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc) return cli_usage_error("matte", a->batch ? "no input folder" : "no input file");
    if (argc - optind > 1) return cli_usage_error("matte", "one input at a time (extra argument '%s')", argv[optind + 1]);
    a->in = argv[optind];
    if (!a->out) return cli_usage_error("matte", "no output: use -o %s", a->batch ? "OUT_DIR" : "OUTPUT");
    if (a->mp.overlap >= a->mp.window)
        return cli_usage_error("matte", "--overlap %d must be smaller than --window %d", (int)a->mp.overlap,
                               (int)a->mp.window);
    if (format_name && !a->batch) return cli_usage_error("matte", "-f is for --batch; OUTPUT's extension picks the format");
    if (format_name && (a->format = ildiff_format_from_name(format_name)) == ILDIFF_FORMAT_UNKNOWN)
        return cli_usage_error("matte", "unknown format '%s'", format_name);
    if (a->preset) {
        if (format_name) return cli_usage_error("matte", "-f cannot be used with --preset (the platform sets the format)");
        a->format = a->preset->format;
    } else if (a->batch) {
        if (!format_name) a->format = ILDIFF_FORMAT_WEBP;
    } else if ((a->format = ildiff_format_from_path(a->out)) == ILDIFF_FORMAT_UNKNOWN) {
        return cli_usage_error("matte", "cannot tell the output format from '%s' (.webp .png .gif .webm, or DIR/)", a->out);
    }
    if (!writable(a->format) || (a->batch && a->format == ILDIFF_FORMAT_FRAMES))
        return cli_usage_error("matte", "cannot write %s%s", ildiff_format_name(a->format),
                               a->batch ? " in --batch (webp, gif, png, apng, webm)" : "");
    if (a->preset && a->format == ILDIFF_FORMAT_FRAMES)
        return cli_usage_error("matte", "--preset writes a file, not a frames folder");
    if (a->preview && a->batch) return cli_usage_error("matte", "--preview is for one input, not --batch");
    if (a->preview && !is_png_name(a->preview))
        return cli_usage_error("matte", "--preview writes a PNG: give a name ending in .png (not '%s')", a->preview);
    if (a->preview && (strcmp(a->preview, a->in) == 0 || strcmp(a->preview, a->out) == 0))
        return cli_usage_error("matte", "--preview %s would replace the %s", a->preview,
                               strcmp(a->preview, a->in) == 0 ? "input" : "output");
    return CLI_OK;
}

/* Loads the model, with the plain message for the missing default model. */
static int new_matter(const matte_args *a, ildiff_matter **mt)
{
    const char *path = a->model ? a->model : DEFAULT_MODEL;
    struct stat sb;
    if (!a->model && stat(path, &sb) != 0)
        return cli_error(NULL, "no model at " DEFAULT_MODEL ": the default model is not trained yet (see "
                               "models/README.md); pass --model FILE");
    ildiff_status st = ildiff_matter_new(path, &a->mp, mt);
    return st == ILDIFF_OK ? CLI_OK : cli_error(NULL, "%s", ildiff_last_error());
}

/* Encodes with the preset or the plain options into memory; with a preset, *rep (may be NULL) gets what the
 * preset made of the animation (canvas, frames, fps). */
static ildiff_status encode(const matte_args *a, const ildiff_anim *anim, uint8_t **data, size_t *size,
                            ildiff_fit_report *rep)
{
    if (!a->preset) return ildiff_anim_encode(anim, a->format, &a->wo, data, size);
    ildiff_fit_report fit;
    ildiff_status st = ildiff_preset_encode(anim, a->preset, &a->wo, data, size, &fit);
    if (rep) *rep = fit;
    return st;
}

/* ---- frames folders named like the input's ---- */

/* "name.jpg" -> "name.EXT" (malloc'd). */
static char *swap_ext(const char *name, const char *ext)
{
    const char *dot = strrchr(name, '.');
    size_t stem = dot && dot != name ? (size_t)(dot - name) : strlen(name);
    char *s = malloc(stem + strlen(ext) + 2);
    if (s) sprintf(s, "%.*s.%s", (int)stem, name, ext);
    return s;
}

/* Removes an existing folder `dir` that holds nothing but frame files (a user's other folder is never touched:
 * ILDIFF_ERR_EXISTS). A missing folder is fine. */
static ildiff_status remove_frames_folder(const char *dir)
{
    struct stat sb;
    if (lstat(dir, &sb) != 0) return ILDIFF_OK;
    if (!S_ISDIR(sb.st_mode)) return ild_fail(ILDIFF_ERR_EXISTS, "%s exists and is not a folder", dir);
    char **old;
    size_t m;
    ildiff_status st = ild_dir_list(dir, ILD_DIR_FILES, INT64_MAX, &old, &m);
    for (size_t i = 0; st == ILDIFF_OK && i < m; i++)
        if (!ild_is_frame_name(old[i]))
            st = ild_fail(ILDIFF_ERR_EXISTS, "%s holds other files than frames; not replaced", dir);
    for (size_t i = 0; st == ILDIFF_OK && i < m; i++) {
        char *p = malloc(strlen(dir) + strlen(old[i]) + 2);
        if (!p) st = ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
        else sprintf(p, "%s/%s", dir, old[i]), unlink(p);
        free(p);
    }
    ild_dir_names_free(old, m);
    if (st == ILDIFF_OK && rmdir(dir) != 0) st = ild_fail(ILDIFF_ERR_IO, "cannot replace %s: %s", dir, strerror(errno));
    return st;
}

/* Writes the frames as OUT/<input frame name>.png: built in a temporary folder beside OUT, renamed when complete. */
static ildiff_status write_named_frames(const ildiff_anim *anim, const char *in_dir, const char *out, bool overwrite)
{
    char **names;
    size_t n;
    ildiff_status st = ild_dir_list(in_dir, ILD_DIR_FRAMES, INT64_MAX, &names, &n);
    if (st != ILDIFF_OK) return st;
    if (n != (size_t)anim->frame_count) {
        ild_dir_names_free(names, n);
        return ild_fail(ILDIFF_ERR_IO, "the input folder changed while it was read");
    }
    size_t len = strlen(out);
    while (len > 1 && out[len - 1] == '/') len--;
    char *dst = strndup(out, len), *tmp = malloc(len + 32);
    if (!dst || !tmp) st = ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    if (st == ILDIFF_OK) {
        snprintf(tmp, len + 32, "%s.tmp-%ld", dst, (long)getpid());
        if (mkdir(tmp, 0777) != 0) st = ild_fail(ILDIFF_ERR_IO, "cannot create %s: %s", tmp, strerror(errno));
    }
    bool made = st == ILDIFF_OK;
    for (size_t i = 0; st == ILDIFF_OK && i < n; i++) {
        char *leaf = swap_ext(names[i], "png"), *path = leaf ? malloc(strlen(tmp) + strlen(leaf) + 2) : NULL;
        uint8_t *png = NULL;
        size_t size = 0;
        if (!path) st = ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
        if (st == ILDIFF_OK) {
            sprintf(path, "%s/%s", tmp, leaf);
            st = ild_png_encode_rgba(ildiff_anim_frame(anim, (int32_t)i), anim->width, anim->height, &png, &size);
        }
        if (st == ILDIFF_OK) st = ildiff_write_file_atomic(path, png, size, false);
        if (st == ILDIFF_ERR_EXISTS) st = ild_fail(ILDIFF_ERR_EXISTS, "two input frames map to %s", leaf);
        free(png);
        free(path);
        free(leaf);
    }
    if (st == ILDIFF_OK && overwrite) st = remove_frames_folder(dst);
    if (st == ILDIFF_OK && rename(tmp, dst) != 0)
        st = ild_fail(ILDIFF_ERR_IO, "cannot rename into %s: %s", dst, strerror(errno));
    if (st != ILDIFF_OK && made) { /* remove the partial folder */
        for (size_t i = 0; i < n; i++) {
            char *leaf = swap_ext(names[i], "png"), *p = leaf ? malloc(strlen(tmp) + strlen(leaf) + 2) : NULL;
            if (p) sprintf(p, "%s/%s", tmp, leaf), unlink(p);
            free(p);
            free(leaf);
        }
        rmdir(tmp);
    }
    ild_dir_names_free(names, n);
    free(dst);
    free(tmp);
    return st;
}

/* ---- --preview ---- */

#define PREVIEW_MAX_FRAMES 8

/* Column j of `cols`: frames chosen evenly over the clip, the first and the last included. */
static int32_t preview_frame(int j, int cols, int32_t frames)
{
    return cols < 2 ? 0 : (int32_t)(((int64_t)j * (frames - 1) + (cols - 1) / 2) / (cols - 1));
}

/* The last part of a path ("clips/a.gif" -> "a.gif", "frames/" -> "frames") into buf. */
static const char *last_part(const char *path, char *buf, size_t size)
{
    snprintf(buf, size, "%s", path);
    size_t n = strlen(buf);
    while (n > 1 && buf[n - 1] == '/') buf[--n] = 0;
    const char *slash = strrchr(buf, '/');
    return slash && slash[1] ? slash + 1 : buf;
}

/* Writes the preview PNG of in (the input) and out (its matted frames, same size and frame count) atomically. */
static ildiff_status write_preview(const ildiff_anim *in, const ildiff_anim *out, const char *in_path,
                                   const char *path, bool overwrite)
{
    static const char *const rows[3] = {"input", "over checkerboard", "over black"};
    int cols = (int)ILD_MIN(out->frame_count, PREVIEW_MAX_FRAMES);
    size_t px = (size_t)out->width * (size_t)out->height;
    float *alpha = malloc((size_t)cols * px * sizeof *alpha);
    if (!alpha) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory for the preview");
    char labels[PREVIEW_MAX_FRAMES][24], name[256], title[300];
    const char *col_labels[PREVIEW_MAX_FRAMES];
    ild_tile tiles[3 * PREVIEW_MAX_FRAMES];
    for (int j = 0; j < cols; j++) {
        int32_t f = preview_frame(j, cols, out->frame_count);
        const uint8_t *rgba = ildiff_anim_frame(out, f);
        float *a = alpha + (size_t)j * px;
        for (size_t i = 0; i < px; i++) a[i] = rgba[i * 4 + 3] / 255.0f;
        snprintf(labels[j], sizeof labels[j], "frame %d", (int)f);
        col_labels[j] = labels[j];
        tiles[j] = (ild_tile){in->width, in->height, ildiff_anim_frame(in, f), 4, NULL, ILD_BACKDROP_NONE};
        tiles[cols + j] = (ild_tile){out->width, out->height, rgba, 4, a, ILD_BACKDROP_CHECKER};
        tiles[2 * cols + j] = (ild_tile){out->width, out->height, rgba, 4, a, ILD_BACKDROP_BLACK};
    }
    snprintf(title, sizeof title, "ildiff matte: %s", last_part(in_path, name, sizeof name));
    ild_strip_grid g = {.title = title, .rows = 3, .cols = cols, .col_labels = col_labels, .row_labels = rows,
                        .tiles = tiles};
    int32_t w, h;
    ild_strip_size(g.rows, g.cols, &w, &h);
    uint8_t *picture = NULL, *png = NULL;
    size_t size = 0;
    ildiff_status st = ild_strip_render(&g, &picture);
    if (st == ILDIFF_OK) st = ild_png_encode_rgba(picture, w, h, &png, &size);
    if (st == ILDIFF_OK) st = ildiff_write_file_atomic(path, png, size, overwrite);
    free(png);
    free(picture);
    free(alpha);
    return st;
}

/* ---- one input ---- */

static void on_progress(void *user, int64_t done, int64_t total)
{
    cli_progress *p = user;
    p->total = total;
    cli_progress_update(p, done);
}

static bool is_dir(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static int matte_one(const matte_args *a)
{
    if (ildiff_same_file(a->in, a->out)) return cli_error(a->out, "is the input; choose another output name");
    struct stat sb;
    if (!a->wo.overwrite && lstat(a->out, &sb) == 0) return cli_error(a->out, "already exists (use -y to overwrite)");
    if (a->preview && (ildiff_same_file(a->preview, a->in) || ildiff_same_file(a->preview, a->out)))
        return cli_error(a->preview, "is the %s; choose another preview name",
                         ildiff_same_file(a->preview, a->in) ? "input" : "output");
    if (a->preview && !a->wo.overwrite && lstat(a->preview, &sb) == 0)
        return cli_error(a->preview, "already exists (use -y to overwrite)");
    ildiff_matter *mt;
    int rc = new_matter(a, &mt);
    if (rc != CLI_OK) return rc;
    ildiff_anim *in = NULL, *out = NULL;
    ildiff_status st = ildiff_anim_read(a->in, &a->lim, &in);
    if (st != ILDIFF_OK) {
        ildiff_matter_free(mt);
        return cli_status_error(a->in, st);
    }
    cli_progress prog;
    cli_progress_start(&prog, "matting", 0, a->quiet);
    st = ildiff_matte_anim(mt, in, &out, on_progress, &prog);
    cli_progress_end(&prog);
    ildiff_matter_free(mt);
    ildiff_fit_report fit = {0}; /* with --preset: what was written */
    if (st != ILDIFF_OK) rc = cli_status_error(a->in, st);
    else if (a->format == ILDIFF_FORMAT_FRAMES && is_dir(a->in))
        rc = (st = write_named_frames(out, a->in, a->out, a->wo.overwrite)) == ILDIFF_OK ? CLI_OK : cli_status_error(a->out, st);
    else if (a->format == ILDIFF_FORMAT_FRAMES)
        rc = (st = ildiff_anim_write(out, a->out, a->format, &a->wo)) == ILDIFF_OK ? CLI_OK : cli_status_error(a->out, st);
    else {
        uint8_t *data = NULL;
        size_t size = 0;
        if ((st = encode(a, out, &data, &size, &fit)) == ILDIFF_OK)
            st = ildiff_write_file_atomic(a->out, data, size, a->wo.overwrite);
        free(data);
        if (st != ILDIFF_OK) rc = cli_status_error(a->out, st);
    }
    if (rc == CLI_OK && !a->quiet && a->preset)
        fprintf(stderr, "wrote %s: %s %dx%d, %d frames, %.1f s (preset %s)\n", a->out, ildiff_format_name(a->format),
                fit.width, fit.height, fit.frame_count, fit.frame_count / fit.fps, a->preset->name);
    else if (rc == CLI_OK && !a->quiet)
        fprintf(stderr, "wrote %s: %s %dx%d, %d frames, %.1f s\n", a->out, ildiff_format_name(a->format), out->width,
                out->height, out->frame_count, (double)ildiff_anim_duration_ms(out) / 1000.0);
    if (rc == CLI_OK && a->preview && (st = write_preview(in, out, a->in, a->preview, a->wo.overwrite)) != ILDIFF_OK)
        rc = cli_status_error(a->preview, st);
    else if (rc == CLI_OK && a->preview && !a->quiet)
        fprintf(stderr, "wrote %s: preview of %d frames\n", a->preview, (int)ILD_MIN(out->frame_count, PREVIEW_MAX_FRAMES));
    ildiff_anim_free(in);
    ildiff_anim_free(out);
    return rc;
}

/* ---- --batch ---- */

typedef struct batch {
    const matte_args *a;
    char **names;
    char **outs;                 /* OUT_DIR/<stem>.<ext> */
    int64_t *todo;               /* indices of this rank's unfinished files */
    int64_t todo_count, next, done, failed;
    char *failures;              /* "file: reason\n" lines */
    size_t fail_len;
    pthread_mutex_t lock;
    cli_progress prog;
    ildiff_matter *first;        /* the main thread's matter, for worker 0 */
    int setup_rc;
} batch;

/* Mattes and writes one file; the reason of a failure is in ildiff_last_error(). */
static ildiff_status batch_file(const batch *b, ildiff_matter *mt, int64_t i, char *in_path)
{
    ildiff_anim *in = NULL, *out = NULL;
    ildiff_status st = ildiff_anim_read(in_path, &b->a->lim, &in);
    if (st == ILDIFF_OK) st = ildiff_matte_anim(mt, in, &out, NULL, NULL);
    uint8_t *data = NULL;
    size_t size = 0;
    if (st == ILDIFF_OK) st = encode(b->a, out, &data, &size, NULL);
    if (st == ILDIFF_OK) st = ildiff_write_file_atomic(b->outs[i], data, size, true);
    free(data);
    ildiff_anim_free(in);
    ildiff_anim_free(out);
    return st;
}

static void add_failure(batch *b, const char *name, const char *why)
{
    size_t add = strlen(name) + strlen(why) + 4;
    char *p = realloc(b->failures, b->fail_len + add);
    if (!p) return;
    b->failures = p;
    b->fail_len += (size_t)snprintf(p + b->fail_len, add, "%s: %s\n", name, why);
}

static void *batch_worker(void *arg)
{
    batch *b = arg;
    ildiff_matter *mt = NULL;
    pthread_mutex_lock(&b->lock);
    if (b->first) mt = b->first, b->first = NULL;
    pthread_mutex_unlock(&b->lock);
    if (!mt) {
        matte_args one = *b->a;
        one.mp.threads = 1;
        if (ildiff_matter_new(one.model ? one.model : DEFAULT_MODEL, &one.mp, &mt) != ILDIFF_OK) return NULL;
    }
    for (;;) {
        pthread_mutex_lock(&b->lock);
        int64_t k = b->next < b->todo_count ? b->next++ : -1;
        pthread_mutex_unlock(&b->lock);
        if (k < 0) break;
        int64_t i = b->todo[k];
        char *path = malloc(strlen(b->a->in) + strlen(b->names[i]) + 2);
        ildiff_status st = ILDIFF_ERR_NOMEM;
        if (path) sprintf(path, "%s/%s", b->a->in, b->names[i]), st = batch_file(b, mt, i, path);
        char why[512];
        snprintf(why, sizeof why, "%s", st == ILDIFF_OK ? "" : path ? ildiff_last_error() : "out of memory");
        free(path);
        pthread_mutex_lock(&b->lock);
        if (st == ILDIFF_OK) b->done++;
        else b->failed++, add_failure(b, b->names[i], why);
        cli_progress_update(&b->prog, b->done + b->failed);
        pthread_mutex_unlock(&b->lock);
    }
    ildiff_matter_free(mt);
    return NULL;
}

static const char *format_ext(ildiff_format f)
{
    return f == ILDIFF_FORMAT_APNG || f == ILDIFF_FORMAT_PNG ? "png" : ildiff_format_name(f);
}

/* Output names; a second input with the same stem as an earlier one is a failure of its own. */
static ildiff_status batch_outputs(batch *b, size_t n)
{
    const matte_args *a = b->a;
    if (!(b->outs = calloc(n ? n : 1, sizeof *b->outs))) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        char *leaf = swap_ext(b->names[i], format_ext(a->format));
        if (!leaf) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
        b->outs[i] = malloc(strlen(a->out) + strlen(leaf) + 2);
        if (b->outs[i]) sprintf(b->outs[i], "%s/%s", a->out, leaf);
        free(leaf);
        if (!b->outs[i]) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    }
    return ILDIFF_OK;
}

static int matte_batch(const matte_args *a)
{
    if (!is_dir(a->in)) return cli_error(a->in, "is not a folder (--batch mattes every file of a folder)");
    if (mkdir(a->out, 0777) != 0 && errno != EEXIST) return cli_error(a->out, "cannot create folder: %s", strerror(errno));
    if (!is_dir(a->out)) return cli_error(a->out, "is not a folder");
    if (ildiff_same_file(a->in, a->out)) return cli_error(a->out, "is the input folder; choose another output folder");
    batch b = {.a = a};
    pthread_mutex_init(&b.lock, NULL);
    size_t n = 0;
    int rank = ild_dist_rank(), size = ild_dist_size(), workers = a->mp.threads > 0 ? a->mp.threads : 1;
    ildiff_status st = ild_dir_list(a->in, ILD_DIR_FILES, INT64_MAX, &b.names, &n);
    if (st == ILDIFF_OK) st = batch_outputs(&b, n);
    if (st == ILDIFF_OK && !(b.todo = malloc((n ? n : 1) * sizeof *b.todo))) st = ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    int64_t skipped = 0;
    struct stat sb;
    for (size_t i = 0; st == ILDIFF_OK && i < n; i++) {
        if (!ild_shard_owns((int64_t)i, rank, size)) continue;
        bool dup = false;
        for (size_t j = 0; j < i && !dup; j++) dup = strcmp(b.outs[i], b.outs[j]) == 0;
        if (dup) b.failed++, add_failure(&b, b.names[i], "another input has the same name before its extension");
        else if (!a->wo.overwrite && lstat(b.outs[i], &sb) == 0) skipped++;
        else b.todo[b.todo_count++] = (int64_t)i;
    }
    int rc = st == ILDIFF_OK ? CLI_OK : cli_status_error(a->in, st);
    if (rc == CLI_OK && b.todo_count > 0) {
        matte_args one = *a;
        if (workers > 1) one.mp.threads = 1;
        rc = new_matter(&one, &b.first);
    }
    if (rc == CLI_OK && b.todo_count > 0) {
        if (workers > b.todo_count) workers = (int)b.todo_count;
        pthread_t th[1024];
        int started = 0;
        cli_progress_start(&b.prog, "matting files", b.todo_count, a->quiet);
        for (int w = 1; w < workers; w++)
            if (pthread_create(&th[started], NULL, batch_worker, &b) == 0) started++;
        batch_worker(&b); /* the main thread is worker 0 */
        for (int w = 0; w < started; w++) pthread_join(th[w], NULL);
        cli_progress_end(&b.prog);
    }
    int64_t counts[3] = {b.done, skipped, b.failed};
    char *all = NULL;
    if (rc == CLI_OK && (ild_dist_sum_i64(counts, 3) != ILDIFF_OK || ild_dist_gather_text(b.failures, &all) != ILDIFF_OK))
        rc = cli_error(NULL, "%s", ildiff_last_error());
    if (rc == CLI_OK && ild_dist_is_root()) {
        if (!a->quiet)
            fprintf(stderr, "matted %lld, skipped %lld (already done), failed %lld of %zu files in %s\n",
                    (long long)counts[0], (long long)counts[1], (long long)counts[2], n, a->in);
        if (counts[2] > 0) fprintf(stderr, "failed:\n%s", all ? all : "");
    }
    if (rc == CLI_OK && counts[2] > 0) rc = CLI_FAIL;
    free(all);
    free(b.failures);
    free(b.todo);
    if (b.outs)
        for (size_t i = 0; i < n; i++) free(b.outs[i]);
    free(b.outs);
    ild_dir_names_free(b.names, n);
    ildiff_matter_free(b.first);
    pthread_mutex_destroy(&b.lock);
    return rc;
}

int cli_matte(int argc, char **argv)
{
    matte_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc != CLI_OK || !a.in) return rc;
    if (a.quiet) ildiff_log_set(NULL, NULL, ILDIFF_LOG_ERROR);
    if (!a.batch && ild_dist_size() > 1) return cli_error(NULL, "one input runs on one process; under mpirun use --batch");
    return a.batch ? matte_batch(&a) : matte_one(&a);
}
