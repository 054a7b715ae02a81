// Mirrors the official `NATSchedule.generate` of ENAT (libs/nat.py) one step at a time.
import Foundation
import Tensors

/// Sampler settings of one request.
public struct SamplerSettings: Codable, Sendable, Equatable {
    public var steps: Int
    public var guidanceScale: Double
    public var maskTemperature: Double
    public var sampleTemperature: Double

    enum CodingKeys: String, CodingKey {
        case steps, guidanceScale = "cfg_scale", maskTemperature = "mask_temp", sampleTemperature = "samp_temp"
    }

    public init(steps: Int = 8, guidanceScale: Double = 2.5, maskTemperature: Double = 1.5, sampleTemperature: Double = 6) {
        self.steps = steps
        self.guidanceScale = guidanceScale
        self.maskTemperature = maskTemperature
        self.sampleTemperature = sampleTemperature
    }

    /// The released ImageNet-256 defaults.
    public static let imageNet256 = SamplerSettings()
    /// The released ImageNet-512 defaults.
    public static let imageNet512 = SamplerSettings(steps: 8, guidanceScale: 3.5, maskTemperature: 1.5, sampleTemperature: 4)
}

/// What step `s` of `steps` does.
public struct StepSchedule: Sendable, Equatable {
    /// Tokens left masked after the step: `floor(L * cos(pi/2 * (s+1)/steps))`.
    public let maskCount: Int
    /// Gumbel temperature of the confidence: `mask_temp * (1 - r)`.
    public let confidenceTemperature: Double
    /// Temperature of the categorical draw: `max(samp_temp * (1 - r), 1e-3)`.
    public let sampleTemperature: Double
    /// Guidance used at this step: `cfg_scale * s / steps` (0 at step 0).
    public let guidance: Double

    /// Double precision throughout: in float32 `cos(pi/2)` is slightly negative.
    public init(step: Int, of steps: Int, tokens: Int, settings: SamplerSettings) {
        let r = Double(step + 1) / Double(steps)
        maskCount = max(0, Int((Double(tokens) * cos(r * Double.pi / 2)).rounded(.down)))
        confidenceTemperature = settings.maskTemperature * (1 - r)
        sampleTemperature = max(settings.sampleTemperature * (1 - r), 1e-3)
        guidance = Double(step) / Double(steps) * settings.guidanceScale
    }
}

/// The arithmetic of one sampler step, separate from where its randomness comes from so the
/// golden trajectory can inject the official draws.
public enum SamplerMath {
    /// `log_softmax(cond + cfg * (cond - uncond))` over one row; float32 like the official code.
    public static func guidedLogProbabilities(
        conditional: UnsafePointer<Float>, unconditional: UnsafePointer<Float>?, guidance: Double,
        count: Int, into output: UnsafeMutablePointer<Float>
    ) {
        let g = Float(guidance)
        if let unconditional, g != 0 {
            for i in 0..<count { output[i] = conditional[i] + g * (conditional[i] - unconditional[i]) }
        } else {
            output.update(from: conditional, count: count)
        }
        logSoftmax(output, count: count, into: output)
    }

    /// A draw from `softmax(logp / temperature)` by inverse CDF with the uniform `u` in (0, 1).
    public static func categorical(logProbabilities logp: UnsafePointer<Float>, count: Int, temperature: Double, uniform u: Double) -> Int {
        var maxValue = -Double.infinity
        for i in 0..<count { maxValue = max(maxValue, Double(logp[i]) / temperature) }
        var total = 0.0
        for i in 0..<count { total += Foundation.exp(Double(logp[i]) / temperature - maxValue) }
        let target = u * total
        var running = 0.0
        var last = 0
        for i in 0..<count {
            let weight = Foundation.exp(Double(logp[i]) / temperature - maxValue)
            if weight > 0 { last = i }
            running += weight
            if running > target { return i }
        }
        return last  // rounding left the target past the end: the last token with weight
    }

    /// Re-masking: the `maskCount` positions of lowest confidence (visible ones carry +inf)
    /// become masked again, as the official `mask_by_random_topk`: masked where the confidence
    /// is below the `maskCount`-th smallest value.
    public static func remask(confidence: [Float], maskCount: Int) -> [Bool] {
        guard maskCount > 0 else { return Array(repeating: false, count: confidence.count) }
        let sorted = confidence.sorted()
        let cutoff = sorted[min(maskCount, sorted.count - 1)]
        return confidence.map { $0 < cutoff }
    }

    /// The confidence of a drawn token: its guided log-probability plus tempered Gumbel noise,
    /// the noise scaled in double and added in float32 as the official code does.
    @inline(__always)
    public static func confidence(logProbability: Float, gumbel: Double, temperature: Double) -> Float {
        logProbability + Float(temperature * gumbel)
    }
}
