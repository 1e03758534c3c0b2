/*
 * allreduce.c: the bucketed, deterministic gradient averaging of allreduce.h. A bucket's life in one step:
 * IDLE -> (all its parameters ready) SCATTER: MPI_Ialltoallv sends segment r of the bucket to rank r, which
 * receives every rank's copy of its own segment -> (in the order buckets were started) this rank sums its
 * segment in rank order and starts GATHER: MPI_Iallgatherv spreads the averaged segments back in place.
 * Scatters run on one communicator and gathers on another, each started in an order every rank shares (start
 * order, then the same order again), so the two kinds can interleave differently on different ranks.
 */
#include "dist/allreduce.h"
#include "dist/dist.h"
#include "dist/dist_mpi.h"
#include "dist/shard.h"

#include "base/base.h"

#include <stdlib.h>
#include <string.h>

enum { IDLE, SCATTER, GATHER };

typedef struct bucket {
    size_t off, n;        /* floats of the gradient block: [off, off + n) */
    int nparams, pending; /* parameters in it; those not yet ready this step */
    int state;
    float *recv;          /* (size, seg) every rank's copy of this rank's segment */
    int *counts, *displs; /* (size) segment of each rank: send counts/displacements and the gather's layout */
    int *rcounts, *rdispls; /* (size) receive layout of the scatter: seg floats from each rank */
    MPI_Request req;
} bucket;

struct ild_allreduce {
    nn_params *p;
    int rank, size;
    int nb;
    bucket *b;
    int *first, *count;    /* (params) first bucket and number of buckets of each parameter (0 if frozen) */
    unsigned char *marked; /* (params) marked ready this step */
    int *order;            /* (nb) buckets in the order their scatter started */
    int started, gathered; /* entries of `order` whose scatter / gather started */
    MPI_Comm scatter_comm, gather_comm;
    ild_allreduce_stats st;
};

/* Appends a bucket [off, off + n); returns its index, or -1 when out of memory. */
static int add_bucket(ild_allreduce *ar, int *cap, size_t off, size_t n)
{
    if (ar->nb == *cap) {
        int ncap = *cap ? 2 * *cap : 16;
        bucket *nb = realloc(ar->b, sizeof(bucket) * (size_t)ncap);
        if (!nb) return -1;
        ar->b = nb, *cap = ncap;
    }
    ar->b[ar->nb] = (bucket){.off = off, .n = n, .req = MPI_REQUEST_NULL};
    return ar->nb++;
}

/* Cuts the gradient block into buckets of at most cap floats (plan in allreduce.h). */
static ildiff_status plan_buckets(ild_allreduce *ar, size_t cap)
{
    const nn_params *p = ar->p;
    int bcap = 0, open = -1; /* the bucket that may still take parameters */
    for (int i = 0; i < p->count; i++) {
        const nn_param *e = &p->items[i];
        if (e->flags & NN_PARAM_FROZEN) {
            open = -1;
            continue;
        }
        if (open >= 0 && e->offset + e->numel - ar->b[open].off <= cap) {
            ar->b[open].n = e->offset + e->numel - ar->b[open].off;
            ar->b[open].nparams++;
            ar->first[i] = open, ar->count[i] = 1;
            continue;
        }
        ar->first[i] = ar->nb;
        for (size_t done = 0; done < e->numel; done += cap) {
            int k = add_bucket(ar, &bcap, e->offset + done, ILD_MIN(cap, e->numel - done));
            if (k < 0) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory planning gradient buckets");
            ar->b[k].nparams = 1;
            ar->count[i]++;
        }
        open = e->numel <= cap ? ar->nb - 1 : -1;
    }
    return ILDIFF_OK;
}

/* The per-rank buffers of one bucket: segment layout and the receive scratch. */
static ildiff_status alloc_bucket(ild_allreduce *ar, bucket *b)
{
    const size_t size = (size_t)ar->size;
    b->counts = calloc(4 * size, sizeof(int));
    if (!b->counts) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory for gradient bucket layout");
    b->displs = b->counts + size, b->rcounts = b->counts + 2 * size, b->rdispls = b->counts + 3 * size;
    for (int r = 0; r < ar->size; r++) {
        int64_t s, e;
        ild_shard_range((int64_t)b->n, r, ar->size, &s, &e);
        b->counts[r] = (int)(e - s), b->displs[r] = (int)s;
    }
    const int seg = b->counts[ar->rank];
    for (int r = 0; r < ar->size; r++) b->rcounts[r] = seg, b->rdispls[r] = r * seg;
    b->recv = malloc(sizeof(float) * (size_t)(seg ? seg : 1) * size);
    if (!b->recv) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory for a %d-float gradient bucket", seg * ar->size);
    return ILDIFF_OK;
}

ildiff_status ild_allreduce_new(ild_allreduce **out, nn_params *p, size_t bucket_bytes)
{
    *out = NULL;
    if (!bucket_bytes) bucket_bytes = ILD_ALLREDUCE_BUCKET_BYTES;
    if (bucket_bytes < 64 || bucket_bytes > ((size_t)1 << 30))
        return ild_fail(ILDIFF_ERR_ARG, "gradient bucket size %zu bytes is outside 64 B .. 1 GiB", bucket_bytes);
    if (!p || !p->grad) return ild_fail(ILDIFF_ERR_ARG, "gradient all-reduce needs an allocated parameter table");
    ild_allreduce *ar = calloc(1, sizeof *ar);
    if (!ar) return ild_fail(ILDIFF_ERR_NOMEM, "out of memory for the gradient all-reduce");
    ar->p = p, ar->rank = ild_dist_rank(), ar->size = ild_dist_size();
    ar->scatter_comm = ar->gather_comm = MPI_COMM_NULL;
    const size_t np = (size_t)(p->count ? p->count : 1);
    ar->first = calloc(np, sizeof(int)), ar->count = calloc(np, sizeof(int)), ar->marked = calloc(np, 1);
    ildiff_status s = ar->first && ar->count && ar->marked
                          ? plan_buckets(ar, bucket_bytes / sizeof(float))
                          : ild_fail(ILDIFF_ERR_NOMEM, "out of memory for the gradient all-reduce");
    if (s == ILDIFF_OK && !(ar->order = calloc((size_t)(ar->nb ? ar->nb : 1), sizeof(int))))
        s = ild_fail(ILDIFF_ERR_NOMEM, "out of memory for the gradient all-reduce");
    for (int k = 0; s == ILDIFF_OK && k < ar->nb; k++) {
        ar->b[k].pending = ar->b[k].nparams;
        ar->st.bytes += (int64_t)(ar->b[k].n * sizeof(float));
        if (ar->size > 1) s = alloc_bucket(ar, &ar->b[k]);
    }
    ar->st.buckets = ar->nb;
    if (s == ILDIFF_OK && ar->size > 1) {
        int err = MPI_Comm_dup(ild_dist_comm(), &ar->scatter_comm);
        if (err == MPI_SUCCESS) err = MPI_Comm_dup(ild_dist_comm(), &ar->gather_comm);
        if (err != MPI_SUCCESS) s = ild_dist_mpi_fail(err, "MPI_Comm_dup (gradient all-reduce)");
    }
    if (s != ILDIFF_OK) {
        ild_allreduce_free(ar);
        return s;
    }
    *out = ar;
    return ILDIFF_OK;
}

void ild_allreduce_free(ild_allreduce *ar)
{
    if (!ar) return;
    for (int k = 0; k < ar->nb; k++) free(ar->b[k].recv), free(ar->b[k].counts);
    if (ar->scatter_comm != MPI_COMM_NULL) MPI_Comm_free(&ar->scatter_comm);
    if (ar->gather_comm != MPI_COMM_NULL) MPI_Comm_free(&ar->gather_comm);
    free(ar->b), free(ar->first), free(ar->count), free(ar->marked), free(ar->order);
    free(ar);
}

static ildiff_status start_scatter(ild_allreduce *ar, int k)
{
    bucket *b = &ar->b[k];
    b->state = SCATTER;
    ar->order[ar->started++] = k;
    if (ar->size == 1) return ILDIFF_OK;
    int err = MPI_Ialltoallv(ar->p->grad + b->off, b->counts, b->displs, MPI_FLOAT, b->recv, b->rcounts, b->rdispls,
                             MPI_FLOAT, ar->scatter_comm, &b->req);
    return err == MPI_SUCCESS ? ILDIFF_OK : ild_dist_mpi_fail(err, "MPI_Ialltoallv (gradients)");
}

/* Sums this rank's segment of bucket b over ranks, in rank order, into the gradient block, as the mean. */
static void reduce_segment(const ild_allreduce *ar, const bucket *b)
{
    const int size = ar->size, seg = b->counts[ar->rank];
    const float *recv = b->recv;
    float *dst = ar->p->grad + b->off + b->displs[ar->rank];
#pragma omp parallel for schedule(static) if (seg > (1 << 16))
    for (int i = 0; i < seg; i++) {
        double s = 0;
        for (int r = 0; r < size; r++) s += recv[(size_t)r * (size_t)seg + (size_t)i];
        dst[i] = (float)(s / size);
    }
}

/* Moves started buckets from SCATTER to GATHER in start order: waits for each when `block`, else stops at the
 * first whose scatter is still in flight. */
static ildiff_status advance(ild_allreduce *ar, bool block)
{
    while (ar->gathered < ar->started) {
        bucket *b = &ar->b[ar->order[ar->gathered]];
        if (ar->size > 1) {
            int done = 1;
            int err = block ? MPI_Wait(&b->req, MPI_STATUS_IGNORE) : MPI_Test(&b->req, &done, MPI_STATUS_IGNORE);
            if (err != MPI_SUCCESS) return ild_dist_mpi_fail(err, "MPI_Ialltoallv (gradients)");
            if (!done) return ILDIFF_OK;
            reduce_segment(ar, b);
            err = MPI_Iallgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, ar->p->grad + b->off, b->counts, b->displs,
                                  MPI_FLOAT, ar->gather_comm, &b->req);
            if (err != MPI_SUCCESS) return ild_dist_mpi_fail(err, "MPI_Iallgatherv (gradients)");
        }
        b->state = GATHER;
        ar->gathered++;
    }
    return ILDIFF_OK;
}

ildiff_status ild_allreduce_ready(ild_allreduce *ar, int index)
{
    if (index < 0 || index >= ar->p->count)
        return ild_fail(ILDIFF_ERR_ARG, "parameter index %d is not in the table of %d", index, ar->p->count);
    if (ar->marked[index])
        return ild_fail(ILDIFF_ERR_ARG, "parameter '%s' marked ready twice in one step", ar->p->items[index].name);
    const double t0 = ild_dist_time();
    ar->marked[index] = 1;
    ildiff_status s = ILDIFF_OK;
    for (int k = ar->first[index]; s == ILDIFF_OK && k < ar->first[index] + ar->count[index]; k++)
        if (--ar->b[k].pending == 0) s = start_scatter(ar, k);
    if (s == ILDIFF_OK) s = advance(ar, false);
    ar->st.seconds += ild_dist_time() - t0;
    return s;
}

ildiff_status ild_allreduce_wait(ild_allreduce *ar)
{
    const double t0 = ild_dist_time();
    ildiff_status s = ILDIFF_OK;
    for (int k = 0; s == ILDIFF_OK && k < ar->nb; k++)
        if (ar->b[k].state == IDLE) s = start_scatter(ar, k);
    if (s == ILDIFF_OK) s = advance(ar, true);
    for (int k = 0; s == ILDIFF_OK && k < ar->nb; k++) {
        int err = ar->size > 1 ? MPI_Wait(&ar->b[k].req, MPI_STATUS_IGNORE) : MPI_SUCCESS;
        if (err != MPI_SUCCESS) s = ild_dist_mpi_fail(err, "MPI_Iallgatherv (gradients)");
        ar->b[k].state = IDLE, ar->b[k].pending = ar->b[k].nparams;
    }
    if (s != ILDIFF_OK) return s;
    memset(ar->marked, 0, (size_t)(ar->p->count ? ar->p->count : 1));
    ar->started = ar->gathered = 0;
    ar->st.steps++;
    ar->st.seconds += ild_dist_time() - t0;
    return ILDIFF_OK;
}

void ild_allreduce_stats_get(const ild_allreduce *ar, ild_allreduce_stats *st) { *st = ar->st; }

ildiff_status ild_dist_bcast_params(nn_params *p, int root)
{
    if (!p || !p->data) return ild_fail(ILDIFF_ERR_ARG, "broadcast of a parameter table that is not allocated");
    float *blocks[] = {p->data, p->m, p->v, p->ema};
    for (size_t i = 0; i < sizeof blocks / sizeof blocks[0]; i++) {
        if (!blocks[i]) continue;
        ildiff_status s = ild_dist_bcast(blocks[i], p->total * sizeof(float), root);
        if (s != ILDIFF_OK) return s;
    }
    return ILDIFF_OK;
}
