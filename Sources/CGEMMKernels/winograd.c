// Winograd F(4x4, 3x3) transforms for 3x3 convolutions (Lavin and Gray, "Fast Algorithms for
// Convolutional Neural Networks", 2015): a 4 x 4 output tile from a 6 x 6 input tile with 36
// multiplications per channel pair instead of 144. The multiplications are done elsewhere as 36
// GEMMs (one per transform position); this file holds the weight, input and output transforms.
#include "gemm_kernels.h"

#include <string.h>

#define WINOGRAD_ATTRIBUTES __attribute__((target("avx2,fma")))
#define WINOGRAD_SUFFIX avx2
#include "winograd_body.h"
#undef WINOGRAD_ATTRIBUTES
#undef WINOGRAD_SUFFIX

#define WINOGRAD_ATTRIBUTES
#define WINOGRAD_SUFFIX generic
#include "winograd_body.h"
#undef WINOGRAD_ATTRIBUTES
#undef WINOGRAD_SUFFIX

static int use_avx2(void) {
    static int level = -1;  // benign race: every thread computes the same value
    if (level < 0) level = gemm_kernel_best_level() != GEMM_KERNEL_NONE;
    return level;
}

void winograd_f43_transform_weights(const float *w, int out_channels, int in_channels, float *u) {
    // G, 6 x 3: U = G g G^T for each (out, in) pair, in double to round once.
    static const double g[6][3] = {
        {1.0 / 4, 0, 0},
        {-1.0 / 6, -1.0 / 6, -1.0 / 6},
        {-1.0 / 6, 1.0 / 6, -1.0 / 6},
        {1.0 / 24, 1.0 / 12, 1.0 / 6},
        {1.0 / 24, -1.0 / 12, 1.0 / 6},
        {0, 0, 1},
    };
    const size_t pairs = (size_t)out_channels * in_channels;
    for (size_t pair = 0; pair < pairs; pair++) {
        double taps[3][3], half[6][3];
        for (int k = 0; k < 9; k++) taps[k / 3][k % 3] = w[(size_t)k * pairs + pair];
        for (int r = 0; r < 6; r++) {
            for (int b = 0; b < 3; b++) half[r][b] = g[r][0] * taps[0][b] + g[r][1] * taps[1][b] + g[r][2] * taps[2][b];
        }
        for (int r = 0; r < 6; r++) {
            for (int c = 0; c < 6; c++) {
                u[(size_t)(6 * r + c) * pairs + pair] = (float)(half[r][0] * g[c][0] + half[r][1] * g[c][1] + half[r][2] * g[c][2]);
            }
        }
    }
}

size_t winograd_f43_scratch_count(int width) {
    const size_t tiles = ((size_t)width + 3) / 4;
    // The input transform: 24 phase rows of tiles + 1 and a zero row; the output transform: 24
    // partial rows and 4 pixel rows of 4 * tiles.
    return 40 * (tiles + 1) + (size_t)width + 2;
}

void winograd_f43_input(
    const winograd_image *image, int channel_begin, int channel_end, int tile_row_begin, int tile_row_end, float *v, float *scratch) {
    const int tiles = (image->width + 3) / 4;
    float *zeros = scratch + 24 * (tiles + 1);
    memset(zeros, 0, ((size_t)image->width + 2) * sizeof(float));
    if (use_avx2()) {
        input_avx2(image, channel_begin, channel_end, tile_row_begin, tile_row_end, v, scratch, zeros);
    } else {
        input_generic(image, channel_begin, channel_end, tile_row_begin, tile_row_end, v, scratch, zeros);
    }
}

void winograd_f43_output(
    const winograd_image *image, int channel_begin, int channel_end, int tile_row_begin, int tile_row_end, const float *m,
    const float *bias, int accumulate, float *scratch) {
    if (use_avx2()) {
        output_avx2(image, channel_begin, channel_end, tile_row_begin, tile_row_end, m, bias, accumulate, scratch);
    } else {
        output_generic(image, channel_begin, channel_end, tile_row_begin, tile_row_end, m, bias, accumulate, scratch);
    }
}
