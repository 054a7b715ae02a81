import DurationSeconds
import ENAT
import Foundation
import LockedValue

/// One accepted request: its state, its event history and its live readers.
///
/// Events are kept so that a client that re-attaches replays everything, then follows live.
/// Transitions that come too late (a position after the start, a step after a cancellation)
/// are ignored, so the threads that report them need no ordering among themselves.
public final class GenerationJob: Sendable {
    /// `"job_"` and 32 random hex digits (128 bits: not guessable).
    public let id: String
    public let request: GenerationRequest
    let createdAt: Date
    let submittedAt: ContinuousClock.Instant
    private let record: Locked<Record>
    /// Asks the scheduler to cancel; holds it weakly (the scheduler holds its jobs).
    private let requestCancel: @Sendable (String) -> Void

    private struct Record {
        var state = JobState.queued
        var step = 0
        var queuePosition: Int?
        var startedAt: ContinuousClock.Instant?
        var result: GenerationResult?
        var failure: GenerationFailure?
        var history: [GenerationEvent] = []
        var readers: [Int: AsyncStream<GenerationEvent>.Continuation] = [:]
        var nextReader = 0

        var isFinished: Bool { state == .succeeded || state == .failed || state == .cancelled }

        mutating func publish(_ event: GenerationEvent) {
            history.append(event)
            for reader in readers.values { reader.yield(event) }
        }
    }

    init(
        id: String, request: GenerationRequest, createdAt: Date = Date(),
        submittedAt: ContinuousClock.Instant = .now, requestCancel: @escaping @Sendable (String) -> Void
    ) {
        self.id = id
        self.request = request
        self.createdAt = createdAt
        self.submittedAt = submittedAt
        self.requestCancel = requestCancel
        record = Locked(Record())
    }

    /// A new job id: `"job_"` and 32 random hex digits from the system's random source, so
    /// that nobody finds another client's job by guessing.
    static func makeID() -> String {
        "job_"
            + (0..<2).map { _ in
                let hex = String(UInt64.random(in: .min ... .max), radix: 16)
                return String(repeating: "0", count: 16 - hex.count) + hex
            }.joined()
    }

    public var status: JobStatus {
        record.withLock { record in
            JobStatus(
                id: id, model: request.model, state: record.state, step: record.step,
                steps: request.settings.steps, queuePosition: record.queuePosition, createdAt: createdAt,
                failure: record.failure)
        }
    }

    /// When the job joined the running batch.
    var startedAt: ContinuousClock.Instant? { record.withLock { $0.startedAt } }

    var isFinished: Bool { record.withLock { $0.isFinished } }

    /// The image once the job succeeded.
    public var result: GenerationResult? { record.withLock { $0.result } }

    /// Every event so far (a re-attaching client replays it), then live ones; finishes after
    /// `completed` or `failed`. Any number of readers may follow one job.
    ///
    /// Once a job has finished, replayed step events no longer carry preview frames (the final
    /// image supersedes them): that keeps retained jobs small.
    public func events() -> AsyncStream<GenerationEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: GenerationEvent.self)
        let reader = record.withLock { record in
            defer { record.nextReader += 1 }
            return record.nextReader
        }
        // Set before registering: `finish()` calls it synchronously, never under our lock.
        continuation.onTermination = { [weak self] _ in
            _ = self?.record.withLock { $0.readers.removeValue(forKey: reader) }
        }
        let finished = record.withLock { record in
            for event in record.history { continuation.yield(event) }
            if !record.isFinished { record.readers[reader] = continuation }
            return record.isFinished
        }
        if finished { continuation.finish() }
        return stream
    }

    /// Cancels the job: a queued one leaves the queue at once, a running one frees its slot at
    /// the next step boundary. Does nothing once the job finished.
    public func cancel() {
        requestCancel(id)
    }

    // MARK: Transitions (scheduler and inference thread)

    /// A new queue position; ignored once the job left the queue.
    func updateQueuePosition(_ position: Int) {
        record.withLock { record in
            guard record.state == .queued, record.queuePosition != position else { return }
            record.queuePosition = position
            record.publish(.queued(position: position))
        }
    }

    /// Admitted into the running batch.
    func markStarted(at now: ContinuousClock.Instant) {
        record.withLock { record in
            guard record.state == .queued else { return }
            record.state = .running
            record.queuePosition = nil
            record.startedAt = now
            record.publish(.started)
        }
    }

    /// Publishes a step; returns whether it was the job's first.
    @discardableResult
    func publishStep(_ progress: StepProgress) -> Bool {
        record.withLock { record in
            guard record.state == .running else { return false }
            record.step = progress.step
            record.publish(.step(progress))
            return progress.step == 1
        }
    }

    /// Succeeds with the final image.
    func complete(png: [UInt8], tokens: [Int32], at now: ContinuousClock.Instant) {
        _ = finish { record in
            guard record.state == .running, let startedAt = record.startedAt else { return nil }
            let result = GenerationResult(
                png: png, tokens: tokens, seed: request.seed,
                queueSeconds: submittedAt.duration(to: startedAt).inSeconds,
                runSeconds: startedAt.duration(to: now).inSeconds)
            record.state = .succeeded
            record.result = result
            return .completed(result)
        }
    }

    /// Fails the job (`.cancelled` ends in the `cancelled` state); returns whether this call
    /// finished it (false when it had already finished).
    @discardableResult
    func fail(_ failure: GenerationFailure) -> Bool {
        finish { record in
            record.state = failure == .cancelled ? .cancelled : .failed
            record.failure = failure
            record.queuePosition = nil
            return .failed(failure)
        }
    }

    /// Publishes the terminal event `transition` returns (nil: no transition), then finishes
    /// the readers outside the lock: `finish()` runs their termination handlers, which lock.
    private func finish(_ transition: (inout Record) -> GenerationEvent?) -> Bool {
        let readers: [AsyncStream<GenerationEvent>.Continuation]? = record.withLock { record in
            guard !record.isFinished, let event = transition(&record) else { return nil }
            record.publish(event)
            record.history = record.history.map { event in
                if case .step(let progress) = event, progress.previewPNG != nil {
                    return .step(
                        StepProgress(
                            step: progress.step, steps: progress.steps, revealed: progress.revealed,
                            tokenCount: progress.tokenCount, previewPNG: nil))
                }
                return event
            }
            let readers = Array(record.readers.values)
            record.readers.removeAll()
            return readers
        }
        guard let readers else { return false }
        for reader in readers { reader.finish() }
        return true
    }
}
