import Foundation
import Tensors

/// Everything `enat serve` can be told, with the built-in defaults. Each setting comes from, in
/// rising precedence: the default, the JSON file (`Config/enat-serve.json`, snake_case keys), an
/// environment variable (`ENAT_*`), a command-line flag. See `ServerConfiguration.load`.
public struct ServerConfiguration: Codable, Sendable, Equatable {
    /// Address to bind: loopback unless told otherwise, so a server started on a laptop is not
    /// open to the network (the container image and the manifests set 0.0.0.0).
    public var host = "127.0.0.1"
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
    /// How long finished jobs stay available for lookup, at most.
    public var jobRetentionSeconds: Double = 600
    /// Most finished jobs kept for lookup; the oldest are forgotten first.
    public var maxRetainedJobs = 1000
    /// Most bytes of finished jobs kept (images, tokens, about 2 KiB per job); the oldest are forgotten first.
    public var maxRetainedBytes = 134_217_728
    /// Least severe log level written to stderr.
    public var logLevel: LogLevel = .info
    /// Number format of the engine's linear layers: bf16 where the CPU has AVX512-BF16 (`auto`).
    public var precision: PrecisionSetting = .auto
    /// Log line format; nil: text on a terminal, JSON otherwise (containers, files, pipes).
    public var logFormat: LogFormat?
    /// API keys (`Authorization: Bearer KEY`); with any key (here or in `apiKeyFile`), every
    /// route but the probes, the page and (unless `protectMetrics`) `/metrics` needs one.
    public var apiKeys: [String] = []
    /// A file of API keys, one per line (blank lines and `#` comments ignored).
    public var apiKeyFile: String?
    /// Whether `/metrics` needs a key too.
    public var protectMetrics = false
    /// Web origins allowed to call the API from a browser (CORS); `*` for any.
    public var corsOrigins: [String] = []
    /// Addresses of reverse proxies whose `Forwarded` / `X-Forwarded-Proto` / `X-Forwarded-Host` are believed.
    public var trustedProxies: [String] = []

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
        case maxRetainedJobs = "max_retained_jobs"
        case maxRetainedBytes = "max_retained_bytes"
        case logLevel = "log_level"
        case precision
        case logFormat = "log_format"
        case apiKeys = "api_keys"
        case apiKeyFile = "api_key_file"
        case protectMetrics = "protect_metrics"
        case corsOrigins = "cors_origins"
        case trustedProxies = "trusted_proxies"
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
        try require(maxRetainedJobs >= 1, .maxRetainedJobs, "must be at least 1")
        try require(maxRetainedBytes >= 1_048_576, .maxRetainedBytes, "must be at least 1048576")
        try require(apiKeys.allSatisfy { !$0.isEmpty && !$0.contains(where: \.isWhitespace) }, .apiKeys, "must not contain empty keys or keys with spaces")
        try require(corsOrigins.allSatisfy { $0 == "*" || $0.hasPrefix("http://") || $0.hasPrefix("https://") }, .corsOrigins,
            "must be origins such as https://example.com (scheme, host, optional port) or *")
        try require(trustedProxies.allSatisfy { !$0.isEmpty }, .trustedProxies, "must not contain empty addresses")
    }

    /// Every API key: `apiKeys` and the lines of `apiKeyFile`. A key file that cannot be read or
    /// holds no key is an error: starting without the keys someone meant to set would open the server.
    public func loadAPIKeys(read: (String) -> String? = { try? String(contentsOfFile: $0, encoding: .utf8) }) throws(ConfigurationError) -> [String] {
        guard let apiKeyFile else { return apiKeys }
        guard let text = read(apiKeyFile) else {
            throw ConfigurationError("\(CodingKeys.apiKeyFile.rawValue): cannot read '\(apiKeyFile)'")
        }
        let keys = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
        guard !keys.isEmpty else { throw ConfigurationError("\(CodingKeys.apiKeyFile.rawValue): '\(apiKeyFile)' holds no key") }
        if let bad = keys.first(where: { $0.contains(where: \.isWhitespace) }) {
            throw ConfigurationError("\(CodingKeys.apiKeyFile.rawValue): '\(apiKeyFile)' has a line with a space in it ('\(bad.prefix(4))...'); one key per line")
        }
        return apiKeys + keys
    }

    /// The URL a person opens: loopback when bound to every address.
    public func url(port: Int) -> String {
        let shown = ["0.0.0.0", "::", ""].contains(host) ? "localhost" : (host.contains(":") ? "[\(host)]" : host)
        return "http://\(shown):\(port)/"
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

/// How log lines look: JSON objects for collectors, or `time LEVEL message key=value` for people.
public enum LogFormat: String, Codable, Sendable, CaseIterable {
    case text, json
}
