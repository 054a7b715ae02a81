import ENAT
import Foundation
import ModelFiles
import Tensors

/// Reproduces ENAT golden files: single forwards (full, prev, reuse) and whole trajectories.
public enum ENATGolden {
    public static let tolerance = 1e-4

    /// Loads the transformer a golden file describes: its own `weights.*`, or a checkpoint's.
    public static func loadTransformer(
        config: ENATConfiguration, weightsFrom archive: any TensorArchive, precision: ComputePrecision = .fp32
    ) throws -> ENATTransformer {
        ENATTransformer(weights: try ENATWeights(config: config, archive: archive, precision: precision))
    }

    static func configuration(of file: GoldenFile) throws -> ENATConfiguration {
        try JSONDecoder().decode(ENATConfiguration.self, from: file.metadataJSON("config"))
    }

    /// The forward file's three cases, each compared on logits and features.
    public static func checkForward(
        _ file: GoldenFile, weights: (any TensorArchive)? = nil, precision: ComputePrecision = .fp32
    ) throws -> GoldenReport {
        let config = try configuration(of: file)
        let model = try loadTransformer(config: config, weightsFrom: weights ?? file.archive.scoped("weights."), precision: precision)
        let cases = try ForwardCases(file: file, config: config)
        var report = GoldenReport(file: file.path, kind: file.kind.rawValue, precision: precision)
        for (name, items) in [("full", cases.full()), ("prev", cases.previous()), ("reuse", cases.reuse())] {
            let views = try model.forward(items)
            try compare(name: name, items: items, views: views, file: file, config: config, into: &report)
        }
        return report
    }

    static func compare(
        name: String, items: [ForwardItem], views: [LogitsView], file: GoldenFile, config: ENATConfiguration,
        into report: inout GoldenReport
    ) throws {
        let logits = views.flatMap { Array($0.values) }
        let features = items.flatMap { $0.state.featureValues }
        report.compare("\(name).logits", logits, try file.floats("expect.\(name).logits"), tolerance: tolerance)
        report.compare("\(name).feat", features, try file.floats("expect.\(name).feat"), tolerance: tolerance)
    }

    /// The inputs of a forward golden file as batches.
    public struct ForwardCases {
        public let config: ENATConfiguration
        public let ids: [[Int32]]
        public let previousIDs: [[Int32]]
        public let labels: [Int]
        public let previousFeatures: [[Float]]

        public init(file: GoldenFile, config: ENATConfiguration) throws {
            self.config = config
            let l = config.tokenCount, d = config.hiddenSize
            labels = try file.ints("case.labels")
            let batch = labels.count
            let flat = try file.int32s("case.ids")
            let flatPrevious = try file.int32s("case.ids_prev")
            let tokens = try file.product([batch, l], of: "labels x tokens")
            guard flat.count == tokens, flatPrevious.count == tokens else {
                throw GoldenError.inconsistent(file.path, "case.ids does not match labels and latent size")
            }
            ids = (0..<batch).map { Array(flat[($0 * l)..<(($0 + 1) * l)]) }
            previousIDs = (0..<batch).map { Array(flatPrevious[($0 * l)..<(($0 + 1) * l)]) }
            let features = try file.floats("expect.prev.feat", count: file.product([batch, l, d], of: "expect.prev.feat size"))
            previousFeatures = (0..<batch).map { Array(features[($0 * l * d)..<(($0 + 1) * l * d)]) }
        }

        func fresh() -> StreamState { StreamState(tokenCount: config.tokenCount, hiddenSize: config.hiddenSize) }

        public func full() -> [ForwardItem] {
            zip(ids, labels).map { ForwardItem(ids: $0, label: $1, state: fresh(), logits: .all) }
        }

        public func previous() -> [ForwardItem] {
            zip(previousIDs, labels).map { ForwardItem(ids: $0, label: $1, state: fresh(), logits: .all) }
        }

        /// `ids` with prev = (expect.prev.feat, masking of ids_prev).
        public func reuse() -> [ForwardItem] {
            (0..<labels.count).map { b in
                let state = fresh()
                state.load(features: previousFeatures[b], masking: previousIDs[b].map { $0 == config.maskToken })
                return ForwardItem(ids: ids[b], label: labels[b], state: state, logits: .all)
            }
        }
    }
}
