import Foundation
import GoldenCheck
import Tensors
import TestSupport
import XCTest

/// Every golden file with the bf16 engine: each expected tensor within 2% of its range (the
/// spec's goal for a reduced-precision path), and bf16 really in use (its errors exceed the
/// float32 tolerance of 1e-4, which float32 meets by two orders of magnitude: a silent fall back
/// to float32 would show).
final class BF16GoldenTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func files() throws -> [String] {
        try ["enat_tiny.safetensors", "enat_tiny_trajectory.safetensors", "clip_text_tiny.safetensors", "vqgan_tiny.safetensors"].map {
            try GoldenFolder.file($0)
        }
            + [
                "GoldenCheckTests/Fixtures/enat_lat4_d32_h8_e1d1.safetensors",
                "GoldenCheckTests/Fixtures/enat_lat8_d48_h3_e3d2_trajectory.safetensors",
                "CLIPTextTests/Fixtures/clip_text_d24_h3_l1_gelu.safetensors", "ENATTests/Fixtures/caption_enat_tiny.safetensors",
            ].map { Self.root.appendingPathComponent("Tests/" + $0).path }
    }

    func testEveryGoldenFileWithinTwoPercentOfItsRange() throws {
        try XCTSkipIf(BF16Kernel.best == nil, "this CPU has no bf16 kernel (needs AVX2 + FMA)")
        let vocabulary = try GoldenFolder.file("clip_bpe_simple_vocab_16e6.txt.gz")
        for path in try files() {
            let bf16 = try GoldenCheck.run(path: path, vocabulary: vocabulary, precision: .bf16)
            print(bf16.text, terminator: "")
            XCTAssertTrue(bf16.passed, bf16.text)
            // The model outputs (not the exact ids or the sampler's scalars) differ as bf16 does.
            let outputs = bf16.lines.filter { !$0.exact && ($0.name.contains("logits") || $0.name.contains("hidden") || $0.name == "image") }
            XCTAssertFalse(outputs.isEmpty)
            XCTAssertGreaterThan(outputs.map(\.error).max() ?? 0, 1e-4, "\(path): bf16 errors look like float32's")
        }
    }
}
