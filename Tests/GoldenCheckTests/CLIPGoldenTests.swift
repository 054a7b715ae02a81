import Foundation
import GoldenCheck
import TestSupport
import XCTest

/// `enat golden` on CLIP text files: the shared one (vocabulary beside it) and the unseen
/// fixtures of tools/golden/clip_reference.py (vocabulary given explicitly).
final class CLIPGoldenTests: XCTestCase {
    static var vocabulary: String { get throws { try GoldenFolder.file("clip_bpe_simple_vocab_16e6.txt.gz") } }
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
        try check(GoldenFolder.file("clip_text_tiny.safetensors"), vocabulary: nil)
    }

    func testUnseenFixtures() throws {
        let vocabulary = try Self.vocabulary
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.unseen.path).filter { $0.hasSuffix(".safetensors") }.sorted()
        XCTAssertEqual(names.count, 2)
        for name in names {
            let path = Self.unseen.appendingPathComponent(name).path
            try check(path, vocabulary: vocabulary)
            // Without a vocabulary the ids cannot be checked, and the checker says how to give one.
            XCTAssertThrowsError(try GoldenCheck.run(path: path)) { error in
                XCTAssertTrue("\(error)".contains("--vocabulary"), "\(error)")
            }
        }
    }
}
