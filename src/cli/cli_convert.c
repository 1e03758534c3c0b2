/*
 * cli_convert.c: `ildiff convert IN -o OUT [options]`: reads any supported animation and writes it in the format
 * named by -f, by OUT's extension, or by --preset (which also applies the platform's canvas, timing, loop and
 * byte limits and lowers quality, frame rate and size until the file fits).
 *
 * Exit status 2 for usage errors (found before any file is touched), 1 for processing errors, each reported as
 * one "ildiff: FILE: reason" line. The input is never overwritten, an existing output only with -y, and the
 * output appears only when complete (the library writes to a temporary name and renames it). The summary
 * ("wrote OUT: ...") and the fitting search's progress go to stderr; --quiet silences both.
 */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct convert_args {
    const char *in, *out;
    const ildiff_preset *preset;
    ildiff_format format;       /* UNKNOWN until resolved */
    ildiff_write_options wo;
    ildiff_limits lim;
    double fps;                 /* 0 = keep */
    int32_t size_w, size_h;     /* 0 = free */
    bool size_set, loop_set;
    int64_t max_bytes_out;      /* 0 = none */
    bool quiet, verbose;
} convert_args;

enum {
    OPT_PRESET = 256, OPT_ALPHA_Q, OPT_LOSSLESS, OPT_METHOD, OPT_KMIN, OPT_KMAX, OPT_FPS, OPT_SIZE, OPT_LOOP,
    OPT_GIF_DITHER, OPT_GIF_THRESHOLD, OPT_MATTE, OPT_MAX_BYTES_OUT, OPT_QUIET, OPT_LIMIT,
};

static const struct option long_opts[] = {
    {"output", required_argument, NULL, 'o'},
    {"preset", required_argument, NULL, OPT_PRESET},
    {"format", required_argument, NULL, 'f'},
    {"quality", required_argument, NULL, 'q'},
    {"alpha-quality", required_argument, NULL, OPT_ALPHA_Q},
    {"lossless", no_argument, NULL, OPT_LOSSLESS},
    {"method", required_argument, NULL, OPT_METHOD},
    {"kmin", required_argument, NULL, OPT_KMIN},
    {"kmax", required_argument, NULL, OPT_KMAX},
    {"fps", required_argument, NULL, OPT_FPS},
    {"size", required_argument, NULL, OPT_SIZE},
    {"loop", required_argument, NULL, OPT_LOOP},
    {"gif-dither", no_argument, NULL, OPT_GIF_DITHER},
    {"gif-threshold", required_argument, NULL, OPT_GIF_THRESHOLD},
    {"matte", required_argument, NULL, OPT_MATTE},
    {"max-bytes-out", required_argument, NULL, OPT_MAX_BYTES_OUT},
    {"overwrite", no_argument, NULL, 'y'},
    {"quiet", no_argument, NULL, OPT_QUIET},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    CLI_LIMIT_LONG_OPTIONS(OPT_LIMIT),
    {NULL, 0, NULL, 0},
};

static void print_help(void)
{
    printf("Usage: ildiff convert IN -o OUT [options]\n\n"
           "Converts an animation (GIF, WebP, PNG/APNG, JPEG, MP4/MOV/MKV/WebM, TGS, Lottie JSON, SVG, a folder of\n"
           "frames) to GIF, WebP, APNG, WebM (VP9 with alpha) or a folder of PNG frames (OUT ending in '/').\n\n"
           "Options:\n"
           "  -o, --output OUT        output file (required)\n"
           "  --preset NAME           write for a platform: its format, canvas, frame rate, duration, loop and\n"
           "                          byte limit; quality, frame rate and size are lowered until the file fits\n"
           "  -f, --format FMT        output format: gif webp png apng webm frames (default: from OUT's extension)\n"
           "  -q, --quality Q         0..100: WebP quality, WebM constant quality (default 90)\n"
           "  --alpha-quality Q       0..100: WebP alpha plane quality (default 100)\n"
           "  --lossless              lossless WebP\n"
           "  --method M              WebP effort 0..6 (default 4)\n"
           "  --kmin N, --kmax N      WebP key-frame interval (default 0 and 1: every frame a key frame)\n"
           "  --fps F                 at most F frames per second (frames are merged, total time kept)\n"
           "  --size WxH              fit inside WxH keeping the aspect ratio, centred on a transparent WxH canvas;\n"
           "                          Wx0 or 0xH scales to that width or height\n"
           "  --loop N                play N times (0 = forever; default: as the input)\n"
           "  --gif-dither            GIF: dither alpha to 1 bit instead of thresholding\n"
           "  --gif-threshold N       GIF: alpha >= N is opaque, 1..255 (default 128)\n"
           "  --matte #RRGGBB         GIF: colour soft edges are blended over (default #FFFFFF)\n"
           "  --max-bytes-out N       the output must be at most N bytes (overrides the preset's limit)\n"
           "  -y, --overwrite         replace an existing OUT\n"
           "  --quiet                 print nothing but errors\n"
           "  -v, --verbose           print what the library does\n"
           "  -h, --help              show this help\n\n"
           "Presets:\n");
    for (const ildiff_preset *p = ildiff_presets(); p->name; p++) printf("  %-10s %s\n", p->name, p->description);
    printf("\n%s\nExit status: 0 success, 1 processing error, 2 usage error.\n", cli_limits_help);
}

/* "WxH" with W, H in 0..16384, not both 0. */
static bool parse_size(const char *s, int32_t *w, int32_t *h)
{
    const char *x = strchr(s, 'x');
    if (!x) x = strchr(s, 'X');
    if (!x || x == s || !x[1]) return false;
    char wbuf[16];
    if ((size_t)(x - s) >= sizeof wbuf) return false;
    memcpy(wbuf, s, (size_t)(x - s));
    wbuf[x - s] = 0;
    long long a, b;
    if (!cli_parse_int(wbuf, 0, 16384, &a) || !cli_parse_int(x + 1, 0, 16384, &b) || (a == 0 && b == 0)) return false;
    *w = (int32_t)a, *h = (int32_t)b;
    return true;
}

static bool writable(ildiff_format f)
{
    return f == ILDIFF_FORMAT_GIF || f == ILDIFF_FORMAT_WEBP || f == ILDIFF_FORMAT_PNG || f == ILDIFF_FORMAT_APNG ||
           f == ILDIFF_FORMAT_WEBM || f == ILDIFF_FORMAT_FRAMES;
}

static bool same_format(ildiff_format a, ildiff_format b)
{
    bool apng_a = a == ILDIFF_FORMAT_PNG || a == ILDIFF_FORMAT_APNG, apng_b = b == ILDIFF_FORMAT_PNG || b == ILDIFF_FORMAT_APNG;
    return a == b || (apng_a && apng_b);
}

#define BAD_VALUE() return cli_usage_error("convert", "invalid value '%s' for %s", optarg, argv[optind - 1])

/* Fills *a from the command line. Returns CLI_OK, or CLI_USAGE after printing the problem (CLI_OK with
 * a->in == NULL after --help). */
static int parse_args(int argc, char **argv, convert_args *a)
{
    *a = (convert_args){.wo = ildiff_write_options_default(), .lim = ildiff_limits_default()};
    const char *format_name = NULL;
    int c, idx;
    long long v;
    double d;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":o:f:q:yvh", long_opts, &idx)) != -1) {
        switch (c) {
        case 'o': a->out = optarg; break;
        case 'f': format_name = optarg; break;
        case OPT_PRESET:
            if (!(a->preset = ildiff_preset_find(optarg))) {
                fprintf(stderr, "ildiff convert: unknown preset '%s' (known:", optarg);
                for (const ildiff_preset *p = ildiff_presets(); p->name; p++) fprintf(stderr, " %s", p->name);
                fprintf(stderr, ")\nTry 'ildiff convert --help'.\n");
                return CLI_USAGE;
            }
            break;
        case 'q':
            if (!cli_parse_double(optarg, 0, 100, &d)) BAD_VALUE();
            a->wo.quality = (float)d;
            break;
        case OPT_ALPHA_Q:
            if (!cli_parse_double(optarg, 0, 100, &d)) BAD_VALUE();
            a->wo.alpha_quality = (float)d;
            break;
        case OPT_LOSSLESS: a->wo.lossless = true; break;
        case OPT_METHOD:
            if (!cli_parse_int(optarg, 0, 6, &v)) BAD_VALUE();
            a->wo.method = (int)v;
            break;
        case OPT_KMIN:
        case OPT_KMAX:
            if (!cli_parse_int(optarg, c == OPT_KMAX ? -1 : 0, 10000, &v)) BAD_VALUE();
            *(c == OPT_KMIN ? &a->wo.kmin : &a->wo.kmax) = (int)v;
            break;
        case OPT_FPS:
            if (!cli_parse_double(optarg, 0.01, 1000, &a->fps)) BAD_VALUE();
            break;
        case OPT_SIZE:
            if (!parse_size(optarg, &a->size_w, &a->size_h)) BAD_VALUE();
            a->size_set = true;
            break;
        case OPT_LOOP:
            if (!cli_parse_int(optarg, 0, 65535, &v)) BAD_VALUE();
            a->wo.loop_count = (int32_t)v;
            a->loop_set = true;
            break;
        case OPT_GIF_DITHER: a->wo.gif_alpha = ILDIFF_GIF_ALPHA_DITHER; break;
        case OPT_GIF_THRESHOLD:
            if (!cli_parse_int(optarg, 1, 255, &v)) BAD_VALUE();
            a->wo.gif_threshold = (int)v;
            break;
        case OPT_MATTE:
            if (!cli_parse_color(optarg, a->wo.matte)) BAD_VALUE();
            break;
        case OPT_MAX_BYTES_OUT:
            if (!cli_parse_int(optarg, 1, (long long)1 << 40, &v)) BAD_VALUE();
            a->max_bytes_out = v;
            break;
        case 'y': a->wo.overwrite = true; break;
        case OPT_QUIET: a->quiet = true; break;
        case 'v': a->verbose = true; break;
        case 'h': print_help(); return CLI_OK;
        case OPT_LIMIT:
            if (cli_limits_option(long_opts[idx].name, optarg, &a->lim) != 1) BAD_VALUE();
            break;
        case ':': return cli_usage_error("convert", "option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage_error("convert", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc) return cli_usage_error("convert", "no input file");
    if (argc - optind > 1) return cli_usage_error("convert", "one input at a time (extra argument '%s')", argv[optind + 1]);
    a->in = argv[optind];
    if (!a->out) return cli_usage_error("convert", "no output: use -o OUT");
    ildiff_format from_path = ildiff_format_from_path(a->out);
    if (format_name && (a->format = ildiff_format_from_name(format_name)) == ILDIFF_FORMAT_UNKNOWN)
        return cli_usage_error("convert", "unknown format '%s'", format_name);
    if (a->preset) {
        if (a->size_set) return cli_usage_error("convert", "--size cannot be used with --preset (the platform sets the size)");
        if (a->loop_set) return cli_usage_error("convert", "--loop cannot be used with --preset (the platform sets the loop)");
        if (format_name && !same_format(a->format, a->preset->format))
            return cli_usage_error("convert", "preset %s writes %s, not %s", a->preset->name,
                                   ildiff_format_name(a->preset->format), format_name);
        if (from_path != ILDIFF_FORMAT_UNKNOWN && !same_format(from_path, a->preset->format))
            return cli_usage_error("convert", "preset %s writes %s, but '%s' names a %s output", a->preset->name,
                                   ildiff_format_name(a->preset->format), a->out, ildiff_format_name(from_path));
        a->format = a->preset->format;
    } else if (a->format == ILDIFF_FORMAT_UNKNOWN) {
        a->format = from_path;
        if (a->format == ILDIFF_FORMAT_UNKNOWN)
            return cli_usage_error("convert", "cannot tell the output format from '%s': use -f FORMAT", a->out);
    }
    if (!writable(a->format))
        return cli_usage_error("convert", "cannot write %s (writable: gif, webp, png/apng, webm, frames)",
                               ildiff_format_name(a->format));
    if (a->max_bytes_out && a->format == ILDIFF_FORMAT_FRAMES)
        return cli_usage_error("convert", "--max-bytes-out needs a file format, not a frames folder");
    return CLI_OK;
}

/* round(num / den), at least 1 */
static int32_t ratio_side(int64_t num, int64_t den) { return (int32_t)(num / den > 0 ? (num + den / 2) / den : 1); }

/* --fps and --size for a plain conversion: replaces *anim. */
static ildiff_status edit(ildiff_anim **anim, const convert_args *a)
{
    ildiff_anim *b;
    ildiff_status st;
    if (a->fps > 0) {
        if ((st = ildiff_anim_retime(*anim, a->fps, 0, &b)) != ILDIFF_OK) return st;
        ildiff_anim_free(*anim);
        *anim = b;
    }
    if (a->size_set) {
        int32_t w = (*anim)->width, h = (*anim)->height;
        if (a->size_w && a->size_h) st = ildiff_anim_fit(*anim, a->size_w, a->size_h, a->size_w, a->size_h, &b);
        else if (a->size_w) st = ildiff_anim_resize(*anim, a->size_w, ratio_side((int64_t)h * a->size_w, w), &b);
        else st = ildiff_anim_resize(*anim, ratio_side((int64_t)w * a->size_h, h), a->size_h, &b);
        if (st != ILDIFF_OK) return st;
        ildiff_anim_free(*anim);
        *anim = b;
    }
    return ILDIFF_OK;
}

static void print_bytes(char *buf, size_t n, int64_t bytes)
{
    if (bytes < 10000) snprintf(buf, n, "%lld bytes", (long long)bytes);
    else snprintf(buf, n, "%.0f KB", (double)bytes / 1000.0);
}

/* Encodes with the preset (or a byte target alone) and writes OUT. */
static int convert_fit(const convert_args *a, const ildiff_anim *anim)
{
    ildiff_preset p = a->preset ? *a->preset
                                : (ildiff_preset){.name = "max-bytes-out", .description = "", .format = a->format, .loop_count = -1};
    if (!a->preset && a->size_set) p.canvas_w = anim->width, p.canvas_h = anim->height; /* the size asked for is kept */
    if (a->fps > 0) p.max_fps = p.max_fps > 0 && p.max_fps < a->fps ? p.max_fps : a->fps;
    if (a->max_bytes_out) p.max_bytes = a->max_bytes_out;
    if (!a->quiet && !a->verbose) ildiff_log_set(NULL, NULL, ILDIFF_LOG_INFO); /* the search's attempts are its progress */
    uint8_t *data;
    size_t size;
    ildiff_fit_report rep;
    ildiff_status st = ildiff_preset_encode(anim, &p, &a->wo, &data, &size, &rep);
    if (!a->quiet && !a->verbose) ildiff_log_set(NULL, NULL, ILDIFF_LOG_WARN);
    if (st != ILDIFF_OK) return cli_status_error(a->out, st);
    st = ildiff_write_file_atomic(a->out, data, size, a->wo.overwrite);
    free(data);
    if (st != ILDIFF_OK) return cli_status_error(a->out, st);
    if (a->quiet) return CLI_OK;
    char got[32], limit[32];
    print_bytes(got, sizeof got, (int64_t)size);
    print_bytes(limit, sizeof limit, p.max_bytes);
    fprintf(stderr, "wrote %s: %dx%d, %d frames, %.1f s, %s (%s%s: fits %s", a->out, rep.width, rep.height, rep.frame_count,
            rep.frame_count / rep.fps, got, a->preset ? "preset " : "", p.name, limit);
    if (rep.reduced) fprintf(stderr, " at quality %.0f, %.1f fps, %dx%d", rep.quality, rep.fps, rep.width, rep.height);
    fprintf(stderr, ", %d encode%s)\n", rep.attempts, rep.attempts == 1 ? "" : "s");
    return CLI_OK;
}

/* Encodes and writes OUT in the chosen format with the options as given. */
static int convert_plain(const convert_args *a, const ildiff_anim *anim)
{
    size_t size = 0;
    ildiff_status st;
    if (a->format == ILDIFF_FORMAT_FRAMES) {
        st = ildiff_anim_write(anim, a->out, a->format, &a->wo);
    } else {
        uint8_t *data;
        st = ildiff_anim_encode(anim, a->format, &a->wo, &data, &size);
        if (st == ILDIFF_OK) {
            st = ildiff_write_file_atomic(a->out, data, size, a->wo.overwrite);
            free(data);
        }
    }
    if (st != ILDIFF_OK) return cli_status_error(a->out, st);
    if (a->quiet) return CLI_OK;
    char got[32] = "";
    if (a->format != ILDIFF_FORMAT_FRAMES) print_bytes(got, sizeof got, (int64_t)size);
    fprintf(stderr, "wrote %s: %s %dx%d, %d frames, %.1f s%s%s\n", a->out, ildiff_format_name(a->format), anim->width,
            anim->height, anim->frame_count, (double)ildiff_anim_duration_ms(anim) / 1000.0, *got ? ", " : "", got);
    return CLI_OK;
}

int cli_convert(int argc, char **argv)
{
    convert_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc != CLI_OK || !a.in) return rc;
    if (ildiff_same_file(a.in, a.out)) return cli_error(a.out, "is the input; choose another output name");
    struct stat st_out;
    if (!a.wo.overwrite && lstat(a.out, &st_out) == 0) return cli_error(a.out, "already exists (use -y to overwrite)");
    if (a.verbose) ildiff_log_set(NULL, NULL, ILDIFF_LOG_DEBUG);
    else if (a.quiet) ildiff_log_set(NULL, NULL, ILDIFF_LOG_ERROR);
    ildiff_anim *anim;
    ildiff_status st = ildiff_anim_read(a.in, &a.lim, &anim);
    if (st != ILDIFF_OK) return cli_status_error(a.in, st);
    if (!a.preset) st = edit(&anim, &a);
    if (st != ILDIFF_OK) rc = cli_status_error(a.in, st);
    else if (a.preset || a.max_bytes_out) rc = convert_fit(&a, anim);
    else rc = convert_plain(&a, anim);
    ildiff_anim_free(anim);
    return rc;
}
