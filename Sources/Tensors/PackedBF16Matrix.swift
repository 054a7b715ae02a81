import CGEMMKernels

/// A weight matrix `W[n, k]` (PyTorch's `[out, in]`) rounded to bfloat16 and packed once into
/// the kernels' panel layout: the only copy of the weight that stays resident in bf16 mode.
public final class PackedBF16Matrix: @unchecked Sendable {
    // Immutable after init, so it may be read from any thread.
    let storage: UnsafeMutablePointer<UInt16>
    public let rows: Int  // n: outputs
    public let columns: Int  // k: inputs
    public let kernel: BF16Kernel

    /// Packs float32 `weight[rows, columns]` (row stride `stride`, default `columns`).
    public init(weight: UnsafePointer<Float>, rows: Int, columns: Int, stride: Int? = nil, kernel: BF16Kernel) {
        precondition(rows > 0 && columns > 0 && rows <= Int(Int32.max) && columns <= Int(Int32.max), "matrix shape out of range")
        self.rows = rows
        self.columns = columns
        self.kernel = kernel
        let count = gemm_packed_count(Int32(rows), Int32(columns))
        let raw = PageAllocation.allocate(byteCount: count * 2)
        storage = raw.bindMemory(to: UInt16.self, capacity: count)
        gemm_pack_bf16(weight, Int32(rows), Int32(columns), Int32(stride ?? columns), storage)
    }

    deinit { PageAllocation.deallocate(UnsafeMutableRawPointer(storage), byteCount: byteCount) }

    /// Bytes held.
    public var byteCount: Int { gemm_packed_count(Int32(rows), Int32(columns)) * 2 }

    /// The weight as float32 (each value bfloat16-rounded), `[rows, columns]`.
    public func unpacked() -> [Float] {
        var out = [Float](repeating: 0, count: rows * columns)
        out.withUnsafeMutableBufferPointer { gemm_unpack_bf16(storage, Int32(rows), Int32(columns), $0.baseAddress!, Int32(columns)) }
        return out
    }

    /// `output[m, rows] (+)= bf16(input[m, columns]) W^T + bias`, split by output columns over
    /// `workspace.threads` workers (each runs the kernel on its own panels; no thread pool of
    /// a library competes for the cores).
    public func multiply(
        _ input: UnsafePointer<Float>, rows m: Int, inputStride: Int? = nil,
        bias: UnsafePointer<Float>?, accumulate: Bool,
        into output: UnsafeMutablePointer<Float>, outputStride: Int? = nil,
        workspace: GEMMWorkspace
    ) {
        guard m > 0 else { return }
        let level = kernel.level
        let rowBytes = gemm_prepared_row_bytes(level, Int32(columns))
        let prepared = workspace.reserve(bytes: m * rowBytes)
        gemm_prepare_rows(level, input, Int32(m), Int32(columns), Int32(inputStride ?? columns), prepared)
        let n = rows, k = columns, ldy = outputStride ?? rows
        let packed = UnsafePointer(storage)
        // Tiny products (under about a million multiply-adds per worker) run inline.
        let blocksPerMillion = max(1, (1 << 20) / max(1, m * k * 64))
        Parallel.columnBlocks(0..<n, threads: workspace.threads, minimumBlocksPerWorker: blocksPerMillion) { part in
            let status = gemm_bf16(
                level, Int32(m), Int32(n), Int32(part.lowerBound), Int32(part.upperBound), Int32(k), prepared, packed, bias, output,
                Int32(ldy), accumulate ? 1 : 0)
            precondition(status == 0, "bf16 kernel \(kernel) cannot run on this CPU")
        }
    }
}

/// Scratch memory for a bf16 GEMM's rounded activations, and the worker count: one per
/// inference thread (an engine owns one), grown once and then reused.
public final class GEMMWorkspace {
    public let threads: Int
    private var storage: UnsafeMutableRawPointer?
    private var capacity = 0

    public init(threads: Int = 2) {
        self.threads = max(1, threads)
    }

    deinit { storage?.deallocate() }

    func reserve(bytes: Int) -> UnsafeMutableRawPointer {
        if capacity < bytes {
            storage?.deallocate()
            capacity = max(bytes, capacity + capacity / 2)
            storage = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 64)
        }
        return storage!
    }
}
