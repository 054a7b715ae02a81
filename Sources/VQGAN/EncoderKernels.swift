// The encoder's own passes over the padded channel-major layout of Kernels.swift: the input
// image in, 2x2 average pooling, the 1x1 output convolution out, and the nearest codebook row.

import Tensors

extension Grid {
    /// The grid after 2x2 pooling with stride 2 (sides must be even: the encoder checks them).
    var downsampled: Grid { Grid(batch: batch, height: height / 2, width: width / 2, batchedGEMM: batchedGEMM) }
}

/// Zeros the border and slack of image `b` of one channel row (a convolution input needs them zero).
@inline(__always)
func clearBorder(_ row: UnsafeMutablePointer<Float>, grid: Grid, image b: Int) {
    let start = row + b * grid.imageStride, wp = grid.paddedWidth
    let slackEnd = b == grid.batch - 1 ? grid.rowLength - b * grid.imageStride : grid.imageStride
    (start + grid.imageArea).update(repeating: 0, count: slackEnd - grid.imageArea)
    start.update(repeating: 0, count: wp)
    (start + (grid.height + 1) * wp).update(repeating: 0, count: wp)
    for y in 1...grid.height {
        start[y * wp] = 0
        start[y * wp + grid.width + 1] = 0
    }
}

/// `output = avg_pool2d(input, 2, stride 2)` over the interior of each image (on `grid`) into
/// `output` on `grid.downsampled`, border and slack zero. The mean is `(a + b + c + d) / 4`
/// summed in PyTorch's window order (row by row).
func averagePool2x2(
    _ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, channels: Int, grid: Grid, threads: Int
) {
    let small = grid.downsampled
    parallelRanges(channels * grid.batch, threads: threads) { items in
        for item in items {
            let c = item / grid.batch, b = item % grid.batch
            let row = output + c * small.rowLength
            clearBorder(row, grid: small, image: b)
            let src = input + c * grid.rowLength
            for y in 0..<small.height {
                let top = src + grid.interior(image: b, row: 2 * y), bottom = src + grid.interior(image: b, row: 2 * y + 1)
                let d = row + small.interior(image: b, row: y)
                for x in 0..<small.width {
                    d[x] = (top[2 * x] + top[2 * x + 1] + bottom[2 * x] + bottom[2 * x + 1]) * 0.25
                }
            }
        }
    }
}

/// The nearest codebook row of each of `count` vectors, by squared Euclidean distance
/// `(|z|^2 + |e|^2) - 2 z.e` as taming's `VectorQuantizer2` computes it; ties go to the lowest
/// index (`torch.argmin`). `vectors` is `[dim, count]` (channel-major, one image's latents),
/// `codebook` `[codes, dim]` with `codeNorms[k] = |e_k|^2`; `scores` holds `codes * count` floats.
func nearestCodes(
    vectors: UnsafePointer<Float>, count: Int, dim: Int, codebook: UnsafePointer<Float>, codeNorms: UnsafePointer<Float>,
    codes: Int, scores: UnsafeMutablePointer<Float>, into tokens: UnsafeMutablePointer<Int32>
) {
    BLAS.gemm(m: codes, n: count, k: dim, a: codebook, lda: dim, b: vectors, ldb: count, beta: 0, c: scores, ldc: count)
    for p in 0..<count {
        var norm: Float = 0
        for c in 0..<dim { norm += vectors[c * count + p] * vectors[c * count + p] }
        var best = 0
        var bestDistance = Float.infinity
        for k in 0..<codes {
            let distance = (norm + codeNorms[k]) - 2 * scores[k * count + p]
            if distance < bestDistance {
                bestDistance = distance
                best = k
            }
        }
        tokens[p] = Int32(best)
    }
}
