/// A linear layer `y = x W^T + b` with PyTorch's weight layout `[out, in]`, in float32 (one
/// OpenBLAS GEMM) or bfloat16 (the packed kernels). It owns its weight in exactly one format.
///
/// Applied to all rows at once: one GEMM whatever the number of samples or streams.
public struct Linear: @unchecked Sendable {
    /// The weight, in the format the layer computes with.
    public enum Weight: @unchecked Sendable {
        case float32(FloatBuffer)  // [outFeatures, inFeatures]
        case bfloat16(PackedBF16Matrix)
    }

    public let weight: Weight
    public let bias: FloatBuffer?  // [outFeatures], float32 in both precisions
    public let inFeatures: Int
    public let outFeatures: Int

    /// A layer over `weight` `[outFeatures, inFeatures]`. In bf16 the weight is packed and the
    /// float32 buffer is not kept (it is freed when the caller lets go of it).
    public init(
        weight: FloatBuffer, bias: FloatBuffer?, inFeatures: Int, outFeatures: Int,
        precision: ComputePrecision = .fp32, kernel: BF16Kernel? = BF16Kernel.best
    ) {
        precondition(weight.count >= inFeatures * outFeatures && (bias?.count ?? outFeatures) >= outFeatures, "weight smaller than its shape")
        switch (precision, kernel) {
        case (.bf16, let kernel?):
            self.weight = .bfloat16(PackedBF16Matrix(weight: weight.pointer, rows: outFeatures, columns: inFeatures, kernel: kernel))
        case (.bf16, nil):
            preconditionFailure("bf16 layers need a kernel: resolve the precision first (PrecisionSetting.resolve)")
        case (.fp32, _):
            self.weight = .float32(weight)
        }
        self.bias = bias
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
    }

    public var precision: ComputePrecision {
        if case .bfloat16 = weight { return .bf16 }
        return .fp32
    }

    /// The float32 weight, or nil in bf16.
    public var float32Weight: UnsafePointer<Float>? {
        if case .float32(let buffer) = weight { return UnsafePointer(buffer.pointer) }
        return nil
    }

    /// Bytes of the weight as stored.
    public var weightBytes: Int {
        switch weight {
        case .float32(let buffer): buffer.count * 4
        case .bfloat16(let matrix): matrix.byteCount
        }
    }

    /// `output[rows, outFeatures] = input[rows, inFeatures] W^T + b`, with leading dimensions
    /// so that a caller can write into a column slice of a wider matrix. bf16 layers take a
    /// workspace for their rounded inputs (one is made for the call when none is given).
    public func apply(
        _ input: UnsafePointer<Float>, rows: Int, inputStride: Int? = nil,
        into output: UnsafeMutablePointer<Float>, outputStride: Int? = nil,
        workspace: GEMMWorkspace? = nil
    ) {
        guard rows > 0 else { return }
        let ldo = outputStride ?? outFeatures
        switch weight {
        case .float32(let w):
            var beta: Float = 0
            if let bias {
                for r in 0..<rows { (output + r * ldo).update(from: bias.pointer, count: outFeatures) }
                beta = 1
            }
            BLAS.gemm(
                transposeB: true, m: rows, n: outFeatures, k: inFeatures,
                a: input, lda: inputStride ?? inFeatures,
                b: w.pointer, ldb: inFeatures,
                beta: beta, c: output, ldc: ldo, weightB: true)
        case .bfloat16(let matrix):
            matrix.multiply(
                input, rows: rows, inputStride: inputStride, bias: bias.map { UnsafePointer($0.pointer) }, accumulate: false,
                into: output, outputStride: ldo, workspace: workspace ?? GEMMWorkspace())
        }
    }
}
