import Foundation

/// Where a job is in its life.
public enum JobState: String, Sendable {
    case queued, running, succeeded, failed, cancelled
}

/// A snapshot of a job, for status endpoints.
public struct JobStatus: Sendable {
    public let id: String
    public let model: String
    public let state: JobState
    /// Steps done so far.
    public let step: Int
    public let steps: Int
    /// Jobs ahead of this one while queued (0: next to start); `nil` once it left the queue.
    public let queuePosition: Int?
    public let createdAt: Date
    /// Set when `state` is `.failed` or `.cancelled`.
    public let failure: GenerationFailure?

    public init(
        id: String, model: String, state: JobState, step: Int, steps: Int, queuePosition: Int?,
        createdAt: Date, failure: GenerationFailure?
    ) {
        self.id = id
        self.model = model
        self.state = state
        self.step = step
        self.steps = steps
        self.queuePosition = queuePosition
        self.createdAt = createdAt
        self.failure = failure
    }
}
