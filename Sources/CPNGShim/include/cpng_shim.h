// A small C layer around libpng's write API.
//
// libpng reports errors by longjmp, which Swift cannot catch and which would skip Swift
// cleanup, so every libpng call happens in this file behind its own setjmp. Callers only
// ever see status codes and copied error messages; libpng's headers stay private.
#ifndef CPNG_SHIM_H
#define CPNG_SHIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Result of every shim call. Negative values are failures.
typedef enum cpng_status {
    CPNG_OK = 0,
    /// A NULL pointer or an out-of-range option, rejected before libpng saw it.
    CPNG_ERROR_ARGUMENT = -1,
    /// libpng (or zlib underneath it) raised an error; the message says which.
    CPNG_ERROR_LIBPNG = -2,
    /// malloc/realloc failed.
    CPNG_ERROR_MEMORY = -3,
    /// The call does not fit the writer's state: it already failed, finished, or rows are
    /// missing or excessive.
    CPNG_ERROR_STATE = -4,
    /// A reader's input ended before the image did.
    CPNG_ERROR_TRUNCATED = -5,
} cpng_status;

/// Row filter flags, one bit per PNG filter type; the values equal libpng's PNG_FILTER_*.
/// With several bits set libpng picks a filter per row (adaptive filtering).
enum {
    CPNG_FILTER_NONE = 0x08,
    CPNG_FILTER_SUB = 0x10,
    CPNG_FILTER_UP = 0x20,
    CPNG_FILTER_AVERAGE = 0x40,
    CPNG_FILTER_PAETH = 0x80,
    CPNG_FILTER_ALL = 0xF8,
};

/// Capacity of the message buffers below, including the terminating NUL.
#define CPNG_MESSAGE_CAPACITY 256

/// What to encode and how. 8-bit samples, non-interlaced.
typedef struct cpng_config {
    uint32_t width;
    uint32_t height;
    /// 3 for RGB, 4 for RGBA.
    int channels;
    /// zlib level, 0 (store) ... 9 (smallest).
    int compression_level;
    /// Non-empty combination of CPNG_FILTER_* flags.
    int filters;
} cpng_config;

/// An incremental PNG writer that appends its output to a growable in-memory buffer.
///
/// Compressed data appears in the output one full IDAT chunk (8 KiB) at a time, as libpng
/// emits it; the rest comes with cpng_writer_finish. There is deliberately no flush call:
/// libpng 1.6's png_write_flush sync-flushes zlib into libpng's own chunk buffer but does not
/// write a partial IDAT, so it cannot make the rows written so far decodable.
typedef struct cpng_writer cpng_writer;

/// Creates a writer and emits the header chunks (IHDR, sRGB). On failure `*out` is NULL and
/// `message` (if not NULL) holds a NUL-terminated reason.
cpng_status cpng_writer_create(const cpng_config *config, cpng_writer **out,
                               char message[CPNG_MESSAGE_CAPACITY]);

/// Appends `count` rows of `width * channels` bytes each, `stride` bytes apart.
cpng_status cpng_writer_write_rows(cpng_writer *writer, const uint8_t *rows, size_t stride,
                                   uint32_t count);

/// Writes the last IDAT and IEND. All `height` rows must have been written.
cpng_status cpng_writer_finish(cpng_writer *writer);

/// The bytes produced and not yet consumed. The pointer is valid until the next writer call.
const uint8_t *cpng_writer_output(const cpng_writer *writer, size_t *count);

/// Drops the first `count` output bytes, once the caller has copied or sent them.
void cpng_writer_consume(cpng_writer *writer, size_t count);

/// The last error's message, or "" if none. Valid until the writer is destroyed.
const char *cpng_writer_message(const cpng_writer *writer);

/// Frees the writer, its libpng state and its output buffer. Accepts NULL.
void cpng_writer_destroy(cpng_writer *writer);

/// One-shot encode of `height` rows `stride` bytes apart. On success `*out_data` is a buffer
/// of `*out_size` bytes that the caller releases with cpng_free; on failure nothing is
/// allocated and `message` (if not NULL) holds the reason.
cpng_status cpng_encode(const cpng_config *config, const uint8_t *pixels, size_t stride,
                        uint8_t **out_data, size_t *out_size,
                        char message[CPNG_MESSAGE_CAPACITY]);

/// Releases a buffer returned by cpng_encode. Accepts NULL.
void cpng_free(void *data);


// MARK: Reading untrusted PNGs

/// Bounds on what a reader accepts, checked by libpng as it parses: every limit is applied
/// before libpng allocates for the image.
typedef struct cpng_read_limits {
    /// Largest accepted width and height (libpng's user limits).
    uint32_t max_width;
    uint32_t max_height;
    /// Largest allocation for one ancillary chunk, decompressed (zTXt, iCCP): libpng's
    /// chunk_malloc_max. Known ancillary chunks are skipped anyway; this bounds the rest.
    size_t max_chunk_bytes;
    /// Most ancillary chunks kept before the reader gives up (libpng's chunk cache).
    uint32_t max_chunks;
} cpng_read_limits;

/// The decoded image's shape, known after cpng_reader_open.
typedef struct cpng_read_info {
    uint32_t width;
    uint32_t height;
    /// 1 when the file has an alpha channel or a tRNS chunk.
    int has_alpha;
} cpng_read_info;

/// A PNG decoder over an in-memory file, producing 8-bit RGBA whatever the file's colour
/// type and bit depth (palette, grey, 16-bit and interlaced files are all normalised).
typedef struct cpng_reader cpng_reader;

/// Parses the signature and every chunk up to the image data. `data` must stay valid until
/// the reader is destroyed. On failure `*out` is NULL and `message` holds the reason.
cpng_status cpng_reader_open(const uint8_t *data, size_t size, const cpng_read_limits *limits,
                             cpng_reader **out, cpng_read_info *info,
                             char message[CPNG_MESSAGE_CAPACITY]);

/// Decodes the whole image into `pixels`: `height` rows of `width * 4` bytes, `stride`
/// bytes apart. Call at most once.
cpng_status cpng_reader_read_rgba(cpng_reader *reader, uint8_t *pixels, size_t stride);

/// The last error's message, or "" if none. Valid until the reader is destroyed.
const char *cpng_reader_message(const cpng_reader *reader);

/// Frees the reader and its libpng state. Accepts NULL.
void cpng_reader_destroy(cpng_reader *reader);

#ifdef __cplusplus
}
#endif

#endif
