import Foundation
import HTTPServer
import ImageAPI
import Scheduler
import ServerLog
import Tensors
import XCTest

@testable import ServerSettings

final class ServerConfigurationTests: XCTestCase {
    private func writeFile(_ json: String) throws -> String {
        let path = NSTemporaryDirectory() + "enat-serve-\(UUID().uuidString).json"
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    func testDefaultsMatchTheTable() throws {
        let (configuration, file) = try ServerConfiguration.load(configFile: nil, environment: [:], flags: .init(), fileExists: { _ in false })
        XCTAssertNil(file)
        XCTAssertEqual(configuration.host, "127.0.0.1", "loopback unless told otherwise")
        XCTAssertEqual(configuration.port, 8080)
        XCTAssertEqual(configuration.models, [])
        XCTAssertEqual(configuration.maxBatchSize, 4)
        XCTAssertEqual(configuration.maxQueueLength, 64)
        XCTAssertEqual(configuration.maxQueueWaitSeconds, 120)
        XCTAssertEqual(configuration.requestTimeoutSeconds, 300)
        XCTAssertEqual(configuration.blasThreads, ProcessInfo.processInfo.activeProcessorCount)
        XCTAssertEqual(configuration.maxBodyBytes, 1_048_576)
        XCTAssertEqual(configuration.maxConnections, 512)
        XCTAssertEqual(configuration.shutdownGraceSeconds, 30)
        XCTAssertEqual(configuration.jobRetentionSeconds, 600)
        XCTAssertEqual(configuration.maxRetainedJobs, 1000)
        XCTAssertEqual(configuration.maxRetainedBytes, 134_217_728)
        XCTAssertEqual(configuration.logLevel, .info)
        XCTAssertNil(configuration.logFormat, "text on a terminal, JSON otherwise")
        XCTAssertEqual(configuration.apiKeys, [])
        XCTAssertFalse(configuration.protectMetrics)
        XCTAssertEqual(configuration.corsOrigins, [])
        XCTAssertEqual(configuration.url(port: 8080), "http://127.0.0.1:8080/")
        XCTAssertEqual(configuration.precision, .auto)
    }

    func testPrecisionFromFileEnvironmentAndFlag() throws {
        let path = try writeFile(#"{"precision": "bf16"}"#)
        XCTAssertEqual(try ServerConfiguration.load(configFile: path, environment: [:], flags: .init()).configuration.precision, .bf16)
        let environment = ["ENAT_PRECISION": "FP32"]
        XCTAssertEqual(try ServerConfiguration.load(configFile: path, environment: environment, flags: .init()).configuration.precision, .fp32)
        var flags = ServerConfiguration.Overrides()
        flags.set(Setting.precision, .auto)
        XCTAssertEqual(try ServerConfiguration.load(configFile: path, environment: environment, flags: flags).configuration.precision, .auto)
        XCTAssertThrowsError(
            try ServerConfiguration.load(configFile: nil, environment: ["ENAT_PRECISION": "fp16"], flags: .init(), fileExists: { _ in false })
        ) {
            XCTAssertTrue("\($0)".contains("ENAT_PRECISION='fp16' is not one of auto, fp32, bf16"), "\($0)")
        }
        let bad = try writeFile(#"{"precision": "half"}"#)
        XCTAssertThrowsError(try ServerConfiguration.load(configFile: bad, environment: [:], flags: .init())) {
            XCTAssertTrue("\($0)".contains("precision"), "\($0)")
        }
    }

    func testFlagBeatsEnvironmentBeatsFileBeatsDefault() throws {
        let path = try writeFile(#"{"port": 9001, "max_batch_size": 2, "max_queue_length": 5, "log_level": "debug", "models": ["a", "b"]}"#)
        var flags = ServerConfiguration.Overrides()
        flags.set(Setting.port, 9003)
        let environment = ["ENAT_PORT": "9002", "ENAT_MAX_BATCH_SIZE": "3", "ENAT_MODELS": "x, y", "UNRELATED": "1"]
        let (configuration, file) = try ServerConfiguration.load(configFile: path, environment: environment, flags: flags)
        XCTAssertEqual(file, path)
        XCTAssertEqual(configuration.port, 9003, "flag wins")
        XCTAssertEqual(configuration.maxBatchSize, 3, "environment beats the file")
        XCTAssertEqual(configuration.models, ["x", "y"], "ENAT_MODELS is comma-separated")
        XCTAssertEqual(configuration.maxQueueLength, 5, "the file beats the default")
        XCTAssertEqual(configuration.logLevel, .debug)
        XCTAssertEqual(configuration.maxConnections, 512, "default")
    }

    func testConfigFileFromEnvironmentAndDefaultPath() throws {
        let path = try writeFile(#"{"host": "10.0.0.7"}"#)
        let fromEnvironment = try ServerConfiguration.load(configFile: nil, environment: ["ENAT_CONFIG": path], flags: .init())
        XCTAssertEqual(fromEnvironment.configuration.host, "10.0.0.7")
        XCTAssertEqual(fromEnvironment.file, path)
        // The default file is used only when it exists.
        let absent = try ServerConfiguration.load(configFile: nil, environment: [:], flags: .init(), fileExists: { _ in false })
        XCTAssertNil(absent.file)
        XCTAssertThrowsError(try ServerConfiguration.load(configFile: "/nonexistent/enat.json", environment: [:], flags: .init())) {
            XCTAssertTrue("\($0)".contains("does not exist"), "\($0)")
        }
    }

    func testRepositoryDefaultFileIsValid() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Config/enat-serve.json").path
        let overrides = try ServerConfiguration.Overrides.file(at: path)
        var configuration = ServerConfiguration()
        configuration.apply(overrides)
        try configuration.validate()
        XCTAssertEqual(configuration.port, 8080)
    }

    func testBadInputsAreNamed() throws {
        let unknown = try writeFile(#"{"prot": 1}"#)
        XCTAssertThrowsError(try ServerConfiguration.load(configFile: unknown, environment: [:], flags: .init())) {
            XCTAssertTrue("\($0)".contains("prot"), "\($0)")
        }
        let wrongType = try writeFile(#"{"port": "80"}"#)
        XCTAssertThrowsError(try ServerConfiguration.load(configFile: wrongType, environment: [:], flags: .init())) {
            XCTAssertTrue("\($0)".contains("port"), "\($0)")
        }
        XCTAssertThrowsError(
            try ServerConfiguration.load(configFile: nil, environment: ["ENAT_PORT": "eighty"], flags: .init(), fileExists: { _ in false })
        ) {
            XCTAssertTrue("\($0)".contains("ENAT_PORT"), "\($0)")
        }
        XCTAssertThrowsError(
            try ServerConfiguration.load(configFile: nil, environment: ["ENAT_LOG_LEVEL": "loud"], flags: .init(), fileExists: { _ in false }))
        var flags = ServerConfiguration.Overrides()
        flags.set(Setting.maxBatchSize, 0)
        XCTAssertThrowsError(try ServerConfiguration.load(configFile: nil, environment: [:], flags: flags, fileExists: { _ in false })) {
            XCTAssertEqual("\($0)", "max_batch_size must be at least 1")
        }
    }

    func testFileErrorsNameTheFileAndKeyAndSuggestTheClosestKey() throws {
        let typo = try writeFile(#"{"max_batch": 2}"#)
        XCTAssertThrowsError(try ServerConfiguration.load(configFile: typo, environment: [:], flags: .init())) {
            XCTAssertEqual("\($0)", "configuration file \(typo): unknown key 'max_batch'; did you mean 'max_batch_size'?")
        }
        let unrelated = try writeFile(#"{"colour": 2}"#)
        XCTAssertThrowsError(try ServerConfiguration.load(configFile: unrelated, environment: [:], flags: .init())) {
            XCTAssertTrue("\($0)".contains("unknown key 'colour'; the keys are host, port"), "\($0)")
        }
        let wrongType = try writeFile(#"{"port": "80"}"#)
        XCTAssertThrowsError(try ServerConfiguration.load(configFile: wrongType, environment: [:], flags: .init())) {
            XCTAssertEqual("\($0)", "configuration file \(wrongType): key 'port': must be an integer.")
        }
        let broken = try writeFile(#"{"port": 80"#)
        XCTAssertThrowsError(try ServerConfiguration.load(configFile: broken, environment: [:], flags: .init())) {
            XCTAssertFalse("\($0)".lowercased().contains("request"), "no HTTP wording: \($0)")
            XCTAssertTrue("\($0)".contains(broken), "\($0)")
        }
    }

    func testAccessSettingsFromEverySource() throws {
        let path = try writeFile(#"{"api_keys": ["file-key"], "cors_origins": ["https://a.example"], "protect_metrics": true, "log_format": "json"}"#)
        var flags = ServerConfiguration.Overrides()
        flags.set(Setting.trustedProxies, ["10.0.0.1"])
        let (configuration, _) = try ServerConfiguration.load(
            configFile: path, environment: ["ENAT_API_KEYS": "k1, k2", "ENAT_LOG_FORMAT": "text"], flags: flags)
        XCTAssertEqual(configuration.apiKeys, ["k1", "k2"], "environment beats the file")
        XCTAssertEqual(configuration.corsOrigins, ["https://a.example"])
        XCTAssertTrue(configuration.protectMetrics)
        XCTAssertEqual(configuration.logFormat, .text)
        XCTAssertEqual(configuration.trustedProxies, ["10.0.0.1"])
        XCTAssertThrowsError(
            try ServerConfiguration.load(
                configFile: nil, environment: ["ENAT_CORS_ORIGINS": "example.com"], flags: .init(), fileExists: { _ in false })
        ) {
            XCTAssertTrue("\($0)".hasPrefix("cors_origins"), "\($0)")
        }
        XCTAssertThrowsError(
            try ServerConfiguration.load(configFile: nil, environment: ["ENAT_PROTECT_METRICS": "maybe"], flags: .init(), fileExists: { _ in false }))
    }

    func testAPIKeyFileIsReadAndMustHoldAKey() throws {
        var configuration = ServerConfiguration()
        configuration.apiKeys = ["flag-key"]
        configuration.apiKeyFile = "/keys"
        XCTAssertEqual(try configuration.loadAPIKeys(read: { _ in "# ours\nalpha\n\n  beta  \n" }), ["flag-key", "alpha", "beta"])
        XCTAssertThrowsError(try configuration.loadAPIKeys(read: { _ in "# nothing\n" })) {
            XCTAssertTrue("\($0)".contains("holds no key"), "\($0)")
        }
        XCTAssertThrowsError(try configuration.loadAPIKeys(read: { _ in nil })) {
            XCTAssertTrue("\($0)".contains("cannot read '/keys'"), "\($0)")
        }
        configuration.apiKeyFile = nil
        XCTAssertEqual(
            try configuration.loadAPIKeys(read: { _ in
                XCTFail("no file to read"); return nil
            }), ["flag-key"])
    }

    func testStartupURL() {
        var configuration = ServerConfiguration()
        configuration.host = "0.0.0.0"
        XCTAssertEqual(configuration.url(port: 9000), "http://localhost:9000/")
        configuration.host = "::1"
        XCTAssertEqual(configuration.url(port: 9000), "http://[::1]:9000/")
    }

    func testEnvironmentNamesAndFlagsFollowTheKeys() {
        XCTAssertEqual(Setting.maxQueueWaitSeconds.environmentName, "ENAT_MAX_QUEUE_WAIT_SECONDS")
        XCTAssertEqual(Setting.maxRetainedBytes.environmentName, "ENAT_MAX_RETAINED_BYTES")
        XCTAssertEqual(Setting.apiKeys.environmentName, "ENAT_API_KEYS")
        XCTAssertEqual(Setting.maxConnectionsPerAddress.flag, "max-connections-per-address")
        XCTAssertEqual(Setting.apiKeys.flag, "api-key", "a repeatable flag names one value")
        XCTAssertEqual(Setting.all.count, 24)
        XCTAssertEqual(Set(Setting.all.map(\.key)).count, Setting.all.count, "keys are unique")
        XCTAssertEqual(Set(Setting.all.map(\.flag)).count, Setting.all.count, "flags are unique")
    }

    func testModelPathsDefaultToExistingDemoBundles() {
        var configuration = ServerConfiguration()
        XCTAssertEqual(configuration.modelPaths(fileExists: { $0 == "Models/demo-captions" }), ["Models/demo-captions"])
        XCTAssertEqual(configuration.modelPaths(fileExists: { _ in false }), [])
        configuration.models = ["random:tiny"]
        XCTAssertEqual(configuration.modelPaths(fileExists: { _ in false }), ["random:tiny"])
    }

    func testComponentsCarryTheSettings() {
        var configuration = ServerConfiguration()
        configuration.maxBodyBytes = 2048
        configuration.maxConnections = 7
        configuration.maxConnectionsPerAddress = 3
        configuration.maxQueueWaitSeconds = 1.5
        XCTAssertEqual(configuration.httpServerConfiguration.limits.maxBodyBytes, 2048)
        XCTAssertEqual(configuration.httpServerConfiguration.maxConnections, 7)
        XCTAssertEqual(configuration.httpServerConfiguration.maxConnectionsPerAddress, 3)
        XCTAssertEqual(configuration.schedulerConfiguration.maxQueueWait, .milliseconds(1500))
    }

    func testRetentionBoundsReachTheScheduler() throws {
        let path = try writeFile(#"{"max_retained_jobs": 7, "max_retained_bytes": 2000000}"#)
        let loaded = try ServerConfiguration.load(
            configFile: path, environment: ["ENAT_MAX_RETAINED_JOBS": "9"], flags: .init()
        ).configuration
        XCTAssertEqual(loaded.schedulerConfiguration.maxRetainedJobs, 9, "environment beats the file")
        XCTAssertEqual(loaded.schedulerConfiguration.maxRetainedBytes, 2_000_000)
        var flags = ServerConfiguration.Overrides()
        flags.set(Setting.maxRetainedJobs, 0)
        XCTAssertThrowsError(try ServerConfiguration.load(configFile: nil, environment: [:], flags: flags, fileExists: { _ in false })) {
            XCTAssertEqual("\($0)", "max_retained_jobs must be at least 1")
        }
        XCTAssertThrowsError(
            try ServerConfiguration.load(
                configFile: nil, environment: ["ENAT_MAX_RETAINED_BYTES": "1000"], flags: .init(), fileExists: { _ in false })
        ) {
            XCTAssertEqual("\($0)", "max_retained_bytes must be at least 1048576")
        }
    }
}
