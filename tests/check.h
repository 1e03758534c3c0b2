/*
 * check.h: the test harness. Each tests/test_*.c is one program: a list of cases run by RUN(), each printing
 * "ok   name" or "FAIL name", then check_done() prints the totals and returns the exit code. tests/run.sh counts
 * these lines over every program (a program that crashes counts as one failure).
 *
 *     static void test_gif_roundtrip(void) { CHECK(x == 1); CHECK_NEAR(a, b, 1e-5); }
 *     int main(void) { RUN(test_gif_roundtrip); return check_done(); }
 */
#ifndef ILDIFF_CHECK_H
#define ILDIFF_CHECK_H

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_case_failed, check_cases_passed, check_cases_failed, check_case_reports;

#define CHECK(cond)                                                                                             \
    do {                                                                                                        \
        if (!(cond)) check_fail_at(__FILE__, __LINE__, "CHECK(%s)", #cond);                                     \
    } while (0)

#define CHECK_MSG(cond, ...)                                                                                    \
    do {                                                                                                        \
        if (!(cond)) check_fail_at(__FILE__, __LINE__, __VA_ARGS__);                                            \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                                                   \
    do {                                                                                                        \
        double check_a_ = (double)(a), check_b_ = (double)(b);                                                  \
        if (!(fabs(check_a_ - check_b_) <= (tol)))                                                              \
            check_fail_at(__FILE__, __LINE__, "%s = %.9g, %s = %.9g, differ by more than %g", #a, check_a_, #b, \
                          check_b_, (double)(tol));                                                             \
    } while (0)

#define CHECK_OK(status_expr)                                                                                   \
    do {                                                                                                        \
        int check_s_ = (int)(status_expr);                                                                      \
        if (check_s_ != 0) check_fail_at(__FILE__, __LINE__, "%s failed: status %d", #status_expr, check_s_);  \
    } while (0)

#define RUN(fn) check_run(#fn, fn)

__attribute__((format(printf, 3, 4))) static void check_fail_at(const char *file, int line, const char *fmt, ...)
{
    check_case_failed = 1;
    if (++check_case_reports > 20) return; /* one broken loop should not flood the log */
    va_list ap;
    va_start(ap, fmt);
    fprintf(stdout, "  %s:%d: ", file, line);
    vfprintf(stdout, fmt, ap);
    fprintf(stdout, "\n");
    va_end(ap);
}

static void check_run(const char *name, void (*fn)(void))
{
    check_case_failed = 0;
    check_case_reports = 0;
    fn();
    if (check_case_failed) {
        printf("FAIL %s\n", name);
        check_cases_failed++;
    } else {
        printf("ok   %s\n", name);
        check_cases_passed++;
    }
    fflush(stdout);
}

/* Prints "skip name: reason" for a case that cannot run here; counted neither passed nor failed. */
static inline void check_skip(const char *name, const char *reason) { printf("skip %s: %s\n", name, reason); }

static inline int check_done(void)
{
    printf("# %d passed, %d failed\n", check_cases_passed, check_cases_failed);
    return check_cases_failed ? 1 : 0;
}

/* Directory helpers from the environment tests/run.sh sets. */
static inline const char *check_env(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}
#define CHECK_TMPDIR() check_env("ILDIFF_TEST_TMP", "/tmp")
#define CHECK_FIXTURES() check_env("ILDIFF_FIXTURES", "build/fixtures")
#define CHECK_DATA() check_env("ILDIFF_TESTDATA", "tests/data")

#endif
