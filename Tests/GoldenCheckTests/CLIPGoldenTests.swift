import Foundation
import GoldenCheck
import XCTest

/// `enat golden` on CLIP text files: the shared one (vocabulary beside it) and the unseen
/// fixtures of tools/golden/clip_reference.py (vocabulary given explicitly).
final class CLIPGoldenTests: XCTestCase {
    static let shared = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/golden")
    static let vocabulary = shared.appendingPathComponent("clip_bpe_simple_vocab_16e6.txt.gz").path
    static let unseen = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("CLIPTextTests/Fixtures")

    func check(_ path: String, vocabulary: String?) throws {
        let report = try GoldenCheck.run(path: path, vocabulary: vocabulary)
        print(report.text, terminator: "")
        XCTAssertEqual(report.kind, GoldenFile.Kind.clipText.rawValue)
        XCTAssertEqual(report.lines.map(\.name), ["input_ids", "last_hidden_state", "pooler_output"])
        XCTAssertTrue(report.passed, report.text)
    }

    func testSharedFileWithTheVocabularyBesideIt() throws {
        try check(Self.shared.appendingPathComponent("clip_text_tiny.safetensors").path, vocabulary: nil)
    }

    func testUnseenFixtures() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.unseen.path).filter { $0.hasSuffix(".safetensors") }.sorted()
        XCTAssertEqual(names.count, 2)
        for name in names {
            let path = Self.unseen.appendingPathComponent(name).path
            try check(path, vocabulary: Self.vocabulary)
            // Without a vocabulary the ids cannot be checked, and the checker says how to give one.
            XCTAssertThrowsError(try GoldenCheck.run(path: path)) { error in
                XCTAssertTrue("\(error)".contains("--vocabulary"), "\(error)")
            }
        }
    }
}
