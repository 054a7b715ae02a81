import CLIPText
import ENAT
import Foundation
import ModelFiles
import Tensors

/// Reproduces caption ENAT golden files (written by tools/train/make_caption_golden.py from
/// the PyTorch module): the captions' ids, the text encoder's outputs, then the transformer's
/// full, prev and reuse forwards conditioned on each sample's caption.
public enum CaptionENATGolden {
    public static let tolerance = 1e-4

    struct TextEncoderSection: Decodable {
        let text_encoder: CLIPTextConfiguration
    }

    /// `useGoldenTextStates` feeds the file's `expect.text.*` to the transformer instead of the
    /// Swift text encoder's outputs: it isolates the ENAT part.
    public static func check(
        _ file: GoldenFile, weights: (any TensorArchive)? = nil, vocabulary: String? = nil, useGoldenTextStates: Bool = false,
        precision: ComputePrecision = .fp32
    ) throws -> GoldenReport {
        let config = try ENATGolden.configuration(of: file)
        let textConfiguration = try JSONDecoder().decode(TextEncoderSection.self, from: file.metadataJSON("config")).text_encoder
        let archive = weights ?? file.archive.scoped("weights.")
        let model = ENATTransformer(weights: try ENATWeights(config: config, archive: archive, precision: precision))
        let encoder = try CLIPTextEncoder(configuration: textConfiguration, archive: archive, precision: precision)
        var report = GoldenReport(file: file.path, kind: file.kind.rawValue, precision: precision)

        let (inputIDs, batch) = try CLIPGolden.compareIDs(file, vocabulary: vocabulary, into: &report)
        var (hidden, pooled) = try encoder.encode(ids: inputIDs, batch: batch)
        report.compare("text.last_hidden_state", hidden, try file.floats("expect.text.last_hidden_state"), tolerance: tolerance)
        report.compare("text.pooled", pooled, try file.floats("expect.text.pooled"), tolerance: tolerance)
        if useGoldenTextStates {
            hidden = try file.floats("expect.text.last_hidden_state")
            pooled = try file.floats("expect.text.pooled")
        }
        let conditions = try model.makeTextConditions(lastHiddenState: hidden, pooled: pooled, count: batch)

        let l = config.tokenCount, d = config.hiddenSize
        let ids = try file.int32s("case.ids"), previousIDs = try file.int32s("case.ids_prev")
        let previousFeatures = try file.floats("expect.prev.feat")
        let tokens = try file.product([batch, l], of: "samples x tokens")
        guard ids.count == tokens, previousIDs.count == tokens,
            previousFeatures.count == (try file.product([tokens, d], of: "expect.prev.feat size"))
        else {
            throw GoldenError.inconsistent(file.path, "case.ids, case.ids_prev or expect.prev.feat do not fit \(batch) samples of \(l) tokens")
        }
        func row<T>(_ values: [T], _ b: Int, _ width: Int) -> [T] { Array(values[(b * width)..<((b + 1) * width)]) }
        func fresh() -> StreamState { StreamState(tokenCount: l, hiddenSize: d) }
        let full = (0..<batch).map { ForwardItem(ids: row(ids, $0, l), text: conditions[$0], state: fresh(), logits: .all) }
        let previous = (0..<batch).map { ForwardItem(ids: row(previousIDs, $0, l), text: conditions[$0], state: fresh(), logits: .all) }
        let reuse = (0..<batch).map { b in
            let state = fresh()
            state.load(features: row(previousFeatures, b, l * d), masking: row(previousIDs, b, l).map { $0 == config.maskToken })
            return ForwardItem(ids: row(ids, b, l), text: conditions[b], state: state, logits: .all)
        }
        for (name, items) in [("full", full), ("prev", previous), ("reuse", reuse)] {
            let views = try model.forward(items)
            try ENATGolden.compare(name: name, items: items, views: views, file: file, config: config, into: &report)
        }
        return report
    }
}
