/*
 * paper.c: `ildiff paper` (contract in paper.h): evaluates every method, then writes the per-method reports, the
 * figures (Fig. 4 charts with train/plot.h, strips with strips.h), the corpus statistics (data/dataset.h), and
 * README.md + report.json.
 *
 * The paper's numbers below are quoted from its Tables I-III (TASD-T, the authors' private 0.32M-sticker data,
 * their models) for reference; they are never mixed into our numbers and are always labelled "paper".
 */
#include "paper.h"
#include "strips.h"
#include "../data/dataset.h"
#include "../train/plot.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

typedef struct paper_cell {
    const char *name;
    double psnr, ssim;
} paper_cell;
static const paper_cell paper_table2[] = {{"Matting Anything", 24.6, 0.954}, {"SAM", 22.86, 0.949},
                                          {"SAM-2", 18.05, 0.898},          {"Layer Diffusion", 26.42, 0.966},
                                          {"ILDiff", 28.04, 0.981}};
enum { PAPER_T2 = sizeof paper_table2 / sizeof paper_table2[0] };
/* Table III: temporal depth 0, 3, 5, 8. */
static const int depths[] = {0, 3, 5, 8};
static const paper_cell paper_table3[] = {{"0", 27.83, 0.978}, {"3", 27.81, 0.978}, {"5", 28.04, 0.981}, {"8", 27.83, 0.979}};
enum { DEPTHS = sizeof depths / sizeof depths[0] };
/* Our methods that are columns of the paper's Table II (ILDiff there has temporal depth 5). */
static const struct {
    const char *method;
    int column;
} twins[] = {{"layerdiffusion", 3}, {"ildiff-d5", 4}};

/* Table II's columns: the metrics of the `ildiff eval` summary line, in its order. */
static const ild_metric shown[] = {ILD_METRIC_PSNR, ILD_METRIC_SSIM,  ILD_METRIC_MAD,   ILD_METRIC_MSE,
                                   ILD_METRIC_GRAD, ILD_METRIC_CONN,  ILD_METRIC_DTSSD, ILD_METRIC_HOLE,
                                   ILD_METRIC_COLLAPSE};
enum { SHOWN = sizeof shown / sizeof shown[0] };

typedef struct run {
    const ild_paper_options *o;
    int count;
    const char *spec[ILD_PAPER_MAX_METHODS];
    char label[ILD_PAPER_MAX_METHODS][64];  /* "key", "dir:preds" */
    char folder[ILD_PAPER_MAX_METHODS][80]; /* eval/<label, filename-safe> */
    ild_eval_result *result[ILD_PAPER_MAX_METHODS];
    ild_strip_info hard, flicker;
    bool have_corpus;
    ild_corpus_stats stats;
    ild_buf corpus_md;
} run;

/* Markdown under construction; the first failed append sticks. */
typedef struct doc {
    ild_buf b;
    ildiff_status st;
} doc;
#define PUT(d, ...) ((d)->st = (d)->st == ILDIFF_OK ? ild_buf_printf(&(d)->b, __VA_ARGS__) : (d)->st)

void ild_paper_chart_size(int methods, int32_t *w, int32_t *h)
{
    *w = ILD_MAX(640, 98 + 132 * methods);
    *h = 400;
}

ild_paper_options ild_paper_options_default(void)
{
    return (ild_paper_options){.eval = ild_eval_options_default(), .strip_samples = 4};
}

/* ---- methods ---- */

/* The method labelled `label` ("key", "ildiff-d5", "model:x.safetensors"), or -1. */
static int find_method(const run *r, const char *label)
{
    for (int m = 0; m < r->count; m++)
        if (strcmp(r->label[m], label) == 0) return m;
    return -1;
}

static ildiff_status set_methods(run *r)
{
    const ild_paper_options *o = r->o;
    if (o->method_count == 0)
        for (int i = 0; i < ild_method_count; i++) {
            if (ild_methods[i].takes_arg) continue;
            if (r->count == ILD_PAPER_MAX_METHODS) break;
            r->spec[r->count++] = ild_methods[i].name;
        }
    if (o->method_count > ILD_PAPER_MAX_METHODS) return ild_fail(ILDIFF_ERR_ARG, "at most %d methods", ILD_PAPER_MAX_METHODS);
    for (int i = 0; i < o->method_count; i++) r->spec[r->count++] = o->methods[i];
    if (r->count == 0) return ild_fail(ILDIFF_ERR_ARG, "no method to run");
    for (int m = 0; m < r->count; m++) {
        /* LABEL=SPEC names a row (ildiff-d5=model:FILE: the paper's ILDiff row) */
        size_t label_len;
        const char *spec = ild_method_unlabel(r->spec[m], &label_len);
        bool labelled = spec != r->spec[m];
        if (labelled && (label_len == 0 || label_len >= sizeof r->label[m]))
            return ild_fail(ILDIFF_ERR_ARG, "method '%s': the label before '=' must be 1..%zu characters", r->spec[m],
                            sizeof r->label[m] - 1);
        if (labelled) snprintf(r->label[m], sizeof r->label[m], "%.*s", (int)label_len, r->spec[m]);
        r->spec[m] = spec;
        const ild_method *meth;
        const char *arg;
        ildiff_status st = ild_method_find(r->spec[m], &meth, &arg);
        if (st != ILDIFF_OK) return st;
        if (!labelled && arg) {
            size_t len = strlen(arg);
            while (len > 1 && arg[len - 1] == '/') len--;
            size_t start = len;
            while (start > 0 && arg[start - 1] != '/') start--;
            snprintf(r->label[m], sizeof r->label[m], "%s:%.*s", meth->name, (int)(len - start), arg + start);
        } else if (!labelled) {
            snprintf(r->label[m], sizeof r->label[m], "%s", meth->name);
        }
        for (int k = 0; k < m; k++)
            if (strcmp(r->label[k], r->label[m]) == 0) return ild_fail(ILDIFF_ERR_ARG, "method '%s' is given twice", r->label[m]);
        char safe[64];
        snprintf(safe, sizeof safe, "%s", r->label[m]);
        for (char *c = safe; *c; c++)
            if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '-' || *c == '.'))
                *c = '_';
        snprintf(r->folder[m], sizeof r->folder[m], "eval/%s", safe);
        for (int k = 0; k < m; k++)
            if (strcmp(r->folder[k], r->folder[m]) == 0) snprintf(r->folder[m], sizeof r->folder[m], "eval/%s-%d", safe, m);
    }
    return ILDIFF_OK;
}

/* ---- numbers as `ildiff eval` prints them ---- */

static void value_text(double v, bool has, char *buf, size_t size)
{
    if (has && isfinite(v)) snprintf(buf, size, "%.4f", v);
    else snprintf(buf, size, "n/a");
}

static double overall(const run *r, int m, ild_metric k)
{
    const ild_eval_group *g = &r->result[m]->overall;
    return g->count[k] > 0 ? g->mean[k] : NAN;
}

/* ---- README.md ---- */

static void table2(const run *r, doc *d)
{
    PUT(d, "## Table II: every method on this set (our numbers)\n\n| method |");
    for (int k = 0; k < SHOWN; k++) PUT(d, " %s |", ild_metric_name(shown[k]));
    PUT(d, " fps | paper's PSNR | paper's SSIM |\n|---|");
    for (int k = 0; k < SHOWN + 1; k++) PUT(d, "---:|");
    PUT(d, "---:|---:|\n");
    for (int m = 0; m < r->count; m++) {
        PUT(d, "| %s |", r->label[m]);
        char v[32];
        for (int k = 0; k < SHOWN; k++) {
            value_text(overall(r, m, shown[k]), true, v, sizeof v);
            PUT(d, " %s |", v);
        }
        if (r->result[m]->timed) PUT(d, " %.1f |", r->result[m]->fps);
        else PUT(d, " n/a |");
        int twin = -1;
        for (size_t t = 0; t < sizeof twins / sizeof twins[0]; t++)
            if (strcmp(r->label[m], twins[t].method) == 0) twin = twins[t].column;
        if (twin >= 0)
            PUT(d, " %.2f (%s) | %.3f |\n", paper_table2[twin].psnr, paper_table2[twin].name, paper_table2[twin].ssim);
        else PUT(d, " - | - |\n");
    }
    PUT(d, "\nPSNR (dB) and SSIM are higher-better; the rest are errors (lower is better) with RVM's scalings: MAD, "
           "MSE x1e3, Grad, Conn /1e3, dtSSD x1e2; hole and collapse are the automatic stand-ins of DESIGN.md "
           "section 4 (0 best, 1 worst). Each metric per frame, mean over a clip's frames, mean over clips; "
           "definitions in src/eval/metrics.h. fps is one thread's throughput on this machine. The full report of "
           "each method, per tag and per clip, is in eval/<method>/report.md.\n\n"
           "**The two \"paper's\" columns are not ours**: they quote the paper's Table II for the row that "
           "corresponds to ours (Layer Diffusion = `layerdiffusion`, ILDiff = `ildiff-d5`), measured on the "
           "authors' private TASD-T with their models. The key and flood baselines have no counterpart there.\n\n"
           "### The paper's Table II, as published (not our numbers)\n\n| | ");
    for (int i = 0; i < PAPER_T2; i++) PUT(d, "%s | ", paper_table2[i].name);
    PUT(d, "\n|---|");
    for (int i = 0; i < PAPER_T2; i++) PUT(d, "---:|");
    PUT(d, "\n| PSNR |");
    for (int i = 0; i < PAPER_T2; i++) PUT(d, " %.2f |", paper_table2[i].psnr);
    PUT(d, "\n| SSIM |");
    for (int i = 0; i < PAPER_T2; i++) PUT(d, " %.3f |", paper_table2[i].ssim);
    PUT(d, "\n\n");
}

/* Why a model row is missing, explained once under the table. */
static const char missing_reason[] = "not run (no weights given)";

static const char missing_note[] =
    "A row \"not run\" had no weights in this run. The model rows are labelled methods, "
    "`layerdiffusion=model:FILE` (the decoder without the layout adapter) and `ildiff-dN=model:FILE` (temporal depth N); "
    "`scripts/paper.sh` passes every one whose model file exists (the default model is shipped; the others come from "
    "`scripts/train_default.sh`, models/README.md).";

static void table3(const run *r, doc *d)
{
    PUT(d, "## Table III: temporal depth of the layout adapter (our numbers)\n\n"
           "| depth | method | PSNR | SSIM | dtSSD | hole | collapse | paper's PSNR | paper's SSIM |\n"
           "|---:|---|---:|---:|---:|---:|---:|---:|---:|\n");
    static const ild_metric cols[] = {ILD_METRIC_PSNR, ILD_METRIC_SSIM, ILD_METRIC_DTSSD, ILD_METRIC_HOLE, ILD_METRIC_COLLAPSE};
    for (int i = 0; i < DEPTHS; i++) {
        char name[32];
        snprintf(name, sizeof name, "ildiff-d%d", depths[i]);
        int m = find_method(r, name);
        PUT(d, "| %d | %s |", depths[i], name);
        if (m >= 0) {
            char v[32];
            for (size_t k = 0; k < sizeof cols / sizeof cols[0]; k++) {
                value_text(overall(r, m, cols[k]), true, v, sizeof v);
                PUT(d, " %s |", v);
            }
        } else {
            PUT(d, " %s | | | | |", missing_reason);
        }
        PUT(d, " %.2f | %.3f |\n", paper_table3[i].psnr, paper_table3[i].ssim);
    }
    PUT(d, "\nThe paper's columns quote its Table III (not our numbers). All four depths are trained by the same recipe "
           "and budget (models/README.md). %s\n\n", missing_note);
}

/* Writes the verdict on "ours is lower than theirs" for each metric in ks. */
static void compare(const run *r, doc *d, int ours, int theirs, const ild_metric *ks, int nk)
{
    int lower = 0, known = 0;
    for (int i = 0; i < nk; i++) {
        double a = overall(r, ours, ks[i]), b = overall(r, theirs, ks[i]);
        if (!isfinite(a) || !isfinite(b)) {
            PUT(d, " %s: n/a on this set;", ild_metric_name(ks[i]));
            continue;
        }
        known++;
        lower += a < b;
        PUT(d, " %s %.4f (%s) vs %.4f (%s);", ild_metric_name(ks[i]), a, r->label[ours], b, r->label[theirs]);
    }
    const char *verdict = known == 0       ? "not testable on this set"
                          : lower == known ? "holds on our data"
                          : lower == 0     ? "does not hold on our data"
                                           : "holds only in part on our data";
    PUT(d, " **%s**.\n", verdict);
}

static void claims(const run *r, doc *d)
{
    PUT(d, "## The paper's claims, tested on our numbers\n\n");
    int ld = find_method(r, "layerdiffusion"), adapter = find_method(r, "ildiff-d5");
    for (int i = 0; i < DEPTHS && adapter < 0; i++) {
        char name[32];
        snprintf(name, sizeof name, "ildiff-d%d", depths[i]);
        adapter = find_method(r, name);
    }
    PUT(d, "1. *The layout adapter lowers hole residue and collapse against the Layer Diffusion row.*");
    static const ild_metric hc[] = {ILD_METRIC_HOLE, ILD_METRIC_COLLAPSE};
    if (ld >= 0 && adapter >= 0) compare(r, d, adapter, ld, hc, 2);
    else PUT(d, " Not testable in this run: it needs the `layerdiffusion` row and an `ildiff-dN` row; %s.\n",
             missing_reason);
    PUT(d, "2. *The temporal layers lower dtSSD (flicker).*");
    int d0 = find_method(r, "ildiff-d0"), deeper = 0;
    for (int i = 1; i < DEPTHS && d0 >= 0; i++) {
        char name[32];
        snprintf(name, sizeof name, "ildiff-d%d", depths[i]);
        int m = find_method(r, name);
        if (m < 0) continue;
        static const ild_metric dt[] = {ILD_METRIC_DTSSD};
        PUT(d, "%s depth %d against depth 0:", deeper ? "\n   " : "", depths[i]);
        compare(r, d, m, d0, dt, 1);
        deeper++;
    }
    if (deeper == 0) PUT(d, " Not testable in this run: it needs `ildiff-d0` and a deeper `ildiff-dN` row; %s.\n",
                         missing_reason);
    PUT(d, "\nWhere our data disagrees with the paper, the verdict above says so; the numbers are this run's.\n\n");
}

static void per_tag(const run *r, doc *d)
{
    const ild_eval_result *r0 = r->result[0];
    if (r0->tag_count == 0) return;
    PUT(d, "## PSNR / hole / collapse per tag (our numbers)\n\n| tag | clips |");
    for (int m = 0; m < r->count; m++) PUT(d, " %s |", r->label[m]);
    PUT(d, "\n|---|---:|");
    for (int m = 0; m < r->count; m++) PUT(d, "---:|");
    PUT(d, "\n");
    for (int t = 0; t < r0->tag_count; t++) {
        PUT(d, "| %s | %d |", r0->tags[t].tag, r0->tags[t].clips);
        for (int m = 0; m < r->count; m++) {
            const ild_eval_group *g = &r->result[m]->tags[t];
            char v[3][32];
            static const ild_metric ks[] = {ILD_METRIC_PSNR, ILD_METRIC_HOLE, ILD_METRIC_COLLAPSE};
            for (int k = 0; k < 3; k++) value_text(g->mean[ks[k]], g->count[ks[k]] > 0, v[k], sizeof v[k]);
            PUT(d, " %s / %s / %s |", v[0], v[1], v[2]);
        }
        PUT(d, "\n");
    }
    PUT(d, "\n");
}

static void figures_md(const run *r, doc *d)
{
    PUT(d, "## Fig. 4 stand-ins: flicker, hole residue, collapse\n\n"
           "The paper's Fig. 4 is a human preference study (frame smoothness, hole residue). We cannot ask ten "
           "labelers, so these charts show the automatic stand-ins per method, lower is better: dtSSD for "
           "flicker, hole residue (mean alpha left inside enclosed background holes) and collapse (alpha lost on "
           "opaque parts that have the background's colour).\n\n"
           "![dtSSD per method](fig4_dtssd.png) ![hole residue per method](fig4_hole.png) "
           "![collapse per method](fig4_collapse.png)\n\n");
    PUT(d, "## Fig. 5 stand-in: flicker strip\n\n");
    if (r->flicker.shown_count)
        PUT(d, "![flicker strip](fig5_flicker.png)\n\nSample `%s`, frames %d-%d: the clip whose dtSSD differs most "
               "between the methods, around the frame change where they differ most. Rows: ground truth, then each "
               "method; every cut-out over a checkerboard.\n\n",
            r->flicker.shown[0].sample, (int)r->flicker.shown[0].frame,
            (int)(r->flicker.shown[0].frame + r->flicker.shown[0].frames - 1));
    else PUT(d, "Not drawn: no clip of this set has two frames.\n\n");
    PUT(d, "## Fig. 6 stand-in: hard samples\n\n![hard samples](fig6_hard.png)\n\n| sample | frame | why |\n|---|---:|---|\n");
    for (int i = 0; i < r->hard.shown_count; i++)
        PUT(d, "| %s | %d | %s |\n", r->hard.shown[i].sample, (int)r->hard.shown[i].frame, r->hard.shown[i].why);
    PUT(d, "\nThe highest-spread sample tagged semi-open, the one tagged white parts, then the rest by the spread of "
           "clip PSNR between methods; each row shows the frame where the methods' MAD differ most. Columns: the "
           "input, the ground truth and each method's cut-out (its colour, or the input's, with its alpha) over a "
           "checkerboard.\n\n");
}

static void corpus_md(const run *r, doc *d)
{
    PUT(d, "## Table I and Fig. 3: the corpus\n\n");
    if (!r->have_corpus) {
        PUT(d, "Not generated: run with `--corpus DIR`, the corpus the test set was exported from (`ildiff dataset "
               "build`), to add Table I and the Fig. 3 charts here.\n\n");
        return;
    }
    PUT(d, "Corpus `%s` (our numbers):\n\n%s\n![trigger words, by count](corpus/words.png) "
           "![frames per clip](corpus/frames.png)\n\n"
           "The paper's Table I, as published (TASD, not ours): 0.32M samples, mean description length 96.25, mean "
           "frames 16.71, 115 trigger words, annotations in En and Cn, keyframe index given.\n\n",
        r->o->corpus_dir, (const char *)r->corpus_md.data);
}

static void readme(const run *r, doc *d)
{
    const ild_paper_options *o = r->o;
    const ild_eval_result *r0 = r->result[0];
    PUT(d, "# ILDiff paper report\n\nGenerated by `ildiff paper --samples %s --out %s", o->eval.samples_dir, o->out_dir);
    if (o->method_count) {
        PUT(d, " --methods ");
        for (int m = 0; m < o->method_count; m++) PUT(d, "%s%s", m ? "," : "", o->methods[m]);
    }
    if (o->corpus_dir) PUT(d, " --corpus %s", o->corpus_dir);
    PUT(d, "` on %d clips (%lld frames). Methods: ", r0->clip_count, (long long)r0->frames);
    for (int m = 0; m < r->count; m++) PUT(d, "%s`%s`", m ? ", " : "", r->label[m]);
    PUT(d, ". Every number here comes from this run, except where a column or table is labelled as the paper's.\n\n");
    table2(r, d);
    table3(r, d);
    claims(r, d);
    figures_md(r, d);
    per_tag(r, d);
    corpus_md(r, d);
    PUT(d, "## Regenerating\n\n"
           "`make paper` (scripts/paper.sh) runs this on the default test set, corpus/tasd-t-eval: TASD-T, 200 "
           "samples of test-split icons covering the trigger words, as scripts/build_corpus.sh makes it (and "
           "scripts/paper.sh when it is missing):\n\n"
           "    ildiff dataset build --split test --cover --count 200 --seed 2024 --size 256 --out corpus/tasd-t\n"
           "    ildiff dataset export --corpus corpus/tasd-t --split test --out corpus/tasd-t-eval\n"
           "    ildiff paper --samples corpus/tasd-t-eval --corpus corpus/tasd-t --out report --threads 2 "
           "--methods key,flood,layerdiffusion=model:FILE,ildiff-d5=model:FILE,...\n\n"
           "Any folder in the exchange form works as --samples (`ildiff eval --help`). The shipped model is the "
           "`ildiff-d5` row; the Layer Diffusion row and the other depths of Table III come from "
           "scripts/train_default.sh (models/README.md).\n");
}

/* ---- report.json ---- */

static cJSON *json_number(double v)
{
    return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull();
}

static char *report_json(const run *r)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "samples", r->o->eval.samples_dir);
    cJSON_AddNumberToObject(root, "clips", r->result[0]->clip_count);
    cJSON_AddNumberToObject(root, "frames", (double)r->result[0]->frames);
    cJSON *methods = cJSON_AddArrayToObject(root, "methods");
    for (int m = 0; m < r->count; m++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "method", r->spec[m]);
        cJSON_AddStringToObject(o, "label", r->label[m]);
        cJSON_AddStringToObject(o, "report", r->folder[m]);
        for (int k = 0; k < ILD_METRIC_COUNT; k++)
            cJSON_AddItemToObject(o, ild_metric_name((ild_metric)k), json_number(overall(r, m, (ild_metric)k)));
        cJSON_AddItemToObject(o, "fps", json_number(r->result[m]->timed ? r->result[m]->fps : NAN));
        cJSON_AddItemToArray(methods, o);
    }
    cJSON *t3 = cJSON_AddArrayToObject(root, "table3");
    for (int i = 0; i < DEPTHS; i++) {
        char name[32];
        snprintf(name, sizeof name, "ildiff-d%d", depths[i]);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "depth", depths[i]);
        cJSON_AddStringToObject(o, "method", name);
        int m = find_method(r, name);
        cJSON_AddBoolToObject(o, "available", m >= 0);
        if (m < 0) cJSON_AddStringToObject(o, "reason", missing_reason);
        cJSON_AddItemToObject(o, "PSNR", json_number(m >= 0 ? overall(r, m, ILD_METRIC_PSNR) : NAN));
        cJSON_AddItemToObject(o, "SSIM", json_number(m >= 0 ? overall(r, m, ILD_METRIC_SSIM) : NAN));
        cJSON_AddItemToObject(o, "dtSSD", json_number(m >= 0 ? overall(r, m, ILD_METRIC_DTSSD) : NAN));
        cJSON_AddItemToArray(t3, o);
    }
    cJSON *paper = cJSON_AddObjectToObject(root, "paper_quoted");
    cJSON *p2 = cJSON_AddObjectToObject(paper, "table2");
    for (int i = 0; i < PAPER_T2; i++) {
        cJSON *o = cJSON_AddObjectToObject(p2, paper_table2[i].name);
        cJSON_AddNumberToObject(o, "PSNR", paper_table2[i].psnr);
        cJSON_AddNumberToObject(o, "SSIM", paper_table2[i].ssim);
    }
    cJSON *p3 = cJSON_AddObjectToObject(paper, "table3");
    for (int i = 0; i < DEPTHS; i++) {
        cJSON *o = cJSON_AddObjectToObject(p3, paper_table3[i].name);
        cJSON_AddNumberToObject(o, "PSNR", paper_table3[i].psnr);
        cJSON_AddNumberToObject(o, "SSIM", paper_table3[i].ssim);
    }
    cJSON *fig = cJSON_AddObjectToObject(root, "figures");
    cJSON *f4 = cJSON_AddArrayToObject(fig, "fig4");
    static const char *const charts[] = {"fig4_dtssd.png", "fig4_hole.png", "fig4_collapse.png"};
    for (int i = 0; i < 3; i++) cJSON_AddItemToArray(f4, cJSON_CreateString(charts[i]));
    const ild_strip_info *infos[] = {&r->flicker, &r->hard};
    static const char *const keys[] = {"fig5", "fig6"}, *const files[] = {"fig5_flicker.png", "fig6_hard.png"};
    for (int s = 0; s < 2; s++) {
        if (!infos[s]->shown_count) {
            cJSON_AddNullToObject(fig, keys[s]);
            continue;
        }
        cJSON *o = cJSON_AddObjectToObject(fig, keys[s]);
        cJSON_AddStringToObject(o, "file", files[s]);
        cJSON *rows = cJSON_AddArrayToObject(o, "shown");
        for (int i = 0; i < infos[s]->shown_count; i++) {
            const ild_strip_shown *sh = &infos[s]->shown[i];
            cJSON *x = cJSON_CreateObject();
            cJSON_AddStringToObject(x, "sample", sh->sample);
            cJSON_AddNumberToObject(x, "frame", sh->frame);
            cJSON_AddNumberToObject(x, "frames", sh->frames);
            cJSON_AddStringToObject(x, "why", sh->why);
            cJSON_AddItemToArray(rows, x);
        }
    }
    if (r->have_corpus) cJSON_AddStringToObject(root, "corpus", "corpus/stats.json");
    else cJSON_AddNullToObject(root, "corpus");
    char *s = cJSON_Print(root); /* NULL when any allocation above failed */
    cJSON_Delete(root);
    return s;
}

/* ---- the run ---- */

static ildiff_status write_file(const char *dir, const char *name, const char *text)
{
    char *path = ild_path_join(dir, name);
    if (!path) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    ildiff_status st = ildiff_write_file_atomic(path, (const uint8_t *)text, strlen(text), true);
    free(path);
    return st;
}

/* One bar chart per stand-in (train/plot.h), one bar per method; each method's value is printed under its bar
 * because the chart draws none for a missing value. */
static ildiff_status write_charts(const run *r)
{
    static const struct {
        ild_metric k;
        const char *file, *title, *xlabel, *ylabel;
    } charts[] = {
        {ILD_METRIC_DTSSD, "fig4_dtssd.png", "Flicker (Fig. 4a stand-in)", "dtSSD per method, lower is better",
         "dtSSD x1e2"},
        {ILD_METRIC_HOLE, "fig4_hole.png", "Hole residue (Fig. 4b stand-in)",
         "mean alpha left in enclosed holes, lower is better", "hole residue"},
        {ILD_METRIC_COLLAPSE, "fig4_collapse.png", "Collapse",
         "alpha lost on opaque parts of the background's colour, lower is better", "collapse"},
    };
    char text[ILD_PAPER_MAX_METHODS][96];
    const char *cats[ILD_PAPER_MAX_METHODS];
    double values[ILD_PAPER_MAX_METHODS];
    ildiff_status st = ILDIFF_OK;
    for (size_t c = 0; c < sizeof charts / sizeof charts[0] && st == ILDIFF_OK; c++) {
        for (int m = 0; m < r->count; m++) {
            values[m] = overall(r, m, charts[c].k);
            char v[32];
            value_text(values[m], true, v, sizeof v);
            snprintf(text[m], sizeof text[m], "%s %s", r->label[m], v);
            cats[m] = text[m];
        }
        ild_plot pl = ild_plot_defaults();
        pl.kind = ILD_PLOT_BARS;
        ild_paper_chart_size(r->count, &pl.width, &pl.height);
        pl.title = charts[c].title;
        pl.xlabel = charts[c].xlabel;
        pl.ylabel = charts[c].ylabel;
        pl.categories = cats;
        pl.category_count = r->count;
        ild_plot_series s = {.name = ild_metric_name(charts[c].k), .y = values, .n = r->count};
        char *path = ild_path_join(r->o->out_dir, charts[c].file);
        st = path ? ild_plot_write(path, &pl, &s, 1) : ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
        free(path);
    }
    return st;
}

static ildiff_status write_strips(run *r)
{
    const char *labels[ILD_PAPER_MAX_METHODS];
    const ild_eval_result *results[ILD_PAPER_MAX_METHODS];
    for (int m = 0; m < r->count; m++) {
        labels[m] = r->label[m];
        results[m] = r->result[m];
    }
    ild_strips_options so = {.eval = &r->o->eval, .methods = r->spec, .labels = labels, .results = results,
                             .method_count = r->count, .max_samples = r->o->strip_samples,
                             .black_white = r->o->strip_black_white};
    char *hard = ild_path_join(r->o->out_dir, "fig6_hard.png"), *flicker = ild_path_join(r->o->out_dir, "fig5_flicker.png");
    ildiff_status st = hard && flicker ? ILDIFF_OK : ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    if (st == ILDIFF_OK) st = ild_strips_hard(&so, hard, &r->hard);
    if (st == ILDIFF_OK) st = ild_strips_flicker(&so, flicker, &r->flicker);
    free(hard);
    free(flicker);
    return st;
}

static ildiff_status write_corpus(run *r)
{
    if (!r->o->corpus_dir) return ILDIFF_OK;
    ildiff_status st = ild_stats_compute(r->o->corpus_dir, &r->stats);
    if (st == ILDIFF_OK) st = ild_stats_markdown(&r->stats, &r->corpus_md);
    char *dir = ild_path_join(r->o->out_dir, "corpus");
    if (st == ILDIFF_OK && !dir) st = ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    if (st == ILDIFF_OK) st = ild_stats_write(&r->stats, (const char *)r->corpus_md.data, dir);
    free(dir);
    r->have_corpus = st == ILDIFF_OK;
    return st;
}

static ildiff_status write_report(run *r)
{
    ildiff_status st = ILDIFF_OK;
    for (int m = 0; m < r->count && st == ILDIFF_OK; m++) {
        char *dir = ild_path_join(r->o->out_dir, r->folder[m]);
        st = dir ? ild_eval_write_reports(r->result[m], dir) : ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
        free(dir);
    }
    if (st == ILDIFF_OK) st = write_charts(r);
    if (st == ILDIFF_OK) st = write_strips(r);
    if (st == ILDIFF_OK) st = write_corpus(r);
    if (st != ILDIFF_OK) return st;
    doc d = {{0}, ILDIFF_OK};
    readme(r, &d);
    st = d.st;
    if (st == ILDIFF_OK) st = write_file(r->o->out_dir, "README.md", (const char *)d.b.data);
    ild_buf_free(&d.b);
    if (st != ILDIFF_OK) return st;
    char *js = report_json(r);
    if (!js) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory for report.json");
    st = write_file(r->o->out_dir, "report.json", js);
    free(js);
    return st;
}

ildiff_status ild_paper_run(const ild_paper_options *o)
{
    if (!o->eval.samples_dir || !o->out_dir) return ild_fail(ILDIFF_ERR_ARG, "the sample set and the report folder are required");
    if (o->strip_samples < 1 || o->strip_samples > 8) return ild_fail(ILDIFF_ERR_ARG, "strip samples must be 1..8");
    run *r = calloc(1, sizeof *r);
    if (!r) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory");
    r->o = o;
    ildiff_status st = set_methods(r);
    for (int m = 0; m < r->count && st == ILDIFF_OK; m++) {
        if (o->on_method) o->on_method(o->on_method_user, r->spec[m], m, r->count);
        ild_eval_options e = o->eval;
        e.method = r->spec[m];
        st = ild_eval_run(&e, &r->result[m]);
    }
    if (st == ILDIFF_OK) st = write_report(r);
    for (int m = 0; m < r->count; m++) ild_eval_result_free(r->result[m]);
    ild_buf_free(&r->corpus_md);
    free(r);
    return st;
}
