// The Winograd F(4x4, 3x3) input and output transforms, included once per instruction set by
// winograd.c with WINOGRAD_ATTRIBUTES and WINOGRAD_SUFFIX defined. Plain loops over tiles that
// the compiler vectorises: each loop reads and writes unit-stride arrays (the stride-4 pixel
// columns of a tile row are split into four phase arrays first).

#define WINOGRAD_NAME2(a, b) a##_##b
#define WINOGRAD_NAME(a, b) WINOGRAD_NAME2(a, b)

// One channel of one tile row: `rows[j]` are the six padded input rows (rows below the image
// point to zeros), each `padded_width` floats. Writes v[(6k + l) * position_stride + t] for the
// row's `tiles` tiles; `phase` holds 24 * (tiles + 1) floats.
static WINOGRAD_ATTRIBUTES void WINOGRAD_NAME(input_row, WINOGRAD_SUFFIX)(
    const float *const rows[6], int padded_width, int tiles, float *phase, float *v, size_t position_stride) {
    // phase[(k * 4 + p) * (tiles + 1) + q] = (B^T d)[k] at column 4q + p, for q <= tiles; columns
    // past the padded row (when the width is not a multiple of 4) are zero.
    const int pw = tiles + 1;
    const int full = padded_width / 4 < pw ? padded_width / 4 : pw;
    const float *r0 = rows[0], *r1 = rows[1], *r2 = rows[2], *r3 = rows[3], *r4 = rows[4], *r5 = rows[5];
    for (int p = 0; p < 4; p++) {
        float *o0 = phase + (0 * 4 + p) * pw, *o1 = phase + (1 * 4 + p) * pw, *o2 = phase + (2 * 4 + p) * pw;
        float *o3 = phase + (3 * 4 + p) * pw, *o4 = phase + (4 * 4 + p) * pw, *o5 = phase + (5 * 4 + p) * pw;
#define WINOGRAD_COLUMN(D0, D1, D2, D3, D4, D5)          \
    {                                                    \
        const float d0 = D0, d1 = D1, d2 = D2, d3 = D3, d4 = D4, d5 = D5; \
        o0[q] = 4 * d0 - 5 * d2 + d4;                    \
        o1[q] = (d4 + d3) - 4 * (d1 + d2);               \
        o2[q] = (d4 - d3) + 4 * (d1 - d2);               \
        o3[q] = (d4 - d2) + 2 * (d3 - d1);               \
        o4[q] = (d4 - d2) - 2 * (d3 - d1);               \
        o5[q] = 4 * d1 - 5 * d3 + d5;                    \
    }
        int q = 0;
        for (; q < full; q++) {
            const int x = 4 * q + p;
            WINOGRAD_COLUMN(r0[x], r1[x], r2[x], r3[x], r4[x], r5[x])
        }
        for (; q < pw; q++) {
            const int x = 4 * q + p;
            if (x < padded_width) {
                WINOGRAD_COLUMN(r0[x], r1[x], r2[x], r3[x], r4[x], r5[x])
            } else {
                WINOGRAD_COLUMN(0, 0, 0, 0, 0, 0)
            }
        }
#undef WINOGRAD_COLUMN
    }
    for (int k = 0; k < 6; k++) {
        const float *p0 = phase + (k * 4 + 0) * pw, *p1 = phase + (k * 4 + 1) * pw;
        const float *p2 = phase + (k * 4 + 2) * pw, *p3 = phase + (k * 4 + 3) * pw;
        float *v0 = v + (size_t)(6 * k + 0) * position_stride, *v1 = v + (size_t)(6 * k + 1) * position_stride;
        float *v2 = v + (size_t)(6 * k + 2) * position_stride, *v3 = v + (size_t)(6 * k + 3) * position_stride;
        float *v4 = v + (size_t)(6 * k + 4) * position_stride, *v5 = v + (size_t)(6 * k + 5) * position_stride;
        for (int t = 0; t < tiles; t++) {
            const float d0 = p0[t], d1 = p1[t], d2 = p2[t], d3 = p3[t], d4 = p0[t + 1], d5 = p1[t + 1];
            v0[t] = 4 * d0 - 5 * d2 + d4;
            v1[t] = (d4 + d3) - 4 * (d1 + d2);
            v2[t] = (d4 - d3) + 4 * (d1 - d2);
            v3[t] = (d4 - d2) + 2 * (d3 - d1);
            v4[t] = (d4 - d2) - 2 * (d3 - d1);
            v5[t] = 4 * d1 - 5 * d3 + d5;
        }
    }
}

// One channel of one tile row: m[(6k + l) * position_stride + t] to the 4 output rows
// `y[i * row_stride + x]`, x < 4 * tiles; `partial` holds 24 * tiles floats.
static WINOGRAD_ATTRIBUTES void WINOGRAD_NAME(output_row, WINOGRAD_SUFFIX)(
    const float *restrict m, size_t position_stride, int tiles, float *restrict partial, float *restrict y, int row_stride) {
    // partial[(k * 4 + j) * tiles + t] = (M A)[k][j]: the columns first, unit stride over tiles.
    for (int k = 0; k < 6; k++) {
        const float *m0 = m + (size_t)(6 * k) * position_stride, *m1 = m0 + position_stride, *m2 = m1 + position_stride;
        const float *m3 = m2 + position_stride, *m4 = m3 + position_stride, *m5 = m4 + position_stride;
        float *s0 = partial + (k * 4 + 0) * tiles, *s1 = partial + (k * 4 + 1) * tiles;
        float *s2 = partial + (k * 4 + 2) * tiles, *s3 = partial + (k * 4 + 3) * tiles;
        for (int t = 0; t < tiles; t++) {
            const float sum12 = m1[t] + m2[t], diff12 = m1[t] - m2[t], sum34 = m3[t] + m4[t], diff34 = m3[t] - m4[t];
            s0[t] = m0[t] + sum12 + sum34;
            s1[t] = diff12 + 2 * diff34;
            s2[t] = sum12 + 4 * sum34;
            s3[t] = diff12 + 8 * diff34 + m5[t];
        }
    }
    // Then the rows: A^T (M A), pixel column 4t + j of each of the 4 rows.
    float *restrict y0 = y, *restrict y1 = y + row_stride, *restrict y2 = y + 2 * row_stride, *restrict y3 = y + 3 * row_stride;
    for (int t = 0; t < tiles; t++) {
#pragma clang loop unroll(full)
        for (int j = 0; j < 4; j++) {
            const float *s = partial + j * tiles + t;
            const float a0 = s[0], a1 = s[4 * tiles], a2 = s[8 * tiles], a3 = s[12 * tiles], a4 = s[16 * tiles], a5 = s[20 * tiles];
            const float sum12 = a1 + a2, diff12 = a1 - a2, sum34 = a3 + a4, diff34 = a3 - a4;
            y0[4 * t + j] = a0 + sum12 + sum34;
            y1[4 * t + j] = diff12 + 2 * diff34;
            y2[4 * t + j] = sum12 + 4 * sum34;
            y3[4 * t + j] = diff12 + 8 * diff34 + a5;
        }
    }
}

static WINOGRAD_ATTRIBUTES void WINOGRAD_NAME(input, WINOGRAD_SUFFIX)(const winograd_image *image, int channel_begin,
    int channel_end, int tile_row_begin, int tile_row_end, float *v, float *scratch, const float *zeros) {
    const int tiles = (image->width + 3) / 4;
    const int block_tiles = (tile_row_end - tile_row_begin) * tiles;
    const size_t position_stride = (size_t)image->channels * block_tiles;
    for (int c = channel_begin; c < channel_end; c++) {
        const float *base = image->data + (size_t)c * image->channel_stride;
        for (int ty = tile_row_begin; ty < tile_row_end; ty++) {
            const float *rows[6];
            for (int j = 0; j < 6; j++) {
                const int y = 4 * ty + j;
                rows[j] = y < image->height + 2 ? base + (size_t)y * (image->width + 2) : zeros;
            }
            WINOGRAD_NAME(input_row, WINOGRAD_SUFFIX)(rows, image->width + 2, tiles, scratch,
                v + (size_t)c * block_tiles + (size_t)(ty - tile_row_begin) * tiles, position_stride);
        }
    }
}

static WINOGRAD_ATTRIBUTES void WINOGRAD_NAME(output, WINOGRAD_SUFFIX)(const winograd_image *image, int channel_begin,
    int channel_end, int tile_row_begin, int tile_row_end, const float *m, const float *bias, int accumulate, float *scratch) {
    const int tiles = (image->width + 3) / 4, width = image->width;
    const int block_tiles = (tile_row_end - tile_row_begin) * tiles;
    const size_t position_stride = (size_t)image->channels * block_tiles;
    const int row_stride = 4 * tiles;
    float *rows = scratch + 24 * tiles;
    for (int c = channel_begin; c < channel_end; c++) {
        float *base = image->data + (size_t)c * image->channel_stride;
        const float b = bias ? bias[c] : 0;
        for (int ty = tile_row_begin; ty < tile_row_end; ty++) {
            WINOGRAD_NAME(output_row, WINOGRAD_SUFFIX)(
                m + (size_t)c * block_tiles + (size_t)(ty - tile_row_begin) * tiles, position_stride, tiles, scratch, rows, row_stride);
            for (int i = 0; i < 4 && 4 * ty + i < image->height; i++) {
                // Interior pixel (y, 0) sits one row and one column into the padded image.
                float *out = base + (size_t)(4 * ty + i + 1) * (width + 2) + 1;
                const float *src = rows + i * row_stride;
                if (accumulate) {
                    for (int x = 0; x < width; x++) out[x] += src[x] + b;
                } else {
                    for (int x = 0; x < width; x++) out[x] = src[x] + b;
                }
            }
        }
    }
}

#undef WINOGRAD_NAME
#undef WINOGRAD_NAME2
