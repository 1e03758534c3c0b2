/*
 * cli_info.c: `ildiff info [--json] FILE...`: what each file is: format, size, frame count, total duration, frame
 * timing (every duration when there are few, else min/max/mean), whether any pixel is transparent, loop count.
 * Text goes to stdout; each unreadable file gives one "ildiff: FILE: reason" line on stderr and exit status 1
 * after the other files are described. --json prints one JSON object per file, one per line.
 */
#include "cli.h"

#include <getopt.h>
#include <string.h>

enum { LIST_MAX = 16 }; /* up to this many frames, every duration is listed */

static void print_help(void)
{
    printf("Usage: ildiff info [options] FILE...\n\n"
           "Describes animations: format, size, frames, durations, alpha, loop.\n\n"
           "Options:\n"
           "  --json            one JSON object per file, one per line\n"
           "  -h, --help        show this help\n\n%s",
           cli_limits_help);
}

static void durations_range(const ildiff_anim *a, int32_t *lo, int32_t *hi)
{
    *lo = *hi = a->durations_ms[0];
    for (int32_t i = 1; i < a->frame_count; i++) {
        *lo = a->durations_ms[i] < *lo ? a->durations_ms[i] : *lo;
        *hi = a->durations_ms[i] > *hi ? a->durations_ms[i] : *hi;
    }
}

/* Fraction of pixels (over all frames) with alpha < 255. */
static double transparent_share(const ildiff_anim *a)
{
    size_t n = (size_t)a->width * (size_t)a->height * (size_t)a->frame_count, t = 0;
    for (size_t i = 0; i < n; i++) t += a->rgba[i * 4 + 3] != 255;
    return (double)t / (double)n;
}

static void print_text(const char *path, const ildiff_anim *a)
{
    int64_t total = ildiff_anim_duration_ms(a);
    int32_t lo, hi;
    durations_range(a, &lo, &hi);
    printf("%s\n", path);
    printf("  format    %s\n", ildiff_format_name(a->source));
    printf("  size      %dx%d\n", a->width, a->height);
    printf("  frames    %d\n", a->frame_count);
    printf("  duration  %.3f s (%.2f fps)\n", (double)total / 1000.0, (double)a->frame_count * 1000.0 / (double)total);
    if (lo == hi) {
        printf("  timing    %d ms each\n", lo);
    } else if (a->frame_count <= LIST_MAX) {
        printf("  timing   ");
        for (int32_t i = 0; i < a->frame_count; i++) printf(" %d", a->durations_ms[i]);
        printf(" ms\n");
    } else {
        printf("  timing    %d-%d ms (mean %.1f)\n", lo, hi, (double)total / a->frame_count);
    }
    double share = transparent_share(a);
    if (share > 0) printf("  alpha     yes (%.1f%% of pixels not opaque)\n", share * 100.0);
    else printf("  alpha     no%s\n", a->source_has_alpha ? " (the file has an alpha channel, every pixel is opaque)" : "");
    if (a->loop_count == 0) printf("  loop      forever\n");
    else printf("  loop      %d play%s\n", a->loop_count, a->loop_count == 1 ? "" : "s");
}

static void json_string(const char *s)
{
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') printf("\\%c", *p);
        else if (*p < 0x20) printf("\\u%04x", *p);
        else putchar(*p);
    }
    putchar('"');
}

static void print_json(const char *path, const ildiff_anim *a)
{
    int32_t lo, hi;
    durations_range(a, &lo, &hi);
    printf("{\"file\":");
    json_string(path);
    printf(",\"format\":\"%s\",\"width\":%d,\"height\":%d,\"frames\":%d,\"duration_ms\":%lld,\"min_frame_ms\":%d,"
           "\"max_frame_ms\":%d,\"durations_ms\":[",
           ildiff_format_name(a->source), a->width, a->height, a->frame_count, (long long)ildiff_anim_duration_ms(a), lo, hi);
    for (int32_t i = 0; i < a->frame_count; i++) printf("%s%d", i ? "," : "", a->durations_ms[i]);
    printf("],\"has_alpha\":%s,\"source_has_alpha\":%s,\"loop_count\":%d}\n", ildiff_anim_has_alpha(a) ? "true" : "false",
           a->source_has_alpha ? "true" : "false", a->loop_count);
}

int cli_info(int argc, char **argv)
{
    static const struct option long_opts[] = {
        {"json", no_argument, NULL, 'j'},        {"help", no_argument, NULL, 'h'},
        CLI_LIMIT_LONG_OPTIONS('L'),
        {NULL, 0, NULL, 0},
    };
    ildiff_limits lim = ildiff_limits_default();
    bool json = false;
    int c, idx;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", long_opts, &idx)) != -1) {
        switch (c) {
        case 'j': json = true; break;
        case 'h': print_help(); return CLI_OK;
        case 'L':
            if (cli_limits_option(long_opts[idx].name, optarg, &lim) != 1)
                return cli_usage_error("info", "invalid value '%s' for --%s", optarg, long_opts[idx].name);
            break;
        case ':': return cli_usage_error("info", "option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage_error("info", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc) return cli_usage_error("info", "no input file");
    int rc = CLI_OK;
    for (int i = optind; i < argc; i++) {
        ildiff_anim *a;
        ildiff_status st = ildiff_anim_read(argv[i], &lim, &a);
        if (st != ILDIFF_OK) {
            rc = cli_status_error(argv[i], st);
            continue;
        }
        if (json) print_json(argv[i], a);
        else print_text(argv[i], a);
        ildiff_anim_free(a);
    }
    return rc;
}
