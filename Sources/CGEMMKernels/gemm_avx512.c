// The AVX-512 BF16 kernel with real instructions; runs only where the dispatcher saw the
// features (gemm_kernel_best_level).
#include "gemm_kernels.h"
#include "gemm_internal.h"

#include <immintrin.h>

#define KERNEL_ATTRIBUTES __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))
#define KERNEL_NAME gemm_bf16_avx512
#define KERNEL_TILE gemm_tile_avx512

typedef __m512 vf;
typedef __m512bh vb;

static inline __attribute__((always_inline)) KERNEL_ATTRIBUTES vf vf_zero(void) { return _mm512_setzero_ps(); }
static inline __attribute__((always_inline)) KERNEL_ATTRIBUTES vf vf_load(const float *p) { return _mm512_loadu_ps(p); }
static inline __attribute__((always_inline)) KERNEL_ATTRIBUTES void vf_store(float *p, vf v) { _mm512_storeu_ps(p, v); }
static inline __attribute__((always_inline)) KERNEL_ATTRIBUTES vf vf_add(vf a, vf b) { return _mm512_add_ps(a, b); }
static inline __attribute__((always_inline)) KERNEL_ATTRIBUTES vb vb_load(const uint16_t *p) {
    return (vb)_mm512_loadu_si512((const void *)p);
}
static inline __attribute__((always_inline)) KERNEL_ATTRIBUTES vf vf_dot_pair(vf acc, const uint32_t *pair, vb w) {
    return _mm512_dpbf16_ps(acc, (vb)_mm512_set1_epi32((int)*pair), w);
}

#include "gemm_avx512_body.h"
