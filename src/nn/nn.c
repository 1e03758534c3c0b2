/*
 * nn.c: the engine's thread control and shared scratch workspace (nn.h). Threads are a thin layer over
 * OpenMP's per-thread `nthreads-var`, so oneDNN (built on the OpenMP runtime) and our own `#pragma omp parallel`
 * loops agree on the count; OpenBLAS (pthreads, its own pool, process-wide) gets the same count.
 */
#include "nn/nn.h"

#include "base/base.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

void nn_threads_set(int n)
{
    if (n < 1) n = 1;
    openblas_set_num_threads(n);
#ifdef _OPENMP
    omp_set_num_threads(n);
#else
    (void)n;
#endif
}

int nn_threads_get(void)
{
#ifdef _OPENMP
    int n = omp_get_max_threads();
    return n < 1 ? 1 : n;
#else
    return 1;
#endif
}

void nn_workspace_reserve(nn_workspace *ws, size_t bytes)
{
    if (bytes > ws->need) ws->need = bytes;
}

ildiff_status nn_workspace_alloc(nn_workspace *ws)
{
    if (ws->data && ws->size >= ws->need) return ILDIFF_OK;
    size_t size = (ws->need + 63) & ~(size_t)63;
    void *p = aligned_alloc(64, size ? size : 64);
    if (!p) return ild_fail(ILDIFF_ERR_NOMEM, "workspace: cannot allocate %zu bytes", size);
    memset(p, 0, size ? size : 64);
    free(ws->data);
    ws->data = p;
    ws->size = size;
    return ILDIFF_OK;
}

void nn_workspace_free(nn_workspace *ws)
{
    free(ws->data);
    memset(ws, 0, sizeof *ws);
}
