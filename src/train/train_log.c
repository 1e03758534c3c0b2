/*
 * train_log.c: the JSONL log of a training run (one object per step and per validation; trimmed back to the
 * checkpoint's step on resume) and the progress line on a terminal or a log file.
 */
#include "train/train_log.h"

#include "base/base.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

double ild_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The lines of `text` that parse, end with a newline and have "step" <= upto, in a malloc'd *kept. */
static ildiff_status trim_lines(const char *text, size_t size, int64_t upto, char **kept, size_t *kept_size)
{
    char *out = malloc(size + 1);
    if (!out) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory trimming the training log");
    size_t n = 0;
    for (size_t b = 0; b < size;) {
        size_t e = b;
        while (e < size && text[e] != '\n') e++;
        cJSON *j = e > b ? cJSON_ParseWithLength(text + b, e - b) : NULL;
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "step");
        if (cJSON_IsNumber(s) && s->valuedouble <= (double)upto && e < size) { /* a line without '\n' is torn */
            memcpy(out + n, text + b, e - b + 1);
            n += e - b + 1;
        }
        cJSON_Delete(j);
        b = e + 1;
    }
    *kept = out;
    *kept_size = n;
    return ILDIFF_OK;
}

ildiff_status ild_trainlog_open(const char *path, bool resume, int64_t upto, FILE **out)
{
    *out = NULL;
    if (resume && access(path, F_OK) == 0) {
        uint8_t *data = NULL;
        size_t size = 0;
        ildiff_status st = ildiff_read_file(path, (int64_t)1 << 32, &data, &size);
        if (st != ILDIFF_OK) return ild_fail(st, "%s: cannot read the training log", path);
        char *kept = NULL;
        size_t kept_size = 0;
        st = trim_lines((const char *)data, size, upto, &kept, &kept_size);
        free(data);
        if (st == ILDIFF_OK && kept_size != size) st = ildiff_write_file_atomic(path, (uint8_t *)kept, kept_size, true);
        free(kept);
        if (st != ILDIFF_OK)
            return st == ILDIFF_ERR_NOMEM ? st : ild_fail(st, "%s: cannot rewrite the training log", path);
    }
    FILE *f = fopen(path, resume ? "a" : "w");
    if (!f) return ild_fail(ILDIFF_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    *out = f;
    return ILDIFF_OK;
}

static void put_number(FILE *f, double v)
{
    if (isfinite(v)) fprintf(f, "%.9g", v);
    else fputs("null", f);
}

static void put_terms(FILE *f, const ild_terms *t)
{
    fputc('{', f);
    for (int i = 0; i < t->count; i++) {
        fprintf(f, "%s\"%s\":", i ? "," : "", t->name[i]); /* names are identifiers chosen by the tasks */
        put_number(f, t->value[i]);
    }
    fputc('}', f);
}

static ildiff_status finish_line(FILE *f)
{
    fputs("}\n", f);
    if (fflush(f) != 0 || ferror(f))
        return ild_fail(ILDIFF_ERR_IO, "cannot write the training log: %s", strerror(errno));
    return ILDIFF_OK;
}

ildiff_status ild_trainlog_step(FILE *f, int64_t step, double lr, double grad_norm, const ild_terms *loss)
{
    fprintf(f, "{\"kind\":\"train\",\"step\":%lld,\"lr\":", (long long)step);
    put_number(f, lr);
    fputs(",\"grad_norm\":", f);
    put_number(f, grad_norm);
    fputs(",\"loss\":", f);
    put_terms(f, loss);
    return finish_line(f);
}

ildiff_status ild_trainlog_val(FILE *f, int64_t step, const ild_terms *metrics)
{
    fprintf(f, "{\"kind\":\"val\",\"step\":%lld,\"metrics\":", (long long)step);
    put_terms(f, metrics);
    return finish_line(f);
}

void ild_progress_begin(ild_progress *p, FILE *f, int64_t every, int64_t total, int64_t start_step)
{
    *p = (ild_progress){.f = f, .tty = f && isatty(fileno(f)), .every = every < 1 ? 1 : every, .total = total,
                        .start_step = start_step, .start_time = ild_now()};
}

static void format_duration(char *buf, size_t cap, double s)
{
    long long t = (long long)(s + 0.5);
    if (t >= 3600) snprintf(buf, cap, "%lld:%02lld:%02lld", t / 3600, t / 60 % 60, t % 60);
    else snprintf(buf, cap, "%lld:%02lld", t / 60, t % 60);
}

void ild_progress_step(ild_progress *p, int64_t step, int64_t batch, double lr, const ild_terms *loss)
{
    if (!p->f || (!p->tty && step % p->every != 0 && step != p->total)) return;
    double now = ild_now(), elapsed = now - p->start_time;
    if (p->tty && now - p->shown_time < 0.1 && step != p->total) return;
    p->shown_time = now;
    int64_t done = step - p->start_step;
    double rate = elapsed > 0 ? (double)done / elapsed : 0;
    char line[1024], eta[32];
    size_t n = (size_t)snprintf(line, sizeof line, "step %lld/%lld", (long long)step, (long long)p->total);
    for (int i = 0; i < loss->count && n < sizeof line; i++)
        n += (size_t)snprintf(line + n, sizeof line - n, "  %s %.4g", loss->name[i], loss->value[i]);
    format_duration(eta, sizeof eta, rate > 0 ? (double)(p->total - step) / rate : 0);
    if (n < sizeof line)
        snprintf(line + n, sizeof line - n, "  lr %.2e  %.1f samples/s  ETA %s", lr, rate * (double)batch, eta);
    if (p->tty) {
        fprintf(p->f, "\r%s\033[K", line);
        p->open_line = true;
    } else {
        fprintf(p->f, "%s\n", line);
    }
    fflush(p->f);
}

void ild_progress_note(ild_progress *p, const char *fmt, ...)
{
    if (!p->f) return;
    ild_progress_end(p);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(p->f, fmt, ap);
    va_end(ap);
    fputc('\n', p->f);
    fflush(p->f);
}

void ild_progress_end(ild_progress *p)
{
    if (p->f && p->open_line) fputc('\n', p->f);
    p->open_line = false;
}
