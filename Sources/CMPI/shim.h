// Open MPI's predefined handles are macros over global objects, which Swift cannot import: these return them.
#include <mpi.h>

static inline MPI_Comm mangacolor_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype mangacolor_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype mangacolor_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype mangacolor_mpi_byte(void) { return MPI_BYTE; }
static inline MPI_Datatype mangacolor_mpi_long_long(void) { return MPI_LONG_LONG; }
static inline MPI_Op mangacolor_mpi_sum(void) { return MPI_SUM; }
static inline MPI_Op mangacolor_mpi_min(void) { return MPI_MIN; }
static inline MPI_Op mangacolor_mpi_max(void) { return MPI_MAX; }
static inline MPI_Errhandler mangacolor_mpi_errors_return(void) { return MPI_ERRORS_RETURN; }
static inline int mangacolor_mpi_success(void) { return MPI_SUCCESS; }
static inline int mangacolor_mpi_max_error_string(void) { return MPI_MAX_ERROR_STRING; }
static inline void *mangacolor_in_place(void) { return MPI_IN_PLACE; }
