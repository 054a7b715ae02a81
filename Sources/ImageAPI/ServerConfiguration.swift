import Foundation

/// Everything `enat serve` can be told, with the built-in defaults. Each setting comes from, in
/// rising precedence: the default, the JSON file (`Config/enat-serve.json`, snake_case keys), an
/// environment variable (`ENAT_*`), a command-line flag. See `ServerConfiguration.load`.
public struct ServerConfiguration: Codable, Sendable, Equatable {
    /// Address to bind.
    public var host = "0.0.0.0"
    /// Port to bind; 0 lets the kernel pick one.
    public var port = 8080
    /// Model bundle folders or official checkpoint sets, or `random:tiny` (random weights, tests and
    /// benchmarks). Empty: the demo bundles in `defaultModelPaths` that exist.
    public var models: [String] = []
    /// Samples per engine step.
    public var maxBatchSize = 4
    /// Jobs waiting for a batch slot; beyond it requests get 503 with Retry-After.
    public var maxQueueLength = 64
    /// Longest time a job may wait in the queue before it fails.
    public var maxQueueWaitSeconds: Double = 120
    /// Deadline of one generation request, from its arrival.
    public var requestTimeoutSeconds: Double = 300
    /// OpenBLAS threads of the inference thread.
    public var blasThreads = ProcessInfo.processInfo.activeProcessorCount
    /// Largest request body (413 beyond it).
    public var maxBodyBytes = 1_048_576
    /// Most connections served at once (503 beyond it).
    public var maxConnections = 512
    /// Most connections one client address may hold (429 beyond it). Behind a reverse proxy every
    /// client has the proxy's address: set it to `maxConnections` there.
    public var maxConnectionsPerAddress = 64
    /// On SIGTERM/SIGINT: time given to running jobs and open streams before they are ended.
    public var shutdownGraceSeconds: Double = 30
    /// How long finished jobs stay available for lookup.
    public var jobRetentionSeconds: Double = 600
    /// Least severe log level written to stderr.
    public var logLevel: LogLevel = .info

    /// The demo bundles `tools/train` writes, used when no model is configured.
    public static let defaultModelPaths = ["Models/demo-shapes", "Models/demo-captions"]
    /// The configuration file used when none is named and it exists (relative to the working directory).
    public static let defaultFilePath = "Config/enat-serve.json"

    public init() {}

    /// The file keys; `environmentName(_:)` derives the environment variables from them.
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case host, port, models
        case maxBatchSize = "max_batch_size"
        case maxQueueLength = "max_queue_length"
        case maxQueueWaitSeconds = "max_queue_wait_seconds"
        case requestTimeoutSeconds = "request_timeout_seconds"
        case blasThreads = "blas_threads"
        case maxBodyBytes = "max_body_bytes"
        case maxConnections = "max_connections"
        case maxConnectionsPerAddress = "max_connections_per_address"
        case shutdownGraceSeconds = "shutdown_grace_seconds"
        case jobRetentionSeconds = "job_retention_seconds"
        case logLevel = "log_level"
    }

    /// Checks ranges; the message names the setting by its file key.
    public func validate() throws(ConfigurationError) {
        func require(_ condition: Bool, _ key: CodingKeys, _ rule: String) throws(ConfigurationError) {
            if !condition { throw ConfigurationError("\(key.rawValue) \(rule)") }
        }
        try require(!host.isEmpty, .host, "must not be empty")
        try require((0...65535).contains(port), .port, "must be between 0 and 65535")
        try require(models.allSatisfy { !$0.isEmpty }, .models, "must not contain empty paths")
        try require(maxBatchSize >= 1, .maxBatchSize, "must be at least 1")
        try require(maxQueueLength >= 1, .maxQueueLength, "must be at least 1")
        try require(maxQueueWaitSeconds.isFinite && maxQueueWaitSeconds > 0, .maxQueueWaitSeconds, "must be a positive number")
        try require(requestTimeoutSeconds.isFinite && requestTimeoutSeconds > 0, .requestTimeoutSeconds, "must be a positive number")
        try require(blasThreads >= 1, .blasThreads, "must be at least 1")
        try require(maxBodyBytes >= 1024, .maxBodyBytes, "must be at least 1024")
        try require(maxConnections >= 1, .maxConnections, "must be at least 1")
        try require(maxConnectionsPerAddress >= 1, .maxConnectionsPerAddress, "must be at least 1")
        try require(shutdownGraceSeconds.isFinite && shutdownGraceSeconds >= 0, .shutdownGraceSeconds, "must be a number >= 0")
        try require(jobRetentionSeconds.isFinite && jobRetentionSeconds >= 0, .jobRetentionSeconds, "must be a number >= 0")
    }

    /// The model paths to load: the configured ones, else the default demo bundles that exist.
    public func modelPaths(fileExists: (String) -> Bool = { FileManager.default.fileExists(atPath: $0) }) -> [String] {
        models.isEmpty ? Self.defaultModelPaths.filter(fileExists) : models
    }
}

/// A configuration that cannot be used; the message says which setting and why.
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Log severity, least to most severe (swift-log's levels).
public enum LogLevel: String, Codable, Sendable, CaseIterable, Comparable {
    case trace, debug, info, notice, warning, error, critical

    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}
