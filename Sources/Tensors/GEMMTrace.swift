import COpenBLAS

/// The GEMM calls of a piece of work, recorded so that OpenBLAS alone can be timed on exactly
/// those calls afterwards: the benchmark's "what would the GEMMs cost without the rest of the
/// engine" figure, taken on the same machine in the same run (the machines are too noisy to
/// compare against a bound measured on another day).
///
/// Replaying reads model weights in place (they outlive the trace) and gives every activation
/// buffer a scratch buffer of its own, so the replay streams the same weight bytes through the
/// same kernels with the same shapes, leading dimensions, transposes and thread count.
public final class GEMMTrace: @unchecked Sendable {
    public struct Call: Sendable {
        public let transposeA: Bool, transposeB: Bool
        public let m: Int, n: Int, k: Int
        public let lda: Int, ldb: Int, ldc: Int
        public let alpha: Float, beta: Float
        public let a: UInt, b: UInt, c: UInt
        /// B is a model weight (a linear layer or the tied output embedding).
        public let weightB: Bool

        /// Elements of A, B and C the call touches, counted from their base pointers.
        var extents: (a: Int, b: Int, c: Int) {
            let a = transposeA ? (k - 1) * lda + m : (m - 1) * lda + k
            let b = transposeB ? (n - 1) * ldb + k : (k - 1) * ldb + n
            return (a, b, (m - 1) * ldc + n)
        }
    }

    public private(set) var calls: [Call] = []

    /// Only the thread that makes the GEMM calls touches this, between `record`'s start and end.
    nonisolated(unsafe) static var active: GEMMTrace?

    private init() { calls.reserveCapacity(1 << 16) }

    /// Runs `body` and returns what it returned with the GEMM calls it made on this thread.
    /// Not reentrant; for benchmarks only (the engine's GEMMs run on one inference thread).
    public static func record<T>(_ body: () throws -> T) rethrows -> (T, GEMMTrace) {
        let trace = GEMMTrace()
        active = trace
        defer { active = nil }
        return (try body(), trace)
    }

    @inline(__always)
    static func note(_ call: Call) { active?.calls.append(call) }

    /// Calls whose B is a model weight: the linear layers and the output head.
    public var linearLayerCalls: [Call] { calls.filter(\.weightB) }

    /// Seconds OpenBLAS takes for `calls` (best of `repetitions` runs), with scratch activations.
    /// The model whose weights the calls read must still be alive.
    public static func replaySeconds(_ calls: [Call], repetitions: Int = 1) -> Double {
        var extent: [UInt: Int] = [:]
        for call in calls {
            let e = call.extents
            if !call.weightB { extent[call.b] = max(extent[call.b] ?? 0, e.b) }
            extent[call.a] = max(extent[call.a] ?? 0, e.a)
            extent[call.c] = max(extent[call.c] ?? 0, e.c)
        }
        var scratch: [UInt: UnsafeMutablePointer<Float>] = [:]
        for (address, count) in extent {
            let buffer = UnsafeMutablePointer<Float>.allocate(capacity: count)
            buffer.initialize(repeating: 0.01, count: count)
            scratch[address] = buffer
        }
        defer { for buffer in scratch.values { buffer.deallocate() } }
        let resolved = calls.map { call in
            (call,
             UnsafePointer(scratch[call.a]!),
             call.weightB ? UnsafePointer<Float>(bitPattern: call.b)! : UnsafePointer(scratch[call.b]!),
             scratch[call.c]!)
        }
        var best = Double.infinity
        for _ in 0..<max(1, repetitions) {
            let start = ContinuousClock.now
            for (call, a, b, c) in resolved {
                cblas_sgemm(
                    CblasRowMajor, call.transposeA ? CblasTrans : CblasNoTrans, call.transposeB ? CblasTrans : CblasNoTrans,
                    Int32(call.m), Int32(call.n), Int32(call.k), call.alpha, a, Int32(call.lda), b, Int32(call.ldb),
                    call.beta, c, Int32(call.ldc))
            }
            let elapsed = ContinuousClock.now - start
            best = min(best, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        }
        return best
    }
}
