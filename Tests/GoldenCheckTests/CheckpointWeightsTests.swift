import Foundation
import GoldenCheck
import ModelFiles
import XCTest

/// `enat golden FILE --weights CHECKPOINT`: a golden file reproduced with parameters read from a
/// `torch.save` file instead of its own. The checkpoints hold the unseen fixtures' weights in the
/// shapes of the official files (a plain state_dict with an extra `prev_embedder` tensor; a
/// Lightning-style dict with hyper-parameters, optimizer state and encoder tensors), written by
/// `tools/fixtures/make_golden_checkpoints.py`.
final class CheckpointWeightsTests: XCTestCase {
    static let fixtures = UnseenGoldenTests.fixtures
    static let checkpoints = fixtures.appendingPathComponent("checkpoints", isDirectory: true)

    func check(_ golden: String, weights checkpoint: String, lines: Int) throws {
        let archive = try TorchCheckpoint(path: Self.checkpoints.appendingPathComponent(checkpoint).path)
        let report = try GoldenCheck.run(path: Self.fixtures.appendingPathComponent(golden).path, weights: archive)
        print(report.text, terminator: "")
        XCTAssertEqual(report.lines.count, lines, "\(golden): every expected tensor is checked")
        for line in report.lines {
            XCTAssertTrue(line.passed, "\(golden) \(line.name): \(line.error) > \(line.tolerance)")
        }
    }

    func testPlainStateDictReproducesTheENATForwardAndTrajectory() throws {
        try check("enat_lat4_d32_h8_e1d1.safetensors", weights: "enat_lat4_state_dict.pth", lines: 6)
        try check("enat_lat4_d32_h8_e1d1_trajectory.safetensors", weights: "enat_lat4_state_dict.pth", lines: 5 * 12)
    }

    func testLightningCheckpointReproducesTheVQGANImage() throws {
        try check("vqgan_ch32_mult122_z8.safetensors", weights: "vqgan_ch32_lightning.ckpt", lines: 1)
    }

    /// The checkpoint's parameters are really the ones used: another model's checkpoint is refused
    /// with the offending key named, instead of silently falling back to the file's own weights.
    func testACheckpointOfAnotherShapeIsRefusedNamingTheKey() throws {
        let archive = try TorchCheckpoint(path: Self.checkpoints.appendingPathComponent("enat_lat4_state_dict.pth").path)
        let other = Self.fixtures.appendingPathComponent("enat_lat8_d48_h3_e3d2.safetensors").path
        XCTAssertThrowsError(try GoldenCheck.run(path: other, weights: archive)) { error in
            XCTAssertTrue("\(error)".contains("x_embedder") || "\(error)".contains("shape"), "\(error)")
        }
    }
}

/// `enat golden` on a VQGAN encoder golden file (the VQGAN tests' committed fixture), with its
/// own weights and with those of its `torch.save` twin.
final class VQGANEncoderGoldenCheckTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("VQGANTests/Fixtures")

    func testTheEncoderFixtureIsRecognisedAndReproduced() throws {
        let path = Self.fixtures.appendingPathComponent("vqgan_encoder_tiny.safetensors").path
        XCTAssertEqual(try GoldenFile(path: path).kind, .vqganEncoder)
        let checkpoint = try TorchCheckpoint(path: Self.fixtures.appendingPathComponent("vqgan_encoder_lightning.ckpt").path)
        for weights in [nil, checkpoint as (any TensorArchive)?] {
            let report = try GoldenCheck.run(path: path, weights: weights)
            print(report.text, terminator: "")
            XCTAssertEqual(report.lines.map(\.name), ["z", "tokens"])
            for line in report.lines { XCTAssertTrue(line.passed, "\(line.name): \(line.error) > \(line.tolerance)") }
        }
    }
}
