/// The scheduler's limits, as one value.
public struct SchedulerConfiguration: Sendable, Equatable {
    /// Samples running at once, over all models; also the most samples in one engine call.
    public var maxBatchSize: Int
    /// Jobs waiting to start; a submission beyond it is refused with `.queueFull`.
    public var maxQueueLength: Int
    /// A job still queued after this long fails with `.deadlineExceeded`.
    public var maxQueueWait: Duration
    /// OpenBLAS threads of the inference thread's BLAS calls.
    public var blasThreads: Int
    /// How long finished jobs stay findable by `job(id:)`.
    public var jobRetention: Duration

    public init(
        maxBatchSize: Int = 4, maxQueueLength: Int = 64, maxQueueWait: Duration = .seconds(120),
        blasThreads: Int = 2, jobRetention: Duration = .seconds(600)
    ) {
        self.maxBatchSize = maxBatchSize
        self.maxQueueLength = maxQueueLength
        self.maxQueueWait = maxQueueWait
        self.blasThreads = blasThreads
        self.jobRetention = jobRetention
    }
}
