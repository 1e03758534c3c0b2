/*
 * paper.h: `ildiff paper` as a library: the paper's section V (and Table I / Fig. 3 of section III) regenerated
 * from one sample set in the exchange form. Internal to libildiff.
 *
 * It evaluates every method (eval.h) on the set and writes into the report folder:
 *   README.md           Table II (every metric per method, our numbers; the paper's PSNR / SSIM quoted beside,
 *                       labelled as the paper's), the paper's Table II as published, Table III (temporal depth:
 *                       the ildiff-dN rows, or why they are not available), the paper's two claims checked on
 *                       our numbers, PSNR / hole / collapse per tag, the figures, Table I / Fig. 3 when a corpus is given, and the
 *                       commands that regenerate it
 *   report.json         the same numbers, machine-readable
 *   fig4_dtssd.png, fig4_hole.png, fig4_collapse.png   bar charts of the automatic stand-ins for the paper's
 *                       human study (Fig. 4), one bar per method (train/plot.h), ild_paper_chart_size
 *   fig5_flicker.png    the flicker strip, fig6_hard.png the hard-sample strip (strips.h)
 *   eval/<method>/report.md, report.json   each method's full `ildiff eval` report (per tag, per clip)
 *   corpus/             stats.md, stats.json, words.png, frames.png (with a corpus only)
 * Every number printed for a method is its ild_eval_run result formatted as `ildiff eval` formats it, so the
 * two commands agree digit for digit (fps aside, which is measured anew).
 */
#ifndef ILDIFF_EVAL_PAPER_H
#define ILDIFF_EVAL_PAPER_H

#include "eval.h"

#define ILD_PAPER_MAX_METHODS 16

typedef struct ild_paper_options {
    ild_eval_options eval;        /* samples_dir, baseline parameters, limits, threads, per-sample progress;
                                   * eval.method is ignored */
    const char *out_dir;          /* the report folder, created if missing; files in it are replaced */
    const char *corpus_dir;       /* the corpus for Table I / Fig. 3, or NULL */
    const char *const *methods;   /* (method_count) specs; method_count 0: every method of the table that takes
                                   * no argument, in table order */
    int method_count;
    int strip_samples;            /* rows of the hard-sample strip, 1..8 */
    bool strip_black_white;       /* the hard samples also over black and over white */
    /* Called before each method's evaluation (index from 0), never concurrently; or NULL. */
    void (*on_method)(void *user, const char *method, int index, int count);
    void *on_method_user;
} ild_paper_options;

ild_paper_options ild_paper_options_default(void);

/* The size of the Fig. 4 charts for this many methods: max(640, 98 + 132 methods) x 400. */
void ild_paper_chart_size(int methods, int32_t *w, int32_t *h);

/* Runs everything and writes the report. Fails with ILDIFF_ERR_ARG for an unknown or repeated method or bad
 * options, with the first evaluation's failure (the reason names the sample and file), or with
 * ILDIFF_ERR_IO / ILDIFF_ERR_FORMAT for the corpus statistics or the report's files. */
ildiff_status ild_paper_run(const ild_paper_options *o);

#endif
