// The AVX2 + FMA kernel: bfloat16 B widened to float32 in registers (a pair's low half shifted
// up, its high half masked), A already rounded to bfloat16 and kept as float32, float32 FMAs.
// Products of two bfloat16 values are exact in float32, so this computes what the AVX-512 BF16
// kernel computes, up to the order of the additions.
#include "gemm_kernels.h"
#include "gemm_internal.h"

#include <immintrin.h>

#define ATTRIBUTES __attribute__((target("avx2,fma")))
// 4 rows x 16 columns: 8 accumulators, the pair's two raw B vectors, 2 widened ones and a
// broadcast of the 16 ymm. (6 rows would need 17: the compiler then spills accumulators, which
// measured 40% slower on Zen 3.)
#define MR 4

static inline __attribute__((always_inline)) ATTRIBUTES void tile_avx2(int mr, const gemm_args *args, int row0, int column) {
    const int pairs = args->pairs, segments = args->segments;
    const size_t a_stride = args->a_row_stride, b_stride = args->b_stride_q;
    const float *a = (const float *)args->a + (size_t)row0 * a_stride;
    const uint16_t *b = args->b + (size_t)(column / GEMM_PANEL_COLUMNS) * args->b_stride_j;
    const __m256i high = _mm256_set1_epi32((int)0xffff0000u);
    __m256 acc[MR][2];
    for (int i = 0; i < mr; i++) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
    for (int s = 0; s < segments; s++) {
        const float *rows[MR];
        for (int i = 0; i < mr; i++) rows[i] = a + args->a_offsets[s] + i * a_stride;
        const uint16_t *bq = b + args->b_offsets[s];
        for (int q = 0; q < pairs; q++, bq += b_stride) {
            // The pair's low halves first, then its high halves.
            const __m256i *bv = (const __m256i *)bq;
            __m256 w0 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_loadu_si256(bv), 16));
            __m256 w1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_loadu_si256(bv + 1), 16));
            for (int i = 0; i < mr; i++) {
                __m256 x = _mm256_broadcast_ss(rows[i] + 2 * q);
                acc[i][0] = _mm256_fmadd_ps(x, w0, acc[i][0]);
                acc[i][1] = _mm256_fmadd_ps(x, w1, acc[i][1]);
            }
            w0 = _mm256_castsi256_ps(_mm256_and_si256(_mm256_loadu_si256(bv), high));
            w1 = _mm256_castsi256_ps(_mm256_and_si256(_mm256_loadu_si256(bv + 1), high));
            for (int i = 0; i < mr; i++) {
                __m256 x = _mm256_broadcast_ss(rows[i] + 2 * q + 1);
                acc[i][0] = _mm256_fmadd_ps(x, w0, acc[i][0]);
                acc[i][1] = _mm256_fmadd_ps(x, w1, acc[i][1]);
            }
        }
    }
    int valid = args->n_end - column;
    const float *bias = args->bias ? args->bias + column : 0;
    for (int i = 0; i < mr; i++) {
        float *y = args->y + (size_t)(row0 + i) * args->ldy + column;
        if (valid >= GEMM_PANEL_COLUMNS) {
            for (int h = 0; h < 2; h++) {
                __m256 r = acc[i][h];
                if (bias) r = _mm256_add_ps(r, _mm256_loadu_ps(bias + 8 * h));
                if (args->accumulate) r = _mm256_add_ps(r, _mm256_loadu_ps(y + 8 * h));
                _mm256_storeu_ps(y + 8 * h, r);
            }
        } else {
            float lanes[GEMM_PANEL_COLUMNS];
            _mm256_storeu_ps(lanes, acc[i][0]);
            _mm256_storeu_ps(lanes + 8, acc[i][1]);
            for (int c = 0; c < valid; c++) {
                float r = lanes[c];
                if (bias) r += bias[c];
                y[c] = args->accumulate ? y[c] + r : r;
            }
        }
    }
}

ATTRIBUTES void gemm_bf16_avx2(const gemm_args *args) {
    for (int chunk = args->n_begin; chunk < args->n_end; chunk += GEMM_CHUNK_COLUMNS) {
        int chunk_end = chunk + GEMM_CHUNK_COLUMNS < args->n_end ? chunk + GEMM_CHUNK_COLUMNS : args->n_end;
        for (int r = 0; r < args->m; r += MR) {
            for (int column = chunk; column < chunk_end; column += GEMM_PANEL_COLUMNS) {
                switch (args->m - r < MR ? args->m - r : MR) {
                case 1: tile_avx2(1, args, r, column); break;
                case 2: tile_avx2(2, args, r, column); break;
                case 3: tile_avx2(3, args, r, column); break;
                case 4: tile_avx2(4, args, r, column); break;
                default: tile_avx2(4, args, r, column); break;
                }
            }
        }
    }
}
