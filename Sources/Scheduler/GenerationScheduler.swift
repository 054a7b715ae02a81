import Foundation
import ModelBundle

/// The only place where requests meet the engine.
///
/// Requests wait in a bounded first-come-first-served queue. ONE inference thread owns every
/// engine call: at each step boundary it admits queued jobs into the running batch (continuous
/// batching: a new job joins at the next step, whatever step the others are at), advances all
/// running samples of one model in one engine call (models with work take turns), renders the
/// preview frames requests asked for, and decodes the images of the jobs that finished together.
public final class GenerationScheduler: Sendable {
    private let core: SchedulerCore

    /// `models` are served by id (`LoadedModel.id`; the first of a repeated id wins).
    /// Call `start()` to begin running jobs; submissions queue up before that.
    public convenience init(models: [LoadedModel], configuration: SchedulerConfiguration = SchedulerConfiguration()) {
        self.init(models: models, configuration: configuration, clock: .continuous)
    }

    /// With a clock of the test's choosing.
    init(models: [LoadedModel], configuration: SchedulerConfiguration, clock: SchedulerClock) {
        core = SchedulerCore(models: models, configuration: configuration, clock: clock)
    }

    deinit {
        core.shutDownNow()
    }

    public var models: [LoadedModel] { core.models }

    public var configuration: SchedulerConfiguration { core.configuration }

    /// The served model with this id.
    public func model(id: String) -> LoadedModel? {
        core.modelIndex[id].map { core.models[$0] }
    }

    /// Starts the ONE inference thread, which sets OpenBLAS's thread count; later calls do nothing.
    public func start() {
        guard core.markStarted() else { return }
        // The loop (and every sampling run it holds) lives on the new thread only.
        let thread = Thread { [core] in InferenceLoop(core: core).run() }
        thread.name = "enat-inference"
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// Validates and queues a request. Throws `.unknownModel`, `.invalidSetting`,
    /// `.conditionMismatch` or `.previewStep` (cheap checks; a
    /// failure of the heavier preparation on the inference thread fails the job with
    /// `.engine`), `.queueFull` with a retry estimate, or `.shuttingDown` while draining.
    public func submit(_ request: GenerationRequest) throws(SubmitError) -> GenerationJob {
        guard let index = core.modelIndex[request.model] else {
            core.recordRejection(.unknownModel(request.model))
            throw .unknownModel(request.model)
        }
        do throws(SubmitError) {
            try request.validate(for: core.models[index])
        } catch {
            core.recordRejection(error)
            throw error
        }
        let job = GenerationJob(
            id: GenerationJob.makeID(), request: request, submittedAt: core.clock.now,
            requestCancel: { [weak core] id in core?.cancel(id: id) })
        // Queue-full and shutting-down refusals are counted by the core.
        try core.enqueue(job, model: index)
        return job
    }

    /// A queued, running or recently finished job: finished jobs are kept `jobRetention` after
    /// they finished, and at most `maxRetainedJobs` of them and `maxRetainedBytes` (the oldest
    /// are forgotten first).
    public func job(id: String) -> GenerationJob? {
        core.job(id: id)
    }

    /// A snapshot of the counters, gauges and histograms.
    public var metrics: SchedulerMetrics { core.metrics }

    /// Started, not draining, queue not full.
    public var isReady: Bool { notReadyReason == nil }

    /// Why the scheduler is not ready: "model loading" (not started), "draining", "queue full".
    public var notReadyReason: String? { core.notReadyReason }

    /// Stops accepting (submissions throw `.shuttingDown`); running and queued jobs go on until
    /// `deadline`; then the rest fail with `.shuttingDown` and the inference thread ends.
    /// Returns when it has ended (a step in progress at the deadline completes first).
    public func drain(deadline: ContinuousClock.Instant) async {
        await core.drain(deadline: deadline)
    }
}
