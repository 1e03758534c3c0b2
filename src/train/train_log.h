/*
 * train_log.h: the training run's JSONL log (format in trainer.h) and the progress line. Internal to
 * src/train/.
 */
#ifndef ILDIFF_TRAIN_LOG_H
#define ILDIFF_TRAIN_LOG_H

#include "train/trainer.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Opens `path` for appending. A fresh run (resume false) starts it empty; a resumed run first rewrites it
 * (atomically) without the lines whose "step" is above `upto` and without unparsable lines (a torn last
 * line). *out is closed with fclose. Fails with ILDIFF_ERR_IO naming the file, ILDIFF_ERR_NOMEM. */
ildiff_status ild_trainlog_open(const char *path, bool resume, int64_t upto, FILE **out);

/* Appends one line and flushes. Non-finite values are written as null. Fails with ILDIFF_ERR_IO. */
ildiff_status ild_trainlog_step(FILE *f, int64_t step, double lr, double grad_norm, const ild_terms *loss);
ildiff_status ild_trainlog_val(FILE *f, int64_t step, const ild_terms *metrics);

/* The progress line's state: a terminal gets one line rewritten in place ("\r", at most 10 times a second),
 * other streams one line every `every` steps and the last. */
typedef struct ild_progress {
    FILE *f;          /* NULL: nothing is printed */
    bool tty;
    int64_t every;
    int64_t total, start_step;
    double start_time; /* seconds, monotonic */
    double shown_time; /* when the "\r" line was last redrawn */
    bool open_line;   /* a "\r" line is on screen */
} ild_progress;

void ild_progress_begin(ild_progress *p, FILE *f, int64_t every, int64_t total, int64_t start_step);
/* After step `step` (1-based): "step 120/1000 loss 0.0123 mse 0.01 lr 2.9e-03 412 samples/s ETA 1:23". */
void ild_progress_step(ild_progress *p, int64_t step, int64_t batch, double lr, const ild_terms *loss);
/* Prints a whole line (ending a "\r" line first): validation results, checkpoint notes. */
void ild_progress_note(ild_progress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Ends a "\r" line with a newline. */
void ild_progress_end(ild_progress *p);

/* Monotonic seconds. */
double ild_now(void);

#endif
