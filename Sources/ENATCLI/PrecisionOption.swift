import ArgumentParser
import Tensors

/// `--precision` as every command reads it: a setting, resolved against this CPU at startup so
/// that a bf16 request on a CPU without the kernels fails before any model loads.
func resolvePrecision(_ text: String, flag: String = "--precision") throws -> ComputePrecision {
    guard let setting = PrecisionSetting(rawValue: text.lowercased()) else {
        throw ValidationError("\(flag) must be one of \(PrecisionSetting.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    do {
        return try setting.resolve()
    } catch {
        throw ValidationError(error.description)
    }
}

/// How a run computes, for the first line a command prints.
func computeDescription(_ precision: ComputePrecision) -> String {
    switch precision {
    case .fp32: "precision fp32 (OpenBLAS \(BLAS.coreName))"
    case .bf16: "precision bf16 (kernel \(BF16Kernel.best.map { "\($0)" } ?? "none"))"
    }
}
