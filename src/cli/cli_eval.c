/*
 * cli_eval.c: `ildiff eval`: scores a matting method on an exchange-form sample set, writes report.md and
 * report.json, and prints the summary line last:
 *   PSNR x SSIM x MAD x MSE x Grad x Conn x dtSSD x hole x collapse x fps x
 * With --tune it instead picks the key or flood parameters on a validation set and prints them.
 */
#include "cli.h"
#include "eval/eval.h"

#include <string.h>

static void usage(FILE *f)
{
    fprintf(f, "Usage: ildiff eval --samples DIR --method NAME [--out REPORT_DIR] [--threads N] [-q]\n"
               "       ildiff eval --samples VALIDATION_DIR --method key|flood --tune\n\n"
               "Scores a matting method on a sample set in the exchange form (one folder per sample: input/ RGB PNG\n"
               "frames, gt_alpha/ grey PNG frames of the same names, optional gt_rgba/, bg.png, meta.json), writes\n"
               "REPORT_DIR/report.md and report.json (overall and per tag), and prints the summary line last.\n\n"
               "Methods:\n");
    for (int i = 0; i < ild_method_count; i++) fprintf(f, "  %-10s %s\n", ild_methods[i].usage, ild_methods[i].help);
    fprintf(f, "\nOptions:\n"
               "  --samples DIR       the sample set\n"
               "  --method NAME       the method (above)\n"
               "  --out DIR           report folder (default eval-report)\n"
               "  --threads N         samples scored at once (default 1; fps stays one thread's throughput)\n"
               "  --set NAME=VALUE    a baseline parameter; repeatable:\n");
    ild_baseline_params d = ild_baseline_params_default();
    for (int i = 0; i < ild_baseline_param_count; i++) {
        const ild_baseline_param_info *p = &ild_baseline_param_table[i];
        fprintf(f, "                        %-14s %s (default %g)\n", p->name, p->help,
                *(const double *)((const char *)&d + p->offset));
    }
    fprintf(f, "  --tune              pick the key or flood parameters on this (validation) set and print them\n"
               "  -q, --quiet         no progress\n%s",
            cli_limits_help);
}

static void on_progress(void *user, int done, int total)
{
    cli_progress *p = user;
    p->total = total;
    cli_progress_update(p, done);
}

static int run_tune(ild_eval_options *o, bool quiet)
{
    const ild_method *m;
    const char *arg;
    if (ild_method_find(o->method, &m, &arg) != ILDIFF_OK || (strcmp(m->name, "key") && strcmp(m->name, "flood")))
        return cli_usage_error("eval", "--tune works on the key and flood methods");
    ild_baseline which = strcmp(m->name, "key") == 0 ? ILD_BASELINE_KEY : ILD_BASELINE_FLOOD;
    cli_progress progress;
    cli_progress_start(&progress, "tune", 0, quiet);
    o->progress = on_progress;
    o->progress_user = &progress;
    ild_baseline_params best;
    double psnr;
    int clips;
    ildiff_status st = ild_eval_tune(o, which, &best, &psnr, &clips);
    cli_progress_end(&progress);
    if (st != ILDIFF_OK) return cli_status_error(NULL, st); /* the reason names the file */
    if (which == ILD_BASELINE_KEY) printf("key_lo %g key_hi %g", best.key_lo, best.key_hi);
    else printf("flood_tol %g flood_feather %g", best.flood_tol, best.flood_feather);
    printf(" PSNR %.4f clips %d\n", psnr, clips);
    return CLI_OK;
}

int cli_eval(int argc, char **argv)
{
    ild_eval_options o = ild_eval_options_default();
    const char *out_dir = "eval-report";
    bool quiet = false, tune = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        long long n;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return CLI_OK;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            quiet = true;
        } else if (strcmp(a, "--tune") == 0) {
            tune = true;
        } else if (!v) {
            return cli_usage_error("eval", "'%s' is not an option, or needs a value", a);
        } else if (strcmp(a, "--samples") == 0) {
            o.samples_dir = argv[++i];
        } else if (strcmp(a, "--method") == 0) {
            o.method = argv[++i];
        } else if (strcmp(a, "--out") == 0) {
            out_dir = argv[++i];
        } else if (strcmp(a, "--threads") == 0) {
            if (!cli_parse_int(v, 1, 256, &n)) return cli_usage_error("eval", "--threads: '%s' is not 1..256", v);
            o.threads = (int)n;
            i++;
        } else if (strcmp(a, "--set") == 0) {
            if (ild_baseline_param_set(&o.baseline, v) != ILDIFF_OK)
                return cli_usage_error("eval", "--set: %s", ildiff_last_error());
            i++;
        } else {
            int r = cli_limits_option(a, v, &o.limits);
            if (r < 0) return cli_usage_error("eval", "%s: bad value '%s'", a, v);
            if (r == 0) return cli_usage_error("eval", "unknown option '%s'", a);
            i++;
        }
    }
    if (!o.samples_dir) return cli_usage_error("eval", "--samples DIR is required");
    if (!o.method) return cli_usage_error("eval", "--method NAME is required");
    const ild_method *m;
    const char *arg;
    if (ild_method_find(o.method, &m, &arg) != ILDIFF_OK) return cli_usage_error("eval", "%s", ildiff_last_error());
    if (ild_baseline_params_check(&o.baseline) != ILDIFF_OK)
        return cli_usage_error("eval", "%s", ildiff_last_error());
    if (tune) return run_tune(&o, quiet);

    cli_progress progress;
    cli_progress_start(&progress, "eval", 0, quiet);
    o.progress = on_progress;
    o.progress_user = &progress;
    ild_eval_result *r;
    ildiff_status st = ild_eval_run(&o, &r);
    cli_progress_end(&progress);
    if (st != ILDIFF_OK) return cli_status_error(NULL, st); /* the reason names the file */
    st = ild_eval_write_reports(r, out_dir);
    if (st != ILDIFF_OK) {
        ild_eval_result_free(r);
        return cli_status_error(NULL, st);
    }
    char summary[512];
    ild_eval_summary(r, summary, sizeof summary);
    if (!quiet) fprintf(stderr, "eval: %d clips, %lld frames; reports in %s/\n", r->clip_count, (long long)r->frames, out_dir);
    printf("%s\n", summary);
    ild_eval_result_free(r);
    return CLI_OK;
}
