// Mirrors the official `NATSchedule.generate` of ENAT, one step per call, so that a scheduler
// can batch requests that sit at different steps and stop any of them between steps.
import Tensors

/// One request's sampling state: its token map, the condition and state of each of its two
/// streams, and its generator.
public final class SamplingRun {
    /// The class label (class models; `numClasses` for caption runs, where it is unused).
    public let label: Int
    /// Caption models: the caption's condition for the conditional stream.
    public let text: TextCondition?
    /// Caption models: the empty caption's condition for the unconditional stream.
    public let unconditionalText: TextCondition?
    public let settings: SamplerSettings
    /// Positions the run generates: all of them, or an edit's regenerated ones. The masking
    /// schedule counts only these.
    public let generatedCount: Int
    /// An edit with kept tokens: its unconditional stream does not start from the all-masked
    /// map, so its first step cannot take the shared one.
    let keepsTokens: Bool
    /// Steps completed so far.
    public private(set) var step = 0
    /// The current token map (mask token where not revealed).
    public private(set) var ids: [Int32]
    let conditional: StreamState
    let unconditional: StreamState
    var random: SeededRandom

    public var isFinished: Bool { step >= settings.steps }
    var usesGuidance: Bool { settings.guidanceScale != 0 }

    init(
        config: ENATConfiguration, label: Int, settings: SamplerSettings, seed: UInt64,
        text: TextCondition? = nil, unconditionalText: TextCondition? = nil, edit: TokenEdit? = nil
    ) {
        self.label = label
        self.text = text
        self.unconditionalText = unconditionalText
        self.settings = settings
        ids = edit?.initialIDs(maskToken: config.maskToken) ?? Array(repeating: config.maskToken, count: config.tokenCount)
        generatedCount = edit?.regeneratedCount ?? config.tokenCount
        keepsTokens = generatedCount < config.tokenCount
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

    /// A new request of a class model, validated against `SamplerLimits.engine` (its label in
    /// `0..<numClasses`: the unconditional label is the sampler's own); with `edit`, it keeps the
    /// edit's tokens outside the regenerated positions.
    public func makeRun(label: Int, settings: SamplerSettings, seed: UInt64, edit: TokenEdit? = nil) throws(ENATError) -> SamplingRun {
        guard !transformer.weights.isCaptionModel else {
            throw .invalidInput("a caption model takes text conditions, not class labels")
        }
        do {
            try SamplerLimits.engine.validate(settings, condition: .classLabel(label, classCount: config.numClasses))
        } catch {
            throw .invalidSetting(error)
        }
        try edit?.validate(for: config)
        return SamplingRun(config: config, label: label, settings: settings, seed: seed, edit: edit)
    }

    /// A new request of a caption model: the caption's condition, and the empty caption's for
    /// the unconditional stream (make that one once per model: its first step is computed once
    /// and kept in it). Its settings are validated; its caption was, before it was encoded.
    public func makeRun(
        text: TextCondition, unconditional: TextCondition, settings: SamplerSettings, seed: UInt64, edit: TokenEdit? = nil
    ) throws(ENATError) -> SamplingRun {
        for condition in [text, unconditional] where condition.owner != ObjectIdentifier(transformer) {
            throw .invalidInput("the text condition was made by another transformer")
        }
        do {
            try SamplerLimits.engine.validate(settings)
        } catch {
            throw .invalidSetting(error)
        }
        try edit?.validate(for: config)
        return SamplingRun(
            config: config, label: config.numClasses, settings: settings, seed: seed, text: text,
            unconditionalText: unconditional, edit: edit)
    }

    /// The item of one stream of a run.
    private func item(_ run: SamplingRun, conditional: Bool, logits: LogitRows = .masked) -> ForwardItem {
        let state = conditional ? run.conditional : run.unconditional
        if let text = conditional ? run.text : run.unconditionalText {
            return ForwardItem(ids: run.ids, text: text, state: state, logits: logits)
        }
        return ForwardItem(ids: run.ids, label: conditional ? run.label : config.numClasses, state: state, logits: logits)
    }

    /// Advances every unfinished run by one step in one ragged batch.
    public func step(_ runs: [SamplingRun]) throws(ENATError) -> [StepUpdate] {
        let active = runs.filter { !$0.isFinished }
        guard !active.isEmpty else { return [] }
        for run in active where run.step == 0 && run.usesGuidance && !run.keepsTokens {
            try prepareFirstUnconditional(run.unconditionalText)
        }

        var items: [ForwardItem] = []
        var conditionalIndex: [Int] = []
        var unconditionalIndex: [Int?] = []
        for run in active {
            conditionalIndex.append(items.count)
            items.append(item(run, conditional: true))
            if !run.usesGuidance {
                unconditionalIndex.append(nil)
            } else if run.step == 0 && run.keepsTokens {
                // Guidance is 0 at step 0: only the features matter, and an edit's are its own.
                items.append(item(run, conditional: false, logits: .none))
                unconditionalIndex.append(nil)
            } else if run.step == 0 {
                // Guidance is 0 at step 0: only the features matter, and they are shared.
                run.unconditional.copy(from: run.unconditionalText?.firstStep ?? firstUnconditional!)
                unconditionalIndex.append(nil)
            } else {
                unconditionalIndex.append(items.count)
                items.append(item(run, conditional: false))
            }
        }
        let views = try transformer.forward(items)

        var updates: [StepUpdate] = []
        for (runIndex, run) in active.enumerated() {
            let unconditional = unconditionalIndex[runIndex].map { views[$0] }
            updates.append(finishStep(run, conditional: views[conditionalIndex[runIndex]], unconditional: unconditional))
        }
        return updates
    }

    /// Draws tokens at the masked positions, then re-masks the least confident.
    private func finishStep(_ run: SamplingRun, conditional: LogitsView, unconditional: LogitsView?) -> StepUpdate {
        let l = config.tokenCount, v = config.codebookSize, mask = config.maskToken
        let schedule = StepSchedule(step: run.step, of: run.settings.steps, tokens: run.generatedCount, settings: run.settings)
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

    /// The unconditional stream's all-masked first step: once per model for class models,
    /// once per (empty caption) condition for caption models, kept in that condition.
    private func prepareFirstUnconditional(_ text: TextCondition?) throws(ENATError) {
        if let text, text.firstStep != nil { return }
        if text == nil, firstUnconditional != nil { return }
        let state = StreamState(tokenCount: config.tokenCount, hiddenSize: config.hiddenSize)
        let blank = [Int32](repeating: config.maskToken, count: config.tokenCount)
        if let text {
            _ = try transformer.forward([ForwardItem(ids: blank, text: text, state: state, logits: .none)])
            text.firstStep = state
        } else {
            _ = try transformer.forward([ForwardItem(ids: blank, label: config.numClasses, state: state, logits: .none)])
            firstUnconditional = state
        }
    }

    /// Samples one image's tokens. `onStep` sees every step and returns `false` to cancel,
    /// in which case the result is `nil`.
    public func generate(
        label: Int, settings: SamplerSettings, seed: UInt64, onStep: (StepUpdate) -> Bool = { _ in true }
    ) throws(ENATError) -> [Int32]? {
        try generate(try makeRun(label: label, settings: settings, seed: seed), onStep: onStep)
    }

    /// Runs a prepared run (class or caption) to its end; `nil` if `onStep` cancelled it.
    public func generate(_ run: SamplingRun, onStep: (StepUpdate) -> Bool = { _ in true }) throws(ENATError) -> [Int32]? {
        while !run.isFinished {
            for update in try step([run]) where !onStep(update) { return nil }
        }
        return run.ids
    }
}
