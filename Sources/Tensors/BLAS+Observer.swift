extension BLAS {
    /// One float32 GEMM as `gemm` received it, its operands by address.
    public struct GEMMCall: Sendable {
        public let transposeA: Bool, transposeB: Bool
        public let m: Int, n: Int, k: Int
        public let lda: Int, ldb: Int, ldc: Int
        public let alpha: Float, beta: Float
        public let a: UInt, b: UInt, c: UInt
        /// B is a model weight that outlives the call (a linear layer or the tied output embedding).
        public let weightB: Bool
    }

    /// When set, sees every GEMM `gemm` runs (those with k > 0) before it runs: the hook of
    /// measurement tools (the benchmarks record the calls to replay them through OpenBLAS
    /// alone). Unset, as in the server, it costs `gemm` one load and a nil check. Not locked: set
    /// and clear it only while no other thread calls BLAS.
    nonisolated(unsafe) public static var gemmObserver: ((GEMMCall) -> Void)?
}
