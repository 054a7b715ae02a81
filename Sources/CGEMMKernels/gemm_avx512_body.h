// The AVX-512 BF16 kernel, written once over a few vector operations so that the same source
// compiles to real `vdpbf16ps` code (gemm_avx512.c) and to plain C (gemm_avx512_emulated.c, which
// the tests run on any CPU). The includer defines KERNEL_NAME, KERNEL_TILE, KERNEL_ATTRIBUTES and:
//   vf (16 x float32), vb (32 x bfloat16), vf_zero(), vb_load(p), vf_load(p), vf_store(p, v),
//   vf_add(a, b), vf_dot_pair(acc, pair_pointer, w): acc[i] += x_lo*w[2i] + x_hi*w[2i+1],
//   with the bfloat16 pair (x_lo, x_hi) at pair_pointer broadcast to every lane.
//
// Tile: MR rows of A x NR blocks of 16 columns; accumulators stay in registers across every
// segment and pair (4 x 4 = 16 of the 32 zmm registers, 4 for B, 1 broadcast; clang spilled
// accumulators inside the loop with 6 x 4 and 5 x 4). Operands: gemm_internal.h.

#define MR 4
#define NR 4

static inline __attribute__((always_inline)) KERNEL_ATTRIBUTES void KERNEL_TILE(
    int mr, int nr, const gemm_args *args, int row0, int column0) {
    const int pairs = args->pairs;
    const uint32_t *a = (const uint32_t *)args->a + (size_t)row0 * args->a_row_stride;
    const uint16_t *b = args->b + (size_t)(column0 / GEMM_PANEL_COLUMNS) * args->b_stride_j;
    vf acc[MR][NR];
    for (int i = 0; i < mr; i++)
        for (int j = 0; j < nr; j++) acc[i][j] = vf_zero();
    for (int s = 0; s < args->segments; s++) {
        const uint32_t *as = a + args->a_offsets[s];
        const uint16_t *bs = b + args->b_offsets[s];
        for (int q = 0; q < pairs; q++) {
            vb wv[NR];
            for (int j = 0; j < nr; j++) wv[j] = vb_load(bs + j * args->b_stride_j + (size_t)q * args->b_stride_q);
            for (int i = 0; i < mr; i++) {
                const uint32_t *pair = as + i * args->a_row_stride + q;
                for (int j = 0; j < nr; j++) acc[i][j] = vf_dot_pair(acc[i][j], pair, wv[j]);
            }
        }
    }
    for (int j = 0; j < nr; j++) {
        int column = column0 + j * GEMM_PANEL_COLUMNS;
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
    const int width = NR * GEMM_PANEL_COLUMNS;
    for (int chunk = args->n_begin; chunk < args->n_end; chunk += GEMM_CHUNK_COLUMNS) {
        int chunk_end = chunk + GEMM_CHUNK_COLUMNS < args->n_end ? chunk + GEMM_CHUNK_COLUMNS : args->n_end;
        for (int r = 0; r < args->m; r += MR) {
            int mr = args->m - r < MR ? args->m - r : MR;
            for (int column = chunk; column < chunk_end; column += width) {
                int blocks = (chunk_end - column + GEMM_PANEL_COLUMNS - 1) / GEMM_PANEL_COLUMNS;
                int nr = blocks < NR ? blocks : NR;
                // Constant tile sizes, so that each call unrolls into registers.
#define TILE_CASE(M, N) case (M) * 8 + (N): KERNEL_TILE(M, N, args, r, column); break;
#define TILE_ROW(M) TILE_CASE(M, 1) TILE_CASE(M, 2) TILE_CASE(M, 3) TILE_CASE(M, 4)
                switch (mr * 8 + nr) {
                    TILE_ROW(1) TILE_ROW(2) TILE_ROW(3) TILE_ROW(4)
                default: break;
                }
#undef TILE_ROW
#undef TILE_CASE
            }
        }
    }
}

#undef MR
#undef NR
