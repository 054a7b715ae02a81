// Packing, rounding, CPU detection and dispatch; the kernels live in their own files, each
// compiled for its instruction set through function attributes (no global -m flags).
#include "gemm_kernels.h"
#include "gemm_internal.h"

#include <cpuid.h>
#include <string.h>

uint16_t gemm_float_to_bf16(float value) {
    uint32_t bits;
    memcpy(&bits, &value, 4);
    if ((bits & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((bits >> 16) | 0x40u);  // quiet NaN
    bits += 0x7fffu + ((bits >> 16) & 1u);
    return (uint16_t)(bits >> 16);
}

float gemm_bf16_to_float(uint16_t value) {
    uint32_t bits = (uint32_t)value << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static uint64_t read_xcr0(void) {
    uint32_t eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((uint64_t)edx << 32) | eax;
}

static gemm_kernel_level detect_level(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return GEMM_KERNEL_NONE;
    int fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, f16c = (c >> 29) & 1;
    if (!(fma && osxsave && avx && f16c)) return GEMM_KERNEL_NONE;
    uint64_t xcr0 = read_xcr0();
    if ((xcr0 & 0x6) != 0x6) return GEMM_KERNEL_NONE;  // the OS saves xmm and ymm state
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return GEMM_KERNEL_NONE;
    int avx2 = (b >> 5) & 1, avx512f = (b >> 16) & 1, avx512bw = (b >> 30) & 1, avx512vl = (b >> 31) & 1;
    if (!avx2) return GEMM_KERNEL_NONE;
    unsigned a1 = 0, b1, c1, d1;
    int bf16 = 0;
    if (__get_cpuid_count(7, 1, &a1, &b1, &c1, &d1)) bf16 = (a1 >> 5) & 1;
    int zmm_saved = (xcr0 & 0xe0) == 0xe0;  // opmask, upper halves of zmm0-15, zmm16-31
    if (avx512f && avx512bw && avx512vl && bf16 && zmm_saved) return GEMM_KERNEL_AVX512_BF16;
    return GEMM_KERNEL_AVX2_FMA;
}

gemm_kernel_level gemm_kernel_best_level(void) {
    // cpuid leaves the VM on virtual machines: ask once.
    static int cached = -1;
    int level = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (level < 0) {
        level = (int)detect_level();
        __atomic_store_n(&cached, level, __ATOMIC_RELAXED);
    }
    return (gemm_kernel_level)level;
}

static int pair_count(int k) { return (k + 1) / 2; }

size_t gemm_packed_count(int n, int k) {
    size_t panels = (size_t)(n + GEMM_PANEL_COLUMNS - 1) / GEMM_PANEL_COLUMNS;
    return panels * (size_t)pair_count(k) * 2 * GEMM_PANEL_COLUMNS;
}

void gemm_pack_bf16(const float *w, int n, int k, int ldw, uint16_t *packed) {
    int pairs = pair_count(k);
    int panels = (n + GEMM_PANEL_COLUMNS - 1) / GEMM_PANEL_COLUMNS;
    for (int p = 0; p < panels; p++) {
        uint16_t *panel = packed + (size_t)p * pairs * 2 * GEMM_PANEL_COLUMNS;
        for (int c = 0; c < GEMM_PANEL_COLUMNS; c++) {
            int row = p * GEMM_PANEL_COLUMNS + c;
            for (int q = 0; q < pairs; q++) {
                uint16_t *slot = panel + ((size_t)q * GEMM_PANEL_COLUMNS + c) * 2;
                int k0 = 2 * q, k1 = 2 * q + 1;
                slot[0] = row < n ? gemm_float_to_bf16(w[(size_t)row * ldw + k0]) : 0;
                slot[1] = (row < n && k1 < k) ? gemm_float_to_bf16(w[(size_t)row * ldw + k1]) : 0;
            }
        }
    }
}

void gemm_unpack_bf16(const uint16_t *packed, int n, int k, float *w, int ldw) {
    int pairs = pair_count(k);
    for (int row = 0; row < n; row++) {
        const uint16_t *panel = packed + (size_t)(row / GEMM_PANEL_COLUMNS) * pairs * 2 * GEMM_PANEL_COLUMNS;
        int c = row % GEMM_PANEL_COLUMNS;
        for (int i = 0; i < k; i++) {
            w[(size_t)row * ldw + i] = gemm_bf16_to_float(panel[((size_t)(i / 2) * GEMM_PANEL_COLUMNS + c) * 2 + (i & 1)]);
        }
    }
}

size_t gemm_prepared_row_bytes(gemm_kernel_level level, int k) {
    size_t elements = (size_t)pair_count(k) * 2;
    size_t bytes = level == GEMM_KERNEL_AVX2_FMA ? elements * 4 : elements * 2;
    return (bytes + 63) / 64 * 64;
}

void gemm_prepare_rows(gemm_kernel_level level, const float *x, int m, int k, int ldx, void *prepared) {
    size_t row_bytes = gemm_prepared_row_bytes(level, k);
    for (int r = 0; r < m; r++) {
        const float *src = x + (size_t)r * ldx;
        char *dst = (char *)prepared + (size_t)r * row_bytes;
        if (level == GEMM_KERNEL_AVX2_FMA) {
            float *out = (float *)dst;
            int i = 0;
            for (; i < k; i++) out[i] = gemm_bf16_to_float(gemm_float_to_bf16(src[i]));
            for (; (size_t)i * 4 < row_bytes; i++) out[i] = 0;
        } else {
            uint16_t *out = (uint16_t *)dst;
            int i = 0;
            for (; i < k; i++) out[i] = gemm_float_to_bf16(src[i]);
            for (; (size_t)i * 2 < row_bytes; i++) out[i] = 0;
        }
    }
}

static int run(gemm_kernel_level level, const gemm_args *args) {
    switch (level) {
    case GEMM_KERNEL_AVX2_FMA:
        if (gemm_kernel_best_level() < GEMM_KERNEL_AVX2_FMA) return -1;
        gemm_bf16_avx2(args);
        return 0;
    case GEMM_KERNEL_AVX512_BF16:
        if (gemm_kernel_best_level() < GEMM_KERNEL_AVX512_BF16) return -1;
        gemm_bf16_avx512(args);
        return 0;
    case GEMM_KERNEL_AVX512_BF16_EMULATED:
        gemm_bf16_avx512_emulated(args);
        return 0;
    default:
        return -1;
    }
}

int gemm_bf16(
    gemm_kernel_level level, int m, int n, int n_begin, int n_end, int k,
    const void *prepared, const uint16_t *packed, const float *bias,
    float *y, int ldy, int accumulate) {
    if (m <= 0 || n_end <= n_begin) return 0;
    if (n_begin % GEMM_PANEL_COLUMNS != 0 || n_end > n || n_begin < 0) return -1;
    gemm_args args = {
        .m = m, .n_begin = n_begin, .n_end = n_end, .pairs = pair_count(k), .segments = 1,
        .a = prepared, .a_row_stride = gemm_prepared_row_bytes(level, k) / 4,
        .b = packed, .b_stride_j = (size_t)pair_count(k) * 2 * GEMM_PANEL_COLUMNS, .b_stride_q = 2 * GEMM_PANEL_COLUMNS,
        .bias = bias, .y = y, .ldy = ldy, .accumulate = accumulate,
    };
    return run(level, &args);
}

size_t gemm_conv_weight_count(gemm_kernel_level level, int out_channels, int in_channels) {
    return 9 * (size_t)out_channels * (gemm_prepared_row_bytes(level, in_channels) / 4);
}

void gemm_conv_prepare_weights(gemm_kernel_level level, const float *w, int out_channels, int in_channels, void *prepared) {
    size_t row_units = gemm_prepared_row_bytes(level, in_channels) / 4;
    for (int tap = 0; tap < 9; tap++) {
        gemm_prepare_rows(
            level, w + (size_t)tap * out_channels * in_channels, out_channels, in_channels, in_channels,
            (uint32_t *)prepared + (size_t)tap * out_channels * row_units);
    }
}

void gemm_interleave_bf16(const float *x, int count, uint16_t *pairs_out, int lane) {
    for (int i = 0; i < count; i++) pairs_out[2 * i + lane] = gemm_float_to_bf16(x[i]);
}

int gemm_bf16_conv3x3(
    gemm_kernel_level level, int out_channels, int in_channels, int n_begin, int n_end,
    const void *weights, const uint16_t *input, size_t row_length, int padded_width,
    float *output, int ldo, int accumulate) {
    if (out_channels <= 0 || n_end <= n_begin) return 0;
    if (n_begin % GEMM_PANEL_COLUMNS != 0 || n_begin < 0 || in_channels <= 0) return -1;
    size_t row_units = gemm_prepared_row_bytes(level, in_channels) / 4;
    gemm_args args = {
        .m = out_channels, .n_begin = n_begin, .n_end = n_end, .pairs = pair_count(in_channels), .segments = 9,
        .a = weights, .a_row_stride = row_units,
        .b = input, .b_stride_j = 2 * GEMM_PANEL_COLUMNS, .b_stride_q = 2 * row_length,
        .bias = 0, .y = output, .ldy = ldo, .accumulate = accumulate,
    };
    for (int tap = 0; tap < 9; tap++) {
        args.a_offsets[tap] = (size_t)tap * out_channels * row_units;
        args.b_offsets[tap] = 2 * (ptrdiff_t)((tap / 3) * padded_width + tap % 3);
    }
    return run(level, &args);
}
