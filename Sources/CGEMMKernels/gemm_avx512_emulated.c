// The AVX-512 BF16 kernel's source over plain C vectors, with `vdpbf16ps`'s definition (two
// float32 products of bfloat16 pairs added in order, high pair first): the tests check the
// kernel's tiling and indexing with it on CPUs that cannot run the real instruction.
#include "gemm_kernels.h"
#include "gemm_internal.h"

#include <string.h>

#define KERNEL_ATTRIBUTES
#define KERNEL_NAME gemm_bf16_avx512_emulated
#define KERNEL_TILE gemm_tile_avx512_emulated

typedef struct { float f[16]; } vf;
typedef struct { uint16_t h[32]; } vb;

static inline vf vf_zero(void) { vf r; memset(&r, 0, sizeof r); return r; }
static inline vf vf_load(const float *p) { vf r; memcpy(r.f, p, sizeof r.f); return r; }
static inline void vf_store(float *p, vf v) { memcpy(p, v.f, sizeof v.f); }
static inline vf vf_add(vf a, vf b) { for (int i = 0; i < 16; i++) a.f[i] += b.f[i]; return a; }
static inline vb vb_load(const uint16_t *p) { vb r; memcpy(r.h, p, sizeof r.h); return r; }
static inline vf vf_dot_pair(vf acc, const uint32_t *pair, vb w) {
    float lo = gemm_bf16_to_float((uint16_t)(*pair & 0xffffu)), hi = gemm_bf16_to_float((uint16_t)(*pair >> 16));
    for (int i = 0; i < 16; i++) {
        acc.f[i] += hi * gemm_bf16_to_float(w.h[2 * i + 1]);
        acc.f[i] += lo * gemm_bf16_to_float(w.h[2 * i]);
    }
    return acc;
}

#include "gemm_avx512_body.h"
