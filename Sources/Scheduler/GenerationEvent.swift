/// Progress after one sampler step.
public struct StepProgress: Sendable, Equatable {
    /// Steps done so far (1-based: 1 after the first step).
    public let step: Int
    public let steps: Int
    /// Token positions revealed (not masked) after this step.
    public let revealed: Int
    public let tokenCount: Int
    /// A preview frame, only at the steps the request asked for and when its preview mode is not `.none`.
    public let previewPNG: [UInt8]?

    public init(step: Int, steps: Int, revealed: Int, tokenCount: Int, previewPNG: [UInt8]?) {
        self.step = step
        self.steps = steps
        self.revealed = revealed
        self.tokenCount = tokenCount
        self.previewPNG = previewPNG
    }
}

/// A finished image.
public struct GenerationResult: Sendable, Equatable {
    public let png: [UInt8]
    /// The image tokens (row-major latent grid).
    public let tokens: [Int32]
    public let seed: UInt64
    /// From submission to admission into the running batch.
    public let queueSeconds: Double
    /// From admission to the final image.
    public let runSeconds: Double

    public init(png: [UInt8], tokens: [Int32], seed: UInt64, queueSeconds: Double, runSeconds: Double) {
        self.png = png
        self.tokens = tokens
        self.seed = seed
        self.queueSeconds = queueSeconds
        self.runSeconds = runSeconds
    }
}

/// What a job reports, in order: `queued` (again whenever its position changes), `started`,
/// one `step` per sampler step, then `completed` or `failed` (a job may fail from any state).
public enum GenerationEvent: Sendable, Equatable {
    /// `position` is the number of jobs ahead of this one (0: next to start).
    case queued(position: Int)
    case started
    case step(StepProgress)
    case completed(GenerationResult)
    case failed(GenerationFailure)

    /// Whether this event ends the job's stream.
    public var isTerminal: Bool {
        switch self {
        case .completed, .failed: true
        case .queued, .started, .step: false
        }
    }
}
