import Foundation
import Tensors
import ModelBundle

extension ServerConfiguration {
    /// Settings from one source (file, environment or flags); nil means "not set here".
    public struct Overrides: Sendable, Equatable {
        public var host: String?
        public var port: Int?
        public var models: [String]?
        public var maxBatchSize: Int?
        public var maxQueueLength: Int?
        public var maxQueueWaitSeconds: Double?
        public var requestTimeoutSeconds: Double?
        public var blasThreads: Int?
        public var maxBodyBytes: Int?
        public var maxConnections: Int?
        public var maxConnectionsPerAddress: Int?
        public var shutdownGraceSeconds: Double?
        public var jobRetentionSeconds: Double?
        public var maxRetainedJobs: Int?
        public var maxRetainedBytes: Int?
        public var logLevel: LogLevel?
        public var precision: PrecisionSetting?
        public var logFormat: LogFormat?
        public var apiKeys: [String]?
        public var apiKeyFile: String?
        public var protectMetrics: Bool?
        public var corsOrigins: [String]?
        public var trustedProxies: [String]?

        public init() {}

        /// Reads the settings of a configuration file; unknown keys are errors, so a misspelt
        /// setting is not silently ignored.
        init(fields: JSONFields) throws(APIError) {
            host = try fields.string(CodingKeys.host.rawValue)
            port = try fields.int(CodingKeys.port.rawValue)
            models = try fields.strings(CodingKeys.models.rawValue)
            maxBatchSize = try fields.int(CodingKeys.maxBatchSize.rawValue)
            maxQueueLength = try fields.int(CodingKeys.maxQueueLength.rawValue)
            maxQueueWaitSeconds = try fields.double(CodingKeys.maxQueueWaitSeconds.rawValue)
            requestTimeoutSeconds = try fields.double(CodingKeys.requestTimeoutSeconds.rawValue)
            blasThreads = try fields.int(CodingKeys.blasThreads.rawValue)
            maxBodyBytes = try fields.int(CodingKeys.maxBodyBytes.rawValue)
            maxConnections = try fields.int(CodingKeys.maxConnections.rawValue)
            maxConnectionsPerAddress = try fields.int(CodingKeys.maxConnectionsPerAddress.rawValue)
            shutdownGraceSeconds = try fields.double(CodingKeys.shutdownGraceSeconds.rawValue)
            jobRetentionSeconds = try fields.double(CodingKeys.jobRetentionSeconds.rawValue)
            maxRetainedJobs = try fields.int(CodingKeys.maxRetainedJobs.rawValue)
            maxRetainedBytes = try fields.int(CodingKeys.maxRetainedBytes.rawValue)
            if let text = try fields.string(CodingKeys.logLevel.rawValue) {
                guard let level = LogLevel(rawValue: text.lowercased()) else {
                    throw APIError.invalid(CodingKeys.logLevel.rawValue, "must be one of \(LogLevel.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                logLevel = level
            }
            if let text = try fields.string(CodingKeys.precision.rawValue) {
                guard let setting = PrecisionSetting(rawValue: text.lowercased()) else {
                    throw APIError.invalid(CodingKeys.precision.rawValue, "must be one of \(PrecisionSetting.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                precision = setting
            }
            if let text = try fields.string(CodingKeys.logFormat.rawValue) {
                guard let format = LogFormat(rawValue: text.lowercased()) else {
                    throw APIError.invalid(CodingKeys.logFormat.rawValue, "must be one of \(LogFormat.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                logFormat = format
            }
            apiKeys = try fields.strings(CodingKeys.apiKeys.rawValue)
            apiKeyFile = try fields.string(CodingKeys.apiKeyFile.rawValue)
            protectMetrics = try fields.bool(CodingKeys.protectMetrics.rawValue)
            corsOrigins = try fields.strings(CodingKeys.corsOrigins.rawValue)
            trustedProxies = try fields.strings(CodingKeys.trustedProxies.rawValue)
        }

        /// Reads a JSON configuration file.
        public static func file(at path: String) throws(ConfigurationError) -> Overrides {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ConfigurationError("cannot read configuration file \(path)")
            }
            do {
                let keys = CodingKeys.allCases.map(\.rawValue)
                return try Overrides(fields: JSONFields(parsing: Array(data), allowedKeys: Set(keys)))
            } catch {
                throw ConfigurationError("configuration file \(path): " + Self.describe(error, keys: CodingKeys.allCases.map(\.rawValue)))
            }
        }

        /// A file error in the file's terms (keys and values, not request parameters).
        static func describe(_ error: APIError, keys: [String]) -> String {
            switch error.code {
            case "unknown_parameter":
                let key = error.param ?? ""
                let close = EditDistance.closest(to: key, in: keys, limit: 1)
                let hint = close.first.map { "; did you mean '\($0)'?" } ?? "; the keys are \(keys.joined(separator: ", "))"
                return "unknown key '\(key)'\(hint)"
            case "invalid_json":
                return error.message.replacingOccurrences(of: "The request body", with: "the file")
            default:
                let message = error.message.replacingOccurrences(of: "Invalid type for '\(error.param ?? "")': expected", with: "must be")
                return error.param.map { "key '\($0)': \(message)" } ?? message
            }
        }

        /// The `ENAT_*` variables of `environment`; `ENAT_MODELS` is comma-separated.
        public static func environment(_ environment: [String: String]) throws(ConfigurationError) -> Overrides {
            var result = Overrides()
            func value(_ key: CodingKeys) -> String? {
                environment[ServerConfiguration.environmentName(key)].map { $0.trimmingCharacters(in: .whitespaces) }
            }
            func number<T: LosslessStringConvertible>(_ key: CodingKeys, _: T.Type) throws(ConfigurationError) -> T? {
                guard let text = value(key) else { return nil }
                guard let number = T(text) else {
                    throw ConfigurationError("\(ServerConfiguration.environmentName(key))='\(text)' is not a valid \(T.self == Int.self ? "integer" : "number")")
                }
                return number
            }
            result.host = value(.host)
            result.port = try number(.port, Int.self)
            result.models = value(.models).map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
            result.maxBatchSize = try number(.maxBatchSize, Int.self)
            result.maxQueueLength = try number(.maxQueueLength, Int.self)
            result.maxQueueWaitSeconds = try number(.maxQueueWaitSeconds, Double.self)
            result.requestTimeoutSeconds = try number(.requestTimeoutSeconds, Double.self)
            result.blasThreads = try number(.blasThreads, Int.self)
            result.maxBodyBytes = try number(.maxBodyBytes, Int.self)
            result.maxConnections = try number(.maxConnections, Int.self)
            result.maxConnectionsPerAddress = try number(.maxConnectionsPerAddress, Int.self)
            result.shutdownGraceSeconds = try number(.shutdownGraceSeconds, Double.self)
            result.jobRetentionSeconds = try number(.jobRetentionSeconds, Double.self)
            result.maxRetainedJobs = try number(.maxRetainedJobs, Int.self)
            result.maxRetainedBytes = try number(.maxRetainedBytes, Int.self)
            if let text = value(.logLevel) {
                guard let level = LogLevel(rawValue: text.lowercased()) else {
                    throw ConfigurationError("ENAT_LOG_LEVEL='\(text)' is not one of \(LogLevel.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                result.logLevel = level
            }
            if let text = value(.precision) {
                guard let setting = PrecisionSetting(rawValue: text.lowercased()) else {
                    throw ConfigurationError("ENAT_PRECISION='\(text)' is not one of \(PrecisionSetting.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                result.precision = setting
            }
            if let text = value(.logFormat) {
                guard let format = LogFormat(rawValue: text.lowercased()) else {
                    throw ConfigurationError("ENAT_LOG_FORMAT='\(text)' is not one of \(LogFormat.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                result.logFormat = format
            }
            func list(_ key: CodingKeys) -> [String]? {
                value(key).map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
            }
            result.apiKeys = list(.apiKeys)
            result.apiKeyFile = value(.apiKeyFile).flatMap { $0.isEmpty ? nil : $0 }
            if let text = value(.protectMetrics) {
                switch text.lowercased() {
                case "1", "true", "yes": result.protectMetrics = true
                case "0", "false", "no", "": result.protectMetrics = false
                default: throw ConfigurationError("ENAT_PROTECT_METRICS='\(text)' is not true or false")
                }
            }
            result.corsOrigins = list(.corsOrigins)
            result.trustedProxies = list(.trustedProxies)
            return result
        }
    }

    /// Environment variable of a setting: `ENAT_` + its upper-cased file key.
    public static func environmentName(_ key: CodingKeys) -> String { "ENAT_" + key.rawValue.uppercased() }

    /// Environment variable naming the configuration file.
    public static let configFileEnvironmentName = "ENAT_CONFIG"

    /// Applies every setting that `overrides` sets.
    public mutating func apply(_ overrides: Overrides) {
        if let v = overrides.host { host = v }
        if let v = overrides.port { port = v }
        if let v = overrides.models { models = v }
        if let v = overrides.maxBatchSize { maxBatchSize = v }
        if let v = overrides.maxQueueLength { maxQueueLength = v }
        if let v = overrides.maxQueueWaitSeconds { maxQueueWaitSeconds = v }
        if let v = overrides.requestTimeoutSeconds { requestTimeoutSeconds = v }
        if let v = overrides.blasThreads { blasThreads = v }
        if let v = overrides.maxBodyBytes { maxBodyBytes = v }
        if let v = overrides.maxConnections { maxConnections = v }
        if let v = overrides.maxConnectionsPerAddress { maxConnectionsPerAddress = v }
        if let v = overrides.shutdownGraceSeconds { shutdownGraceSeconds = v }
        if let v = overrides.jobRetentionSeconds { jobRetentionSeconds = v }
        if let v = overrides.maxRetainedJobs { maxRetainedJobs = v }
        if let v = overrides.maxRetainedBytes { maxRetainedBytes = v }
        if let v = overrides.logLevel { logLevel = v }
        if let v = overrides.precision { precision = v }
        if let v = overrides.logFormat { logFormat = v }
        if let v = overrides.apiKeys { apiKeys = v }
        if let v = overrides.apiKeyFile { apiKeyFile = v }
        if let v = overrides.protectMetrics { protectMetrics = v }
        if let v = overrides.corsOrigins { corsOrigins = v }
        if let v = overrides.trustedProxies { trustedProxies = v }
    }

    /// The effective configuration: defaults < file < environment < flags, validated.
    /// The file is `configFile` (a flag), else `$ENAT_CONFIG`, else `Config/enat-serve.json` if it exists;
    /// a file that is named explicitly must exist.
    public static func load(
        configFile: String?, environment: [String: String], flags: Overrides,
        fileExists: (String) -> Bool = { FileManager.default.fileExists(atPath: $0) }
    ) throws(ConfigurationError) -> (configuration: ServerConfiguration, file: String?) {
        var configuration = ServerConfiguration()
        let named = configFile ?? environment[configFileEnvironmentName].flatMap { $0.isEmpty ? nil : $0 }
        let file = named ?? (fileExists(defaultFilePath) ? defaultFilePath : nil)
        if let file {
            guard fileExists(file) else { throw ConfigurationError("configuration file \(file) does not exist") }
            configuration.apply(try .file(at: file))
        }
        configuration.apply(try .environment(environment))
        configuration.apply(flags)
        try configuration.validate()
        return (configuration, file)
    }
}
