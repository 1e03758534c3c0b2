/*
 * shard.c: the contiguous and strided splits of shard.h, and the small collectives that bring per-rank counts
 * and failure lists together (sum on every rank, gather to rank 0).
 */
#include "dist/shard.h"
#include "dist/dist.h"
#include "dist/dist_mpi.h"

#include "base/base.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define GATHER_TEXT_MAX ((size_t)64 << 20) /* bytes one rank may send */

void ild_shard_range(int64_t n, int rank, int size, int64_t *begin, int64_t *end)
{
    ILD_ASSERT(n >= 0 && size >= 1 && rank >= 0 && rank < size);
    const int64_t base = n / size, extra = n % size;
    *begin = rank * base + ILD_MIN((int64_t)rank, extra);
    *end = *begin + base + (rank < extra ? 1 : 0);
}

bool ild_shard_owns(int64_t i, int rank, int size) { return i >= 0 && size >= 1 && i % size == rank; }

int64_t ild_shard_count(int64_t n, int rank, int size)
{
    ILD_ASSERT(n >= 0 && size >= 1 && rank >= 0 && rank < size);
    return n / size + (rank < n % size ? 1 : 0);
}

ildiff_status ild_dist_sum_i64(int64_t *vals, int n)
{
    if (n < 0) return ild_fail(ILDIFF_ERR_ARG, "negative counter count %d", n);
    if (!ild_dist_active() || n == 0) return ILDIFF_OK;
    int err = MPI_Allreduce(MPI_IN_PLACE, vals, n, MPI_INT64_T, MPI_SUM, ild_dist_comm());
    return err == MPI_SUCCESS ? ILDIFF_OK : ild_dist_mpi_fail(err, "MPI_Allreduce (counters)");
}

ildiff_status ild_dist_sum_f64(double *vals, int n)
{
    if (n < 0) return ild_fail(ILDIFF_ERR_ARG, "negative value count %d", n);
    if (!ild_dist_active() || n == 0) return ILDIFF_OK;
    int err = MPI_Allreduce(MPI_IN_PLACE, vals, n, MPI_DOUBLE, MPI_SUM, ild_dist_comm());
    return err == MPI_SUCCESS ? ILDIFF_OK : ild_dist_mpi_fail(err, "MPI_Allreduce (values)");
}

ildiff_status ild_dist_gather_i64(const int64_t *mine, int n, int64_t *all)
{
    if (n < 0) return ild_fail(ILDIFF_ERR_ARG, "negative value count %d", n);
    if (!ild_dist_active()) {
        if (n) memcpy(all, mine, sizeof(int64_t) * (size_t)n);
        return ILDIFF_OK;
    }
    int err = MPI_Gather(mine, n, MPI_INT64_T, all, n, MPI_INT64_T, 0, ild_dist_comm());
    return err == MPI_SUCCESS ? ILDIFF_OK : ild_dist_mpi_fail(err, "MPI_Gather");
}

ildiff_status ild_dist_gather_text(const char *mine, char **all)
{
    *all = NULL;
    const size_t len = mine ? strlen(mine) : 0;
    if (len > GATHER_TEXT_MAX)
        return ild_fail(ILDIFF_ERR_LIMIT, "rank %d has %zu bytes of text to gather (limit %zu)", ild_dist_rank(), len,
                        GATHER_TEXT_MAX);
    if (!ild_dist_active()) {
        *all = malloc(len + 1);
        if (!*all) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory gathering %zu bytes of text", len);
        if (len) memcpy(*all, mine, len);
        (*all)[len] = 0;
        return ILDIFF_OK;
    }
    const int size = ild_dist_size(), root = ild_dist_is_root();
    int mylen = (int)len, err;
    int *lens = NULL, *displs = NULL;
    char *buf = NULL;
    if (root) {
        lens = calloc((size_t)size, sizeof(int));
        displs = calloc((size_t)size, sizeof(int));
        if (!lens || !displs) {
            free(lens), free(displs);
            return ild_fail(ILDIFF_ERR_NOMEM, "out of memory gathering text from %d ranks", size);
        }
    }
    if ((err = MPI_Gather(&mylen, 1, MPI_INT, lens, 1, MPI_INT, 0, ild_dist_comm())) != MPI_SUCCESS) {
        free(lens), free(displs);
        return ild_dist_mpi_fail(err, "MPI_Gather (text lengths)");
    }
    if (root) {
        size_t total = 0;
        for (int r = 0; r < size; r++) displs[r] = (int)total, total += (size_t)lens[r];
        if (total > INT_MAX) {
            free(lens), free(displs);
            return ild_fail(ILDIFF_ERR_LIMIT, "%zu bytes of gathered text is over the 2 GiB limit", total);
        }
        if (!(buf = malloc(total + 1))) {
            free(lens), free(displs);
            return ild_fail(ILDIFF_ERR_NOMEM, "out of memory gathering %zu bytes of text", total);
        }
        buf[total] = 0;
    }
    err = MPI_Gatherv(mine ? mine : "", mylen, MPI_CHAR, buf, lens, displs, MPI_CHAR, 0, ild_dist_comm());
    free(lens), free(displs);
    if (err != MPI_SUCCESS) {
        free(buf);
        return ild_dist_mpi_fail(err, "MPI_Gatherv (text)");
    }
    *all = buf;
    return ILDIFF_OK;
}
