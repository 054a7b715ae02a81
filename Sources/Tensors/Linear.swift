/// A linear layer `y = x W^T + b` with PyTorch's weight layout `[out, in]`.
///
/// Applied to all rows at once: one GEMM whatever the number of samples or streams.
public struct Linear: @unchecked Sendable {
    public let weight: UnsafePointer<Float>  // [outFeatures, inFeatures]
    public let bias: UnsafePointer<Float>?  // [outFeatures]
    public let inFeatures: Int
    public let outFeatures: Int

    public init(weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, inFeatures: Int, outFeatures: Int) {
        self.weight = weight
        self.bias = bias
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
    }

    /// `output[rows, outFeatures] = input[rows, inFeatures] W^T + b`, with leading dimensions
    /// so that a caller can write into a column slice of a wider matrix.
    public func apply(
        _ input: UnsafePointer<Float>, rows: Int, inputStride: Int? = nil,
        into output: UnsafeMutablePointer<Float>, outputStride: Int? = nil
    ) {
        guard rows > 0 else { return }
        let ldo = outputStride ?? outFeatures
        var beta: Float = 0
        if let bias {
            for r in 0..<rows { (output + r * ldo).update(from: bias, count: outFeatures) }
            beta = 1
        }
        BLAS.gemm(
            transposeB: true, m: rows, n: outFeatures, k: inFeatures,
            a: input, lda: inputStride ?? inFeatures,
            b: weight, ldb: inFeatures,
            beta: beta, c: output, ldc: ldo, weightB: true)
    }
}
