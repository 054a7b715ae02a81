import COpenBLAS

/// The only door to OpenBLAS. Everything here is row-major float32.
public enum BLAS {
    /// Sets OpenBLAS's own thread count. The inference thread calls this once: OpenBLAS
    /// threads on top of Dispatch threads would oversubscribe the cores.
    public static func setThreads(_ count: Int) {
        openblas_set_num_threads(Int32(max(1, count)))
    }

    public static var threads: Int { Int(openblas_get_num_threads()) }

    /// The kernel family OpenBLAS picked for this CPU (for example "Haswell" or "SkylakeX").
    public static var coreName: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }

    /// `C[m,n] = alpha * op(A) * op(B) + beta * C`, row-major with leading dimensions.
    /// `weightB`: B is a model weight that outlives the call (what `gemmObserver` is told).
    @inline(__always)
    public static func gemm(
        transposeA: Bool = false, transposeB: Bool = false,
        m: Int, n: Int, k: Int,
        alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0,
        c: UnsafeMutablePointer<Float>, ldc: Int,
        weightB: Bool = false
    ) {
        guard m > 0, n > 0 else { return }
        if let gemmObserver, k > 0 {
            gemmObserver(
                GEMMCall(
                    transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, lda: lda, ldb: ldb, ldc: ldc,
                    alpha: alpha, beta: beta, a: UInt(bitPattern: a), b: UInt(bitPattern: b), c: UInt(bitPattern: c),
                    weightB: weightB))
        }
        if k == 0 {
            // BLAS would only scale C; keep the semantics explicit.
            for i in 0..<m { for j in 0..<n { c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j] } }
            return
        }
        cblas_sgemm(
            CblasRowMajor,
            transposeA ? CblasTrans : CblasNoTrans,
            transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha,
            a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}
