import ArgumentParser
import Foundation
import ServerSettings
import XCTest

@testable import ENATCLI

/// `enat serve`'s flags are the declared settings: each one's flag reaches its setting.
final class ServeCommandTests: XCTestCase {
    /// A valid value for every setting, as flags give it.
    private static let samples: [String: [String]] = [
        "host": ["10.1.2.3"], "port": ["9001"], "models": ["a", "b"], "max_batch_size": ["3"], "max_queue_length": ["5"],
        "max_queue_wait_seconds": ["1.5"], "request_timeout_seconds": ["12"], "blas_threads": ["7"], "max_body_bytes": ["2048"],
        "max_upload_bytes": ["4096"],
        "max_connections": ["9"], "max_connections_per_address": ["4"], "shutdown_grace_seconds": ["0"],
        "job_retention_seconds": ["60"], "max_retained_jobs": ["11"], "max_retained_bytes": ["2000000"], "log_level": ["debug"],
        "log_format": ["json"], "api_keys": ["k1", "k2"], "api_key_file": ["/keys"], "protect_metrics": [],
        "cors_origins": ["https://a.example"], "trusted_proxies": ["10.0.0.1"], "precision": ["fp32"],
    ]

    /// An empty configuration file, so that the checkout's `Config/enat-serve.json` plays no part.
    private func emptyConfigFile() throws -> String {
        let path = NSTemporaryDirectory() + "enat-serve-\(UUID().uuidString).json"
        try "{}".write(toFile: path, atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    func testEveryDeclaredSettingHasItsFlag() throws {
        let config = try emptyConfigFile()
        XCTAssertEqual(Set(Self.samples.keys), Set(Setting.all.map(\.key)))
        for setting in Setting.all {
            let values = try XCTUnwrap(Self.samples[setting.key])
            let arguments = setting.style == .toggle ? ["--\(setting.flag)"] : values.flatMap { ["--\(setting.flag)", $0] }
            let command = try ServeCommand.parse(arguments + ["--config", config])
            let given = command.givenFlags.filter { !$0.value.isEmpty }
            XCTAssertEqual(Array(given.keys), [setting.key], "\(arguments) sets only \(setting.key)")
            let (configuration, _) = try command.loadConfiguration(environment: [:])
            var expected = ServerConfiguration()
            expected.apply(try .flags([setting.key: setting.style == .toggle ? ["true"] : values]))
            XCTAssertEqual(configuration, expected, setting.key)
        }
    }

    func testHelpListsTheDeclaredFlagsAndNoOthers() {
        let help = ServeCommand.helpMessage(columns: 400)
        let flags = Set(
            help.split(separator: "\n").compactMap { line -> String? in
                let trimmed = line.drop { $0 == " " }
                guard trimmed.hasPrefix("--") else { return nil }
                return String(trimmed.dropFirst(2).prefix { $0 != " " && $0 != "," })
            })
        XCTAssertEqual(flags, Set(Setting.all.map(\.flag) + [Setting.ConfigFile.flag]), help)
        XCTAssertTrue(help.contains(Setting.maxBatchSize.helpText), help)
    }

    func testBadFlagValuesNameTheFlag() throws {
        let command = try ServeCommand.parse(["--port", "eighty"])
        XCTAssertThrowsError(try command.loadConfiguration(environment: [:])) {
            XCTAssertEqual("\($0)", "--port 'eighty' is not an integer")
        }
        let outOfRange = try ServeCommand.parse(["--max-batch-size", "0"])
        XCTAssertThrowsError(try outOfRange.loadConfiguration(environment: [:])) {
            XCTAssertEqual("\($0)", "max_batch_size must be at least 1")
        }
    }
}
