import DurationSeconds
import Foundation
import ModelBundle

/// The scheduler's shared state: the state machine, the jobs, the metrics, behind one
/// condition variable whose lock guards all of them. The inference thread sleeps on it when idle.
///
/// `@unchecked Sendable`: every mutable field is read and written with `condition` locked.
/// Work under the lock is bookkeeping only (no engine calls, no PNGs).
final class SchedulerCore: @unchecked Sendable {
    let models: [LoadedModel]
    /// Model id to index; the first model of an id wins.
    let modelIndex: [String: Int]
    let configuration: SchedulerConfiguration
    let clock: SchedulerClock
    /// The longest the idle inference thread sleeps while it retains jobs, so that expired ones
    /// are forgotten even when nothing else happens (and whatever `clock` does).
    static let retentionCheckInterval: Duration = .seconds(1)

    private let condition = NSCondition()
    private var machine: SchedulerStateMachine
    /// Every queued, running and retained job.
    private var jobs: [String: GenerationJob] = [:]
    private var retention: JobRetention
    private var counters = SchedulerMetrics()
    private var started = false
    /// The inference thread has ended (or, never started, will not run).
    private var threadEnded = false
    private var drainWaiters: [CheckedContinuation<Void, Never>] = []
    /// Moving average of admission-to-image seconds, for `retryAfter`.
    private var recentImageSeconds: Double?

    init(models: [LoadedModel], configuration: SchedulerConfiguration, clock: SchedulerClock = .continuous) {
        self.models = models
        self.clock = clock
        var index: [String: Int] = [:]
        for (position, model) in models.enumerated() where index[model.id] == nil { index[model.id] = position }
        modelIndex = index
        self.configuration = configuration
        machine = SchedulerStateMachine(modelCount: models.count, limits: .init(configuration))
        retention = JobRetention(limits: .init(configuration))
        clock.onJump { [weak self] in self?.wake() }
    }

    /// Makes an idle inference thread look at the time again.
    private func wake() {
        locked { condition.signal() }
    }

    private func locked<Result>(_ body: () throws -> Result) rethrows -> Result {
        condition.lock()
        defer { condition.unlock() }
        return try body()
    }

    // MARK: Clients

    /// Marks the scheduler started; true for the one call that must start the thread.
    func markStarted() -> Bool {
        locked {
            guard !started, !machine.isStopped else { return false }
            started = true
            return true
        }
    }

    func enqueue(_ job: GenerationJob, model: Int) throws(SubmitError) {
        let now = clock.now
        let decision: SchedulerStateMachine.SubmitDecision = locked {
            let decision = machine.submit(id: job.id, model: model, deadline: job.request.deadline, now: now)
            switch decision {
            case .accepted(let position):
                removeExcessJobs(now: now)
                jobs[job.id] = job
                counters.jobsSubmitted += 1
                // Under the lock, so that no later position or start can overtake it.
                job.updateQueuePosition(position)
                condition.signal()
            case .queueFull:
                counters.recordRejection(.queueFull(retryAfter: .zero))
            case .shuttingDown:
                counters.recordRejection(.shuttingDown)
            }
            return decision
        }
        switch decision {
        case .accepted: return
        case .queueFull: throw .queueFull(retryAfter: retryAfter())
        case .shuttingDown: throw .shuttingDown
        }
    }

    /// Queue length x recent seconds per image / batch size, rounded up, at least 1 s.
    /// Before the first image completes, an image is assumed to take 1 s.
    private func retryAfter() -> Duration {
        let (queued, imageSeconds) = locked { (machine.queueDepth, recentImageSeconds) }
        let estimate = Double(queued) * (imageSeconds ?? 1) / Double(max(1, configuration.maxBatchSize))
        return .seconds(max(1, Int(estimate.rounded(.up))))
    }

    func recordRejection(_ error: SubmitError) {
        locked { counters.recordRejection(error) }
    }

    func cancel(id: String) {
        let now = clock.now
        let removed: GenerationJob? = locked {
            switch machine.cancel(id: id) {
            case .removedFromQueue(let updates):
                applyPositions(updates)
                guard let job = jobs[id] else { return nil }
                counters.recordFailure(.cancelled)
                retire(id, resultBytes: 0, now: now)
                return job
            case .stopsAtNextStep, .inactive:
                return nil
            }
        }
        // Outside the lock: finishing a job runs its readers' termination handlers.
        removed?.fail(.cancelled)
    }

    func job(id: String) -> GenerationJob? {
        let now = clock.now
        return locked {
            removeExcessJobs(now: now)
            return jobs[id]
        }
    }

    var metrics: SchedulerMetrics {
        locked {
            var snapshot = counters
            snapshot.queueDepth = machine.queueDepth
            snapshot.runningSamples = machine.runningCount
            snapshot.retainedJobs = retention.count
            snapshot.retainedBytes = retention.bytes
            return snapshot
        }
    }

    var notReadyReason: String? {
        locked {
            if !machine.isAccepting { return "draining" }
            if !started { return "model loading" }
            if machine.isQueueFull { return "queue full" }
            return nil
        }
    }

    /// Stops accepting; returns once the inference thread ended (at the latest at `deadline`,
    /// plus the step in progress).
    func drain(deadline: ContinuousClock.Instant) async {
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            let (resumeNow, failed): (Bool, [(GenerationJob, GenerationFailure)]) = locked {
                machine.beginDrain(deadline: deadline)
                if threadEnded { return (true, []) }
                if !started {
                    // No thread will ever run these jobs.
                    let failed = resolve(machine.stopNow(), now: clock.now)
                    threadEnded = true
                    return (true, failed)
                }
                drainWaiters.append(waiter)
                condition.signal()
                return (false, [])
            }
            for (job, failure) in failed { job.fail(failure) }
            if resumeNow { waiter.resume() }
        }
    }

    /// Fails everything at once (the scheduler object went away); the thread ends at its next boundary.
    func shutDownNow() {
        let failed = locked {
            let failed = resolve(machine.stopNow(), now: clock.now)
            if !started { threadEnded = true }
            condition.signal()
            return failed
        }
        for (job, failure) in failed { job.fail(failure) }
    }

    // MARK: Inference thread

    /// What the inference thread does next: jobs to fail, then at most one engine call.
    struct Plan {
        var failed: [(GenerationJob, GenerationFailure)] = []
        /// Running jobs of one model, in admission order.
        var step: (model: Int, jobs: [GenerationJob])?
        var stop = false
    }

    /// The next step boundary's plan; sleeps while there is nothing to do.
    func nextPlan() -> Plan {
        locked {
            while true {
                let now = clock.now
                // Every boundary and every wake-up forgets what expired: proactively, not only
                // when a client next submits or looks a job up.
                removeExcessJobs(now: now)
                let boundary = machine.nextBoundary(now: now)
                var plan = Plan()
                plan.failed = resolve(boundary.failed, now: now)
                for id in boundary.started {
                    guard let job = jobs[id] else { continue }
                    counters.queueSeconds.observe(job.submittedAt.duration(to: now).inSeconds)
                    job.markStarted(at: now)
                }
                applyPositions(boundary.positionUpdates)
                switch boundary.work {
                case .step(let model, let ids):
                    plan.step = (model, ids.compactMap { jobs[$0] })
                case .stop:
                    plan.stop = true
                case .idle:
                    // Fail first, then come back to sleep.
                    if plan.failed.isEmpty {
                        if let expiry = retention.nextExpiry {
                            let sleep = min(now.duration(to: expiry), Self.retentionCheckInterval)
                            _ = condition.wait(until: Date(timeIntervalSinceNow: max(0, sleep.inSeconds)))
                        } else {
                            condition.wait()
                        }
                        continue
                    }
                }
                return plan
            }
        }
    }

    /// Metrics of one engine call, recorded before its step events go out.
    func recordStep(batchSize: Int, mixedSteps: Bool, seconds: Double, firstFrameSeconds: [Double]) {
        locked {
            counters.recordStep(batchSize: batchSize, mixedSteps: mixedSteps, seconds: seconds)
            for value in firstFrameSeconds { counters.timeToFirstFrameSeconds.observe(value) }
        }
    }

    /// Jobs that left a model's batch on the inference thread, recorded before their final
    /// events go out (so a client that sees the end also sees it counted).
    struct Departures {
        var ids: [String] = []
        var failures: [GenerationFailure] = []
        var completedRunSeconds: [Double] = []
        /// Bytes of the image and tokens of each job that completed, by id (for retention).
        var resultBytes: [String: Int] = [:]

        var isEmpty: Bool { ids.isEmpty }
    }

    func jobsLeft(model: Int, _ departures: Departures) {
        let now = clock.now
        locked {
            // Jobs the core already failed (a shutdown during the step) were retired then.
            for id in machine.finish(model: model, ids: departures.ids) {
                retire(id, resultBytes: departures.resultBytes[id] ?? 0, now: now)
            }
            for failure in departures.failures { counters.recordFailure(failure) }
            for seconds in departures.completedRunSeconds {
                counters.imagesCompleted += 1
                recentImageSeconds = recentImageSeconds.map { 0.8 * $0 + 0.2 * seconds } ?? seconds
            }
        }
    }

    func threadDidEnd() {
        let waiters = locked {
            threadEnded = true
            defer { drainWaiters.removeAll() }
            return drainWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    // MARK: Helpers (lock held)

    /// Jobs for failures decided by the state machine, counted and scheduled for forgetting.
    private func resolve(
        _ failures: [SchedulerStateMachine.Failure], now: ContinuousClock.Instant
    ) -> [(GenerationJob, GenerationFailure)] {
        var resolved: [(GenerationJob, GenerationFailure)] = []
        for failure in failures {
            guard let job = jobs[failure.id] else { continue }
            counters.recordFailure(failure.failure)
            retire(failure.id, resultBytes: 0, now: now)
            resolved.append((job, failure.failure))
        }
        return resolved
    }

    private func applyPositions(_ updates: [SchedulerStateMachine.PositionUpdate]) {
        for update in updates { jobs[update.id]?.updateQueuePosition(update.position) }
    }

    /// Keeps a finished job for lookup, within the retention bounds.
    private func retire(_ id: String, resultBytes: Int, now: ContinuousClock.Instant) {
        retention.retire(id, bytes: JobRetention.jobOverheadBytes + resultBytes, at: now)
        removeExcessJobs(now: now)
    }

    private func removeExcessJobs(now: ContinuousClock.Instant) {
        retention.removeExcess(at: now) { id, reason in
            jobs.removeValue(forKey: id)
            counters.retentionEvictions[reason.rawValue, default: 0] += 1
        }
    }
}
