/*
 * cli_paper.c: `ildiff paper`: regenerates the paper's tables and figures (section V, and Table I / Fig. 3 with
 * --corpus) on a sample set in the exchange form: README.md, report.json and PNGs in the report folder
 * (src/eval/paper.h). Prints the report's path last.
 */
#include "cli.h"
#include "eval/paper.h"

#include <string.h>

#define MAX_SPEC_TEXT 4096

static void usage(FILE *f)
{
    fprintf(f, "Usage: ildiff paper --samples DIR --out REPORT_DIR [--methods NAME,NAME,...] [--corpus DIR]\n\n"
               "Runs every method on a sample set in the exchange form (as `ildiff eval`) and writes the paper's\n"
               "Table II (every metric per method, the paper's numbers quoted beside), Table III (temporal depth),\n"
               "the Fig. 4 stand-ins (bar charts of dtSSD, hole residue, collapse), the Fig. 5 / 6 comparison strips\n"
               "and, with --corpus, Table I and the Fig. 3 charts, into REPORT_DIR/README.md, report.json and PNGs,\n"
               "plus each method's full eval report in REPORT_DIR/eval/<method>/.\n\n"
               "Methods (default: every one that takes no argument):\n");
    for (int i = 0; i < ild_method_count; i++) fprintf(f, "  %-10s %s\n", ild_methods[i].usage, ild_methods[i].help);
    fprintf(f, "\nOptions:\n"
               "  --samples DIR       the sample set (`make paper`: corpus/tasd-t-eval, TASD-T exported)\n"
               "  --out DIR           the report folder (created; files in it are replaced)\n"
               "  --methods LIST      comma-separated methods, reported in the order given; LABEL=METHOD names\n"
               "                      a row: layerdiffusion=model:FILE and ildiff-d0/3/5/8=model:FILE fill the\n"
               "                      paper's Layer Diffusion and ILDiff rows, Table III and the two claims\n"
               "  --corpus DIR        a corpus built by `ildiff dataset build`, for Table I and Fig. 3\n"
               "  --strip-samples N   rows of the hard-sample strip (default 4, 1..8)\n"
               "  --strip-bw          show the hard samples over black and over white too\n"
               "  --threads N         samples scored at once (default 1; fps stays one thread's throughput)\n"
               "  --set NAME=VALUE    a baseline parameter, as in `ildiff eval` (repeatable)\n"
               "  -q, --quiet         no progress\n%s",
            cli_limits_help);
}

typedef struct progress_state {
    cli_progress bar;
    bool quiet, started;
    char label[80];
} progress_state;

static void on_method(void *user, const char *method, int index, int count)
{
    progress_state *p = user;
    if (p->started) cli_progress_end(&p->bar);
    snprintf(p->label, sizeof p->label, "paper %d/%d %s", index + 1, count, method);
    cli_progress_start(&p->bar, p->label, 0, p->quiet);
    p->started = true;
}

static void on_sample(void *user, int done, int total)
{
    progress_state *p = user;
    p->bar.total = total;
    cli_progress_update(&p->bar, done);
}

int cli_paper(int argc, char **argv)
{
    ild_paper_options o = ild_paper_options_default();
    char specs[MAX_SPEC_TEXT];
    const char *methods[ILD_PAPER_MAX_METHODS];
    bool quiet = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        long long n;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return CLI_OK;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            quiet = true;
        } else if (strcmp(a, "--strip-bw") == 0) {
            o.strip_black_white = true;
        } else if (!v) {
            return cli_usage_error("paper", "'%s' is not an option, or needs a value", a);
        } else if (strcmp(a, "--samples") == 0) {
            o.eval.samples_dir = argv[++i];
        } else if (strcmp(a, "--out") == 0) {
            o.out_dir = argv[++i];
        } else if (strcmp(a, "--corpus") == 0) {
            o.corpus_dir = argv[++i];
        } else if (strcmp(a, "--methods") == 0) {
            if (strlen(v) >= sizeof specs) return cli_usage_error("paper", "--methods: the list is too long");
            memcpy(specs, v, strlen(v) + 1);
            o.method_count = 0;
            for (char *save = NULL, *t = strtok_r(specs, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                if (o.method_count == ILD_PAPER_MAX_METHODS)
                    return cli_usage_error("paper", "--methods: at most %d methods", ILD_PAPER_MAX_METHODS);
                const ild_method *m;
                const char *arg;
                size_t label_len;
                const char *spec = ild_method_unlabel(t, &label_len); /* LABEL=SPEC */
                if (spec != t && label_len == 0)
                    return cli_usage_error("paper", "--methods: '%s' has an empty label before '='", t);
                if (ild_method_find(spec, &m, &arg) != ILDIFF_OK) return cli_usage_error("paper", "%s", ildiff_last_error());
                methods[o.method_count++] = t;
            }
            if (o.method_count == 0) return cli_usage_error("paper", "--methods: no method named");
            o.methods = methods;
            i++;
        } else if (strcmp(a, "--strip-samples") == 0) {
            if (!cli_parse_int(v, 1, 8, &n)) return cli_usage_error("paper", "--strip-samples: '%s' is not 1..8", v);
            o.strip_samples = (int)n;
            i++;
        } else if (strcmp(a, "--threads") == 0) {
            if (!cli_parse_int(v, 1, 256, &n)) return cli_usage_error("paper", "--threads: '%s' is not 1..256", v);
            o.eval.threads = (int)n;
            i++;
        } else if (strcmp(a, "--set") == 0) {
            if (ild_baseline_param_set(&o.eval.baseline, v) != ILDIFF_OK)
                return cli_usage_error("paper", "--set: %s", ildiff_last_error());
            i++;
        } else {
            int r = cli_limits_option(a, v, &o.eval.limits);
            if (r < 0) return cli_usage_error("paper", "%s: bad value '%s'", a, v);
            if (r == 0) return cli_usage_error("paper", "unknown option '%s'", a);
            i++;
        }
    }
    if (!o.eval.samples_dir) return cli_usage_error("paper", "--samples DIR is required");
    if (!o.out_dir) return cli_usage_error("paper", "--out REPORT_DIR is required");
    if (ild_baseline_params_check(&o.eval.baseline) != ILDIFF_OK) return cli_usage_error("paper", "%s", ildiff_last_error());

    progress_state p = {.quiet = quiet};
    o.on_method = on_method;
    o.on_method_user = &p;
    o.eval.progress = on_sample;
    o.eval.progress_user = &p;
    ildiff_status st = ild_paper_run(&o);
    if (p.started) cli_progress_end(&p.bar);
    if (st != ILDIFF_OK) return cli_status_error(NULL, st); /* the reason names the file */
    printf("%s/README.md\n", o.out_dir);
    return CLI_OK;
}
