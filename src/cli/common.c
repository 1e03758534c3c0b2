/* common.c: error printing, number parsing and progress shared by the subcommands. */
#include "cli.h"
#include "dist/dist.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cli_error(const char *file, const char *fmt, ...)
{
    /* one write: under mpirun the ranks share the terminal, and pieces of their lines would interleave */
    char line[2048];
    size_t n = 0;
    n += (size_t)snprintf(line, sizeof line, "ildiff: ");
    if (ild_dist_size() > 1) n += (size_t)snprintf(line + n, sizeof line - n, "rank %d: ", ild_dist_rank());
    if (file && n < sizeof line) n += (size_t)snprintf(line + n, sizeof line - n, "%.1000s: ", file);
    va_list ap;
    va_start(ap, fmt);
    if (n < sizeof line) n += (size_t)vsnprintf(line + n, sizeof line - n, fmt, ap);
    va_end(ap);
    n = n < sizeof line - 1 ? n : sizeof line - 2;
    line[n] = '\n', line[n + 1] = '\0';
    fputs(line, stderr);
    return CLI_FAIL;
}

int cli_status_error(const char *file, ildiff_status st)
{
    (void)st;
    return cli_error(file, "%s", ildiff_last_error());
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    char line[2048]; /* one write, as in cli_error */
    int n = snprintf(line, sizeof line, "ildiff %.100s: ", cmd);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s\nTry 'ildiff %s --help'.\n", line, cmd);
    return CLI_USAGE;
}

bool cli_parse_int(const char *s, long long lo, long long hi, long long *out)
{
    if (!s || !*s) return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < lo || v > hi) return false;
    *out = v;
    return true;
}

bool cli_parse_double(const char *s, double lo, double hi, double *out)
{
    if (!s || !*s) return false;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v) || v < lo || v > hi) return false;
    *out = v;
    return true;
}

bool cli_parse_color(const char *s, uint8_t rgb[3])
{
    if (s[0] == '#') s++;
    if (strlen(s) != 6) return false;
    for (int i = 0; i < 6; i++)
        if (!strchr("0123456789abcdefABCDEF", s[i])) return false;
    unsigned long v = strtoul(s, NULL, 16);
    rgb[0] = (uint8_t)(v >> 16);
    rgb[1] = (uint8_t)(v >> 8);
    rgb[2] = (uint8_t)v;
    return true;
}

const char cli_limits_help[] = "Input limits (bad or oversized input is rejected, never half-read):\n"
                               "  --max-width N     widest frame accepted (default 4096)\n"
                               "  --max-height N    tallest frame accepted (default 4096)\n"
                               "  --max-frames N    most frames accepted (default 1000)\n"
                               "  --max-pixels N    width x height x frames accepted (default 268435456)\n"
                               "  --max-bytes N     largest input file accepted (default 1073741824)\n";

int cli_limits_option(const char *name, const char *value, ildiff_limits *lim)
{
    long long v;
    if (strcmp(name, "max-width") == 0 || strcmp(name, "max-height") == 0 || strcmp(name, "max-frames") == 0) {
        if (!cli_parse_int(value, 1, 1 << 30, &v)) return -1;
        if (name[4] == 'w') lim->max_width = (int32_t)v;
        else if (name[4] == 'h') lim->max_height = (int32_t)v;
        else lim->max_frames = (int32_t)v;
        return 1;
    }
    if (strcmp(name, "max-pixels") == 0 || strcmp(name, "max-bytes") == 0) {
        if (!cli_parse_int(value, 1, (long long)1 << 50, &v)) return -1;
        if (name[4] == 'p') lim->max_total_pixels = v;
        else lim->max_file_bytes = v;
        return 1;
    }
    return 0;
}

void cli_progress_start(cli_progress *p, const char *label, long long total, bool quiet)
{
    *p = (cli_progress){.label = label, .total = total, .last_percent = -1, .quiet = quiet, .tty = isatty(2)};
}

void cli_progress_update(cli_progress *p, long long done)
{
    if (p->quiet || p->total <= 0) return;
    int percent = (int)(100 * done / p->total);
    if (p->tty) {
        fprintf(stderr, "\r%s %lld/%lld (%d%%)", p->label, done, p->total, percent);
    } else if (percent / 10 != p->last_percent / 10) {
        fprintf(stderr, "%s %lld/%lld (%d%%)\n", p->label, done, p->total, percent);
    }
    p->last_percent = percent;
}

void cli_progress_end(cli_progress *p)
{
    if (!p->quiet && p->tty && p->last_percent >= 0) fputc('\n', stderr);
}
