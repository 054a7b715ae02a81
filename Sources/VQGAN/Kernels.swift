import Dispatch
import Tensors

// Activations live in a zero-padded, channel-major layout: each channel row holds every image
// of the pass as an (H+2) x (W+2) block, whose one-pixel border is zero when the tensor is a
// convolution input, followed by slack up to a multiple of 64 floats. A 3x3 convolution then
// needs no im2col copy: tap (dy, dx) reads the same [channels, columns] matrix shifted by
// `dy*(W+2) + dx` floats, so a convolution is nine GEMMs that accumulate into one output.
// Column j = y*(W+2) + x of an image computes output pixel (y, x) and is written shifted by
// `(W+2) + 1`, at the pixel's padded place; the GEMMs span the H*(W+2) columns of the
// interior rows, of which the two per row with x >= W land on the border with meaningless
// values. Border and slack positions are read only by such meaningless columns, and a
// buffer's border and slack are rewritten (zero) before it serves as a convolution input.
// Columns go in blocks of about 2 MB of output so that the nine taps accumulate in cache.
// The float32 convolutions of the large stages take another path on the same layout: Winograd
// F(4x4, 3x3) (`WinogradConvolution`), which reads the zero border and writes only interiors.
//
// By default the GEMMs cover one image at a time (`Grid.convolutionSpans`), with the same shapes and
// 256-byte alignment whatever the batch, so an image decodes to the same bits alone or in
// any batch: OpenBLAS's Haswell kernels round a column differently depending on where it
// falls in a larger GEMM, and this network amplifies such last-bit differences to about
// 1e-5. With `batchedGEMM` a GEMM spans all the images of a pass, which speeds up only the
// 16 x 16 and 32 x 32 stages.

/// The spatial shape of one stage of the decoder over a batch.
struct Grid: Equatable {
    let batch: Int
    let height: Int
    let width: Int
    /// One GEMM for the whole batch instead of one per image.
    var batchedGEMM = false

    var paddedWidth: Int { width + 2 }
    var paddedHeight: Int { height + 2 }
    /// Floats of one padded image.
    var imageArea: Int { paddedWidth * paddedHeight }
    /// Floats per image per channel: the padded image and slack up to a multiple of 16
    /// (a 64-byte cache line).
    var imageStride: Int { (imageArea + 15) / 16 * 16 }
    /// Floats per channel row: all images, then the two floats past the last image that the
    /// farthest tap of its last (meaningless) column reads, rounded up to a multiple of 64.
    var rowLength: Int { (batch * imageStride + 2 + 63) / 64 * 64 }
    var upsampled: Grid { Grid(batch: batch, height: 2 * height, width: 2 * width, batchedGEMM: batchedGEMM) }
    /// The columns of a convolution's GEMMs: `count` ranges of `length` columns, `step` apart,
    /// from the first column; outputs go `paddedWidth + 1` further.
    var convolutionSpans: (count: Int, step: Int, length: Int) {
        let perImage = height * paddedWidth
        return batchedGEMM ? (1, 0, (batch - 1) * imageStride + perImage) : (batch, imageStride, perImage)
    }
    /// The columns of whole padded images, as `convolutionSpans`.
    var imageSpans: (count: Int, step: Int, length: Int) {
        batchedGEMM ? (1, 0, (batch - 1) * imageStride + imageArea) : (batch, imageStride, imageArea)
    }

    /// The images of one pass as the Winograd convolution sees them.
    var paddedImages: PaddedImages {
        PaddedImages(batch: batch, height: height, width: width, imageStride: imageStride, channelStride: rowLength)
    }

    /// Offset of interior pixel (y, 0) of image b inside a channel row.
    @inline(__always)
    func interior(image b: Int, row y: Int) -> Int { b * imageStride + (y + 1) * paddedWidth + 1 }
}

/// Runs `body` over `0..<count` split into at most `threads` contiguous ranges.
@inline(__always)
func parallelRanges(_ count: Int, threads: Int, _ body: (Range<Int>) -> Void) {
    let parts = min(max(threads, 1), count)
    if parts <= 1 {
        if count > 0 { body(0..<count) }
        return
    }
    // The ranges are disjoint and every caller writes only the items of its range: the
    // pointers that `body` captures are shared but never written from two workers.
    withoutActuallyEscaping(body) { escapable in
        nonisolated(unsafe) let work = escapable
        DispatchQueue.concurrentPerform(iterations: parts) { p in
            work((count * p / parts)..<(count * (p + 1) / parts))
        }
    }
}

typealias V16 = SIMD16<Float>

@inline(__always)
func load16(_ p: UnsafePointer<Float>) -> V16 { UnsafeRawPointer(p).loadUnaligned(as: V16.self) }

@inline(__always)
func store16(_ v: V16, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: V16.self) }

/// `x * sigmoid(x)` on 16 lanes (`FastMath.exp` inlines here: it is `@inlinable`).
@inline(__always)
func swish16(_ x: V16) -> V16 { x / (1 + FastMath.exp(-x)) }

@inline(__always)
func swish1(_ x: Float) -> Float { x / (1 + FastMath.exp(-x)) }

@inline(__always)
func rowSum(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = V16()
    var i = 0
    while i + 16 <= n { acc += load16(p + i); i += 16 }
    var s = acc.sum()
    while i < n { s += p[i]; i += 1 }
    return s
}

@inline(__always)
func rowSquaredDeviation(_ p: UnsafePointer<Float>, _ n: Int, _ mean: Float) -> Float {
    var acc = V16()
    let m = V16(repeating: mean)
    var i = 0
    while i + 16 <= n { let d = load16(p + i) - m; acc += d * d; i += 16 }
    var s = acc.sum()
    while i < n { let d = p[i] - mean; s += d * d; i += 1 }
    return s
}

/// Mean and 1 / standard deviation of one group of channels of image `b`: one pass, each row's
/// mean and squared deviations from L1, rows merged by Chan et al.'s pairwise update (as exact
/// as two passes).
@inline(__always)
func groupStatistics(
    _ input: UnsafePointer<Float>, grid: Grid, image b: Int, channels: Range<Int>, eps: Float
) -> (mean: Float, inverse: Float) {
    let ld = grid.rowLength, w = grid.width
    var n = 0.0, mean = 0.0, squares = 0.0
    let rowCount = Double(w)
    for c in channels {
        let base = input + c * ld
        for y in 0..<grid.height {
            let row = base + grid.interior(image: b, row: y)
            let rowMean = rowSum(row, w) / Float(w)
            let rowSquares = Double(rowSquaredDeviation(row, w, rowMean))
            let total = n + rowCount
            let delta = Double(rowMean) - mean
            mean += delta * rowCount / total
            squares += rowSquares + delta * delta * n * rowCount / total
            n = total
        }
    }
    return (Float(mean), Float(1 / (squares / n + Double(eps)).squareRoot()))
}

/// `output = swish(GroupNorm(input))` over the interior of every image, with the border of
/// `output` set to zero (it is the next convolution's input). `input` may have any border.
func groupNormSwish(
    _ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>,
    channels: Int, grid: Grid, groups: Int, eps: Float,
    weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, threads: Int
) {
    let perGroup = channels / groups
    let ld = grid.rowLength, w = grid.width, h = grid.height, wp = grid.paddedWidth
    parallelRanges(grid.batch * groups, threads: threads) { items in
        for item in items {
            let b = item / groups, g = item % groups
            let first = g * perGroup
            let (mean, inv) = groupStatistics(input, grid: grid, image: b, channels: first..<(first + perGroup), eps: eps)
            for c in first..<(first + perGroup) {
                let scale = inv * weight[c], shift = bias[c] - mean * scale
                let vs = V16(repeating: scale), vt = V16(repeating: shift)
                let src = input + c * ld + b * grid.imageStride
                let dst = output + c * ld + b * grid.imageStride
                let slackEnd = b == grid.batch - 1 ? ld - b * grid.imageStride : grid.imageStride
                (dst + grid.imageArea).update(repeating: 0, count: slackEnd - grid.imageArea)
                dst.update(repeating: 0, count: wp)
                (dst + (h + 1) * wp).update(repeating: 0, count: wp)
                for y in 1...h {
                    let s = src + y * wp + 1, d = dst + y * wp + 1
                    d[-1] = 0
                    d[w] = 0
                    var x = 0
                    while x + 16 <= w { store16(swish16(load16(s + x) * vs + vt), d + x); x += 16 }
                    while x < w { d[x] = swish1(s[x] * scale + shift); x += 1 }
                }
            }
        }
    }
}

/// Nearest-neighbour x2 upsampling of the interior of `input` (on `grid`) into `output`
/// (on `grid.upsampled`), with a zero border.
func upsampleNearest(
    _ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, channels: Int, grid: Grid, threads: Int
) {
    let big = grid.upsampled
    let w = grid.width, h = grid.height, wp2 = big.paddedWidth
    parallelRanges(channels * grid.batch, threads: threads) { items in
        for item in items {
            let c = item / grid.batch, b = item % grid.batch
            let src = input + c * grid.rowLength
            let dst = output + c * big.rowLength + b * big.imageStride
            let slackEnd = b == grid.batch - 1 ? big.rowLength - b * big.imageStride : big.imageStride
            (dst + big.imageArea).update(repeating: 0, count: slackEnd - big.imageArea)
            dst.update(repeating: 0, count: wp2)
            (dst + (big.height + 1) * wp2).update(repeating: 0, count: wp2)
            for y in 0..<h {
                let s = src + grid.interior(image: b, row: y)
                let d = dst + (2 * y + 1) * wp2
                d[0] = 0
                d[2 * w + 1] = 0
                for x in 0..<w {
                    let v = s[x]
                    d[1 + 2 * x] = v
                    d[2 + 2 * x] = v
                }
                (d + wp2).update(from: d, count: wp2)
            }
        }
    }
}

/// A 3x3 convolution, weight re-laid out as `[9 taps][out][in]` (tap = 3 dy + dx): float32
/// (OpenBLAS GEMMs, or Winograd F(4x4, 3x3) with only the transformed weights kept) or, in
/// bf16 mode, packed for the bf16 kernels (no float32 copy kept).
struct Convolution {
    let weight: FloatBuffer?
    let packed: PackedConvolution?
    let bias: FloatBuffer?
    let inChannels: Int
    let outChannels: Int
    /// Set for the float32 convolutions of the large stages, in place of `weight`.
    var winograd: WinogradConvolution? = nil

    /// `output (+)= conv(input)` on `grid` from bfloat16 pairs, float32 out; bias as `apply`.
    func apply(_ input: BF16PairRows, into output: UnsafeMutablePointer<Float>, grid: Grid, accumulate: Bool, threads: Int) {
        guard let packed else { preconditionFailure("a float32 convolution has no bf16 weights") }
        let spans = grid.convolutionSpans
        for span in 0..<spans.count {
            let first = span * spans.step
            packed.apply(
                input, paddedWidth: grid.paddedWidth, columns: first..<(first + spans.length),
                into: output + grid.paddedWidth + 1, outputStride: grid.rowLength, accumulate: accumulate, threads: threads)
        }
        if let bias {
            for span in 0..<spans.count {
                addBias(
                    bias.pointer, to: output + span * spans.step + grid.paddedWidth + 1, count: spans.length,
                    channels: outChannels, rowLength: grid.rowLength, threads: threads)
            }
        }
    }

    /// `output (+)= conv(input)` on `grid`, GEMMs on OpenBLAS's threads. With `accumulate`, the
    /// convolution is added to what `output` holds (a residual).
    func apply(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, grid: Grid, accumulate: Bool, threads: Int) {
        var scratch = ScratchBuffer()
        apply(input, into: output, grid: grid, accumulate: accumulate, threads: threads, gemmWorkers: 1, winogradScratch: &scratch)
    }

    /// `output (+)= conv(input)` on `grid`: Winograd, or nine accumulating GEMMs per block of
    /// columns. With `gemmWorkers` > 1 the GEMMs are split over that many Dispatch workers, each
    /// a BLAS call of its own (the caller has set OpenBLAS to one thread); `winogradScratch` is
    /// the Winograd convolution's reused scratch.
    func apply(
        _ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, grid: Grid, accumulate: Bool, threads: Int,
        gemmWorkers: Int, winogradScratch: inout ScratchBuffer
    ) {
        if let winograd {
            winograd.apply(
                input, into: output, images: grid.paddedImages, bias: bias?.pointer, accumulate: accumulate, scratch: &winogradScratch,
                threads: threads, gemmWorkers: gemmWorkers)
            return
        }
        guard let weight else { preconditionFailure("a bf16 convolution has no float32 weights") }
        let ld = grid.rowLength, wp = grid.paddedWidth
        let taps = inChannels * outChannels
        let spans = grid.convolutionSpans
        // Column blocks whose output (about 2 MB) stays in cache across the nine taps: 20%
        // faster than whole-image GEMMs at 128 channels x 256 px with K = 128.
        let block = max(1024, (1 << 19) / outChannels / 64 * 64)
        let (inC, outC) = (inChannels, outChannels)
        forEachRowPart(outC, workers: gemmWorkers) { rows in
            let m = rows.count, a = weight.pointer + rows.lowerBound * inC, c = output + rows.lowerBound * ld
            for span in 0..<spans.count {
                var first = span * spans.step
                let end = first + spans.length
                while first < end {
                    let n = min(block, end - first)
                    for k in 0..<9 {
                        BLAS.gemm(
                            m: m, n: n, k: inC,
                            a: a + k * taps, lda: inC,
                            b: input + first + (k / 3) * wp + (k % 3), ldb: ld,
                            beta: accumulate || k > 0 ? 1 : 0,
                            c: c + first + wp + 1, ldc: ld)
                    }
                    first += n
                }
            }
        }
        if let bias {
            for span in 0..<spans.count {
                addBias(
                    bias.pointer, to: output + span * spans.step + wp + 1, count: spans.length,
                    channels: outChannels, rowLength: ld, threads: threads)
            }
        }
    }

    /// The final convolution to few channels: one GEMM `[9 * out, in] x input` reads the input
    /// once, then each output pixel sums its nine shifted taps, adds the bias and is written
    /// unpadded to `output[b][o][y][x]` (images counted from `output`).
    func applyToImages(
        _ input: UnsafePointer<Float>, scratch: UnsafeMutablePointer<Float>, into output: UnsafeMutablePointer<Float>, grid: Grid, threads: Int,
        gemmWorkers: Int = 1
    ) {
        guard let weight else { preconditionFailure("the last convolution is always float32") }
        let ld = grid.rowLength, wp = grid.paddedWidth, w = grid.width, h = grid.height
        let out = outChannels
        let spans = grid.imageSpans
        for span in 0..<spans.count {
            let offset = span * spans.step
            rowSplitGEMM(
                m: 9 * out, n: spans.length, k: inChannels, a: weight.pointer, lda: inChannels, b: input + offset, ldb: ld,
                c: scratch + offset, ldc: ld, workers: gemmWorkers)
        }
        let biasPointer = bias?.pointer
        parallelRanges(grid.batch * out * h, threads: threads) { items in
            for item in items {
                let y = item % h, o = (item / h) % out, b = item / (h * out)
                let dst = output + ((b * out + o) * h + y) * w
                let base = b * grid.imageStride + y * wp
                let beta = biasPointer?[o] ?? 0
                var x = 0
                while x + 16 <= w {
                    var acc = V16(repeating: beta)
                    for k in 0..<9 { acc += load16(scratch + (k * out + o) * ld + base + (k / 3) * wp + (k % 3) + x) }
                    store16(acc, dst + x)
                    x += 16
                }
                while x < w {
                    var acc = beta
                    for k in 0..<9 { acc += scratch[(k * out + o) * ld + base + (k / 3) * wp + (k % 3) + x] }
                    dst[x] = acc
                    x += 1
                }
            }
        }
    }
}

/// Runs `body` over two halves of `0..<rows` (the first a multiple of 16 rows), on up to two
/// workers. The split never depends on `workers`: OpenBLAS's kernels may round a row
/// differently depending on where it falls in a GEMM, and an image must decode to the same bits
/// with any number of threads.
@inline(__always)
func forEachRowPart(_ rows: Int, workers: Int, _ body: (Range<Int>) -> Void) {
    let half = min(rows, (rows / 2 + 15) / 16 * 16)
    let parts = half < rows ? [0..<half, half..<rows] : [0..<rows]
    parallelRanges(parts.count, threads: workers) { items in
        for item in items { body(parts[item]) }
    }
}

/// `C = A B`, the rows of A and C in two parts (`forEachRowPart`) on up to `workers` Dispatch
/// workers, one BLAS call each.
func rowSplitGEMM(
    m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
    c: UnsafeMutablePointer<Float>, ldc: Int, workers: Int
) {
    forEachRowPart(m, workers: workers) { rows in
        BLAS.gemm(
            m: rows.count, n: n, k: k, a: a + rows.lowerBound * lda, lda: lda, b: b, ldb: ldb, beta: 0,
            c: c + rows.lowerBound * ldc, ldc: ldc)
    }
}

/// Adds `bias[c]` to the `count` floats at the start of channel row c (the GEMMs' output
/// columns, border positions included: they are ignored anyway).
func addBias(
    _ bias: UnsafePointer<Float>, to data: UnsafeMutablePointer<Float>, count: Int, channels: Int, rowLength: Int,
    threads: Int
) {
    parallelRanges(channels, threads: threads) { rows in
        for c in rows {
            let row = data + c * rowLength, v = V16(repeating: bias[c])
            var i = 0
            while i + 16 <= count { store16(load16(row + i) + v, row + i); i += 16 }
            while i < count { row[i] += bias[c]; i += 1 }
        }
    }
}

// MARK: bf16 convolution inputs

/// `swish(GroupNorm(input))` as `groupNormSwish`, written as bfloat16 pairs (the bf16
/// convolutions' input), border and slack zero.
func groupNormSwish(
    _ input: UnsafePointer<Float>, intoPairs output: BF16PairRows,
    channels: Int, grid: Grid, groups: Int, eps: Float,
    weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, threads: Int
) {
    output.reserve(channels: channels, rowLength: grid.rowLength)
    let perGroup = channels / groups
    let ld = grid.rowLength, w = grid.width, h = grid.height, wp = grid.paddedWidth
    parallelRanges(grid.batch * groups, threads: threads) { items in
        withUnsafeTemporaryAllocation(of: Float.self, capacity: max(wp, 16)) { row in
            let d = row.baseAddress!
            for item in items {
                let b = item / groups, g = item % groups
                let first = g * perGroup
                let (mean, inv) = groupStatistics(input, grid: grid, image: b, channels: first..<(first + perGroup), eps: eps)
                for c in first..<(first + perGroup) {
                    let scale = inv * weight[c], shift = bias[c] - mean * scale
                    let vs = V16(repeating: scale), vt = V16(repeating: shift)
                    let src = input + c * ld + b * grid.imageStride
                    let start = b * grid.imageStride
                    writeZeros(output, channel: c, columns: start..<(start + wp), scratch: d)
                    writeZeros(output, channel: c, columns: (start + (h + 1) * wp)..<(start + grid.imageArea), scratch: d)
                    let slackEnd = b == grid.batch - 1 ? ld : start + grid.imageStride
                    writeZeros(output, channel: c, columns: (start + grid.imageArea)..<slackEnd, scratch: d)
                    for y in 1...h {
                        let s = src + y * wp + 1
                        d[0] = 0
                        d[w + 1] = 0
                        var x = 0
                        while x + 16 <= w { store16(swish16(load16(s + x) * vs + vt), d + 1 + x); x += 16 }
                        while x < w { d[1 + x] = swish1(s[x] * scale + shift); x += 1 }
                        output.write(d, count: wp, channel: c, column: start + y * wp)
                    }
                }
            }
        }
    }
}

/// Nearest-neighbour x2 upsampling as `upsampleNearest`, written as bfloat16 pairs on
/// `grid.upsampled`, border and slack zero.
func upsampleNearest(_ input: UnsafePointer<Float>, intoPairs output: BF16PairRows, channels: Int, grid: Grid, threads: Int) {
    let big = grid.upsampled
    output.reserve(channels: channels, rowLength: big.rowLength)
    let w = grid.width, h = grid.height, wp2 = big.paddedWidth
    parallelRanges(channels * grid.batch, threads: threads) { items in
        withUnsafeTemporaryAllocation(of: Float.self, capacity: max(wp2, 16)) { row in
            let d = row.baseAddress!
            for item in items {
                let c = item / grid.batch, b = item % grid.batch
                let src = input + c * grid.rowLength
                let start = b * big.imageStride
                writeZeros(output, channel: c, columns: start..<(start + wp2), scratch: d)
                writeZeros(output, channel: c, columns: (start + (big.height + 1) * wp2)..<(start + big.imageArea), scratch: d)
                let slackEnd = b == grid.batch - 1 ? big.rowLength : start + big.imageStride
                writeZeros(output, channel: c, columns: (start + big.imageArea)..<slackEnd, scratch: d)
                for y in 0..<h {
                    let s = src + grid.interior(image: b, row: y)
                    d[0] = 0
                    d[2 * w + 1] = 0
                    for x in 0..<w {
                        d[1 + 2 * x] = s[x]
                        d[2 + 2 * x] = s[x]
                    }
                    output.write(d, count: wp2, channel: c, column: start + (2 * y + 1) * wp2)
                    output.write(d, count: wp2, channel: c, column: start + (2 * y + 2) * wp2)
                }
            }
        }
    }
}

/// Zeros at `columns` of one channel; `scratch` holds at least 16 floats.
@inline(__always)
func writeZeros(_ output: BF16PairRows, channel: Int, columns: Range<Int>, scratch: UnsafeMutablePointer<Float>) {
    scratch.update(repeating: 0, count: 16)
    var column = columns.lowerBound
    while column < columns.upperBound {
        let count = min(16, columns.upperBound - column)
        output.write(scratch, count: count, channel: channel, column: column)
        column += count
    }
}
