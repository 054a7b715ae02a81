import HTTPServer
import Scheduler

extension ServerConfiguration {
    /// The HTTP server's part.
    public var httpServerConfiguration: HTTPServerConfiguration {
        var http = HTTPServerConfiguration(host: host, port: port)
        http.maxConnections = maxConnections
        http.maxConnectionsPerAddress = maxConnectionsPerAddress
        http.limits.maxBodyBytes = maxBodyBytes
        return http
    }

    /// The scheduler's part.
    public var schedulerConfiguration: SchedulerConfiguration {
        SchedulerConfiguration(
            maxBatchSize: maxBatchSize, maxQueueLength: maxQueueLength, maxQueueWait: .seconds(maxQueueWaitSeconds),
            blasThreads: blasThreads, jobRetention: .seconds(jobRetentionSeconds), maxRetainedJobs: maxRetainedJobs,
            maxRetainedBytes: maxRetainedBytes)
    }

    /// How long a drain may take.
    public var shutdownGrace: Duration { .seconds(shutdownGraceSeconds) }
}
