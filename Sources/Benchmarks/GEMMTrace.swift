import DurationSeconds
import Tensors

/// The GEMM calls of a piece of work, recorded so that OpenBLAS alone can be timed on exactly
/// those calls afterwards: the benchmark's "what would the GEMMs cost without the rest of the
/// engine" figure, taken on the same machine in the same run (the machines are too noisy to
/// compare against a bound measured on another day).
///
/// Replaying reads model weights in place (they outlive the trace) and gives every activation
/// buffer a scratch buffer of its own, so the replay streams the same weight bytes through the
/// same kernels with the same shapes, leading dimensions, transposes and thread count.
public final class GEMMTrace: @unchecked Sendable {
    public typealias Call = BLAS.GEMMCall

    public private(set) var calls: [Call] = []

    private init() { calls.reserveCapacity(1 << 16) }

    /// Runs `body` and returns what it returned with every GEMM call made while it ran (through
    /// `BLAS.gemmObserver`, set only meanwhile). The trace is not locked: no other thread may call
    /// BLAS meanwhile (in the engine only the inference thread does), and calls may not nest.
    public static func record<T>(_ body: () throws -> T) rethrows -> (T, GEMMTrace) {
        let trace = GEMMTrace()
        BLAS.gemmObserver = { trace.calls.append($0) }
        defer { BLAS.gemmObserver = nil }
        return (try body(), trace)
    }

    /// Calls whose B is a model weight: the linear layers and the output head.
    public var linearLayerCalls: [Call] { calls.filter(\.weightB) }

    /// Seconds OpenBLAS takes for `calls` (best of `repetitions` runs), with scratch activations.
    /// The model whose weights the calls read must still be alive.
    public static func replaySeconds(_ calls: [Call], repetitions: Int = 1) -> Double {
        let scratch = ScratchMemory(calls)
        defer { scratch.release() }
        let resolved = calls.map { call in
            (
                call,
                UnsafePointer(scratch.pointer(for: call.a)),
                call.weightB ? UnsafePointer<Float>(bitPattern: call.b)! : UnsafePointer(scratch.pointer(for: call.b)),
                scratch.pointer(for: call.c)
            )
        }
        var best = Double.infinity
        for _ in 0..<max(1, repetitions) {
            let start = ContinuousClock.now
            for (call, a, b, c) in resolved {
                BLAS.gemm(
                    transposeA: call.transposeA, transposeB: call.transposeB, m: call.m, n: call.n, k: call.k, alpha: call.alpha,
                    a: a, lda: call.lda, b: b, ldb: call.ldb, beta: call.beta, c: c, ldc: call.ldc)
            }
            best = min(best, (ContinuousClock.now - start).inSeconds)
        }
        return best
    }

    /// Stand-ins for the activation buffers: every traced address range (weights excepted) gets
    /// scratch memory laid out as the engine's was. Overlapping ranges (heads' column slices of
    /// one Q/K/V buffer, a buffer reused by several layers) share one region at the same offsets
    /// and alignment, so the replay touches as many bytes, and as cache-hot, as the engine did.
    private struct ScratchMemory {
        private var regions: [(start: UInt, end: UInt, memory: UnsafeMutableRawPointer, base: UnsafeMutableRawPointer)] = []

        init(_ calls: [Call]) {
            var ranges: [(UInt, UInt)] = []
            for call in calls {
                let e = call.extents, size = UInt(MemoryLayout<Float>.stride)
                ranges.append((call.a, call.a + UInt(e.a) * size))
                ranges.append((call.c, call.c + UInt(e.c) * size))
                if !call.weightB { ranges.append((call.b, call.b + UInt(e.b) * size)) }
            }
            ranges.sort { $0.0 < $1.0 }
            var merged: [(UInt, UInt)] = []
            for range in ranges {
                if let last = merged.last, range.0 <= last.1 {
                    merged[merged.count - 1].1 = max(last.1, range.1)
                } else {
                    merged.append(range)
                }
            }
            for (start, end) in merged {
                let alignment = 64, misalignment = Int(start % UInt(alignment))
                let count = Int(end - start) + misalignment
                let memory = UnsafeMutableRawPointer.allocate(byteCount: count, alignment: alignment)
                let base = memory + misalignment
                base.initializeMemory(as: Float.self, repeating: 0.01, count: Int(end - start) / MemoryLayout<Float>.stride)
                regions.append((start, end, memory, base))
            }
        }

        func pointer(for address: UInt) -> UnsafeMutablePointer<Float> {
            // Regions are sorted and disjoint: the last one starting at or before the address.
            var low = 0, high = regions.count - 1
            while low < high {
                let mid = (low + high + 1) / 2
                if regions[mid].start <= address { low = mid } else { high = mid - 1 }
            }
            let region = regions[low]
            precondition(region.start <= address && address < region.end, "untraced address")
            return (region.base + Int(address - region.start)).assumingMemoryBound(to: Float.self)
        }

        func release() { for region in regions { region.memory.deallocate() } }
    }
}

extension BLAS.GEMMCall {
    /// Elements of A, B and C the call touches, counted from their base pointers.
    fileprivate var extents: (a: Int, b: Int, c: Int) {
        let a = transposeA ? (k - 1) * lda + m : (m - 1) * lda + k
        let b = transposeB ? (n - 1) * ldb + k : (k - 1) * ldb + n
        return (a, b, (m - 1) * ldc + n)
    }
}
