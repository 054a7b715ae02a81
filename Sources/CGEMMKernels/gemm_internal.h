// What the dispatcher hands each kernel: one form for linear layers and convolutions.
//
//   y[i, col] (+)= sum over segments s, pairs q of  A[a_offsets[s] + i * a_row_stride, pair q]
//                                                 * B[b_offsets[s] + (col / 16) * b_stride_j + q * b_stride_q, lane col % 16]
//                  (+ bias[col])
//
// A is the broadcast operand in the prepared layout (4-byte units: a bfloat16 pair for AVX-512, a
// rounded float32 for AVX2, which reads two of them per pair); B is bfloat16 pairs of 16 columns,
// 64 bytes per pair. A linear layer has one segment: A = activations, B = packed weight panels.
// A 3x3 convolution has nine: A = the tap's weights, B = pair-interleaved activations shifted by
// the tap.
#ifndef GEMM_INTERNAL_H
#define GEMM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#define GEMM_MAX_SEGMENTS 9

typedef struct gemm_args {
    int m, n_begin, n_end, pairs, segments;
    size_t a_offsets[GEMM_MAX_SEGMENTS];
    ptrdiff_t b_offsets[GEMM_MAX_SEGMENTS];
    const void *a;
    size_t a_row_stride;
    const uint16_t *b;
    size_t b_stride_j, b_stride_q;
    const float *bias;
    float *y;
    int ldy, accumulate;
} gemm_args;

/// Columns per chunk: the B columns a chunk reads stay in L2 across its row tiles.
#define GEMM_CHUNK_COLUMNS 256

void gemm_bf16_avx2(const gemm_args *args);
void gemm_bf16_avx512(const gemm_args *args);
void gemm_bf16_avx512_emulated(const gemm_args *args);

#endif
