import ENAT
import Foundation
import Imaging

extension LoadedModel {
    /// The prompt a condition stands for: the caption, or the class's first name.
    public func promptText(for condition: GenerationCondition) -> String {
        switch condition {
        case .caption(let caption): return caption
        case .classLabel(let label):
            guard classNames.indices.contains(label) else { return "class \(label)" }
            return String(classNames[label].split(separator: ",").first ?? "").trimmingCharacters(in: .whitespaces)
        }
    }

    /// Every generation parameter in A1111's `parameters` text convention (the prompt on the
    /// first line, then `Key: value` pairs), so the image can be reproduced from the file alone.
    public func parametersText(condition: GenerationCondition, settings: SamplerSettings, seed: UInt64) -> String {
        var pairs = [
            ("Steps", String(settings.steps)), ("Sampler", "ENAT"), ("CFG scale", Self.number(settings.guidanceScale)),
            ("Seed", String(seed)), ("Size", "\(imageSize)x\(imageSize)"), ("Model", id),
            ("Mask temperature", Self.number(settings.maskTemperature)),
            ("Sample temperature", Self.number(settings.sampleTemperature)),
        ]
        if case .classLabel(let label) = condition { pairs.insert(("Class label", String(label)), at: 6) }
        let prompt = promptText(for: condition).replacingOccurrences(of: "\n", with: " ")
        return prompt + "\n" + pairs.map { "\($0.0): \($0.1)" }.joined(separator: ", ")
    }

    /// `png` with the generation parameters as its `parameters` text chunk.
    public func annotate(_ png: [UInt8], condition: GenerationCondition, settings: SamplerSettings, seed: UInt64) -> [UInt8] {
        PNGTextChunk.inserting(
            keyword: "parameters", text: parametersText(condition: condition, settings: settings, seed: seed), into: png)
    }

    /// Shortest decimal form: 3 rather than 3.0.
    private static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }
}
