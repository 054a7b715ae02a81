import ENAT
import Foundation
import ModelFiles
import Tensors

/// Replays a golden sampler trajectory with the official randomness injected.
public enum TrajectoryGolden {
    struct SamplerMetadata: Decodable {
        let steps: Int
        let cfg_scale: Double
        let mask_temp: Double
        let samp_temp: Double
        let uncond_label: Int?
        let weights: String?
    }

    /// The forward golden file whose weights a trajectory names (`"weights": "enat_tiny"`),
    /// looked up beside the trajectory.
    public static func weightsFile(for file: GoldenFile) throws -> GoldenFile {
        let metadata = try JSONDecoder().decode(SamplerMetadata.self, from: file.metadataJSON("sampler"))
        guard let name = metadata.weights, !name.contains("/"), !name.contains("..") else {
            throw GoldenError.inconsistent(file.path, "sampler metadata names no weights file")
        }
        let directory = URL(fileURLWithPath: file.path).deletingLastPathComponent()
        return try GoldenFile(path: directory.appendingPathComponent(name + ".safetensors").path)
    }

    /// At every step: both streams' logits (reuse on) against the golden ones, then the
    /// re-masking computed from the golden logits and draws against `ids_out`.
    public static func check(
        _ file: GoldenFile, weights: (any TensorArchive)? = nil, precision: ComputePrecision = .fp32
    ) throws -> GoldenReport {
        let metadata = try JSONDecoder().decode(SamplerMetadata.self, from: file.metadataJSON("sampler"))
        let source = try weightsFile(for: file)
        let config = try ENATGolden.configuration(of: source)
        let model = try ENATGolden.loadTransformer(config: config, weightsFrom: weights ?? source.archive.scoped("weights."), precision: precision)
        let settings = SamplerSettings(
            steps: metadata.steps, guidanceScale: metadata.cfg_scale,
            maskTemperature: metadata.mask_temp, sampleTemperature: metadata.samp_temp)
        // A step count from the file bounds a loop: the official samplers use 8 to 64 steps.
        guard (1...1024).contains(settings.steps) else {
            throw GoldenError.inconsistent(file.path, "sampler steps \(settings.steps) outside 1...1024")
        }
        let l = config.tokenCount, v = config.codebookSize
        let labels = try file.ints("case.labels")
        let unconditional = metadata.uncond_label ?? config.numClasses
        let batch = labels.count
        let tokens = try file.product([batch, l], of: "labels x tokens"), logitCount = try file.product([tokens, v], of: "logits size")
        let conditionalStates = labels.map { _ in StreamState(tokenCount: l, hiddenSize: config.hiddenSize) }
        let unconditionalStates = labels.map { _ in StreamState(tokenCount: l, hiddenSize: config.hiddenSize) }
        var report = GoldenReport(file: file.path, kind: file.kind.rawValue, precision: precision)

        for s in 0..<settings.steps {
            let idsIn = try file.int32s("step\(s).ids_in")
            guard idsIn.count == tokens else { throw GoldenError.inconsistent(file.path, "step\(s).ids_in has the wrong size") }
            let rows = (0..<batch).map { Array(idsIn[($0 * l)..<(($0 + 1) * l)]) }
            // Both streams of every sample in one ragged batch, as the server runs them.
            var items: [ForwardItem] = []
            for b in 0..<batch {
                items.append(ForwardItem(ids: rows[b], label: labels[b], state: conditionalStates[b], logits: .all))
                items.append(ForwardItem(ids: rows[b], label: unconditional, state: unconditionalStates[b], logits: .all))
            }
            let views = try model.forward(items)
            let conditional = stride(from: 0, to: views.count, by: 2).flatMap { Array(views[$0].values) }
            let unconditionalLogits = stride(from: 1, to: views.count, by: 2).flatMap { Array(views[$0].values) }
            // Read through raw pointers below: their sizes are checked here.
            let goldenConditional = try file.floats("step\(s).cond_logits", count: logitCount)
            let goldenUnconditional = try file.floats("step\(s).uncond_logits", count: logitCount)
            report.compare("step\(s).cond_logits", conditional, goldenConditional, tolerance: ENATGolden.tolerance)
            report.compare("step\(s).uncond_logits", unconditionalLogits, goldenUnconditional, tolerance: ENATGolden.tolerance)

            let schedule = StepSchedule(step: s, of: settings.steps, tokens: l, settings: settings)
            report.compare("step\(s).cfg_scale_used", [Float(schedule.guidance)], try file.floats("step\(s).cfg_scale_used"), tolerance: 1e-6)
            report.compareExact("step\(s).num_masked_out", [schedule.maskCount], try file.ints("step\(s).num_masked_out"))

            let sampled = try file.ints("step\(s).sampled_ids")
            let gumbel = try file.floats("step\(s).gumbel", count: tokens)
            guard sampled.count == tokens else {
                throw GoldenError.inconsistent(file.path, "step\(s).sampled_ids has \(sampled.count) values, expected \(tokens)")
            }
            var idsOut: [Int] = []
            var logp = [Float](repeating: 0, count: v)
            for b in 0..<batch {
                var confidence = [Float](repeating: .infinity, count: l)
                for position in 0..<l where rows[b][position] == config.maskToken {
                    let offset = (b * l + position) * v
                    goldenConditional.withUnsafeBufferPointer { c in
                        goldenUnconditional.withUnsafeBufferPointer { u in
                            logp.withUnsafeMutableBufferPointer { out in
                                SamplerMath.guidedLogProbabilities(
                                    conditional: c.baseAddress! + offset, unconditional: u.baseAddress! + offset,
                                    guidance: schedule.guidance, count: v, into: out.baseAddress!)
                            }
                        }
                    }
                    let token = sampled[b * l + position]
                    guard (0..<v).contains(token) else { throw GoldenError.inconsistent(file.path, "sampled id \(token) out of range") }
                    confidence[position] = SamplerMath.confidence(
                        logProbability: logp[token], gumbel: Double(gumbel[b * l + position]),
                        temperature: schedule.confidenceTemperature)
                }
                let masked = SamplerMath.remask(confidence: confidence, maskCount: schedule.maskCount)
                for position in 0..<l { idsOut.append(masked[position] ? Int(config.maskToken) : sampled[b * l + position]) }
            }
            report.compareExact("step\(s).ids_out", idsOut, try file.ints("step\(s).ids_out"))
        }
        return report
    }
}
