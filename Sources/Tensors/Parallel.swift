import Dispatch

/// Splits element-wise work over a few Dispatch workers while BLAS is idle (the inference
/// thread owns the BLAS calls; its element-wise passes between them would otherwise leave the
/// second core to OpenBLAS's spinning worker).
public enum Parallel {
    /// Below this many elements per worker a pass runs inline: a Dispatch round trip costs
    /// a few microseconds.
    public static let minimumElementsPerWorker = 16_384

    /// Splits the output columns `columns` (their start a multiple of 16) of a bf16 kernel call
    /// into whole 64-column blocks (the AVX-512 tile's width) over at most `threads` workers, at
    /// most one per `minimumBlocksPerWorker` blocks; one part runs inline.
    @inline(__always)
    static func columnBlocks(_ columns: Range<Int>, threads: Int, minimumBlocksPerWorker: Int = 1, _ body: (Range<Int>) -> Void) {
        let blocks = (columns.count + 63) / 64
        let parts = min(max(threads, 1), blocks / max(minimumBlocksPerWorker, 1))
        if parts <= 1 {
            if !columns.isEmpty { body(columns) }
            return
        }
        withoutActuallyEscaping(body) { escapable in
            nonisolated(unsafe) let run = escapable
            DispatchQueue.concurrentPerform(iterations: parts) { part in
                let first = columns.lowerBound + blocks * part / parts * 64
                run(first..<min(columns.upperBound, columns.lowerBound + blocks * (part + 1) / parts * 64))
            }
        }
    }

    /// Runs `body` over `0..<count` split into at most `threads` contiguous ranges, using fewer
    /// workers when `count * elementsPerItem` is small. Ranges are disjoint; `body` must write
    /// only the items of its range.
    @inline(__always)
    public static func ranges(_ count: Int, threads: Int, elementsPerItem: Int = 1, _ body: (Range<Int>) -> Void) {
        let work = count * max(elementsPerItem, 1)
        let parts = min(max(threads, 1), count, max(1, work / minimumElementsPerWorker))
        if parts <= 1 {
            if count > 0 { body(0..<count) }
            return
        }
        withoutActuallyEscaping(body) { escapable in
            nonisolated(unsafe) let run = escapable
            DispatchQueue.concurrentPerform(iterations: parts) { p in
                run((count * p / parts)..<(count * (p + 1) / parts))
            }
        }
    }
}
