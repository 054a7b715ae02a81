#include "cpng_shim.h"
int cpng_shim_placeholder(void) { return 0; }
