/// The scheduler's decisions (admission, queue order, deadlines, cancellation, draining,
/// which model steps next) as a value that takes the time and returns actions, so tests drive
/// it without threads or sleeps. It knows jobs by id only; the inference thread does the work.
///
/// Policy:
/// - The queue is first come, first served: admission always takes the head, whatever its model.
/// - At most `maxBatchSize` samples run at once over all models, which bounds memory and
///   makes every engine call at most `maxBatchSize` samples.
/// - Admission happens at step boundaries: a new job joins the running batch at the next step.
/// - Models with running work take turns, one engine call each (round-robin).
struct SchedulerStateMachine: Sendable {
    struct Limits: Sendable, Equatable {
        var maxBatchSize: Int
        var maxQueueLength: Int
        var maxQueueWait: Duration

        init(maxBatchSize: Int, maxQueueLength: Int, maxQueueWait: Duration) {
            self.maxBatchSize = max(1, maxBatchSize)
            self.maxQueueLength = max(0, maxQueueLength)
            self.maxQueueWait = maxQueueWait
        }

        init(_ configuration: SchedulerConfiguration) {
            self.init(
                maxBatchSize: configuration.maxBatchSize, maxQueueLength: configuration.maxQueueLength,
                maxQueueWait: configuration.maxQueueWait)
        }
    }

    enum SubmitDecision: Equatable {
        /// Queued with this many jobs ahead.
        case accepted(position: Int)
        case queueFull
        case shuttingDown
    }

    enum CancelOutcome: Equatable {
        /// Removed from the queue at once; the jobs behind it moved up.
        case removedFromQueue(positionUpdates: [PositionUpdate])
        /// Running: it leaves the batch at the next step boundary.
        case stopsAtNextStep
        /// Not queued or running (finished, unknown, or already cancelled).
        case inactive
    }

    struct PositionUpdate: Equatable, Sendable {
        let id: String
        let position: Int
    }

    struct Failure: Equatable, Sendable {
        let id: String
        let failure: GenerationFailure
    }

    enum Work: Equatable {
        /// One engine call for these running jobs of one model, in admission order.
        case step(model: Int, ids: [String])
        /// Nothing queued or running: wait for a submission.
        case idle
        /// Drained or shut down: the inference thread ends.
        case stop
    }

    /// What to do at one step boundary, in order: fail, start, report positions, then work.
    struct Boundary: Equatable {
        var failed: [Failure] = []
        var started: [String] = []
        var positionUpdates: [PositionUpdate] = []
        var work: Work = .idle
    }

    private enum Phase: Equatable {
        case accepting
        case draining(deadline: ContinuousClock.Instant)
        case stopped
    }

    private struct Waiting {
        let id: String
        let model: Int
        let deadline: ContinuousClock.Instant?
        /// The earlier of the request's deadline and the end of its allowed queue wait.
        let expiresAt: ContinuousClock.Instant
        var reportedPosition: Int
    }

    private struct Running {
        let id: String
        let deadline: ContinuousClock.Instant?
        var cancelRequested = false
    }

    let limits: Limits
    private var phase = Phase.accepting
    private var queue: [Waiting] = []
    /// Running jobs per model, in admission order.
    private var running: [[Running]]
    private(set) var runningCount = 0
    /// The model to consider first at the next boundary.
    private var cursor = 0

    init(modelCount: Int, limits: Limits) {
        self.limits = limits
        running = Array(repeating: [], count: modelCount)
    }

    var queueDepth: Int { queue.count }
    var isQueueFull: Bool { queue.count >= limits.maxQueueLength }
    var isAccepting: Bool { phase == .accepting }
    var isStopped: Bool { phase == .stopped }

    /// Queues a job at the tail.
    mutating func submit(
        id: String, model: Int, deadline: ContinuousClock.Instant?, now: ContinuousClock.Instant
    ) -> SubmitDecision {
        guard phase == .accepting else { return .shuttingDown }
        guard queue.count < limits.maxQueueLength else { return .queueFull }
        let waitEnd = now + limits.maxQueueWait
        let expiresAt = deadline.map { min($0, waitEnd) } ?? waitEnd
        queue.append(
            Waiting(id: id, model: model, deadline: deadline, expiresAt: expiresAt, reportedPosition: queue.count))
        return .accepted(position: queue.count - 1)
    }

    /// A queued job leaves at once; a running one is marked and leaves at the next boundary.
    mutating func cancel(id: String) -> CancelOutcome {
        if let index = queue.firstIndex(where: { $0.id == id }) {
            queue.remove(at: index)
            return .removedFromQueue(positionUpdates: repositionQueue())
        }
        for model in running.indices {
            if let index = running[model].firstIndex(where: { $0.id == id }) {
                if running[model][index].cancelRequested { return .inactive }
                running[model][index].cancelRequested = true
                return .stopsAtNextStep
            }
        }
        return .inactive
    }

    /// Stops accepting; queued and running jobs go on until `deadline`. A second call can only
    /// bring the deadline forward.
    mutating func beginDrain(deadline: ContinuousClock.Instant) {
        switch phase {
        case .accepting: phase = .draining(deadline: deadline)
        case .draining(let current): phase = .draining(deadline: min(current, deadline))
        case .stopped: break
        }
    }

    /// Stops at once: every queued and running job fails with `.shuttingDown`.
    mutating func stopNow() -> [Failure] {
        var failed: [Failure] = []
        failAll(.shuttingDown, into: &failed)
        phase = .stopped
        return failed
    }

    /// Jobs that left the running batch on the inference thread (finished or failed there).
    /// Returns those of `ids` that were still running (not already failed by a boundary or a stop).
    @discardableResult
    mutating func finish(model: Int, ids: [String]) -> [String] {
        guard !ids.isEmpty, running.indices.contains(model) else { return [] }
        let left = running[model].filter { ids.contains($0.id) }.map(\.id)
        running[model].removeAll { ids.contains($0.id) }
        runningCount -= left.count
        return left
    }

    /// The decisions of one step boundary.
    mutating func nextBoundary(now: ContinuousClock.Instant) -> Boundary {
        var boundary = Boundary()
        if phase == .stopped {
            boundary.work = .stop
            return boundary
        }
        removeCancelledAndExpired(now: now, into: &boundary.failed)
        if case .draining(let deadline) = phase, now >= deadline {
            failAll(.shuttingDown, into: &boundary.failed)
            phase = .stopped
            boundary.work = .stop
            return boundary
        }

        var admitted = 0
        while admitted < queue.count, runningCount < limits.maxBatchSize {
            let next = queue[admitted]
            running[next.model].append(Running(id: next.id, deadline: next.deadline))
            runningCount += 1
            boundary.started.append(next.id)
            admitted += 1
        }
        if admitted > 0 { queue.removeFirst(admitted) }
        boundary.positionUpdates = repositionQueue()

        for offset in 0..<running.count {
            let model = (cursor + offset) % running.count
            if !running[model].isEmpty {
                cursor = (model + 1) % running.count
                boundary.work = .step(model: model, ids: running[model].map(\.id))
                return boundary
            }
        }
        // Nothing runs, so nothing is queued either (it would have been admitted).
        if case .draining = phase {
            phase = .stopped
            boundary.work = .stop
        } else {
            boundary.work = .idle
        }
        return boundary
    }

    private mutating func removeCancelledAndExpired(now: ContinuousClock.Instant, into failed: inout [Failure]) {
        for model in running.indices where !running[model].isEmpty {
            var kept = 0
            for index in running[model].indices {
                let job = running[model][index]
                if job.cancelRequested {
                    failed.append(Failure(id: job.id, failure: .cancelled))
                } else if let deadline = job.deadline, now >= deadline {
                    failed.append(Failure(id: job.id, failure: .deadlineExceeded))
                } else {
                    running[model][kept] = job
                    kept += 1
                }
            }
            runningCount -= running[model].count - kept
            running[model].removeLast(running[model].count - kept)
        }
        if queue.contains(where: { now >= $0.expiresAt }) {
            var kept = 0
            for index in queue.indices {
                let job = queue[index]
                if now >= job.expiresAt {
                    failed.append(Failure(id: job.id, failure: .deadlineExceeded))
                } else {
                    queue[kept] = job
                    kept += 1
                }
            }
            queue.removeLast(queue.count - kept)
        }
    }

    private mutating func failAll(_ failure: GenerationFailure, into failed: inout [Failure]) {
        for model in running.indices {
            for job in running[model] { failed.append(Failure(id: job.id, failure: failure)) }
            running[model].removeAll()
        }
        runningCount = 0
        for job in queue { failed.append(Failure(id: job.id, failure: failure)) }
        queue.removeAll()
    }

    /// Positions that changed since they were last reported.
    private mutating func repositionQueue() -> [PositionUpdate] {
        var updates: [PositionUpdate] = []
        for index in queue.indices where queue[index].reportedPosition != index {
            queue[index].reportedPosition = index
            updates.append(PositionUpdate(id: queue[index].id, position: index))
        }
        return updates
    }
}
