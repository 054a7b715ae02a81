import CGEMMKernels

/// A 3x3 convolution's weights, rounded to bfloat16 and laid out once for the bf16 kernels: the
/// only copy that stays resident in bf16 mode. Inputs are pair-interleaved bfloat16 activations
/// (`BF16PairRows`), outputs float32.
public final class PackedConvolution: @unchecked Sendable {
    // Immutable after init.
    let storage: UnsafeMutableRawPointer
    public let outChannels: Int
    public let inChannels: Int
    public let kernel: BF16Kernel
    public let byteCount: Int

    /// `weight` is tap-major float32 `[9][out][in]` (tap = 3 dy + dx).
    public init(weight: UnsafePointer<Float>, outChannels: Int, inChannels: Int, kernel: BF16Kernel) {
        precondition(outChannels > 0 && inChannels > 0 && outChannels <= 1 << 20 && inChannels <= 1 << 20, "convolution shape out of range")
        self.outChannels = outChannels
        self.inChannels = inChannels
        self.kernel = kernel
        byteCount = gemm_conv_weight_count(kernel.level, Int32(outChannels), Int32(inChannels)) * 4
        storage = PageAllocation.allocate(byteCount: byteCount)
        gemm_conv_prepare_weights(kernel.level, weight, Int32(outChannels), Int32(inChannels), storage)
    }

    deinit { PageAllocation.deallocate(storage, byteCount: byteCount) }

    /// `output[o * outputStride + col] (+)= conv(input)[o, col]` for `columns` (their start a
    /// multiple of 16): column `col` reads input columns `col + dy * paddedWidth + dx`. The
    /// columns are split over `threads` workers.
    public func apply(
        _ input: BF16PairRows, paddedWidth: Int, columns: Range<Int>,
        into output: UnsafeMutablePointer<Float>, outputStride: Int, accumulate: Bool, threads: Int
    ) {
        precondition(input.channels == inChannels && columns.lowerBound % 16 == 0, "convolution input does not fit")
        guard !columns.isEmpty else { return }
        let level = kernel.level, weights = UnsafeRawPointer(storage)
        Parallel.columnBlocks(columns, threads: threads) { part in
            let status = gemm_bf16_conv3x3(
                level, Int32(outChannels), Int32(inChannels), Int32(part.lowerBound), Int32(part.upperBound), weights, input.pointer,
                input.rowLength, Int32(paddedWidth), output, Int32(outputStride), accumulate ? 1 : 0)
            precondition(status == 0, "bf16 kernel \(kernel) cannot run on this CPU")
        }
    }
}

/// Activations as bfloat16 pairs of channels: `[ceil(channels / 2)][rowLength][2]`, the operand
/// layout of `PackedConvolution` (16 columns of a pair are one 64-byte vector). Owned scratch,
/// grown to the largest use and reused; rows get 64 columns of slack for the kernels' last block.
/// Used by one thread (its owner's).
public final class BF16PairRows {
    public private(set) var pointer: UnsafeMutablePointer<UInt16>
    public private(set) var channels = 0
    public private(set) var rowLength = 0
    private var capacity = 0

    public init() {
        pointer = UnsafeMutablePointer<UInt16>.allocate(capacity: 1)
    }

    /// Lays out `channels` rows of `rowLength` columns (contents unspecified, except that an odd
    /// channel count's unused lane is zero).
    public func reserve(channels: Int, rowLength: Int) {
        let pairs = (channels + 1) / 2
        let needed = (pairs * rowLength + 64) * 2
        if capacity < needed {
            pointer.deallocate()
            capacity = needed
            pointer = UnsafeMutablePointer<UInt16>.allocate(capacity: capacity)
        }
        self.channels = channels
        self.rowLength = rowLength
        // The slack past the last row is read by the last column block: keep it finite.
        (pointer + pairs * rowLength * 2).update(repeating: 0, count: 128)
        if channels % 2 == 1 {
            let row = pointer + (pairs - 1) * rowLength * 2
            for i in 0..<rowLength { row[2 * i + 1] = 0 }
        }
    }

    /// Writes `count` floats of channel `channel` from column `column`, rounded to bfloat16.
    @inline(__always)
    public func write(_ values: UnsafePointer<Float>, count: Int, channel: Int, column: Int) {
        gemm_interleave_bf16(values, Int32(count), pointer + ((channel / 2) * rowLength + column) * 2, Int32(channel % 2))
    }

    deinit { pointer.deallocate() }
}
