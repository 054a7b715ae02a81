// Error handling for every libjpeg call in the shim: record the message, then longjmp to the
// setjmp of the entry point that made the call.
#include "cjpeg_internal.h"

#include <jerror.h>
#include <string.h>

void cjpeg_set_message(char *destination, const char *text) {
    if (destination != NULL) {
        snprintf(destination, CJPEG_MESSAGE_CAPACITY, "%s", text);
    }
}

static void record(j_common_ptr cinfo) {
    cjpeg_error_manager *manager = (cjpeg_error_manager *)cinfo->err;
    char text[JMSG_LENGTH_MAX];
    (*cinfo->err->format_message)(cinfo, text);
    cjpeg_set_message(manager->message, text);
}

static void on_error_exit(j_common_ptr cinfo) {
    cjpeg_error_manager *manager = (cjpeg_error_manager *)cinfo->err;
    int code = cinfo->err->msg_code;
    if (code == JERR_OUT_OF_MEMORY || code == JERR_NO_BACKING_STORE) {
        manager->out_of_memory = 1;
    }
    record(cinfo);
    longjmp(manager->jump, 1);
}

static void on_emit_message(j_common_ptr cinfo, int level) {
    if (level >= 0) {
        return;  // trace messages
    }
    cinfo->err->num_warnings++;
    // A missing end is the one warning treated as an error: libjpeg would otherwise pad the
    // rest of the image with grey and report success. Other corrupt-data warnings are tolerated,
    // as browsers do.
    if (cinfo->err->msg_code == JWRN_JPEG_EOF) {
        cjpeg_error_manager *manager = (cjpeg_error_manager *)cinfo->err;
        manager->truncated = 1;
        record(cinfo);
        longjmp(manager->jump, 1);
    }
}

static void on_output_message(j_common_ptr cinfo) {
    (void)cinfo;  // nothing goes to stderr
}

struct jpeg_error_mgr *cjpeg_error_manager_init(cjpeg_error_manager *manager) {
    memset(manager, 0, sizeof *manager);
    struct jpeg_error_mgr *pub = jpeg_std_error(&manager->pub);
    pub->error_exit = on_error_exit;
    pub->emit_message = on_emit_message;
    pub->output_message = on_output_message;
    return pub;
}

cjpeg_status cjpeg_error_status(const cjpeg_error_manager *manager) {
    if (manager->truncated) return CJPEG_ERROR_TRUNCATED;
    if (manager->too_many_scans) return CJPEG_ERROR_SCANS;
    if (manager->out_of_memory) return CJPEG_ERROR_MEMORY;
    return CJPEG_ERROR_LIBJPEG;
}
