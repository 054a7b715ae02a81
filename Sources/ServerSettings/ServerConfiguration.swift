import Foundation
import ServerLog
import Tensors

/// Everything `enat serve` can be told. Each property is declared in `Setting` (key, variable,
/// flag, help, default, accepted values) and comes from, in rising precedence: that default, the
/// JSON file, an environment variable (`ENAT_*`), a command-line flag. See `ServerConfiguration.load`.
public struct ServerConfiguration: Sendable, Equatable {
    public var host: String = Setting.host.defaultValue
    public var port: Int = Setting.port.defaultValue
    /// Empty: the demo bundles in `defaultModelPaths` that exist.
    public var models: [String] = Setting.models.defaultValue
    public var maxBatchSize: Int = Setting.maxBatchSize.defaultValue
    public var maxQueueLength: Int = Setting.maxQueueLength.defaultValue
    public var maxQueueWaitSeconds: Double = Setting.maxQueueWaitSeconds.defaultValue
    public var requestTimeoutSeconds: Double = Setting.requestTimeoutSeconds.defaultValue
    public var blasThreads: Int = Setting.blasThreads.defaultValue
    public var maxBodyBytes: Int = Setting.maxBodyBytes.defaultValue
    public var maxUploadBytes: Int = Setting.maxUploadBytes.defaultValue
    public var maxConnections: Int = Setting.maxConnections.defaultValue
    public var maxConnectionsPerAddress: Int = Setting.maxConnectionsPerAddress.defaultValue
    public var shutdownGraceSeconds: Double = Setting.shutdownGraceSeconds.defaultValue
    public var jobRetentionSeconds: Double = Setting.jobRetentionSeconds.defaultValue
    public var maxRetainedJobs: Int = Setting.maxRetainedJobs.defaultValue
    public var maxRetainedBytes: Int = Setting.maxRetainedBytes.defaultValue
    public var logLevel: LogLevel = Setting.logLevel.defaultValue
    /// Nil: text on a terminal, JSON otherwise (containers, files, pipes).
    public var logFormat: LogFormat? = Setting.logFormat.defaultValue
    /// With any key (here or in `apiKeyFile`), every route but the probes, the page and (unless
    /// `protectMetrics`) `/metrics` needs one.
    public var apiKeys: [String] = Setting.apiKeys.defaultValue
    public var apiKeyFile: String? = Setting.apiKeyFile.defaultValue
    public var protectMetrics: Bool = Setting.protectMetrics.defaultValue
    public var corsOrigins: [String] = Setting.corsOrigins.defaultValue
    public var trustedProxies: [String] = Setting.trustedProxies.defaultValue
    public var precision: PrecisionSetting = Setting.precision.defaultValue

    /// The demo bundles `tools/train` writes, used when no model is configured.
    public static let defaultModelPaths = ["Models/demo-shapes", "Models/demo-captions"]

    public init() {}

    /// Checks every setting's range; the message names the setting by its file key.
    public func validate() throws(ConfigurationError) {
        for setting in Setting.all {
            if let rule = setting.violation(self) { throw ConfigurationError("\(setting.key) \(rule)") }
        }
    }

    /// Every API key: `apiKeys` and the lines of `apiKeyFile`. A key file that cannot be read or
    /// holds no key is an error: starting without the keys someone meant to set would open the server.
    public func loadAPIKeys(read: (String) -> String? = { try? String(contentsOfFile: $0, encoding: .utf8) }) throws(ConfigurationError) -> [String] {
        guard let apiKeyFile else { return apiKeys }
        guard let text = read(apiKeyFile) else {
            throw ConfigurationError("\(Setting.apiKeyFile.key): cannot read '\(apiKeyFile)'")
        }
        let keys = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
        guard !keys.isEmpty else { throw ConfigurationError("\(Setting.apiKeyFile.key): '\(apiKeyFile)' holds no key") }
        if let bad = keys.first(where: { $0.contains(where: \.isWhitespace) }) {
            throw ConfigurationError(
                "\(Setting.apiKeyFile.key): '\(apiKeyFile)' has a line with a space in it ('\(bad.prefix(4))...'); one key per line")
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
