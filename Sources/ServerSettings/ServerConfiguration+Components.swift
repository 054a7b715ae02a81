import HTTPServer
import ImageAPI
import Scheduler
import ServerLog

extension ServerConfiguration {
    /// The HTTP server's part.
    public var httpServerConfiguration: HTTPServerConfiguration {
        var http = HTTPServerConfiguration(host: host, port: port)
        http.maxConnections = maxConnections
        http.maxConnectionsPerAddress = maxConnectionsPerAddress
        http.limits.maxBodyBytes = maxBodyBytes
        // An edit (or an edit job) carries an image and a mask, each up to the upload limit, and small fields.
        http.limits.maxBodyBytesByPath = APIConfiguration.uploadBodyLimits(maxUploadBytes: maxUploadBytes, fieldBytes: maxBodyBytes)
        return http
    }

    /// The scheduler's part.
    public var schedulerConfiguration: SchedulerConfiguration {
        SchedulerConfiguration(
            maxBatchSize: maxBatchSize, maxQueueLength: maxQueueLength, maxQueueWait: .seconds(maxQueueWaitSeconds),
            blasThreads: blasThreads, jobRetention: .seconds(jobRetentionSeconds), maxRetainedJobs: maxRetainedJobs,
            maxRetainedBytes: maxRetainedBytes)
    }

    /// The API's part. `apiKeys` are the server's keys from every source (`loadAPIKeys`).
    public func apiConfiguration(apiKeys: [String], logger: Logger) -> APIConfiguration {
        var api = APIConfiguration()
        api.requestTimeout = .milliseconds(Int64((requestTimeoutSeconds * 1000).rounded()))
        api.logger = logger
        api.apiKeys = APIKeys(apiKeys)
        api.protectMetrics = protectMetrics
        api.crossOrigin = CrossOriginPolicy(origins: corsOrigins)
        api.trustedProxies = trustedProxies
        api.maxUploadBytes = maxUploadBytes
        return api
    }

    /// How long a drain may take.
    public var shutdownGrace: Duration { .seconds(shutdownGraceSeconds) }
}
