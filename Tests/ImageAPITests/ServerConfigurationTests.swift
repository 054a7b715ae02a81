import Foundation
import XCTest
@testable import ImageAPI

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
        XCTAssertEqual(configuration.host, "0.0.0.0")
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
        XCTAssertEqual(configuration.logLevel, .info)
    }

    func testFlagBeatsEnvironmentBeatsFileBeatsDefault() throws {
        let path = try writeFile(#"{"port": 9001, "max_batch_size": 2, "max_queue_length": 5, "log_level": "debug", "models": ["a", "b"]}"#)
        var flags = ServerConfiguration.Overrides()
        flags.port = 9003
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
        let path = try writeFile(#"{"host": "127.0.0.1"}"#)
        let fromEnvironment = try ServerConfiguration.load(configFile: nil, environment: ["ENAT_CONFIG": path], flags: .init())
        XCTAssertEqual(fromEnvironment.configuration.host, "127.0.0.1")
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
        XCTAssertThrowsError(try ServerConfiguration.load(configFile: nil, environment: ["ENAT_PORT": "eighty"], flags: .init(), fileExists: { _ in false })) {
            XCTAssertTrue("\($0)".contains("ENAT_PORT"), "\($0)")
        }
        XCTAssertThrowsError(try ServerConfiguration.load(configFile: nil, environment: ["ENAT_LOG_LEVEL": "loud"], flags: .init(), fileExists: { _ in false }))
        var flags = ServerConfiguration.Overrides()
        flags.maxBatchSize = 0
        XCTAssertThrowsError(try ServerConfiguration.load(configFile: nil, environment: [:], flags: flags, fileExists: { _ in false })) {
            XCTAssertEqual("\($0)", "max_batch_size must be at least 1")
        }
    }

    func testEnvironmentNames() {
        XCTAssertEqual(ServerConfiguration.environmentName(.maxQueueWaitSeconds), "ENAT_MAX_QUEUE_WAIT_SECONDS")
        XCTAssertEqual(ServerConfiguration.CodingKeys.allCases.count, 14)
        XCTAssertEqual(ServerConfiguration.environmentName(.maxConnectionsPerAddress), "ENAT_MAX_CONNECTIONS_PER_ADDRESS")
    }

    func testModelPathsDefaultToExistingDemoBundles() {
        var configuration = ServerConfiguration()
        XCTAssertEqual(configuration.modelPaths(fileExists: { $0 == "Models/demo-captions" }), ["Models/demo-captions"])
        XCTAssertEqual(configuration.modelPaths(fileExists: { _ in false }), [])
        configuration.models = ["random:tiny"]
        XCTAssertEqual(configuration.modelPaths(fileExists: { _ in false }), ["random:tiny"])
    }

    func testMissingModelsNameWhatToPass() {
        XCTAssertThrowsError(try ServedModels.load(ServerConfiguration(), logger: .disabled, fileExists: { _ in false })) {
            let message = "\($0)"
            XCTAssertTrue(message.contains("--model"), message)
            XCTAssertTrue(message.contains("Models/demo-shapes"), message)
            XCTAssertTrue(message.contains("random:tiny"), message)
        }
        var configuration = ServerConfiguration()
        configuration.models = ["/no/such/bundle"]
        XCTAssertThrowsError(try ServedModels.load(configuration, logger: .disabled)) {
            XCTAssertTrue("\($0)".contains("'/no/such/bundle' does not exist"), "\($0)")
        }
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
}
