// Shim-internal helpers shared between the shim's C files; not part of the public header.
#ifndef CPNG_INTERNAL_H
#define CPNG_INTERNAL_H

#include "cpng_shim.h"

/// Hands the output buffer (malloc'd) to the caller and leaves the writer without one.
uint8_t *cpng_writer_detach_output(cpng_writer *writer, size_t *count);

#endif
