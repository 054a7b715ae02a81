#ifndef COPENBLAS_SHIM_H
#define COPENBLAS_SHIM_H
// cblas.h of OpenBLAS also declares openblas_set_num_threads and openblas_get_corename.
#include <cblas.h>
#endif
