/*
 * dist.c: joining and leaving the job (dist.h): launcher detection, MPI_Init_thread, the library communicator
 * with MPI_ERRORS_RETURN, rank and size, barrier, broadcast, and the finish that finalizes or aborts the job.
 */
#include "dist/dist.h"
#include "dist/dist_mpi.h"

#include "base/base.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static struct {
    bool active;  /* MPI initialised by us */
    int rank, size;
    MPI_Comm comm;
} g = {false, 0, 1, MPI_COMM_NULL};

static bool env_set(const char *name)
{
    const char *v = getenv(name);
    return v && *v;
}

bool ild_dist_launched(void)
{
    return env_set("OMPI_COMM_WORLD_SIZE") || env_set("PMIX_RANK") || env_set("PMI_RANK");
}

ildiff_status ild_dist_mpi_fail(int err, const char *call)
{
    char reason[MPI_MAX_ERROR_STRING] = "unknown MPI error";
    int len = 0;
    if (MPI_Error_string(err, reason, &len) != MPI_SUCCESS) snprintf(reason, sizeof reason, "MPI error %d", err);
    return ild_fail(ILDIFF_ERR_INTERNAL, "%s failed on rank %d of %d: %s", call, g.rank, g.size, reason);
}

MPI_Comm ild_dist_comm(void) { return g.comm; }

ildiff_status ild_dist_init(int *argc, char ***argv)
{
    if (g.active || !ild_dist_launched()) return ILDIFF_OK;
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (finalized) return ild_fail(ILDIFF_ERR_ARG, "MPI cannot start again after ild_dist_finish");
    int provided = 0, err = MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
    if (err != MPI_SUCCESS) return ild_fail(ILDIFF_ERR_INTERNAL, "MPI_Init_thread failed (error %d)", err);
    g.active = true;
    /* From here on an error is returned to us, on the world and on our duplicate of it. */
    if ((err = MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN)) != MPI_SUCCESS)
        return ild_dist_mpi_fail(err, "MPI_Comm_set_errhandler");
    if ((err = MPI_Comm_rank(MPI_COMM_WORLD, &g.rank)) != MPI_SUCCESS ||
        (err = MPI_Comm_size(MPI_COMM_WORLD, &g.size)) != MPI_SUCCESS)
        return ild_dist_mpi_fail(err, "MPI_Comm_rank/size");
    if (provided < MPI_THREAD_FUNNELED)
        return ild_fail(ILDIFF_ERR_INTERNAL, "this MPI library lacks MPI_THREAD_FUNNELED (gave level %d)", provided);
    if ((err = MPI_Comm_dup(MPI_COMM_WORLD, &g.comm)) != MPI_SUCCESS) return ild_dist_mpi_fail(err, "MPI_Comm_dup");
    if ((err = MPI_Comm_set_errhandler(g.comm, MPI_ERRORS_RETURN)) != MPI_SUCCESS)
        return ild_dist_mpi_fail(err, "MPI_Comm_set_errhandler");
    return ILDIFF_OK;
}

bool ild_dist_active(void) { return g.active; }
int ild_dist_rank(void) { return g.rank; }
int ild_dist_size(void) { return g.size; }
bool ild_dist_is_root(void) { return g.rank == 0; }

double ild_dist_time(void)
{
    if (g.active) return MPI_Wtime();
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

ildiff_status ild_dist_barrier(void)
{
    if (!g.active) return ILDIFF_OK;
    int err = MPI_Barrier(g.comm);
    return err == MPI_SUCCESS ? ILDIFF_OK : ild_dist_mpi_fail(err, "MPI_Barrier");
}

ildiff_status ild_dist_bcast(void *buf, size_t bytes, int root)
{
    if (root < 0 || root >= g.size)
        return ild_fail(ILDIFF_ERR_ARG, "broadcast root %d is not a rank of %d", root, g.size);
    if (!g.active) return ILDIFF_OK;
    const size_t piece = (size_t)1 << 30;
    for (size_t done = 0; done < bytes; done += piece) {
        int n = (int)ILD_MIN(piece, bytes - done);
        int err = MPI_Bcast((char *)buf + done, n, MPI_BYTE, root, g.comm);
        if (err != MPI_SUCCESS) return ild_dist_mpi_fail(err, "MPI_Bcast");
    }
    return ILDIFF_OK;
}

int ild_dist_finish(int rc)
{
    if (!g.active) return rc;
    if (rc != 0) {
        fflush(stdout);
        fflush(stderr);
        MPI_Abort(MPI_COMM_WORLD, rc);
        return rc; /* MPI_Abort does not return; this line only satisfies the compiler */
    }
    if (g.comm != MPI_COMM_NULL) MPI_Comm_free(&g.comm);
    MPI_Finalize();
    g.active = false;
    g.rank = 0, g.size = 1;
    return 0;
}
