// The AVX-512 BF16 kernel, written once over a few vector operations so that the same source
// compiles to real `vdpbf16ps` code (gemm_avx512.c) and to plain C (gemm_avx512_emulated.c, which
// the tests run on any CPU). The includer defines KERNEL_NAME, KERNEL_ATTRIBUTES and:
//   vf (16 x float32), vb (32 x bfloat16), vf_zero(), vb_load(p), vf_load(p), vf_store(p, v),
//   vf_add(a, b), vf_dot_pair(acc, pair_pointer, w): acc[i] += x_lo*w[2i] + x_hi*w[2i+1],
//   with the bfloat16 pair (x_lo, x_hi) at pair_pointer broadcast to every lane.
//
// Tile: MR rows of the prepared activations x NR panels of 16 columns; accumulators stay in
// registers across the whole k loop (6 x 4 = 24 of the 32 zmm registers, 4 for weights).

#define MR 6
#define NR 4

static inline __attribute__((always_inline)) KERNEL_ATTRIBUTES void KERNEL_TILE(
    int mr, int nr, const gemm_args *args, int row0, int panel0) {
    const int pairs = args->pairs;
    const size_t panel_stride = (size_t)pairs * 2 * GEMM_PANEL_COLUMNS;
    const size_t row_pairs = args->row_bytes / 4;
    const uint32_t *a = (const uint32_t *)args->prepared + (size_t)row0 * row_pairs;
    const uint16_t *w = args->packed + (size_t)panel0 * panel_stride;
    vf acc[MR][NR];
    for (int i = 0; i < mr; i++)
        for (int j = 0; j < nr; j++) acc[i][j] = vf_zero();
    for (int q = 0; q < pairs; q++) {
        vb wv[NR];
        for (int j = 0; j < nr; j++) wv[j] = vb_load(w + j * panel_stride + (size_t)q * 2 * GEMM_PANEL_COLUMNS);
        for (int i = 0; i < mr; i++) {
            const uint32_t *pair = a + i * row_pairs + q;
            for (int j = 0; j < nr; j++) acc[i][j] = vf_dot_pair(acc[i][j], pair, wv[j]);
        }
    }
    for (int j = 0; j < nr; j++) {
        int column = (panel0 + j) * GEMM_PANEL_COLUMNS;
        int valid = args->n_end - column;
        const float *bias = args->bias ? args->bias + column : 0;
        for (int i = 0; i < mr; i++) {
            float *y = args->y + (size_t)(row0 + i) * args->ldy + column;
            if (valid >= GEMM_PANEL_COLUMNS) {
                vf r = acc[i][j];
                if (bias) r = vf_add(r, vf_load(bias));
                if (args->accumulate) r = vf_add(r, vf_load(y));
                vf_store(y, r);
            } else {
                float lanes[GEMM_PANEL_COLUMNS];
                vf_store(lanes, acc[i][j]);
                for (int c = 0; c < valid; c++) {
                    float r = lanes[c];
                    if (bias) r += bias[c];
                    y[c] = args->accumulate ? y[c] + r : r;
                }
            }
        }
    }
}

KERNEL_ATTRIBUTES void KERNEL_NAME(const gemm_args *args) {
    const int panel_begin = args->n_begin / GEMM_PANEL_COLUMNS;
    const int panel_end = (args->n_end + GEMM_PANEL_COLUMNS - 1) / GEMM_PANEL_COLUMNS;
    for (int p = panel_begin; p < panel_end; p += NR) {
        int nr = panel_end - p < NR ? panel_end - p : NR;
        for (int r = 0; r < args->m; r += MR) {
            int mr = args->m - r < MR ? args->m - r : MR;
            // Constant tile sizes, so that each call unrolls into registers.
#define TILE_CASE(M, N) case (M) * 8 + (N): KERNEL_TILE(M, N, args, r, p); break;
#define TILE_ROW(M) TILE_CASE(M, 1) TILE_CASE(M, 2) TILE_CASE(M, 3) TILE_CASE(M, 4)
            switch (mr * 8 + nr) {
                TILE_ROW(1) TILE_ROW(2) TILE_ROW(3) TILE_ROW(4) TILE_ROW(5) TILE_ROW(6)
            default: break;
            }
#undef TILE_ROW
#undef TILE_CASE
        }
    }
}

#undef MR
#undef NR
