/// A snapshot of the scheduler's counters, gauges and histograms (plain values; the API renders them).
public struct SchedulerMetrics: Sendable, Equatable {
    /// Jobs waiting to start.
    public var queueDepth = 0
    /// Samples in the running batch (over all models).
    public var runningSamples = 0
    /// Samples in the latest engine call.
    public var lastBatchSize = 0
    /// Engine step calls (one call advances every running sample of a model by one step).
    public var stepsRun = 0
    /// Sample steps: the sum of the batch sizes of all engine calls.
    public var sampleSteps = 0
    /// Engine calls whose samples were at different steps (continuous batching at work).
    public var mixedStepBatches = 0
    /// Finished jobs kept for lookup.
    public var retainedJobs = 0
    /// Their bytes: images, tokens and an allowance per job.
    public var retainedBytes = 0
    /// Finished jobs forgotten, by why (`expired`, `count`, `bytes`; every reason present).
    public var retentionEvictions: [String: Int] = Dictionary(
        uniqueKeysWithValues: JobRetention.Eviction.allCases.map { ($0.rawValue, 0) })
    /// Jobs accepted into the queue.
    public var jobsSubmitted = 0
    public var imagesCompleted = 0
    /// Failed jobs by `GenerationFailure.reason` (every reason present, zero included).
    public var failures: [String: Int] = Dictionary(uniqueKeysWithValues: GenerationFailure.reasons.map { ($0, 0) })
    /// Refused submissions by `SubmitError.reason` (every reason present, zero included).
    public var rejections: [String: Int] = Dictionary(uniqueKeysWithValues: SubmitError.reasons.map { ($0, 0) })
    /// From submission to admission into the running batch.
    public var queueSeconds = Histogram(upperBounds: Histogram.secondsBounds)
    /// Duration of each engine step call.
    public var stepSeconds = Histogram(upperBounds: Histogram.secondsBounds)
    /// From submission to the job's first step event.
    public var timeToFirstFrameSeconds = Histogram(upperBounds: Histogram.secondsBounds)
    /// Samples per engine step call.
    public var batchSize = Histogram(upperBounds: Histogram.batchSizeBounds)

    public init() {}

    mutating func recordFailure(_ failure: GenerationFailure) {
        failures[failure.reason, default: 0] += 1
    }

    mutating func recordRejection(_ error: SubmitError) {
        rejections[error.reason, default: 0] += 1
    }

    mutating func recordStep(batchSize samples: Int, mixedSteps: Bool, seconds: Double) {
        lastBatchSize = samples
        stepsRun += 1
        sampleSteps += samples
        if mixedSteps { mixedStepBatches += 1 }
        stepSeconds.observe(seconds)
        batchSize.observe(Double(samples))
    }
}
