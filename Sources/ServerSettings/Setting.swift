import Foundation
import ServerLog
import Tensors

/// Every setting of `enat serve`, each declared once. `all` is their order in `--help` and in the
/// README's configuration table (a test compares the two).
public enum Setting {
    public static let host = ServerSetting(
        "host", \.host, default: "127.0.0.1", shown: "127.0.0.1 (this machine only)", .text(accepts: "a host name or address"),
        help: "Address to bind (0.0.0.0: every interface).")
    public static let port = ServerSetting(
        "port", \.port, default: 8080, shown: "8080 (0: any free port, logged)", .integer(in: 0...65535), help: "Port to bind.")
    public static let models = ServerSetting(
        "models", \.models, flag: "model", default: [],
        shown: "Models/demo-shapes, Models/demo-captions (those that exist, relative to the working directory)",
        .list(
            accepts: "bundle folders, official checkpoint files, or random:tiny (random weights: tests, benchmarks)",
            rule: "must not contain empty paths", allowed: { !$0.isEmpty }),
        help: "The models to serve.")
    public static let maxBatchSize = ServerSetting(
        "max_batch_size", \.maxBatchSize, default: 4, .integer(atLeast: 1), help: "Samples per engine step.")
    public static let maxQueueLength = ServerSetting(
        "max_queue_length", \.maxQueueLength, default: 64, .integer(atLeast: 1),
        help: "Jobs that may wait for a batch slot; beyond it requests get 503 with Retry-After.")
    public static let maxQueueWaitSeconds = ServerSetting(
        "max_queue_wait_seconds", \.maxQueueWaitSeconds, default: 120, .positiveSeconds,
        help: "Longest time a job may wait in the queue before it fails.")
    public static let requestTimeoutSeconds = ServerSetting(
        "request_timeout_seconds", \.requestTimeoutSeconds, default: 300, .positiveSeconds,
        help: "Deadline of one generation request, from its arrival.")
    public static let blasThreads = ServerSetting(
        "blas_threads", \.blasThreads, default: ProcessInfo.processInfo.activeProcessorCount, shown: "number of CPUs",
        .integer(atLeast: 1), help: "OpenBLAS threads of the inference thread.")
    public static let maxBodyBytes = ServerSetting(
        "max_body_bytes", \.maxBodyBytes, default: 1_048_576, .integer(atLeast: 1024), help: "Largest request body (413 beyond it).")
    public static let maxUploadBytes = ServerSetting(
        "max_upload_bytes", \.maxUploadBytes, default: 16_777_216, shown: "16777216 (16 MiB)", .integer(atLeast: 1024),
        help: "Largest uploaded image file (an edit's image or mask, as a file or base64); the upload routes' body limits follow (413 beyond).")
    public static let maxConnections = ServerSetting(
        "max_connections", \.maxConnections, default: 512, .integer(atLeast: 1), help: "Most connections at once (503 beyond it).")
    public static let maxConnectionsPerAddress = ServerSetting(
        "max_connections_per_address", \.maxConnectionsPerAddress, default: 64,
        shown: "64 (behind a reverse proxy: max_connections)", .integer(atLeast: 1),
        help: "Most connections from one client address (429 beyond it); behind a reverse proxy every client has its address.")
    public static let shutdownGraceSeconds = ServerSetting(
        "shutdown_grace_seconds", \.shutdownGraceSeconds, default: 30, .seconds,
        help: "On SIGTERM or SIGINT: time running jobs and open streams get to finish.")
    public static let jobRetentionSeconds = ServerSetting(
        "job_retention_seconds", \.jobRetentionSeconds, default: 600, .seconds,
        help: "How long finished jobs stay available for lookup, at most.")
    public static let maxRetainedJobs = ServerSetting(
        "max_retained_jobs", \.maxRetainedJobs, default: 1000, .integer(atLeast: 1),
        help: "Most finished jobs kept for lookup (the oldest are forgotten first).")
    public static let maxRetainedBytes = ServerSetting(
        "max_retained_bytes", \.maxRetainedBytes, default: 134_217_728, shown: "134217728 (128 MiB)", .integer(atLeast: 1_048_576),
        help: "Most bytes of finished jobs kept: images, tokens, about 2 KiB per job (the oldest are forgotten first).")
    public static let logLevel = ServerSetting(
        "log_level", \.logLevel, default: LogLevel.info, shown: "info", .choice,
        help: "Least severe log level written (debug adds each job's start, steps and end, and probe requests).")
    public static let logFormat = ServerSetting(
        "log_format", \.logFormat, default: nil, shown: "text on a terminal, else json", .optional(.choice),
        help: "Log line format on stderr.")
    public static let apiKeys = ServerSetting(
        "api_keys", \.apiKeys, flag: "api-key", default: [], shown: "none",
        .list(
            accepts: "keys without spaces", rule: "must not contain empty keys or keys with spaces",
            allowed: { !$0.isEmpty && !$0.contains(where: \.isWhitespace) }),
        help: "API keys clients must send as 'Authorization: Bearer KEY'.")
    public static let apiKeyFile = ServerSetting(
        "api_key_file", \.apiKeyFile, default: nil, shown: "none", .path,
        help: "A file of API keys, one per line (blank lines and # comments ignored).")
    public static let protectMetrics = ServerSetting(
        "protect_metrics", \.protectMetrics, default: false, .toggle, help: "With API keys, /metrics needs a key too.")
    public static let corsOrigins = ServerSetting(
        "cors_origins", \.corsOrigins, flag: "cors-origin", default: [], shown: "none",
        .list(
            accepts: "origins such as https://app.example.com, or *",
            rule: "must be origins such as https://example.com (scheme, host, optional port) or *",
            allowed: { $0 == "*" || $0.hasPrefix("http://") || $0.hasPrefix("https://") }),
        help: "Web origins allowed to call the API from a browser (CORS).")
    public static let trustedProxies = ServerSetting(
        "trusted_proxies", \.trustedProxies, flag: "trusted-proxy", default: [], shown: "none",
        .list(accepts: "addresses", rule: "must not contain empty addresses", allowed: { !$0.isEmpty }),
        help: "Addresses of reverse proxies whose Forwarded / X-Forwarded-Proto / X-Forwarded-Host headers are believed.")
    public static let precision = ServerSetting(
        "precision", \.precision, default: PrecisionSetting.auto,
        shown: "auto (bf16 where the CPU has AVX512-BF16, else fp32; see \"Precision\")", .choice,
        help: "Number format of the linear layers (bf16: bfloat16 weights and products, float32 sums; needs AVX2+FMA or AVX512-BF16).")

    /// Every setting, in the order of `--help` and the README table.
    public static let all: [AnySetting] = [
        AnySetting(host), AnySetting(port), AnySetting(models), AnySetting(maxBatchSize), AnySetting(maxQueueLength),
        AnySetting(maxQueueWaitSeconds), AnySetting(requestTimeoutSeconds), AnySetting(blasThreads), AnySetting(maxBodyBytes),
        AnySetting(maxUploadBytes), AnySetting(maxConnections), AnySetting(maxConnectionsPerAddress), AnySetting(shutdownGraceSeconds),
        AnySetting(jobRetentionSeconds), AnySetting(maxRetainedJobs), AnySetting(maxRetainedBytes), AnySetting(logLevel),
        AnySetting(logFormat), AnySetting(apiKeys), AnySetting(apiKeyFile), AnySetting(protectMetrics), AnySetting(corsOrigins),
        AnySetting(trustedProxies), AnySetting(precision),
    ]

    /// The setting with this file key.
    public static func named(_ key: String) -> AnySetting? { all.first { $0.key == key } }

    /// The configuration file: not a setting of the file itself, so only a variable and a flag.
    public enum ConfigFile {
        public static let environmentName = "ENAT_CONFIG"
        public static let flag = "config"
        /// Used when none is named and it exists (relative to the working directory).
        public static let defaultPath = "Config/enat-serve.json"
        public static let helpText = "JSON configuration file. Env: \(environmentName). Default: \(defaultPath) if present."
    }
}

extension Setting {
    /// The README's configuration table (key, variable, flag, default, values), one row per setting
    /// and the configuration file last; a test keeps the README equal to it.
    public static var markdownTable: String {
        var lines = ["| key | env | flag | default | values |", "|---|---|---|---|---|"]
        for setting in all {
            let list = setting.style == .repeatable
            let environment = setting.environmentName + (list ? " (comma-separated)" : "")
            let flag = "--" + setting.flag + (list ? " (repeatable)" : "")
            lines.append("| \(setting.key) | \(environment) | \(flag) | \(setting.defaultText) | \(setting.accepts) |")
        }
        lines.append("| (config file) | \(ConfigFile.environmentName) | --\(ConfigFile.flag) | \(ConfigFile.defaultPath) if present | a file path |")
        return lines.joined(separator: "\n")
    }
}
