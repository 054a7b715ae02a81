import Foundation
import ModelFiles
import Tensors
import VQGAN

/// Reproduces VQGAN decoder golden files: `case.tokens` to `expect.image` (before clamping).
public enum VQGANGolden {
    public static let tolerance = 1e-3

    public static func check(
        _ file: GoldenFile, weights: (any TensorArchive)? = nil, precision: ComputePrecision = .fp32
    ) throws -> GoldenReport {
        guard let json = file.archive.metadata["config"] else { throw GoldenError.missingMetadata(file.path, "config") }
        let config = try VQGANConfiguration(json: json)
        let decoder = try VQGANDecoder(configuration: config, archive: weights ?? file.archive.scoped("weights."), precision: precision)
        let shape = try file.shape("case.tokens")
        guard shape.count == 3 else { throw GoldenError.inconsistent(file.path, "case.tokens must be [B, h, w]") }
        let tokens = try file.ints("case.tokens").map { Int32(clamping: $0) }
        let image = try decoder.decode(tokens: tokens, batch: shape[0], latentHeight: shape[1], latentWidth: shape[2])
        var report = GoldenReport(file: file.path, kind: file.kind.rawValue, precision: precision)
        report.compare("image", image, try file.floats("expect.image"), tolerance: tolerance)
        return report
    }
}
