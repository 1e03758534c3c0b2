/*
 * dist_mpi.h: what the files of src/dist share with each other and nobody else: the library's communicator and
 * the translation of an MPI error code into an ild_fail. Only src/dist includes <mpi.h>.
 */
#ifndef ILDIFF_DIST_MPI_H
#define ILDIFF_DIST_MPI_H

#include "ildiff.h"

#include <mpi.h>

/* The library's own duplicate of MPI_COMM_WORLD (errors return, never abort); MPI_COMM_NULL when not active. */
MPI_Comm ild_dist_comm(void);

/* Records "CALL failed on rank R: MPI's reason" and returns ILDIFF_ERR_INTERNAL. */
ildiff_status ild_dist_mpi_fail(int err, const char *call);

#endif
