/*
 * shard.h: which part of the work a rank owns, and the small results that travel back to rank 0.
 *
 * Two splits, each stated where it is used:
 *   - contiguous (ild_shard_range): items [begin, end) in one block per rank, rank order, sizes differing by at
 *     most one (the first n % size ranks get one more). For a training batch: rank r's samples of the global
 *     batch are one block, so the ranks together see exactly the samples one process would.
 *   - strided (ild_shard_owns): item i belongs to rank i % size. For files and corpus shards, whose cost varies
 *     along a sorted list: round-robin spreads the expensive ones.
 *
 *     int64_t b, e;
 *     ild_shard_range(batch, ild_dist_rank(), ild_dist_size(), &b, &e);   // this rank's samples [b, e)
 *     for (int64_t i = 0; i < nfiles; i++) if (ild_shard_owns(i, rank, size)) matte(file[i]);
 *     int64_t counts[2] = {done, failed};
 *     ild_dist_sum_i64(counts, 2);                                         // every rank: the job's totals
 *     char *all = NULL;
 *     ild_dist_gather_text(my_failures, &all);                            // rank 0: every rank's lines
 */
#ifndef ILDIFF_DIST_SHARD_H
#define ILDIFF_DIST_SHARD_H

#include "ildiff.h"

#include <stdbool.h>
#include <stdint.h>

/* Rank `rank` of `size` owns items [*begin, *end) of n (contiguous split above). n >= 0, 0 <= rank < size. */
void ild_shard_range(int64_t n, int rank, int size, int64_t *begin, int64_t *end);
/* Whether item i belongs to `rank` in the strided split (i % size == rank). */
bool ild_shard_owns(int64_t i, int rank, int size);
/* How many of n items `rank` owns in the strided split. */
int64_t ild_shard_count(int64_t n, int rank, int size);

/* Sums n counters over all ranks, in place, on every rank. ILDIFF_ERR_ARG (n < 0), ILDIFF_ERR_INTERNAL. */
ildiff_status ild_dist_sum_i64(int64_t *vals, int n);
/* The same for n doubles (e.g. loss terms to log their mean over ranks: sum, then divide by the rank count).
 * Summation order is MPI's: use it for reporting, never for values the replicas must agree on bit for bit. */
ildiff_status ild_dist_sum_f64(double *vals, int n);
/* Rank 0 receives every rank's n values in rank order into all (size * n values; only rank 0's `all` is
 * written and may be NULL elsewhere). ILDIFF_ERR_ARG, ILDIFF_ERR_INTERNAL. */
ildiff_status ild_dist_gather_i64(const int64_t *mine, int n, int64_t *all);
/* Rank 0 receives the concatenation, in rank order, of every rank's text (e.g. one "file: reason\n" line per
 * failure; each rank's part at most 64 MiB) as a malloc'd string in *all (caller frees); other ranks get NULL.
 * `mine` may be NULL (empty). ILDIFF_ERR_LIMIT, ILDIFF_ERR_NOMEM, ILDIFF_ERR_INTERNAL. */
ildiff_status ild_dist_gather_text(const char *mine, char **all);

#endif
