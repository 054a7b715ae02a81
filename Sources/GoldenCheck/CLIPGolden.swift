import CLIPText
import Foundation
import ModelFiles
import Tensors

/// Reproduces CLIP text golden files: the captions in the metadata tokenized (exact ids against
/// `case.input_ids`), then `case.input_ids` through the text transformer against
/// `expect.last_hidden_state` and `expect.pooler_output`.
public enum CLIPGolden {
    public static let tolerance = 1e-4
    /// Names the merges file goes by beside a golden file or in a bundle.
    public static let vocabularyNames = ["clip_bpe_simple_vocab_16e6.txt.gz", "bpe_simple_vocab_16e6.txt.gz"]

    /// The tokenizer for a file: the given vocabulary, else one beside the file.
    static func tokenizer(for file: GoldenFile, vocabulary: String?, contextLength: Int) throws -> CLIPTokenizer {
        let directory = URL(fileURLWithPath: file.path).deletingLastPathComponent()
        let candidates = vocabulary.map { [$0] } ?? vocabularyNames.map { directory.appendingPathComponent($0).path }
        guard let path = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw GoldenError.inconsistent(
                file.path, "checking its token ids needs CLIP's BPE vocabulary: put \(vocabularyNames[0]) beside it or pass --vocabulary")
        }
        return try CLIPTokenizer(vocabularyPath: path, contextLength: contextLength)
    }

    /// Tokenizes the metadata's `captions` and compares with `case.input_ids` `[B, n]`.
    static func compareIDs(_ file: GoldenFile, vocabulary: String?, into report: inout GoldenReport) throws -> (ids: [Int32], batch: Int) {
        let shape = try file.shape("case.input_ids")
        guard shape.count == 2, shape[0] > 0, shape[1] >= 2 else { throw GoldenError.inconsistent(file.path, "case.input_ids must be [B, n]") }
        let ids = try file.ints("case.input_ids")
        let captions = try JSONDecoder().decode([String].self, from: file.metadataJSON("captions"))
        guard captions.count == shape[0] else {
            throw GoldenError.inconsistent(file.path, "\(captions.count) captions for \(shape[0]) rows of case.input_ids")
        }
        let tokenizer = try tokenizer(for: file, vocabulary: vocabulary, contextLength: shape[1])
        report.compareExact("input_ids", tokenizer.tokenize(captions).map { Int($0) }, ids)
        return (ids.map { Int32(clamping: $0) }, shape[0])
    }

    public static func check(
        _ file: GoldenFile, weights: (any TensorArchive)? = nil, vocabulary: String? = nil, precision: ComputePrecision = .fp32
    ) throws -> GoldenReport {
        let configuration = try JSONDecoder().decode(CLIPTextConfiguration.self, from: file.metadataJSON("config"))
        let encoder = try CLIPTextEncoder(
            configuration: configuration, archive: weights ?? file.archive.scoped("weights."), precision: precision)
        var report = GoldenReport(file: file.path, kind: file.kind.rawValue, precision: precision)
        let (ids, batch) = try compareIDs(file, vocabulary: vocabulary, into: &report)
        let (hidden, pooled) = try encoder.encode(ids: ids, batch: batch)
        report.compare("last_hidden_state", hidden, try file.floats("expect.last_hidden_state"), tolerance: tolerance)
        report.compare("pooler_output", pooled, try file.floats("expect.pooler_output"), tolerance: tolerance)
        return report
    }
}
