// Reduced-precision GEMM kernels: bfloat16 weights packed once at load, activations rounded to
// bfloat16 as they enter, float32 accumulation. One packed layout serves every instruction set;
// the kernel is chosen at run time from what the CPU reports, so one binary runs everywhere.
#ifndef GEMM_KERNELS_H
#define GEMM_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The kernel families, best last.
typedef enum gemm_kernel_level {
    /// No kernel for bfloat16 weights on this CPU.
    GEMM_KERNEL_NONE = 0,
    /// AVX2 + FMA: bfloat16 weights widened to float32 in registers, float32 FMAs.
    GEMM_KERNEL_AVX2_FMA = 1,
    /// AVX-512 with AVX512-BF16: `vdpbf16ps` dot products of bfloat16 pairs.
    GEMM_KERNEL_AVX512_BF16 = 2,
    /// The AVX-512 kernel's own source compiled over plain C vectors (tests only: it proves
    /// the kernel's indexing on CPUs that cannot run the real one).
    GEMM_KERNEL_AVX512_BF16_EMULATED = 3,
} gemm_kernel_level;

/// The best level this CPU runs (never the emulated one).
gemm_kernel_level gemm_kernel_best_level(void);

/// Columns per packed panel: one 512-bit vector of float32 results.
#define GEMM_PANEL_COLUMNS 16

/// bfloat16 elements of a packed `[n, k]` weight: panels of 16 rows of W (output columns), each
/// `[ceil(k/2)][16][2]`: the pairs (W[c, 2p], W[c, 2p+1]) of its 16 columns, pair p after pair p-1.
size_t gemm_packed_count(int n, int k);

/// Packs float32 `w[n][k]` (row stride `ldw`) into `packed`, rounding to nearest even; columns
/// past `n` and the odd `k` tail are zero.
void gemm_pack_bf16(const float *w, int n, int k, int ldw, uint16_t *packed);

/// Widens packed weights back to float32 `w[n][k]` (tests, and the memory-free round trip).
void gemm_unpack_bf16(const uint16_t *packed, int n, int k, float *w, int ldw);

/// Bytes per row of prepared activations for `k` inputs at `level` (a multiple of 64).
size_t gemm_prepared_row_bytes(gemm_kernel_level level, int k);

/// Rounds `m` rows of `x` (row stride `ldx` floats) to bfloat16 into `prepared`, in the layout
/// `level`'s kernel reads: bfloat16 pairs (AVX-512) or rounded float32 (AVX2), rows
/// `gemm_prepared_row_bytes` apart, the odd `k` tail zero.
void gemm_prepare_rows(gemm_kernel_level level, const float *x, int m, int k, int ldx, void *prepared);

/// `y[m, n_begin..<n_end] (+)= prepared[m, k] * W^T + bias`, for the columns of one thread.
/// `n_begin` must be a multiple of 16; `accumulate` adds to `y`; `bias` may be NULL.
/// Returns 0, or -1 when `level` cannot run here.
int gemm_bf16(
    gemm_kernel_level level, int m, int n, int n_begin, int n_end, int k,
    const void *prepared, const uint16_t *packed, const float *bias,
    float *y, int ldy, int accumulate);

/// A 3x3 convolution's weights `w[9][out][in]` (tap-major, tap = 3 dy + dx) in the layout
/// `level`'s convolution kernel reads: `gemm_conv_weight_count` 4-byte units.
size_t gemm_conv_weight_count(gemm_kernel_level level, int out_channels, int in_channels);
void gemm_conv_prepare_weights(gemm_kernel_level level, const float *w, int out_channels, int in_channels, void *prepared);

/// Writes `count` floats as bfloat16 into every other slot of `pairs_out` (lane 0 or 1): one
/// channel of a pair-interleaved activation row `[channel / 2][column][channel % 2]`.
void gemm_interleave_bf16(const float *x, int count, uint16_t *pairs_out, int lane);

/// A 3x3 convolution over pair-interleaved bfloat16 activations (`[in / 2][row_length][2]`, odd
/// `in` with a zero last lane): for columns `n_begin..<n_end` (`n_begin` a multiple of 16),
/// `output[o * ldo + col] (+)= sum over taps (dy, dx), channels i of
/// W[tap][o][i] * input[i][col + dy * padded_width + dx]`. Columns up to `n_end` rounded up to
/// 16, plus `2 * padded_width + 2`, are read. Returns 0, or -1 when `level` cannot run here.
int gemm_bf16_conv3x3(
    gemm_kernel_level level, int out_channels, int in_channels, int n_begin, int n_end,
    const void *weights, const uint16_t *input, size_t row_length, int padded_width,
    float *output, int ldo, int accumulate);

/// float32 -> bfloat16, round to nearest even (NaN stays NaN).
uint16_t gemm_float_to_bf16(float value);
float gemm_bf16_to_float(uint16_t value);

// MARK: Winograd F(4x4, 3x3)

/// One image of a padded, channel-major activation: channel c's padded image ((height + 2) rows
/// of width + 2 floats, the one-pixel border zero for an input) at `data + c * channel_stride`.
typedef struct winograd_image {
    float *data;
    size_t channel_stride;
    /// All channels of the tensor (the transformed arrays' position stride counts them all).
    int channels;
    int height;
    int width;
} winograd_image;

/// `w[9][out][in]` (tap-major, tap = 3 dy + dx) to `u[36][out][in]`: U = G g G^T per channel pair,
/// position 6 k + l for row k, column l of the 6 x 6 transform.
void winograd_f43_transform_weights(const float *w, int out_channels, int in_channels, float *u);

/// Floats of scratch one transform call needs for images `width` pixels wide.
size_t winograd_f43_scratch_count(int width);

/// The input transform of tile rows `tile_row_begin..<tile_row_end` (a tile row is 4 pixel rows;
/// tiles per row: ceil(width / 4)) for channels `channel_begin..<channel_end`:
/// `v[p][c][t]`, p < 36, c < image->channels, t < tiles of the block, row by row. Pixels beyond
/// the image read as zero.
void winograd_f43_input(
    const winograd_image *image, int channel_begin, int channel_end, int tile_row_begin, int tile_row_end, float *v, float *scratch);

/// The output transform of `m[p][c][t]` (layout as `winograd_f43_input`, c < image->channels)
/// into the interior of `image` for channels `channel_begin..<channel_end`: written, or added
/// with `accumulate`, plus `bias[c]` (NULL: none). Only pixels inside the image are written.
void winograd_f43_output(
    const winograd_image *image, int channel_begin, int channel_end, int tile_row_begin, int tile_row_end, const float *m,
    const float *bias, int accumulate, float *scratch);

#ifdef __cplusplus
}
#endif
#endif
