/*
 * dist_testkit.h: what the tests of src/dist share: joining the job with only rank 0 printing, the case that
 * fails when any rank failed, and the ending. Header-only; include after check.h.
 *
 * Leaks under mpirun: OpenMPI 4.1 unloads its plugins in MPI_Finalize, so an end-of-process leak report could
 * not name their frames (and tests/lsan.supp could not suppress them). In a sanitizer build the test therefore
 * runs LeakSanitizer's one check just before MPI_Finalize, while the plugins are still loaded; the
 * end-of-process check is then skipped (LSan runs once).
 */
#ifndef ILDIFF_DIST_TESTKIT_H
#define ILDIFF_DIST_TESTKIT_H

#include "dist/dist.h"
#include "dist/shard.h"

#include <stdio.h>
#include <stdlib.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

/* Joins the job; ranks other than 0 stay silent unless ILDIFF_TEST_ALL_RANKS is set (pass it with mpirun -x).
 * Returns 0, or the exit code to end with. */
static inline int dist_test_init(const char *prog, int *argc, char ***argv)
{
    if (ild_dist_init(argc, argv) != ILDIFF_OK) {
        fprintf(stderr, "%s: %s\n", prog, ildiff_last_error());
        return 1;
    }
    if (!ild_dist_is_root() && !getenv("ILDIFF_TEST_ALL_RANKS") && !freopen("/dev/null", "w", stdout)) return 1;
    return 0;
}

/* The last case of a program: fails when any rank failed a case. */
static void test_all_ranks_passed(void)
{
    int64_t failed = check_cases_failed;
    CHECK_OK(ild_dist_sum_i64(&failed, 1));
    CHECK_MSG(failed == 0, "%lld case(s) failed on some rank", (long long)failed);
}

/* Ends the program with rc (ild_dist_finish: 0 finalizes, anything else aborts the job), checking leaks first. */
static inline int dist_test_finish(int rc)
{
#if defined(__SANITIZE_ADDRESS__)
    if (ild_dist_active()) __lsan_do_leak_check();
#endif
    return ild_dist_finish(rc);
}

#endif
