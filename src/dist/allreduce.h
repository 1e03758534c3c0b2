/*
 * allreduce.h: data-parallel gradient averaging over the ranks of the job (dist.h) for an nn_params table.
 *
 * The gradient block is cut into buckets of about `bucket_bytes` (default 4 MiB) along the table's order; a
 * bucket holds whole parameters when they fit, a larger parameter gets buckets of its own, and frozen parameters
 * are never sent. A bucket's exchange starts (non-blocking) as soon as every parameter in it was marked ready, so
 * the trainer can overlap it with the rest of the backward pass; ild_allreduce_wait starts whatever is left and
 * waits. Afterwards every rank holds, in every non-frozen gradient, the mean over ranks.
 *
 * Deterministic: each bucket is split into one segment per rank (reduce-scatter then all-gather, done with
 * MPI_Ialltoallv + MPI_Iallgatherv); the owner of a segment sums the ranks' values in rank order 0, 1, ... in
 * double and divides by the rank count, and the all-gather copies that one result to every rank. The result does
 * not depend on OpenMPI's choice of algorithm, message sizes or timing: the same job gives the same bits, and
 * every rank gets identical gradients (so the replicas never drift apart).
 *
 *     ild_allreduce *ar;
 *     ild_allreduce_new(&ar, &params, 0);               // collective: every rank, same table layout
 *     for each step:
 *         backward ...; ild_allreduce_ready(ar, i) for each parameter i whose gradient is final (optional)
 *         ild_allreduce_wait(ar);                        // gradients now averaged over ranks
 *         clip, optimizer step (identical on every rank)
 *     ild_allreduce_free(ar);
 *
 * Rules: every rank marks the same parameters ready in the same order (deterministic code does); each rank's
 * gradients are means over the same number of samples (equal local batches, shard.h's contiguous split of a
 * global batch divisible by the rank count), so the mean over ranks is the mean over the global batch. With one
 * rank nothing is sent and the gradients are left as they are. After an error the object can only be freed (the
 * caller ends the job: ild_dist_finish).
 */
#ifndef ILDIFF_DIST_ALLREDUCE_H
#define ILDIFF_DIST_ALLREDUCE_H

#include "ildiff.h"
#include "nn/params.h"

#include <stddef.h>
#include <stdint.h>

#define ILD_ALLREDUCE_BUCKET_BYTES ((size_t)4 << 20)

typedef struct ild_allreduce ild_allreduce;

typedef struct ild_allreduce_stats {
    double seconds;  /* wall time spent inside ild_allreduce_ready / _wait: the share not hidden behind compute */
    int64_t steps;   /* completed ild_allreduce_wait calls */
    int64_t bytes;   /* gradient bytes averaged per step */
    int buckets;
} ild_allreduce_stats;

/* Plans the buckets for the allocated table `p` (which must outlive the object) and, under MPI, creates its
 * communicators: a collective, called by every rank with the same table layout. bucket_bytes 0 means
 * ILD_ALLREDUCE_BUCKET_BYTES; otherwise 64 bytes .. 1 GiB. Fails with ILDIFF_ERR_ARG (table not allocated, bad
 * bucket size), ILDIFF_ERR_NOMEM, ILDIFF_ERR_INTERNAL (MPI); *out is NULL then. */
ildiff_status ild_allreduce_new(ild_allreduce **out, nn_params *p, size_t bucket_bytes);
void ild_allreduce_free(ild_allreduce *ar); /* NULL is allowed */

/* Marks the gradient of parameter `index` final for this step; starts the exchange of each bucket that this
 * completes, and lets exchanges in flight progress. Frozen parameters are accepted and ignored. Fails with
 * ILDIFF_ERR_ARG (bad index, or marked twice in one step), ILDIFF_ERR_INTERNAL. */
ildiff_status ild_allreduce_ready(ild_allreduce *ar, int index);

/* Starts the exchange of every bucket not yet started (in bucket order), waits for all of them, and ends the
 * step: every non-frozen gradient now holds the mean over ranks. ILDIFF_ERR_INTERNAL on an MPI error. */
ildiff_status ild_allreduce_wait(ild_allreduce *ar);

void ild_allreduce_stats_get(const ild_allreduce *ar, ild_allreduce_stats *st);

/* Copies rank `root`'s values (and AdamW moments and EMA, where allocated) to every rank: the same start for
 * every replica. A collective; every rank's table must have the same layout and blocks. ILDIFF_ERR_ARG,
 * ILDIFF_ERR_INTERNAL. */
ildiff_status ild_dist_bcast_params(nn_params *p, int root);

#endif
