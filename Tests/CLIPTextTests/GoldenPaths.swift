import CLIPText
import Foundation
import ModelFiles
import TestSupport

/// The golden files this target reads (from the shared golden folder) and its own fixtures.
enum GoldenPaths {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static var vocabulary: String { get throws { try GoldenFolder.file("clip_bpe_simple_vocab_16e6.txt.gz") } }
    static var sharedCLIP: String { get throws { try GoldenFolder.file("clip_text_tiny.safetensors") } }
    /// Unseen files written by tools/golden/clip_reference.py.
    static var unseenCLIP: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: fixtures.path)) ?? [])
            .filter { $0.hasPrefix("clip_text_") && $0.hasSuffix(".safetensors") }.sorted()
            .map { fixtures.appendingPathComponent($0).path }
    }
}

/// A CLIP golden file's parts: configuration, captions, ids and expectations.
struct CLIPGoldenCase {
    let path: String
    let archive: SafeTensorsFile
    let configuration: Data
    let captions: [String]
    let ids: [Int32]
    let batch: Int
    let length: Int

    init(path: String) throws {
        self.path = path
        archive = try SafeTensorsFile(path: path)
        configuration = Data(archive.metadata["config", default: "{}"].utf8)
        captions = try JSONDecoder().decode([String].self, from: Data(archive.metadata["captions", default: "[]"].utf8))
        let shape = archive.info("case.input_ids")!.shape
        batch = shape[0]
        length = shape[1]
        ids = try archive.readInts("case.input_ids").map { Int32($0) }
    }

    func row(_ b: Int) -> [Int32] { Array(ids[(b * length)..<((b + 1) * length)]) }
}

/// Shared loaded vocabulary: inflating and parsing it once is enough for every test.
enum SharedVocabulary {
    static let tokenizer: CLIPTokenizerBox = CLIPTokenizerBox()
}

/// The tokenizer of the shared vocabulary, or nil when the file is missing.
final class CLIPTokenizerBox: Sendable {
    let value: CLIPTokenizer?
    init() { value = try? CLIPTokenizer(vocabularyPath: GoldenPaths.vocabulary) }
}

func maxAbsoluteError(_ a: [Float], _ b: [Float]) -> Float {
    guard a.count == b.count else { return .infinity }
    return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
}
