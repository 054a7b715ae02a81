import Foundation

/// The scheduler's limits, as one value.
public struct SchedulerConfiguration: Sendable, Equatable {
    /// Samples running at once, over all models; also the most samples in one engine call.
    public var maxBatchSize: Int
    /// Jobs waiting to start; a submission beyond it is refused with `.queueFull`.
    public var maxQueueLength: Int
    /// A job still queued after this long fails with `.deadlineExceeded`.
    public var maxQueueWait: Duration
    /// OpenBLAS threads of the inference thread's BLAS calls; by default one per CPU, as the server's
    /// `blas_threads` setting.
    public var blasThreads: Int
    /// How long finished jobs stay findable by `job(id:)`, at most.
    public var jobRetention: Duration
    /// Most finished jobs kept; beyond it the oldest are forgotten first.
    public var maxRetainedJobs: Int
    /// Most bytes of finished jobs kept (images, tokens and an allowance per job); beyond it the
    /// oldest are forgotten first.
    public var maxRetainedBytes: Int

    public init(
        maxBatchSize: Int = 4, maxQueueLength: Int = 64, maxQueueWait: Duration = .seconds(120),
        blasThreads: Int = ProcessInfo.processInfo.activeProcessorCount, jobRetention: Duration = .seconds(600), maxRetainedJobs: Int = 1000,
        maxRetainedBytes: Int = 128 << 20
    ) {
        self.maxBatchSize = maxBatchSize
        self.maxQueueLength = maxQueueLength
        self.maxQueueWait = maxQueueWait
        self.blasThreads = blasThreads
        self.jobRetention = jobRetention
        self.maxRetainedJobs = maxRetainedJobs
        self.maxRetainedBytes = maxRetainedBytes
    }
}
