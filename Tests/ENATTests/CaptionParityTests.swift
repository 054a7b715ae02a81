import ENAT
import Foundation
import GoldenCheck
import ModelFiles
import TestSupport
import XCTest

/// The caption-conditioned ENAT against the PyTorch module that trains it
/// (tools/train/make_caption_golden.py wrote `Fixtures/caption_enat_tiny.safetensors`).
final class CaptionParityTests: XCTestCase {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/caption_enat_tiny.safetensors").path
    static var vocabulary: String { get throws { try GoldenFolder.file("clip_bpe_simple_vocab_16e6.txt.gz") } }

    /// The whole chain: the captions' ids, the CLIP text tower, then full, prev and reuse.
    func testCaptionModelMatchesPyTorch() throws {
        let report = try GoldenCheck.run(path: Self.fixture, vocabulary: Self.vocabulary)
        print(report.text, terminator: "")
        XCTAssertEqual(report.kind, GoldenFile.Kind.captionENATForward.rawValue)
        XCTAssertEqual(
            report.lines.map(\.name),
            [
                "input_ids", "text.last_hidden_state", "text.pooled", "full.logits", "full.feat", "prev.logits", "prev.feat",
                "reuse.logits", "reuse.feat",
            ])
        XCTAssertTrue(report.passed, report.text)
    }

    /// The transformer alone, fed the PyTorch text states.
    func testTransformerOnGoldenTextStates() throws {
        let file = try GoldenFile(path: Self.fixture)
        let report = try CaptionENATGolden.check(file, vocabulary: Self.vocabulary, useGoldenTextStates: true)
        XCTAssertTrue(report.passed, report.text)
    }
}
