import Foundation
import ModelFiles
import Tensors
import VQGAN

/// Reproduces VQGAN encoder golden files (tools/fixtures/make_vqgan_encoder_golden.py): the
/// image (`case.pixels` [B, H, W, 3] 8-bit values, else `case.image` [B, 3, H, W] in [0, 1]) to
/// `expect.z` and `expect.tokens`. The encoder is float32 whatever `precision` says.
public enum VQGANEncoderGolden {
    /// Latents: float32 rounding through the network is about 1e-6 on values near 1.
    public static let tolerance = 1e-4

    public static func check(
        _ file: GoldenFile, weights: (any TensorArchive)? = nil, precision: ComputePrecision = .fp32
    ) throws -> GoldenReport {
        guard let json = file.archive.metadata["config"] else { throw GoldenError.missingMetadata(file.path, "config") }
        let config = try VQGANConfiguration(json: json)
        let encoder = try VQGANEncoder(configuration: config, archive: weights ?? file.archive.scoped("weights."))
        let z: [Float]
        let height: Int, width: Int, batch: Int
        if file.archive.info("case.pixels") != nil {
            let shape = try file.shape("case.pixels")
            guard shape.count == 4, shape[3] == 3 else { throw GoldenError.inconsistent(file.path, "case.pixels must be [B, H, W, 3]") }
            (batch, height, width) = (shape[0], shape[1], shape[2])
            let values = try file.ints("case.pixels")
            let rgb = values.compactMap { UInt8(exactly: $0) }
            guard rgb.count == values.count else {
                throw GoldenError.inconsistent(file.path, "case.pixels must hold 8-bit values")
            }
            z = try encoder.latents(rgb: rgb, batch: batch, height: height, width: width)
        } else {
            let shape = try file.shape("case.image")
            guard shape.count == 4, shape[1] == 3 else { throw GoldenError.inconsistent(file.path, "case.image must be [B, 3, H, W]") }
            (batch, height, width) = (shape[0], shape[2], shape[3])
            z = try encoder.latents(image: try file.floats("case.image"), batch: batch, height: height, width: width)
        }
        let size = encoder.latentSize(height: height, width: width)
        let tokens = try encoder.tokens(latents: z, batch: batch, latentHeight: size.height, latentWidth: size.width)
        var report = GoldenReport(file: file.path, kind: file.kind.rawValue, precision: .fp32)
        report.compare("z", z, try file.floats("expect.z"), tolerance: tolerance)
        report.compareExact("tokens", tokens.map { Int($0) }, try file.ints("expect.tokens"))
        return report
    }
}
