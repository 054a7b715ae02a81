// Shim-internal: the error manager shared by the reader and the encoder.
#ifndef CJPEG_INTERNAL_H
#define CJPEG_INTERNAL_H

#include "cjpeg_shim.h"

#include <setjmp.h>
#include <stdio.h>
#include <jpeglib.h>

/// libjpeg's error manager extended with the jump target and the copied message. libjpeg's
/// default handlers print to stderr and exit(); these record and longjmp instead.
typedef struct cjpeg_error_manager {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    int truncated;
    int too_many_scans;
    int out_of_memory;
    char message[CJPEG_MESSAGE_CAPACITY];
} cjpeg_error_manager;

/// Installs the recording handlers into `manager` and returns libjpeg's view of it.
struct jpeg_error_mgr *cjpeg_error_manager_init(cjpeg_error_manager *manager);

/// The status a longjmp out of libjpeg stands for.
cjpeg_status cjpeg_error_status(const cjpeg_error_manager *manager);

/// Copies `text` into a caller's message buffer (NULL is allowed).
void cjpeg_set_message(char *destination, const char *text);

#endif
