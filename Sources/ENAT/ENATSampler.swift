// Mirrors the official `NATSchedule.generate` of ENAT, one step per call, so that a scheduler
// can batch requests that sit at different steps and stop any of them between steps.
import Tensors

/// One request's sampling state: its token map, its two stream states and its generator.
public final class SamplingRun {
    public let label: Int
    public let settings: SamplerSettings
    /// Steps completed so far.
    public private(set) var step = 0
    /// The current token map (mask token where not revealed).
    public private(set) var ids: [Int32]
    let conditional: StreamState
    let unconditional: StreamState
    var random: SeededRandom

    public var isFinished: Bool { step >= settings.steps }
    var usesGuidance: Bool { settings.guidanceScale != 0 }

    init(config: ENATConfiguration, label: Int, settings: SamplerSettings, seed: UInt64) {
        self.label = label
        self.settings = settings
        ids = Array(repeating: config.maskToken, count: config.tokenCount)
        conditional = StreamState(tokenCount: config.tokenCount, hiddenSize: config.hiddenSize)
        unconditional = StreamState(tokenCount: config.tokenCount, hiddenSize: config.hiddenSize)
        random = SeededRandom(seed: seed)
    }

    fileprivate func advance(to newIDs: [Int32]) {
        ids = newIDs
        step += 1
    }
}

/// What a step produced, for progressive previews.
public struct StepUpdate: Sendable {
    /// 0-based index of the step just completed.
    public let step: Int
    public let steps: Int
    /// The model's current belief at every position: drawn tokens at positions that were
    /// masked, kept tokens elsewhere.
    public let predicted: [Int32]
    /// Positions revealed after the step (not re-masked).
    public let revealed: [Bool]
    /// The token map after the step; the image tokens once `step == steps - 1`.
    public let ids: [Int32]
}

/// Runs ENAT's sampler over any number of requests at once.
///
/// Randomness: each request's `SeededRandom`, seeded from its seed. Per step, for each masked
/// position in position order, one uniform for the categorical draw, then one Gumbel draw.
/// Same model, request and seed: same tokens.
public final class ENATSampler {
    public let transformer: ENATTransformer
    public var config: ENATConfiguration { transformer.config }
    /// The unconditional stream's features after step 0: every request starts from the same
    /// all-masked map with the same label, so this is computed once.
    private var firstUnconditional: StreamState?
    private var guided: [Float]

    public init(transformer: ENATTransformer) {
        self.transformer = transformer
        guided = Array(repeating: 0, count: transformer.config.codebookSize)
    }

    /// A new request, validated.
    public func makeRun(label: Int, settings: SamplerSettings, seed: UInt64) throws(ENATError) -> SamplingRun {
        guard (0...config.numClasses).contains(label) else {
            throw .invalidInput("label \(label) is outside 0...\(config.numClasses)")
        }
        guard (1...64).contains(settings.steps) else { throw .invalidInput("steps must be 1...64") }
        for (name, value) in [
            ("guidance_scale", settings.guidanceScale), ("mask_temperature", settings.maskTemperature),
            ("sample_temperature", settings.sampleTemperature),
        ] where !value.isFinite || value < 0 || value > 1000 {
            throw .invalidInput("\(name) must be a finite number in 0...1000")
        }
        return SamplingRun(config: config, label: label, settings: settings, seed: seed)
    }

    /// Advances every unfinished run by one step in one ragged batch.
    public func step(_ runs: [SamplingRun]) throws(ENATError) -> [StepUpdate] {
        let active = runs.filter { !$0.isFinished }
        guard !active.isEmpty else { return [] }
        if active.contains(where: { $0.step == 0 && $0.usesGuidance }) { try prepareFirstUnconditional() }

        var items: [ForwardItem] = []
        var unconditionalIndex: [Int?] = []
        for run in active {
            items.append(ForwardItem(ids: run.ids, label: run.label, state: run.conditional, logits: .masked))
            if !run.usesGuidance {
                unconditionalIndex.append(nil)
            } else if run.step == 0 {
                // Guidance is 0 at step 0: only the features matter, and they are shared.
                run.unconditional.copy(from: firstUnconditional!)
                unconditionalIndex.append(nil)
            } else {
                unconditionalIndex.append(items.count)
                items.append(ForwardItem(ids: run.ids, label: config.numClasses, state: run.unconditional, logits: .masked))
            }
        }
        let views = try transformer.forward(items)

        var updates: [StepUpdate] = []
        var itemIndex = 0
        for (runIndex, run) in active.enumerated() {
            let conditional = views[itemIndex]
            let unconditional = unconditionalIndex[runIndex].map { views[$0] }
            itemIndex += unconditional == nil ? 1 : 2
            updates.append(finishStep(run, conditional: conditional, unconditional: unconditional))
        }
        return updates
    }

    /// Draws tokens at the masked positions, then re-masks the least confident.
    private func finishStep(_ run: SamplingRun, conditional: LogitsView, unconditional: LogitsView?) -> StepUpdate {
        let l = config.tokenCount, v = config.codebookSize, mask = config.maskToken
        let schedule = StepSchedule(step: run.step, of: run.settings.steps, tokens: l, settings: run.settings)
        var predicted = run.ids
        var confidence = [Float](repeating: .infinity, count: l)
        guided.withUnsafeMutableBufferPointer { scratch in
            let logp = scratch.baseAddress!
            for (row, position) in conditional.positions.enumerated() {
                SamplerMath.guidedLogProbabilities(
                    conditional: conditional.row(row).baseAddress!, unconditional: unconditional?.row(row).baseAddress,
                    guidance: schedule.guidance, count: v, into: logp)
                let token = SamplerMath.categorical(
                    logProbabilities: logp, count: v, temperature: schedule.sampleTemperature,
                    uniform: run.random.nextOpenUnit())
                predicted[position] = Int32(token)
                confidence[position] = SamplerMath.confidence(
                    logProbability: logp[token], gumbel: run.random.nextGumbel(),
                    temperature: schedule.confidenceTemperature)
            }
        }
        let remasked = SamplerMath.remask(confidence: confidence, maskCount: schedule.maskCount)
        var next = predicted
        for position in 0..<l where remasked[position] { next[position] = mask }
        let completed = run.step
        run.advance(to: next)
        return StepUpdate(
            step: completed, steps: run.settings.steps, predicted: predicted,
            revealed: next.map { $0 != mask }, ids: next)
    }

    private func prepareFirstUnconditional() throws(ENATError) {
        guard firstUnconditional == nil else { return }
        let state = StreamState(tokenCount: config.tokenCount, hiddenSize: config.hiddenSize)
        let blank = [Int32](repeating: config.maskToken, count: config.tokenCount)
        _ = try transformer.forward([ForwardItem(ids: blank, label: config.numClasses, state: state, logits: .none)])
        firstUnconditional = state
    }

    /// Samples one image's tokens. `onStep` sees every step and returns `false` to cancel,
    /// in which case the result is `nil`.
    public func generate(
        label: Int, settings: SamplerSettings, seed: UInt64, onStep: (StepUpdate) -> Bool = { _ in true }
    ) throws(ENATError) -> [Int32]? {
        let run = try makeRun(label: label, settings: settings, seed: seed)
        while !run.isFinished {
            for update in try step([run]) where !onStep(update) { return nil }
        }
        return run.ids
    }
}
