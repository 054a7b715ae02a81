import CGEMMKernels

/// The number format of the engine's linear layers (and the VQGAN's convolutions). Everything
/// outside them (norms, attention, softmax, the sampler) computes in float32 either way.
public enum ComputePrecision: String, Sendable, CaseIterable, Codable {
    /// float32 weights and products through OpenBLAS: the reference, exact to the golden files.
    case fp32
    /// bfloat16 weights packed once at load (no float32 copy stays), activations rounded to
    /// bfloat16 as they enter a GEMM, float32 accumulation.
    case bf16
}

/// What a user asks for: a precision, or `auto` to let the CPU decide.
public enum PrecisionSetting: String, Sendable, CaseIterable, Codable {
    case auto, fp32, bf16

    /// `auto` is bf16 where the CPU has AVX512-BF16 (there bf16 GEMMs run at several times
    /// float32's speed) and fp32 elsewhere; `bf16` needs at least AVX2 with FMA.
    public func resolve(kernel: BF16Kernel? = .best) throws(PrecisionError) -> ComputePrecision {
        switch self {
        case .fp32: return .fp32
        case .auto: return kernel == .avx512BF16 ? .bf16 : .fp32
        case .bf16:
            guard kernel != nil else { throw .bf16Unsupported }
            return .bf16
        }
    }
}

public enum PrecisionError: Error, Equatable, CustomStringConvertible {
    case bf16Unsupported

    public var description: String {
        switch self {
        case .bf16Unsupported:
            return "precision bf16 needs a CPU with AVX2 and FMA (or AVX512-BF16); this one has neither: use precision fp32 or auto"
        }
    }
}

/// The bfloat16 GEMM kernel families.
public enum BF16Kernel: Sendable, Equatable, CustomStringConvertible {
    /// AVX2 + FMA: bfloat16 weights widened in registers, float32 FMAs (half the weight memory
    /// and bandwidth of float32; the same arithmetic speed).
    case avx2FMA
    /// AVX-512 with AVX512-BF16: `vdpbf16ps`, two bfloat16 products per float32 lane.
    case avx512BF16
    /// The AVX-512 kernel's source over plain C vectors: for tests on any CPU.
    case avx512BF16Emulated

    /// The best kernel this CPU runs, or nil.
    public static let best: BF16Kernel? = BF16Kernel(level: gemm_kernel_best_level())

    init?(level: gemm_kernel_level) {
        switch level {
        case GEMM_KERNEL_AVX2_FMA: self = .avx2FMA
        case GEMM_KERNEL_AVX512_BF16: self = .avx512BF16
        case GEMM_KERNEL_AVX512_BF16_EMULATED: self = .avx512BF16Emulated
        default: return nil
        }
    }

    var level: gemm_kernel_level {
        switch self {
        case .avx2FMA: GEMM_KERNEL_AVX2_FMA
        case .avx512BF16: GEMM_KERNEL_AVX512_BF16
        case .avx512BF16Emulated: GEMM_KERNEL_AVX512_BF16_EMULATED
        }
    }

    /// Whether this CPU runs the kernel.
    public var isAvailable: Bool {
        switch self {
        case .avx512BF16Emulated: true
        case .avx2FMA: BF16Kernel.best != nil
        case .avx512BF16: BF16Kernel.best == .avx512BF16
        }
    }

    /// The name logs, `/metrics` and `/v1/models` show.
    public var description: String {
        switch self {
        case .avx2FMA: "avx2_fma"
        case .avx512BF16: "avx512_bf16"
        case .avx512BF16Emulated: "avx512_bf16_emulated"
        }
    }
}

/// bfloat16 rounding as the kernels do it (nearest even), for references and tests.
public enum BFloat16 {
    @inline(__always)
    public static func round(_ value: Float) -> Float { gemm_bf16_to_float(gemm_float_to_bf16(value)) }
}
