// What the dispatcher hands each kernel.
#ifndef GEMM_INTERNAL_H
#define GEMM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

typedef struct gemm_args {
    int m, n_begin, n_end, pairs;
    const void *prepared;
    size_t row_bytes;
    const uint16_t *packed;
    const float *bias;
    float *y;
    int ldy, accumulate;
} gemm_args;

void gemm_bf16_avx2(const gemm_args *args);
void gemm_bf16_avx512(const gemm_args *args);
void gemm_bf16_avx512_emulated(const gemm_args *args);

#endif
