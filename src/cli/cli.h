/*
 * cli.h: what the `ildiff` subcommands share. Each subcommand is one file with one entry point
 * `int cli_NAME(int argc, char **argv)` (argv[0] is the subcommand name) returning the process exit code:
 * 0 success, 1 processing error, 2 usage error.
 */
#ifndef ILDIFF_CLI_H
#define ILDIFF_CLI_H

#include "ildiff.h"

#include <stdbool.h>
#include <stdio.h>

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

/* Prints "ildiff: FILE: reason" to stderr (FILE may be NULL: "ildiff: reason"). Returns CLI_FAIL. */
int cli_error(const char *file, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints "ildiff: FILE: <ildiff_last_error()>" and returns CLI_FAIL. */
int cli_status_error(const char *file, ildiff_status st);
/* Prints "ildiff CMD: message" and "Try 'ildiff CMD --help'." to stderr. Returns CLI_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Parses a whole integer / number; false if not entirely a number or out of [lo, hi]. */
bool cli_parse_int(const char *s, long long lo, long long hi, long long *out);
bool cli_parse_double(const char *s, double lo, double hi, double *out);
/* Parses "#RRGGBB" or "RRGGBB". */
bool cli_parse_color(const char *s, uint8_t rgb[3]);

/* The input limits options shared by every command that reads files:
 *   --max-width N  --max-height N  --max-frames N  --max-pixels N  --max-bytes N
 * cli_limits_option returns 1 if `name` was one of them (and sets *lim), 0 if not, -1 on a bad value. */
int cli_limits_option(const char *name, const char *value, ildiff_limits *lim);
extern const char cli_limits_help[];
/* The getopt_long entries of those options, all returning `code` (then pass long_opts[index].name to
 * cli_limits_option). Needs <getopt.h>. */
#define CLI_LIMIT_LONG_OPTIONS(code)                                                                            \
    {"max-width", required_argument, NULL, (code)}, {"max-height", required_argument, NULL, (code)},           \
        {"max-frames", required_argument, NULL, (code)}, {"max-pixels", required_argument, NULL, (code)},      \
        {"max-bytes", required_argument, NULL, (code)}

/* Progress on stderr for long work: "\r<label> i/n" while running when stderr is a terminal, one line per
 * ~10% otherwise; quiet mode prints nothing. */
typedef struct cli_progress {
    const char *label;
    long long total;
    int last_percent;
    bool quiet, tty;
} cli_progress;
void cli_progress_start(cli_progress *p, const char *label, long long total, bool quiet);
void cli_progress_update(cli_progress *p, long long done);
void cli_progress_end(cli_progress *p);

/* Subcommands */
int cli_info(int argc, char **argv);
int cli_convert(int argc, char **argv);
int cli_matte(int argc, char **argv);
int cli_eval(int argc, char **argv);
int cli_dataset(int argc, char **argv);
int cli_train(int argc, char **argv);
int cli_paper(int argc, char **argv);
int cli_model(int argc, char **argv);

#endif
