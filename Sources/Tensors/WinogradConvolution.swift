import CGEMMKernels

/// Images in the zero-padded, channel-major layout of the VQGAN activations: channel c of image b
/// is an (height + 2) x (width + 2) block at `c * channelStride + b * imageStride`, whose
/// one-pixel border is zero when it is a convolution's input.
public struct PaddedImages: Equatable, Sendable {
    public var batch: Int
    public var height: Int
    public var width: Int
    public var imageStride: Int
    public var channelStride: Int

    public init(batch: Int, height: Int, width: Int, imageStride: Int, channelStride: Int) {
        self.batch = batch
        self.height = height
        self.width = width
        self.imageStride = imageStride
        self.channelStride = channelStride
    }
}

/// A 3x3 convolution (stride 1, padding 1) by Winograd F(4x4, 3x3): each 4 x 4 output tile
/// from a 6 x 6 input tile, the channel mixing as 36 float32 GEMMs (one per transform
/// position) of `[out, in] x [in, tiles]`: 4x fewer multiply-adds than the nine taps. Tiles
/// go in blocks of whole tile rows of one image, so that the transformed arrays stay in cache,
/// and a block's shape depends only on the image and the channel counts: an image gives the
/// same bits alone or in a batch, with any number of threads. The weights are transformed once,
/// `[36][out][in]`: 4x the floats of the plain convolution.
public final class WinogradConvolution: @unchecked Sendable {
    // Immutable after init.
    let weights: FloatBuffer
    public let outChannels: Int
    public let inChannels: Int

    public var byteCount: Int { weights.count * MemoryLayout<Float>.stride }

    /// `weight` is tap-major float32 `[9][out][in]` (tap = 3 dy + dx).
    public init(weight: UnsafePointer<Float>, outChannels: Int, inChannels: Int) {
        precondition(outChannels > 0 && inChannels > 0 && outChannels <= 1 << 16 && inChannels <= 1 << 16, "convolution shape out of range")
        self.outChannels = outChannels
        self.inChannels = inChannels
        weights = FloatBuffer(count: 36 * outChannels * inChannels)
        winograd_f43_transform_weights(weight, Int32(outChannels), Int32(inChannels), weights.pointer)
    }

    /// Tile rows per block for images `width` pixels wide: about 2^16 / (in + out) tiles (the
    /// transformed input and output of a block: 36 x 4 bytes x 2^16, 9.4 MB), whole tile rows.
    public func tileRowsPerBlock(width: Int) -> Int {
        let tilesPerRow = (width + 3) / 4
        return max(1, (1 << 16) / (inChannels + outChannels) / tilesPerRow)
    }

    /// `output (+)= conv(input) + bias` over the interior of every image of `images` (the
    /// border of `output` is not written). `input`'s border must be zero. The transforms run on
    /// `threads` Dispatch workers; the GEMMs on `gemmWorkers` (each a BLAS call of its own: set
    /// OpenBLAS to one thread when that is more than one), else in turn on OpenBLAS's threads.
    /// `tileRowsPerBlock` overrides the block height (tests).
    public func apply(
        _ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, images: PaddedImages,
        bias: UnsafePointer<Float>?, accumulate: Bool, scratch: inout ScratchBuffer, threads: Int, gemmWorkers: Int,
        tileRowsPerBlock rowsOverride: Int? = nil
    ) {
        let h = images.height, w = images.width
        guard images.batch > 0, h > 0, w > 0 else { return }
        let tilesPerRow = (w + 3) / 4, tileRows = (h + 3) / 4
        let rowsPerBlock = max(1, rowsOverride ?? tileRowsPerBlock(width: w))
        let maxTiles = min(rowsPerBlock, tileRows) * tilesPerRow
        let vCount = 36 * inChannels * maxTiles, mCount = 36 * outChannels * maxTiles
        let base = scratch.reserve(vCount + mCount)
        let v = base, m = base + vCount
        let rowScratch = winograd_f43_scratch_count(Int32(w))
        let (inC, outC, u) = (inChannels, outChannels, UnsafePointer(weights.pointer))
        let mutableInput = UnsafeMutablePointer(mutating: input)  // the input transform only reads it
        // The two image descriptions, read (never written) by every worker.
        let descriptions = UnsafeMutablePointer<winograd_image>.allocate(capacity: 2)
        defer { descriptions.deallocate() }
        let source = UnsafePointer(descriptions), target = UnsafePointer(descriptions + 1)
        for b in 0..<images.batch {
            descriptions[0] = winograd_image(
                data: mutableInput + b * images.imageStride, channel_stride: images.channelStride, channels: Int32(inC),
                height: Int32(h), width: Int32(w))
            descriptions[1] = winograd_image(
                data: output + b * images.imageStride, channel_stride: images.channelStride, channels: Int32(outC),
                height: Int32(h), width: Int32(w))
            var firstRow = 0
            while firstRow < tileRows {
                let lastRow = min(tileRows, firstRow + rowsPerBlock)
                let tiles = (lastRow - firstRow) * tilesPerRow
                let (r0, r1) = (Int32(firstRow), Int32(lastRow))
                Parallel.ranges(inC, threads: threads, elementsPerItem: tiles * 36) { channels in
                    withUnsafeTemporaryAllocation(of: Float.self, capacity: rowScratch) { row in
                        winograd_f43_input(source, Int32(channels.lowerBound), Int32(channels.upperBound), r0, r1, v, row.baseAddress!)
                    }
                }
                Parallel.ranges(36, threads: gemmWorkers, elementsPerItem: Parallel.minimumElementsPerWorker) { positions in
                    for p in positions {
                        BLAS.gemm(
                            m: outC, n: tiles, k: inC, a: u + p * outC * inC, lda: inC, b: v + p * inC * tiles, ldb: tiles,
                            beta: 0, c: m + p * outC * tiles, ldc: tiles)
                    }
                }
                Parallel.ranges(outC, threads: threads, elementsPerItem: tiles * 36) { channels in
                    withUnsafeTemporaryAllocation(of: Float.self, capacity: rowScratch) { row in
                        winograd_f43_output(
                            target, Int32(channels.lowerBound), Int32(channels.upperBound), r0, r1, m, bias, accumulate ? 1 : 0,
                            row.baseAddress!)
                    }
                }
                firstRow = lastRow
            }
        }
    }
}
