/*
 * dist.h: the process group of a run. Under mpirun (or another PMI/PMIx launcher: srun, hydra) it is MPI's world;
 * otherwise it is a group of one (rank 0 of 1) that never touches MPI, so a plain `ildiff` needs no MPI runtime
 * and runs as root without mpirun. Every function works in both cases; with one process the collectives do
 * nothing (or copy).
 *
 *     int main(int argc, char **argv) {
 *         if (ild_dist_init(&argc, &argv) != ILDIFF_OK) { report ildiff_last_error(); return 1; }
 *         int rc = run(...);                  // ranks split the work (shard.h), all-reduce gradients (allreduce.h)
 *         if (rc != 0) report the error;      // each rank reports its own
 *         return ild_dist_finish(rc);         // 0: MPI_Finalize; else MPI_Abort kills every rank: no hang
 *     }
 *
 * Failure policy: MPI errors never abort inside the library (the communicator uses MPI_ERRORS_RETURN); they
 * come back as ILDIFF_ERR_INTERNAL with MPI's reason and the rank, and the caller ends with ild_dist_finish(rc),
 * which turns any non-zero rc into MPI_Abort of the whole job. A rank that dies (exit, signal) makes mpirun kill
 * the others (OpenMPI's default), so a job never waits on a dead peer. Collectives must be called by every rank
 * in the same order. Call these from the main thread only (MPI_THREAD_FUNNELED); threads inside compute are fine.
 */
#ifndef ILDIFF_DIST_H
#define ILDIFF_DIST_H

#include "ildiff.h"

#include <stdbool.h>
#include <stddef.h>

/* True when the environment says a PMI/PMIx launcher started us (OMPI_COMM_WORLD_SIZE, PMIX_RANK or PMI_RANK is
 * set), i.e. when ild_dist_init will initialise MPI. */
bool ild_dist_launched(void);

/* Joins the job: MPI_Init_thread (FUNNELED) when ild_dist_launched(), else nothing (rank 0 of 1). A second call
 * does nothing. Fails with ILDIFF_ERR_INTERNAL (MPI could not start, or lacks FUNNELED threading). */
ildiff_status ild_dist_init(int *argc, char ***argv);

/* Whether MPI is initialised (also true for `mpirun -np 1`). */
bool ild_dist_active(void);
int ild_dist_rank(void);      /* 0 .. size-1; 0 without MPI */
int ild_dist_size(void);      /* >= 1; 1 without MPI */
bool ild_dist_is_root(void);  /* rank 0: the rank that writes outputs, checkpoints and summaries */

/* Wall-clock seconds from an arbitrary start (MPI_Wtime under MPI, CLOCK_MONOTONIC otherwise). */
double ild_dist_time(void);

/* Waits for every rank. ILDIFF_ERR_INTERNAL on an MPI error. */
ildiff_status ild_dist_barrier(void);

/* Copies `bytes` bytes of `buf` from rank `root` to every rank (any size: sent in pieces below INT_MAX).
 * ILDIFF_ERR_ARG (root out of range), ILDIFF_ERR_INTERNAL. */
ildiff_status ild_dist_bcast(void *buf, size_t bytes, int root);

/* Ends the process's part in the job and returns the exit code to return from main: with rc == 0 it calls
 * MPI_Finalize (a collective: every rank must get here); with rc != 0 it flushes stdio and calls MPI_Abort(rc),
 * which ends every rank of the job at once and does not return. Without MPI it returns rc. */
int ild_dist_finish(int rc);

#endif
